# Sourced by system tests: a reference iSCSI target (Debian's tgt) serving a file, on
# 127.0.0.1 only, for side-by-side runs. tgt_start FILE PORT IQN; tgt_stop.
# tgt exports a controller at LUN 0, so the disk is LUN 1.

tgt_start() {
	tgt_ctl=$(( ($3 % 1000) + 100 ))
	tgtd -f --iscsi portal=127.0.0.1:$2 -C $tgt_ctl >"$TEST_DIR/tgtd.log" 2>&1 &
	tgt_pid=$!
	for _ in $(seq 50); do
		tgtadm -C $tgt_ctl --lld iscsi --op show --mode target >/dev/null 2>&1 && break
		sleep 0.1
	done
	tgtadm -C $tgt_ctl --lld iscsi --op new --mode target --tid 1 -T "$3" &&
	tgtadm -C $tgt_ctl --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 -b "$1" &&
	tgtadm -C $tgt_ctl --lld iscsi --op bind --mode target --tid 1 -I ALL
}

tgt_stop() {
	[ -n "${tgt_pid:-}" ] || return 0
	kill "$tgt_pid" 2>/dev/null
	for _ in $(seq 30); do kill -0 "$tgt_pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$tgt_pid" 2>/dev/null
	wait "$tgt_pid" 2>/dev/null
	tgt_pid=
}
