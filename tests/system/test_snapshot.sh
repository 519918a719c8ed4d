#!/bin/sh
# Online snapshots and thin clones (docs/DESIGN.md, "Snapshots and clones"), end to end.
#   disks: vol0 (a qemu-img QED image), spare0 and spare1 (blank, 192 MiB), small0 (blank,
#          too small for vol0's disk)
#   one qemu-io session over iSCSI (its commands fed through a FIFO: one login for the
#   whole test) writes patterns; while its asynchronous writes are in flight, the API
#   snapshots vol0 onto spare0 (POST /api/v1/volumes/vol0/snapshot); the session keeps
#   writing and reads everything back, never logging in again; then the frozen image
#   vol0 is cloned onto spare1 (POST /api/v1/images/vol0/clone), and the clone reads the
#   data as of the snapshot; a second snapshot (of the snapshot) onto spare2 makes a chain
#   of three. Refusals: a clone of the served image (409/EROFS), a spare
#   too small, a disk that is not blank, an unknown volume.
#   after power-off the host checks the chain with qemu-img info --backing-chain and
#   qemu-img check (the files are named by the disks' serials, so the backing names
#   resolve) and reads both volumes with QEMU's driver; a reboot finds the chain from
#   the images alone and serves the same targets with the same data.
# Prints "# snapshot under load: N ms" and "# clone: N ms" (the API call as the client
# sees it) and the appliance's own figures.
. "$(dirname "$0")/lib.sh"
command -v qemu-io >/dev/null || { echo "qemu-utils not installed"; exit 77; }
command -v curl >/dev/null || { echo "curl not installed"; exit 77; }
CR=$(printf "\r")
PREFIX=iqn.2026-11.org.qedbox
TOKEN=snapshot-test-token-0123456789
D=$TEST_TMP
MiB=1048576

qemu-img create -q -f qed "$D/vol0" 64M && truncate -s 192M "$D/vol0"
truncate -s 192M "$D/spare0" "$D/spare1" "$D/spare2"
truncate -s 16M "$D/small0"
disk() { echo "-drive if=none,id=$1,file=$D/$1,format=raw,cache=unsafe -device virtio-blk-pci,drive=$1,serial=$1"; }

boot() { # NAME: starts the appliance on the five disks
	PORT=$(free_port) HPORT=$(free_port)
	URL=iscsi://127.0.0.1:$PORT/$PREFIX
	API=http://127.0.0.1:$HPORT/api/v1
	# shellcheck disable=SC2046
	qemu_start "$1" 300 -M q35 -m 512M -kernel "$ELF" \
		-append "exit=debug cluster_size=64K portal=127.0.0.1:$PORT http=8080 admin_token=$TOKEN" \
		$(disk vol0) $(disk spare0) $(disk spare1) $(disk spare2) $(disk small0) \
		-netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$PORT-:3260,hostfwd=tcp:127.0.0.1:$HPORT-:8080" \
		-device virtio-net-pci,netdev=n0
	qemu_wait_line "^iscsi: listening on port 3260" 120 || test_fail "$1: no listener"
	qemu_wait_line "^net: 10\.0\.2\.15:3260" 60 || test_fail "$1: no address"
}

# post PATH BODY: the API's answer in $D/answer, the HTTP status printed, the time taken
# in ms in $D/ms.
post() {
	t0=$(date +%s%N)
	code=$(curl -s -m 60 -o "$D/answer" -w '%{http_code}' -X POST \
		-H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
		-d "$2" "$API$1")
	echo $((($(date +%s%N) - t0) / 1000000)) >"$D/ms"
	echo "$code"
}

IO_FAILED="Pattern verification failed|(read|write|flush) failed|rror"
# A pattern per 256 KiB piece: byte 0x40 + piece (pieces 0..63 over [8M, 24M)).
piece() { echo "aio_write -P $((0x40 + $1)) $((8 * MiB + $1 * 262144)) 256k"; }
check_piece() { echo "read -P $((0x40 + $1)) $((8 * MiB + $1 * 262144)) 256k"; }

# ---- boot: vol0 served, the blank disks are spares
boot serve
expect_line "^volume spare0: not served: blank disk \(a spare"
expect_line "^target $PREFIX:vol0: 67108864 bytes, 65536-byte clusters${CR}?$"

# ---- one session, writing while the snapshot is taken
io_start "$URL:vol0/0" "$D/io.out"
io_cmd "write -P 0x11 0 8M"
io_cmd "flush"
# The snapshot while asynchronous writes are sent and in flight.
post /volumes/vol0/snapshot '{"onto": "spare0"}' >"$D/code" &
POST_PID=$!
for k in $(seq 0 31); do io_cmd "$(piece "$k")"; done
wait "$POST_PID"
code=$(cat "$D/code") snap_ms=$(cat "$D/ms")
[ "$code" = 200 ] || test_fail "snapshot: HTTP $code: $(cat "$D/answer")"
grep -q '"image": *"spare0"' "$D/answer" || test_fail "snapshot answer: $(cat "$D/answer")"
grep -q '"backing_chain":\["vol0"\]' "$D/answer" || test_fail "snapshot answer names no chain: $(cat "$D/answer")"
for k in $(seq 32 63); do io_cmd "$(piece "$k")"; done
io_cmd "aio_flush"
io_cmd "read -P 0x11 0 8M"
for k in $(seq 0 63); do io_cmd "$(check_piece "$k")"; done
io_end
[ "$IO_STATUS" = 0 ] || test_fail "qemu-io session: status $IO_STATUS"
grep -Eq "$IO_FAILED" "$D/io.out" && test_fail "the session: $(grep -E "$IO_FAILED" "$D/io.out" | head -n 3)"
reads=$(grep -Ec "read [0-9]+/[0-9]+ bytes" "$D/io.out")
[ "$reads" -eq 65 ] || test_fail "the session read back $reads of 65 ranges: $(tail -n 3 "$D/io.out")"
logins=$(curl -s -m 20 "http://127.0.0.1:$HPORT/metrics" | sed -n 's/^qedbox_logins_total \([0-9]*\)/\1/p')
[ "$logins" = 1 ] || test_fail "the session logged in ${logins:-?} times (once expected: no re-login)"
expect_line "^event: volume vol0 snapshot: image vol0 frozen read-only, served from spare0 now"
echo "# snapshot under load: $snap_ms ms (32 x 256 KiB writes in flight around it)"
sed -n 's/.*vol0 snapshot: .*(\(overlay written in [0-9]* ms, switch [0-9]* us\).*/# appliance: \1/p' "$QEMU_LOG"

# ---- refusals: an error status, and the console says why
refused() { # PATH SPARE WHAT CONSOLE-LINE
	code=$(post "$1" "{\"onto\": \"$2\"}")
	case $code in 4??|5??) ;; *) test_fail "$3: HTTP $code, an error expected: $(cat "$D/answer")" ;; esac
	expect_line "^event: volume $4"
}
refused /images/spare0/clone spare1 "a clone of the served image spare0" \
	"spare0 clone onto spare1 refused: image spare0 is served read-write"
refused /images/vol0/clone small0 "a clone onto a spare too small" \
	"vol0 clone onto small0 refused: spare small0 .* is smaller"
refused /volumes/vol0/snapshot vol0 "a snapshot onto a disk that is no spare" \
	"vol0 snapshot onto vol0 refused: disk vol0 is not a blank spare"
refused /volumes/nosuch/snapshot spare1 "a snapshot of no volume" \
	"nosuch snapshot onto spare1 refused: no volume named nosuch"

# ---- clone of the frozen image: a new target with the data as of the snapshot
code=$(post /images/vol0/clone '{"onto": "spare1"}')
clone_ms=$(cat "$D/ms")
[ "$code" = 200 ] || test_fail "clone: HTTP $code: $(cat "$D/answer")"
grep -q "$PREFIX:spare1" "$D/answer" || test_fail "clone answer: $(cat "$D/answer")"
echo "# clone: $clone_ms ms"
out=$(qemu-io -f raw -c "read -P 0x11 0 8M" -c "write -P 0x77 0 1M" -c "read -P 0x77 0 1M" \
	-c flush "$URL:spare1/0" 2>&1)
printf '%s\n' "$out" | grep -Eq "$IO_FAILED" && test_fail "the clone: $out"
# What vol0 held when it was frozen: each piece written before the switch whole, each
# written after it not at all (a 256 KiB write is one command: it passed the gate before
# or after), the later 32 not at all.
qemu-img convert -f raw -O raw "$URL:spare1/0" "$D/clone.raw" 2>"$D/err" || test_fail "reading the clone: $(cat "$D/err")"
frozen=$(python3 - "$D/clone.raw" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
frozen = 0
for k in range(64):
    piece = data[(8 << 20) + k * 262144:(8 << 20) + (k + 1) * 262144]
    if piece == bytes([0x40 + k]) * 262144 and k < 32:
        frozen += 1
    elif piece != bytes(262144):
        print("piece %d is neither its pattern%s nor zeros" % (k, "" if k < 32 else " (written after the snapshot)"))
        sys.exit(1)
print(frozen)
PY
) || test_fail "the clone: $frozen"
echo "# the frozen image holds $frozen of the 32 pieces in flight around the snapshot"
qemu-io -f raw -c "read -P 0x11 0 8M" "$URL:vol0/0" 2>&1 | grep -Eq "$IO_FAILED" && test_fail "vol0 after the clone"

iscsi-ls -s "iscsi://127.0.0.1:$PORT" 2>&1 | grep -q "^Target:$PREFIX:spare1 " ||
	test_fail "SendTargets does not list the clone: $(iscsi-ls -s "iscsi://127.0.0.1:$PORT" 2>&1)"
curl -s -m 20 -o "$D/images" "$API/images"
grep -q '"serial":"vol0","role":"backing"' "$D/images" && grep -q '"read_only":true' "$D/images" ||
	test_fail "GET /api/v1/images: vol0 is not a read-only backing image: $(head -c 400 "$D/images")"

# ---- a snapshot of the snapshot: the chain grows to spare2 -> spare0 -> vol0
code=$(post /volumes/vol0/snapshot '{"onto": "spare2"}')
[ "$code" = 200 ] || test_fail "second snapshot: HTTP $code: $(cat "$D/answer")"
grep -q '"backing_chain":\["spare0","vol0"\]' "$D/answer" || test_fail "second snapshot's chain: $(cat "$D/answer")"
out=$(qemu-io -f raw -c "write -P 0x99 30M 1M" -c "read -P 0x99 30M 1M" -c "read -P 0x11 0 8M" "$URL:vol0/0" 2>&1)
printf '%s\n' "$out" | grep -Eq "$IO_FAILED" && test_fail "vol0 over two snapshots: $out"

# ---- power off, then the host looks at the chain
kill "$QEMU_PID"; qemu_wait_exit 10
chain=$(cd "$D" && qemu-img info --backing-chain spare2 2>&1)
printf '%s\n' "$chain" | grep -q "^backing file: spare0" && printf '%s\n' "$chain" | grep -q "^backing file: vol0" &&
	printf '%s\n' "$chain" | grep -q "^image: vol0" || test_fail "qemu-img info --backing-chain spare2: $chain"
printf '%s\n' "$chain" | sed -n 's/^\(image\|backing file\): /# chain: &/p'
for img in vol0 spare0 spare1 spare2; do
	(cd "$D" && qemu-img check -f qed "$img" >"$D/check.out" 2>&1)
	rc=$?
	# 3: the disk's tail past the image counts as leaked clusters (a file, not a disk)
	[ $rc -eq 0 ] || [ $rc -eq 3 ] || test_fail "qemu-img check $img: status $rc: $(tail -n 3 "$D/check.out")"
	grep -qi "corrupt\|error" "$D/check.out" && ! grep -q "No errors" "$D/check.out" &&
		test_fail "qemu-img check $img: $(head -n 3 "$D/check.out")"
done
(cd "$D" && qemu-io -f qed -r -c "read -P 0x11 0 8M" spare0) 2>&1 | grep -Eq "$IO_FAILED" &&
	test_fail "QEMU reads the chain spare0 -> vol0 wrong"
args=""
for k in $(seq 0 63); do args="$args -c '$(check_piece "$k")'"; done
out=$(cd "$D" && eval qemu-io -f qed -r -c "'read -P 0x99 30M 1M'" "$args" spare2 2>&1)
printf '%s\n' "$out" | grep -Eq "$IO_FAILED" && test_fail "QEMU reads the pieces through the chain: $(printf '%s\n' "$out" | grep -E "$IO_FAILED" | head -n 2)"
(cd "$D" && qemu-io -f qed -r -c "read -P 0x77 0 1M" -c "read -P 0x11 1M 7M" spare1) 2>&1 |
	grep -Eq "$IO_FAILED" && test_fail "QEMU reads the clone wrong"

# ---- reboot: the chain is found from the images alone
boot reboot
expect_line "^volume vol0: backing image of spare[01] \(read-only, not served\)"
expect_line "^volume spare0: backing image of spare2 \(read-only, not served\)"
expect_line "^target $PREFIX:vol0: 67108864 bytes, 65536-byte clusters, image spare2, backing spare0"
expect_line "^target $PREFIX:spare1: 67108864 bytes, 65536-byte clusters, backing vol0"
args="-c 'read -P 0x11 0 8M' -c 'read -P 0x99 30M 1M'"
for k in $(seq 0 63); do args="$args -c '$(check_piece "$k")'"; done
out=$(eval qemu-io -f raw "$args" "$URL:vol0/0" 2>&1)
printf '%s\n' "$out" | grep -Eq "$IO_FAILED" && test_fail "vol0 after the reboot: $(printf '%s\n' "$out" | grep -E "$IO_FAILED" | head -n 2)"
out=$(qemu-io -f raw -c "read -P 0x77 0 1M" -c "read -P 0x11 1M 7M" "$URL:spare1/0" 2>&1)
printf '%s\n' "$out" | grep -Eq "$IO_FAILED" && test_fail "the clone after the reboot: $out"
qemu-img convert -f raw -O raw "$URL:spare1/0" "$D/clone2.raw" 2>"$D/err" || test_fail "reading the clone: $(cat "$D/err")"
cmp -s "$D/clone.raw" "$D/clone2.raw" || test_fail "the clone's data changed across the reboot"
code=$(curl -s -m 20 -o "$D/answer" -w '%{http_code}' "$API/volumes")
[ "$code" = 200 ] && grep -q '"image":"spare2"' "$D/answer" || test_fail "GET /api/v1/volumes: $code $(head -c 300 "$D/answer")"
kill "$QEMU_PID"; qemu_wait_exit 10
test_finish
