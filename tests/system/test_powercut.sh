#!/bin/sh
# Power cuts of the whole appliance (docs/DESIGN.md, testing layer 4). qedbox serves a QED
# volume (4 KiB clusters, 4 MiB per L2 table, the disk past the image pre-filled with a
# STALE pattern) through QEMU's blklogwrites driver, which logs every write and flush of
# the firmware's virtio-blk driver; the disk has a volatile write cache (wcache=on).
# qemu-io drives it over iSCSI (sync and FUA writes, aio batches, SYNCHRONIZE CACHE) and
# then QEMU is killed (SIGKILL). powercut.py rebuilds from the log the disks a power cut
# could have left (at every flush and between, unflushed writes kept, lost or torn per
# sector) and checks each on the host: qemu-img check before and after the repair by
# qedtool (the firmware's QED core), then every sector read back. A few of them are then
# booted: the firmware's own boot-time check repairs them, the host reads the volume over
# iSCSI, writes and syncs new data; after power-off qemu-img check judges the disk and
# QEMU's QED driver reads it all back.
#   POWERCUT_SEED, POWERCUT_STATES (host-checked states), POWERCUT_BOOTS override;
#   POWERCUT_KEEP=DIR keeps the initial disk, the log and the ops for
#   `powercut.py analyze DIR DIR/init.qed DIR/disk.log build/host/qedtool SEED N 0`.
. "$(dirname "$0")/lib.sh"
command -v qemu-io >/dev/null || { echo "qemu-utils not installed"; exit 77; }
qemu-img --help 2>/dev/null | grep -q blklogwrites ||
	qemu-system-x86_64 -blockdev help 2>&1 | grep -q blklogwrites ||
	echo "note: cannot tell whether QEMU has blklogwrites; trying"
QEDTOOL=$ROOT/build/host/qedtool
[ -x "$QEDTOOL" ] || { echo "$QEDTOOL not built"; exit 1; }
PC="python3 $ROOT/tests/system/powercut.py"
SEED=${POWERCUT_SEED:-$(date +%s)}
STATES=${POWERCUT_STATES:-150}
BOOTS=${POWERCUT_BOOTS:-8}
PREFIX=iqn.2026-11.org.qedbox
D=$TEST_TMP
echo "# seed $SEED (POWERCUT_SEED=$SEED replays the workload and the choice of states;"
echo "#   the log itself depends on timing: POWERCUT_KEEP=DIR keeps it)"

# A 32 MiB volume on a 24 MiB disk; whatever the disk held before must never be served.
qemu-img create -q -f qed -o cluster_size=4096,table_size=2 "$D/init.qed" 32M
python3 - "$D/init.qed" <<'PY'
import os, sys
with open(sys.argv[1], "r+b") as f:
    start = os.fstat(f.fileno()).st_size
    f.seek(start)
    f.write(b"STALE-DISK-DATA!" * (((24 << 20) - start) // 16))
PY
cp "$D/init.qed" "$D/disk.qed"
: >"$D/disk.log"

# ---- the workload, then the power cut
PORT=$(free_port)
qemu_start workload 300 -M q35 -m 256M -kernel "$ELF" \
	-append "exit=debug portal=127.0.0.1:$PORT" \
	-blockdev "driver=blklogwrites,node-name=lw,file.driver=file,file.filename=$D/disk.qed,log.driver=file,log.filename=$D/disk.log,log-sector-size=512" \
	-device virtio-blk-pci,drive=lw,serial=vol0 \
	-netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$PORT-:3260" \
	-device virtio-net-pci,netdev=n0 -pidfile "$D/qemu.pid"
qemu_wait_line "^iscsi: listening on port 3260, 1 target" 120 || { test_fail "workload: no listener"; expect_line "^iscsi: listening"; test_finish; }
expect_line "^disk 0: serial=vol0 .*wcache=on"
$PC workload "$D" "iscsi://127.0.0.1:$PORT/$PREFIX:vol0/0" "$SEED" || test_fail "workload"
# The power cut: SIGKILL to QEMU itself (QEMU_PID is its `timeout`, which then ends).
kill -9 "$(cat "$D/qemu.pid")" || test_fail "no QEMU to kill"
qemu_wait_exit 10
[ "$TEST_FAILURES" -eq 0 ] || test_finish

# POWERCUT_KEEP=DIR keeps what reproduces the states: the initial disk, the log, the ops.
if [ -n "${POWERCUT_KEEP:-}" ]; then
	mkdir -p "$POWERCUT_KEEP" && cp "$D/init.qed" "$D/disk.log" "$D/ops.json" "$POWERCUT_KEEP/"
fi

# ---- host-side states
$PC analyze "$D" "$D/init.qed" "$D/disk.log" "$QEDTOOL" "$SEED" "$STATES" "$BOOTS" ||
	test_fail "power-cut states checked on the host"

# ---- booted recoveries: the firmware's boot-time check, then reads over iSCSI
booted=0 repaired=0
while read -r n cut img <&3; do
	PORT=$(free_port)
	URL=iscsi://127.0.0.1:$PORT/$PREFIX:vol0/0
	[ -n "${POWERCUT_KEEP:-}" ] && cp "$img" "$POWERCUT_KEEP/boot$n-cut$cut.img"
	qemu_start "recover$n" 120 -M q35 -m 256M -kernel "$ELF" \
		-append "exit=debug portal=127.0.0.1:$PORT" \
		-drive "if=none,id=d0,file=$img,format=raw,cache=writeback" \
		-device virtio-blk-pci,drive=d0,serial=vol0 \
		-netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$PORT-:3260" \
		-device virtio-net-pci,netdev=n0
	if ! qemu_wait_line "^iscsi: listening on port 3260, 1 target" 60; then
		test_fail "recovery $n (cut $cut): not served"
		expect_line "^iscsi: listening"
		kill "$QEMU_PID"; qemu_wait_exit 5
		continue
	fi
	qemu-img convert -f raw -O raw "$URL" "$D/read.raw" 2>"$D/convert.err" ||
		test_fail "recovery $n: qemu-img convert: $(tail -n 3 "$D/convert.err")"
	$PC verify "$D" "$D/disk.log" "$cut" "$D/read.raw" || test_fail "recovery $n (cut $cut)"
	# Life goes on after the repair: new clusters must not land on live ones. The host
	# then reads the disk with QEMU's own QED driver.
	out=$(qemu-io -f raw -c 'write -P 0xee 30M 1M' -c flush -c 'read -P 0xee 30M 1M' "$URL" 2>&1)
	printf '%s\n' "$out" | grep -Eq "failed|verification" && test_fail "recovery $n: new writes: $out"
	kill "$QEMU_PID"
	qemu_wait_exit 10
	out=$(qemu-img check -f qed "$img" 2>&1)
	rc=$?
	[ $rc -eq 0 ] || [ $rc -eq 3 ] || test_fail "recovery $n: qemu-img check after the firmware: status $rc: $out"
	qemu-img convert -f qed -O raw "$img" "$D/read.raw" ||
		test_fail "recovery $n: qemu-img convert of the disk after the firmware"
	$PC verify "$D" "$D/disk.log" "$cut" "$D/read.raw" after ||
		test_fail "recovery $n (cut $cut): QEMU's read of the disk after the recovery"
	grep -Eq "qed check: [1-9][0-9]* corruptions" "$TEST_TMP/recover$n.log" && repaired=$((repaired + 1))
	rm -f "$img"
	booted=$((booted + 1))
done 3<"$D/boot/list"
echo "# power cuts: $booted recovered by the firmware (booted, read over iSCSI, written again), $repaired of them repaired by its boot-time check"
test_finish
