#!/bin/sh
# A power cut at any instant of an online snapshot boots the old chain or the new one,
# never a mix, never a refusal to serve (docs/DESIGN.md, "Snapshots and clones").
# qedbox serves vol0; spare0 (blank) sits behind QEMU's blklogwrites driver, which logs
# every write and flush the firmware sends it. One qemu-io session writes 0x11 over
# 0..8 MiB and flushes, sends 32 asynchronous 256 KiB writes, and while they are in
# flight the API snapshots vol0 onto spare0; the session sends 32 more (into the overlay)
# with flushes between, then QEMU is killed (SIGKILL). snapcut.py rebuilds the spare at
# every cut of the overlay's creation and at cuts spread over the writes after it
# (unflushed writes kept, lost or torn per sector), pairs each with vol0 (frozen at the
# switch) and checks on the host what a boot would serve: no image on the spare, the old
# chain (vol0 alone); else the new chain (the overlay names volume vol0 over backing
# vol0, opens and repairs, passes qemu-img check, reads as allowed). Three of them are
# booted: the last state of the old chain, the first of the new one, and the end of the
# log; the firmware must serve target vol0 from the chain the host predicted, with the
# data a cut allows. Prints how many states booted into which chain. The spare is blank
# in its first sector only (stale bytes past it), as a real one may be.
#
# Planted bug this test was seen to fail on (reverted, never committed): qed_create
# writing the header sector first, before the L1 table: "the header sector is not
# written after the rest of the overlay", states whose new chain reads the wrong data,
# and a booted one failing reads (the L1 table still stale).
. "$(dirname "$0")/lib.sh"
command -v qemu-io >/dev/null || { echo "qemu-utils not installed"; exit 77; }
command -v curl >/dev/null || { echo "curl not installed"; exit 77; }
QEDTOOL=$ROOT/build/host/qedtool
[ -x "$QEDTOOL" ] || { echo "$QEDTOOL not built"; exit 1; }
SC="python3 $ROOT/tests/system/snapcut.py"
CR=$(printf "\r")
PREFIX=iqn.2026-11.org.qedbox
TOKEN=snapshot-test-token-0123456789
SEED=${SNAPCUT_SEED:-20261203}
D=$TEST_TMP
MiB=1048576

qemu-img create -q -f qed "$D/vol0" 32M && truncate -s 64M "$D/vol0"
# A blank spare is blank in its first sector only: past it, what the disk held before.
python3 -c 'import sys; sys.stdout.buffer.write(bytes(512) + b"STALE-DISK-DATA!" * ((64 << 20) - 512 >> 4))' >"$D/spare0"
cp "$D/spare0" "$D/spare0.init"
: >"$D/spare0.log"

# ---- the workload, the snapshot, the power cut
PORT=$(free_port) HPORT=$(free_port)
qemu_start workload 300 -M q35 -m 256M -kernel "$ELF" \
	-append "exit=debug portal=127.0.0.1:$PORT http=8080 admin_token=$TOKEN" \
	-drive "if=none,id=vol0,file=$D/vol0,format=raw,cache=unsafe" \
	-device virtio-blk-pci,drive=vol0,serial=vol0 \
	-blockdev "driver=blklogwrites,node-name=lw,file.driver=file,file.filename=$D/spare0,log.driver=file,log.filename=$D/spare0.log,log-sector-size=512" \
	-device virtio-blk-pci,drive=lw,serial=spare0 \
	-netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$PORT-:3260,hostfwd=tcp:127.0.0.1:$HPORT-:8080" \
	-device virtio-net-pci,netdev=n0 -pidfile "$D/qemu.pid"
qemu_wait_line "^iscsi: listening on port 3260, 1 target" 120 || { test_fail "no listener"; test_finish; }
qemu_wait_line "^net: 10\.0\.2\.15:3260" 60 || test_fail "no address"
piece() { echo "aio_write -P $((0x40 + $1)) $((8 * MiB + $1 * 262144)) 256k"; }
io_start "iscsi://127.0.0.1:$PORT/$PREFIX:vol0/0" "$D/io.out"
io_cmd "write -P 0x11 0 8M"
io_cmd flush
curl -s -m 60 -o "$D/answer" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
	-d '{"onto": "spare0"}' "http://127.0.0.1:$HPORT/api/v1/volumes/vol0/snapshot" >"$D/code" &
POST_PID=$!
for k in $(seq 0 31); do io_cmd "$(piece "$k")"; done
wait "$POST_PID"
[ "$(cat "$D/code")" = 200 ] || test_fail "snapshot: HTTP $(cat "$D/code"): $(cat "$D/answer")"
for k in $(seq 32 63); do
	io_cmd "$(piece "$k")"
	[ $((k % 8)) = 7 ] && io_cmd aio_flush
done
io_end
[ "$IO_STATUS" = 0 ] || test_fail "qemu-io: status $IO_STATUS"
grep -Eq "failed|rror" "$D/io.out" && test_fail "qemu-io: $(grep -E "failed|rror" "$D/io.out" | head -n 2)"
kill -9 "$(cat "$D/qemu.pid")" || test_fail "no QEMU to kill"
qemu_wait_exit 10
expect_line "^event: volume vol0 snapshot: image vol0 frozen read-only, served from spare0 now"
[ "$TEST_FAILURES" -eq 0 ] || test_finish

# ---- the spare's states, checked on the host
$SC states "$D" "$D/spare0.init" "$D/spare0.log" "$D/vol0" "$QEDTOOL" "$SEED" 3 || test_fail "spare states checked on the host"
figure() { awk -v k="$1" '$1 == k { print $2 }' "$D/figures"; }
[ "$(figure old)" -ge 3 ] || test_fail "only $(figure old) states boot the old chain"
[ "$(figure new)" -ge 10 ] || test_fail "only $(figure new) states boot the new chain"
[ "$(figure header_entry)" -ge 1 ] || test_fail "the header sector is not written after the rest of the overlay"
"$QEDTOOL" read "$D/vol0" 0 $((24 * MiB)) >"$D/vol0.raw" || test_fail "qedtool read vol0"

# ---- a few of them booted
booted=0
while read -r n cut chain img <&4; do
	cp "$img" "$D/spare0"
	PORT=$(free_port)
	qemu_start "boot$n" 120 -M q35 -m 256M -kernel "$ELF" \
		-append "exit=debug portal=127.0.0.1:$PORT" \
		-drive "if=none,id=vol0,file=$D/vol0,format=raw,cache=unsafe,readonly=on" \
		-device virtio-blk-pci,drive=vol0,serial=vol0 \
		-drive "if=none,id=spare0,file=$D/spare0,format=raw,cache=unsafe" \
		-device virtio-blk-pci,drive=spare0,serial=spare0 \
		-netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$PORT-:3260" \
		-device virtio-net-pci,netdev=n0
	if ! qemu_wait_line "^iscsi: listening on port 3260, 1 target" 60; then
		test_fail "boot $n (cut $cut, $chain chain): vol0 not served"
		expect_line "^iscsi: listening on port 3260, 1 target"
		kill "$QEMU_PID"; qemu_wait_exit 5
		continue
	fi
	case $chain in
	old) expect_line "^target $PREFIX:vol0: 33554432 bytes, 65536-byte clusters${CR}?$" ;;
	*) expect_line "^target $PREFIX:vol0: 33554432 bytes, 65536-byte clusters, image spare0, backing vol0" ;;
	esac
	qemu-img convert -f raw -O raw "iscsi://127.0.0.1:$PORT/$PREFIX:vol0/0" "$D/read.raw" 2>"$D/err" ||
		test_fail "boot $n: reading vol0: $(tail -n 2 "$D/err")"
	out=$($SC verify "$D/read.raw" "$D/vol0.raw" "$chain") || test_fail "boot $n (cut $cut, $chain chain): $out"
	kill "$QEMU_PID"; qemu_wait_exit 10
	booted=$((booted + 1))
	echo "# booted state $n (cut before log entry $cut): the $chain chain, served and read back"
done 4<"$D/boot/list"
[ "$booted" -eq 3 ] || test_fail "$booted of 3 states booted"
test_finish
