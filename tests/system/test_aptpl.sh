#!/bin/sh
# Persistent reservations that persist (APTPL): stored with the volume in the QED header
# cluster's record area before GOOD, restored at boot. tests/system/aptpl_client.py
# drives two initiators, A and B, with fixed ISIDs (the same I_T nexuses after a reboot).
#   disks: vol0 (64 KiB clusters: APTPL), vol1 (64 KiB clusters: reservations without
#          APTPL), small0 (4 KiB clusters: no room for records, APTPL refused)
#   boot 1: A and B register with APTPL on vol0, A reserves Write Exclusive; the same
#           without APTPL on vol1; APTPL refused on small0; a clean stop (the idle
#           flush, then SIGTERM)
#   boot 2: vol0's keys, generation and reservation restored, B refused a write; vol1
#           has nothing; then B takes Exclusive Access and QEMU is killed (SIGKILL) right
#           after the GOOD
#   boot 3: B's reservation survived the kill; released; APTPL turned off
#   boot 4: nothing survives once APTPL is off
# The host then runs qemu-img check on the images, and qemu-io writes vol0: QEMU clears
# autoclear bit 62, and qedtool info shows the record bit gone.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || { echo "qemu-utils not installed"; exit 77; }
PREFIX=iqn.2026-11.org.qedbox
CR=$(printf "\r")
D=$TEST_TMP
qemu-img create -q -f qed "$D/vol0.qed" 16M && truncate -s 32M "$D/vol0.qed"
qemu-img create -q -f qed "$D/vol1.qed" 16M && truncate -s 32M "$D/vol1.qed"
qemu-img create -q -f qed -o cluster_size=4096 "$D/small0.qed" 16M && truncate -s 32M "$D/small0.qed"
CLIENT="python3 $ROOT/tests/system/aptpl_client.py"

disk() { echo "-drive if=none,id=$1,file=$D/$1.qed,format=raw -device virtio-blk-pci,drive=$1,serial=$1"; }
boot() {
	PORT=$(free_port)
	# shellcheck disable=SC2046
	qemu_start "$1" 300 -M q35 -m 256M -kernel "$ELF" \
		-append "exit=debug portal=127.0.0.1:$PORT" \
		$(disk vol0) $(disk vol1) $(disk small0) -pidfile "$D/qemu.pid" \
		-netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$PORT-:3260" \
		-device virtio-net-pci,netdev=n0
	qemu_wait_line "^iscsi: listening on port 3260, 3 targets" 120 ||
		{ test_fail "$1: no listener"; expect_line "^iscsi: listening"; test_finish; }
}
step() { $CLIENT "$PORT" "$PREFIX:$1" "$2" || test_fail "$2 on $1"; }
# A clean stop: once the idle flush cleared need-check on every image (bounded wait),
# SIGTERM; QEMU ends with every write made.
stop() {
	tries=300
	while [ $tries -gt 0 ] && ! python3 - "$D/vol0.qed" "$D/vol1.qed" "$D/small0.qed" <<'PY'
import struct, sys
sys.exit(any(struct.unpack_from("<Q", open(f, "rb").read(24), 16)[0] & 2 for f in sys.argv[1:]))
PY
	do
		sleep 0.1
		tries=$((tries - 1))
	done
	[ $tries -gt 0 ] || test_fail "$(basename "$QEMU_LOG" .log): need-check still set after 30 s"
	kill "$QEMU_PID"
	qemu_wait_exit 20
}

boot first
step vol0 reserve-aptpl
step vol1 reserve-plain
step small0 refused
stop

boot restored
expect_line "^target $PREFIX:vol0: 2 reservation keys restored \(APTPL\)${CR}?$"
grep -q "^target $PREFIX:vol1: .*reservation" "$QEMU_LOG" && test_fail "vol1: reservations restored without APTPL"
step vol0 restored
step vol1 empty
# The power cut, right after the GOOD: SIGKILL to QEMU itself (not to its `timeout`).
kill -9 "$(cat "$D/qemu.pid")" || test_fail "no QEMU to kill"
qemu_wait_exit 10

boot after-kill
expect_line "^target $PREFIX:vol0: 2 reservation keys restored \(APTPL\)${CR}?$"
step vol0 after-kill
stop

boot aptpl-off
grep -q "^target $PREFIX:vol0: .*reservation" "$QEMU_LOG" && test_fail "vol0: reservations restored after APTPL was turned off"
step vol0 empty
stop

# The disks are larger than the images' data: qemu-img counts the zeros past the last
# cluster as leaked (status 3). Corruption (2) or an error (1) fails.
check() {
	qemu-img check -f qed "$D/$1.qed" >"$D/check.out" 2>&1
	rc=$?
	[ $rc -eq 0 ] || [ $rc -eq 3 ] || test_fail "qemu-img check $1$2: status $rc: $(cat "$D/check.out")"
}
for img in vol0 vol1 small0; do
	check $img
done
QEDTOOL=$ROOT/build/host/qedtool
# record_bit FILE: autoclear bit 62 as `qedtool info` reports it (0 or 1)
record_bit() {
	"$QEDTOOL" info "$1" | sed -n 's/.*autoclear 0x\([0-9a-f]*\).*/\1/p' |
		python3 -c 'import sys; s = sys.stdin.read().strip(); print(int(s, 16) >> 62 & 1 if s else "none")'
}
[ "$(record_bit "$D/vol0.qed")" = 1 ] || test_fail "vol0: the record bit (62) is not set"
[ "$(record_bit "$D/vol1.qed")" = 0 ] || test_fail "vol1: the record bit is set without APTPL"
qemu-io -f qed -c 'write -P 0x33 0 4k' "$D/vol0.qed" >/dev/null 2>&1 || test_fail "qemu-io write vol0"
[ "$(record_bit "$D/vol0.qed")" = 0 ] || test_fail "vol0: QEMU left the record bit set"
check vol0 " after QEMU wrote it"
test_finish
