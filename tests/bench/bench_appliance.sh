#!/bin/sh
# make bench-appliance: qedbox against the appliance a user would deploy instead, a small
# Linux VM running tgt (built from Debian's packages by tests/linux-vm/build.sh), both up
# at once in the same QEMU shape: BENCH_VCPUS vCPUs and BENCH_MEM of RAM each, one
# virtio-blk disk on a sparse host file with cache=none, user networking (restrict=on)
# with the iSCSI port forwarded to 127.0.0.1. Both are driven from the host by qemu-img
# bench over iSCSI (QEMU's initiator, libiscsi), on a region of BENCH_MIB MiB:
#   fill          sequential 1 MiB writes, depth 8 (allocating in round 1 only)
#   seq-read      sequential 1 MiB reads, depth 8
#   4k-read       4 KiB reads, depth 32, one per 64 KiB
#   4k-write      4 KiB writes, depth 32, in place, scattered (stride 4099 blocks)
#   4k-alloc      4 KiB writes, depth 32, one into each 64 KiB cluster of a region never
#                 written before (a new one per round), scattered (stride 1543 clusters):
#                 every write allocates, on qedbox a cluster, under tgt the host file's
#                 blocks (qemu-img bench has no random mode: a prime stride wraps around)
#   mixed-70/30   4 KiB, 70% reads at depth 22 and 30% writes at depth 10, two sessions
#                 at once (qemu-img bench cannot mix), timed together
#   lat-read/-write  1 MiB at depth 1
#   4x-write/-read   four initiators at once (one session each), 1 MiB sequential at
#                 depth 8 over disjoint quarters, timed together
# Each workload runs on both targets back to back, in BENCH_ROUNDS rounds of alternating
# order. Per workload: the median time on each, and ratio = the median of the rounds'
# (tgt time / qedbox time), with their spread: > 1 means qedbox is faster.
# Then qedbox's RAM high-water mark, and a check that it still serves with -m 128M.
# QEDBOX_ELF=path compares another build of the firmware.
set -u
. "$(dirname "$0")/../system/lib.sh"
ELF=${QEDBOX_ELF:-$ELF}
[ -f "$ELF" ] || { echo "no firmware at $ELF"; exit 1; }
ELF=$(cd "$(dirname "$ELF")" && pwd)/$(basename "$ELF")
ROUNDS=${BENCH_ROUNDS:-3}
MIB=${BENCH_MIB:-256}
VCPUS=${BENCH_VCPUS:-1}
MEM=${BENCH_MEM:-512M}
LOW_MEM=${BENCH_LOW_MEM:-128M}
D=$TEST_TMP
LINUX=$ROOT/build/linux-vm
command -v qemu-img >/dev/null || { echo "qemu-img not installed"; exit 77; }
sh "$ROOT/tests/linux-vm/build.sh" "$LINUX" || { echo "the Linux VM could not be built"; exit 1; }

QEDBOX_PID= RIVAL_PID=
stop_vms() {
	# A session whose target vanished may keep trying to reconnect: end the jobs first.
	for job in "$TEST_TMP"/jobs/*; do
		[ -f "$job" ] && kill "${job##*/}" 2>/dev/null && rm -f "$job"
	done
	for pid in $QEDBOX_PID $RIVAL_PID; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	QEDBOX_PID= RIVAL_PID= QEMU_PID=
}
trap 'stop_vms; test_cleanup' EXIT

mkdir -p "$D/jobs" # one file per qemu-img bench running, named by its process id
REGION=$((MIB << 20))
DISK=$((REGION * (1 + ROUNDS))) # the region, then one never-written region per round
SHAPE="-M q35 -smp $VCPUS -m $MEM"
disk_args() { echo "-drive if=none,id=d0,file=$1,format=raw,cache=none,aio=threads -device virtio-blk-pci,drive=d0,serial=bench0"; }
net_args() { echo "-netdev user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$1-:3260 -device virtio-net-pci,netdev=n0"; }

qemu-img create -q -f qed "$D/qedbox.qed" $DISK && truncate -s $((DISK + (64 << 20))) "$D/qedbox.qed"
truncate -s $DISK "$D/rival.img"
QPORT=$(free_port)
# shellcheck disable=SC2046 # the argument lists are words
qemu_start qedbox 7200 $SHAPE -kernel "$ELF" -append "portal=127.0.0.1:$QPORT" \
	$(disk_args "$D/qedbox.qed") $(net_args "$QPORT")
QEDBOX_PID=$QEMU_PID QEDBOX_LOG=$QEMU_LOG
QEDBOX_CMD="qemu-system-x86_64 $QEMU_ACCEL $SHAPE -kernel $ELF -append portal=127.0.0.1:$QPORT $(disk_args qedbox.qed) $(net_args "$QPORT")"
RPORT=$(free_port)
# shellcheck disable=SC2046
qemu_start rival 7200 $SHAPE -kernel "$LINUX/vmlinuz" -initrd "$LINUX/target.cpio.gz" \
	-append "console=ttyS0 quiet panic=-1" $(disk_args "$D/rival.img") $(net_args "$RPORT")
RIVAL_PID=$QEMU_PID RIVAL_LOG=$QEMU_LOG
RIVAL_CMD="qemu-system-x86_64 $QEMU_ACCEL $SHAPE -kernel vmlinuz -initrd target.cpio.gz -append 'console=ttyS0 quiet panic=-1' $(disk_args rival.img) $(net_args "$RPORT")"

QEMU_PID=$QEDBOX_PID QEMU_LOG=$QEDBOX_LOG
qemu_wait_line "^iscsi: listening" 180 || { echo "qedbox did not start"; tail -n 20 "$QEDBOX_LOG"; exit 1; }
QEMU_PID=$RIVAL_PID QEMU_LOG=$RIVAL_LOG
qemu_wait_line "^rival: " 300 && grep -q "^rival: ready" "$RIVAL_LOG" ||
	{ echo "the Linux+tgt VM did not start"; tail -n 20 "$RIVAL_LOG"; exit 1; }
QEMU_PID=

# The iSCSI half of qemu-img's --image-opts for each target (tgt's LUN 0 is its controller).
target_opts() {
	case $1 in
	qedbox) echo "file.driver=iscsi,file.transport=tcp,file.portal=127.0.0.1:$QPORT,file.target=iqn.2026-11.org.qedbox:bench0,file.lun=0" ;;
	tgt) echo "file.driver=iscsi,file.transport=tcp,file.portal=127.0.0.1:$RPORT,file.target=iqn.2026-11.org.qedbox.rival:vda,file.lun=1" ;;
	esac
}

# job TARGET NAME OFFSET SIZE ARGS...: one qemu-img bench session on [OFFSET, OFFSET+SIZE)
# of the target's disk, under its own initiator name (concurrent sessions must differ);
# its output in D/NAME.out. The first run's command line is kept for the report.
job() {
	t=$1 name=$2 off=$3 size=$4
	shift 4
	opts="driver=raw,offset=$off,size=$size,$(target_opts "$t"),file.initiator-name=iqn.2026-11.org.qedbox.bench:$name"
	case $name in 4x[123]) ;; *) # the four sessions differ only in their quarter
		grep -q "^$WORKLOAD $name " "$D/commands" 2>/dev/null ||
			echo "$WORKLOAD $name qemu-img bench $* --image-opts driver=raw,offset=$off,size=$size,\$TARGET,file.initiator-name=...:$name" >>"$D/commands"
	esac
	qemu-img bench "$@" --image-opts "$opts" >"$D/$name.out" 2>&1 &
	pid=$!
	: >"$D/jobs/$pid"
	wait $pid
	status=$?
	rm -f "$D/jobs/$pid"
	return $status
}

# seconds NAME: the time qemu-img bench measured (it excludes the login); empty on failure.
seconds() { sed -n 's/^Run completed in \([0-9.]*\) seconds.*/\1/p' "$D/$1.out"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }

# Every workload: TARGET ROUND -> prints its time in seconds, or nothing on failure.
K=1024
wl_fill() { job "$1" fill 0 $REGION -w -c $MIB -s $((K * K)) -d 8 && seconds fill; }
wl_seq_read() { job "$1" seq-read 0 $REGION -c $MIB -s $((K * K)) -d 8 && seconds seq-read; }
wl_4k_read() { job "$1" 4k-read 0 $REGION -c $((REGION / (64 * K))) -s $((4 * K)) -S $((64 * K)) -d 32 && seconds 4k-read; }
wl_4k_write() { job "$1" 4k-write 0 $REGION -w -c $((REGION / (64 * K))) -s $((4 * K)) -S $((4099 * 4 * K)) -d 32 && seconds 4k-write; }
wl_4k_alloc() {
	job "$1" 4k-alloc $((REGION * $2)) $REGION -w -c $((REGION / (64 * K))) -s $((4 * K)) \
		-S $((1543 * 64 * K)) -d 32 && seconds 4k-alloc
}
wl_mixed() {
	n=$((REGION / (32 * K)))
	start=$(now)
	job "$1" mixed-r 0 $REGION -c $((n * 7 / 10)) -s $((4 * K)) -S $((4099 * 4 * K)) -d 22 &
	r=$!
	job "$1" mixed-w 0 $REGION -w -c $((n * 3 / 10)) -s $((4 * K)) -S $((4111 * 4 * K)) \
		-o $((REGION / 2)) -d 10 &
	w=$!
	wait $r && wait $w && elapsed "$start"
}
wl_lat_read() { job "$1" lat-read 0 $REGION -c $((MIB / 4)) -s $((K * K)) -d 1 && seconds lat-read; }
wl_lat_write() { job "$1" lat-write 0 $REGION -w -c $((MIB / 4)) -s $((K * K)) -d 1 && seconds lat-write; }
# four TARGET WRITE_FLAG: four sessions at once, each on its quarter; wall time of all.
four() {
	t=$1 rw=$2 quarter=$((REGION / 4)) pids=""
	start=$(now)
	for i in 0 1 2 3; do
		job "$t" "4x$i" $((quarter * i)) $quarter $rw -c $((MIB / 4)) -s $((K * K)) -d 8 &
		pids="$pids $!"
	done
	ok=1
	for p in $pids; do wait "$p" || ok=0; done
	[ $ok -eq 1 ] && elapsed "$start"
}
wl_4x_write() { four "$1" -w; }
wl_4x_read() { four "$1" ""; }
WORKLOADS="fill seq-read 4k-read 4k-write 4k-alloc mixed-70/30 lat-read lat-write 4x-write 4x-read"
fn_of() { echo "wl_$1" | sed 's|mixed-70/30|mixed|; s|-|_|g'; }

case $QEMU_ACCEL in *kvm*) accel=kvm ;; *) accel=tcg ;; esac
echo "# bench-appliance: qedbox against Linux+tgt, $accel, $VCPUS vCPU and $MEM each, both up;" \
	"$MIB MiB region, $ROUNDS round(s)"
: >"$D/results"
failed=0
r=1
while [ $r -le "$ROUNDS" ]; do
	# Alternate who goes first: a round's second run may meet a warmer host cache.
	if [ $((r % 2)) -eq 1 ]; then order="qedbox tgt"; else order="tgt qedbox"; fi
	for w in $WORKLOADS; do
		WORKLOAD=$w
		for t in $order; do
			s=$($(fn_of "$w") "$t" "$r")
			[ -n "$s" ] || { echo "round $r: $w on $t failed:"; tail -n 3 "$D"/*.out; failed=1; s=failed; }
			eval "time_$t=\$s"
		done
		# shellcheck disable=SC2154 # set by the eval above
		echo "$w $r $time_qedbox $time_tgt" | tee -a "$D/results" | sed 's/^/  round /'
	done
	r=$((r + 1))
done

echo "# bench-appliance: ratio = Linux+tgt time / qedbox time (> 1: qedbox faster), median of $ROUNDS round(s)"
printf '# %-12s %12s %12s %8s  %s\n' workload "qedbox (s)" "tgt (s)" ratio "spread (min..max)"
for w in $WORKLOADS; do
	awk -v w="$w" '
	function median(a, n,   i, j, t) {
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	# A failed run reads "failed": its round has no ratio.
	$1 == w && $3 ~ /^[0-9.]+$/ && $4 ~ /^[0-9.]+$/ && $3 > 0 { n++; q[n] = $3; t[n] = $4; r[n] = $4 / $3 }
	END {
		if (n == 0) { printf "# %-12s %12s\n", w, "failed"; exit }
		lo = hi = r[1]
		for (i = 2; i <= n; i++) { if (r[i] < lo) lo = r[i]; if (r[i] > hi) hi = r[i] }
		printf "# %-12s %12.2f %12.2f %7.2fx  %.2f..%.2f\n", w, median(q, n), median(t, n), median(r, n), lo, hi
	}' "$D/results"
done
echo "# commands (\$TARGET is $(target_opts qedbox | sed 's/127.0.0.1:[0-9]*/127.0.0.1:PORT/')"
echo "#   or $(target_opts tgt | sed 's/127.0.0.1:[0-9]*/127.0.0.1:PORT/')):"
echo "#   qedbox: $QEDBOX_CMD" | sed 's/127.0.0.1:[0-9]*/127.0.0.1:PORT/g'
echo "#   tgt:    $RIVAL_CMD" | sed 's/127.0.0.1:[0-9]*/127.0.0.1:PORT/g'
cut -d' ' -f3- "$D/commands" | sed 's/^/#   /; s/:4x0$/:4x0   (and 4x1..4x3 at the next quarters, at once)/'
echo "# fill allocates on qedbox in round 1 only; 4k-alloc writes a new region in each round"
hw=$(grep "^qedbox: memory high-water" "$QEDBOX_LOG" | tail -n 1 | tr -d '\r')
echo "# ${hw:-qedbox: no memory high-water line on the console}"
stop_vms

# Still serves with little RAM: boot on the same volume, write and read back 1 MiB.
QPORT=$(free_port)
# shellcheck disable=SC2046
qemu_start lowmem 300 -M q35 -smp "$VCPUS" -m "$LOW_MEM" -kernel "$ELF" \
	-append "portal=127.0.0.1:$QPORT" $(disk_args "$D/qedbox.qed") $(net_args "$QPORT")
QEDBOX_PID=$QEMU_PID
low="FAILED (did not start)"
if qemu_wait_line "^iscsi: listening" 180; then
	out=$(qemu-io -f raw -c 'write -P 0x6b 3M 1M' -c 'read -P 0x6b 3M 1M' \
		"iscsi://127.0.0.1:$QPORT/iqn.2026-11.org.qedbox:bench0/0" 2>&1)
	if printf '%s\n' "$out" | grep -Eq "verification failed|failed|error"; then
		low="FAILED: $(printf '%s\n' "$out" | tail -n 2 | tr '\n' ' ')"
	else
		low="ok (login, 1 MiB written and read back)"
	fi
fi
[ "${low#ok}" != "$low" ] || failed=1
echo "# qedbox with -m $LOW_MEM: $low"
stop_vms
exit $failed
