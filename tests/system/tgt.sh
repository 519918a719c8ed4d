# Sourced by tests and benchmarks: Debian's tgt as a reference iSCSI target serving a
# file, on 127.0.0.1 only, for side-by-side runs.
#   tgt_start FILE PORT IQN   the file becomes LUN 1 (tgt's LUN 0 is its controller)
#   tgt_stop                  (also safe when nothing was started)
# The control socket is numbered after the port, so that runs on other ports do not meet.

tgt_start() {
	tgt_ctl=$(($2 % 1000 + 10))
	tgtd -f --iscsi "portal=127.0.0.1:$2" -C "$tgt_ctl" >"${TEST_TMP:-/tmp}/tgtd-$2.log" 2>&1 &
	tgt_pid=$!
	for _ in $(seq 50); do
		tgtadm -C "$tgt_ctl" --lld iscsi --op show --mode target >/dev/null 2>&1 && break
		sleep 0.1
	done
	tgtadm -C "$tgt_ctl" --lld iscsi --op new --mode target --tid 1 -T "$3" &&
		tgtadm -C "$tgt_ctl" --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 -b "$1" &&
		tgtadm -C "$tgt_ctl" --lld iscsi --op bind --mode target --tid 1 -I ALL
}

tgt_stop() {
	[ -n "${tgt_pid:-}" ] || return 0
	kill "$tgt_pid" 2>/dev/null
	for _ in $(seq 30); do
		kill -0 "$tgt_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$tgt_pid" 2>/dev/null
	wait "$tgt_pid" 2>/dev/null
	tgt_pid=
}
