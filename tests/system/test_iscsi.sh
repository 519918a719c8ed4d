#!/bin/sh
# The product end to end: the firmware serves QED volumes over iSCSI to real initiators
# under QEMU user networking (restrict=on, forwarded on 127.0.0.1 only).
#   disks: vol0 (a qemu-img QED image), blank0 (formatted by format=blank0), junk0 (raw
#          bytes: reported, not served), base0 (raw pattern) under child0 (QED, backing
#          file base0)
#   libiscsi: iscsi-ls, iscsi-inq, iscsi-readcapacity16
#   QEMU's iscsi driver: qemu-img convert of 64 MiB in and out, qemu-io patterns
#   robustness: garbage and oversized PDUs on one connection, the others keep working
#   auth: CHAP (right, wrong and missing secrets) and a per-volume initiator ACL, and
#         the console's events for each login (no secret on the console)
#   after the writes stop the idle flush clears need-check; the host checks the images
#   with qemu-img check and reads them back with qemu-img convert
. "$(dirname "$0")/lib.sh"
command -v iscsi-ls >/dev/null || { echo "libiscsi-bin not installed"; exit 77; }
CR=$(printf "\r")
PREFIX=iqn.2026-11.org.qedbox

D=$TEST_TMP
# The disk behind vol0 is the image file grown to 256 MiB: room to allocate in.
qemu-img create -q -f qed "$D/vol0.qed" 128M && truncate -s 256M "$D/vol0.qed"
truncate -s 64M "$D/blank0.img"
head -c 1M /dev/urandom >"$D/junk0.img"
python3 -c 'import sys; sys.stdout.buffer.write(bytes([0x42]) * (8 << 20))' >"$D/base0.img"
ln -s base0.img "$D/base0" # the backing file name is the disk serial; the host finds it too
qemu-img create -q -f qed -u -b base0 -F raw "$D/child0.qed" 8M && truncate -s 32M "$D/child0.qed"

PORT=$(free_port)
URL=iscsi://127.0.0.1:$PORT
disk() { echo "-drive if=none,id=$1,file=$D/$2,format=raw,cache=unsafe -device virtio-blk-pci,drive=$1,serial=$1"; }
# shellcheck disable=SC2046
qemu_start serve 600 -M q35 -m 512M -kernel "$ELF" \
	-append "exit=debug format=blank0 cluster_size=64K portal=127.0.0.1:$PORT" \
	$(disk vol0 vol0.qed) $(disk blank0 blank0.img) $(disk junk0 junk0.img) \
	$(disk child0 child0.qed) $(disk base0 base0.img) \
	-netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$PORT-:3260" \
	-device virtio-net-pci,netdev=n0
qemu_wait_line "^iscsi: listening on port 3260, 3 targets" 120 || test_fail "no listener"
qemu_wait_line "^net: 10\.0\.2\.15:3260" 60 || test_fail "no address"
expect_line "^target $PREFIX:vol0: 134217728 bytes, 65536-byte clusters${CR}?$"
expect_line "^volume blank0: formatting: QED"
expect_line "^target $PREFIX:blank0: "
expect_line "^volume junk0: not served: holds no QED image"
expect_line "^target $PREFIX:child0: 8388608 bytes, 65536-byte clusters, backing base0"
expect_line "^volume base0: backing image of child0"

# ---- libiscsi's tools
ls=$(iscsi-ls -s "$URL" 2>&1)
for t in vol0 blank0 child0; do
	printf '%s\n' "$ls" | grep -q "^Target:$PREFIX:$t Portal:127.0.0.1:$PORT,1" ||
		test_fail "iscsi-ls: target $t missing: $ls"
done
printf '%s\n' "$ls" | grep -q "junk0\|base0" && test_fail "iscsi-ls lists an unserved disk: $ls"
inq=$(iscsi-inq "$URL/$PREFIX:vol0/0" 2>&1)
printf '%s\n' "$inq" | grep -q "Peripheral Device Type:DIRECT_ACCESS" || test_fail "iscsi-inq: $inq"
cap=$(iscsi-readcapacity16 "$URL/$PREFIX:vol0/0" 2>&1)
printf '%s\n' "$cap" | grep -q "^Total size:134217728" || test_fail "iscsi-readcapacity16: $cap"
printf '%s\n' "$cap" | grep -q "^LBPME:1 LBPRZ:1" || test_fail "readcapacity16: not thin: $cap"

# ---- QEMU's iscsi driver: 64 MiB in and out, then patterns
head -c 64M /dev/urandom >"$D/data.raw"
start=$(date +%s.%N)
qemu-img convert -n -f raw -O raw "$D/data.raw" "$URL/$PREFIX:vol0/0" 2>"$D/convert.err" ||
	test_fail "qemu-img convert to iscsi: $(tail -n 3 "$D/convert.err")"
mid=$(date +%s.%N)
qemu-img convert -f raw -O raw "$URL/$PREFIX:vol0/0" "$D/back.raw" 2>"$D/convert.err" ||
	test_fail "qemu-img convert from iscsi: $(tail -n 3 "$D/convert.err")"
end=$(date +%s.%N)
cmp -n 67108864 "$D/data.raw" "$D/back.raw" >/dev/null || test_fail "64 MiB read back differ"
cmp -n 67108864 -i 67108864:0 "$D/back.raw" /dev/zero >/dev/null ||
	test_fail "the unwritten half does not read as zeros"
echo "# qemu-img convert 64 MiB over iSCSI: write $(echo "$start $mid" | awk '{printf "%.1f", 64 / ($2 - $1)}') MiB/s, read $(echo "$mid $end" | awk '{printf "%.1f", 128 / ($2 - $1)}') MiB/s"

io() { qemu-io -f raw "$@" 2>&1; }
IO_FAILED="Pattern verification failed|(read|write|flush) failed"
out=$(io -c 'write -P 0x5a 1000k 300k' -c 'read -P 0x5a 1000k 300k' -c 'flush' "$URL/$PREFIX:vol0/0")
printf '%s\n' "$out" | grep -Eq "$IO_FAILED" && test_fail "qemu-io vol0: $out"
out=$(io -c 'read -P 0x42 0 8M' "$URL/$PREFIX:child0/0")
printf '%s\n' "$out" | grep -Eq "$IO_FAILED" && test_fail "child0 reads its backing: $out"
out=$(io -c 'write -P 0x17 4k 8k' -c 'read -P 0x42 0 4k' -c 'read -P 0x17 4k 8k' -c 'read -P 0x42 12k 52k' "$URL/$PREFIX:child0/0")
printf '%s\n' "$out" | grep -Eq "$IO_FAILED" && test_fail "child0 copy-on-write: $out"
out=$(io -c 'write -P 0x33 0 1M' -c 'read -P 0x33 0 1M' "$URL/$PREFIX:blank0/0")
printf '%s\n' "$out" | grep -Eq "$IO_FAILED" && test_fail "blank0: $out"

# ---- robustness: nonsense on one connection must not disturb the appliance
python3 - "$PORT" <<'PY' || test_fail "garbage connection"
import socket, sys, struct
port = int(sys.argv[1])
for payload in (b"\xff" * 48, b"GET / HTTP/1.0\r\n\r\n" * 10,
                bytes([0x03, 0x87]) + b"\0" * 2 + struct.pack(">I", 0xffffff) + b"\0" * 40):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(payload)
        s.settimeout(2)
        try:
            s.recv(4096)
        except (socket.timeout, ConnectionResetError):
            pass
    finally:
        s.close()
PY
iscsi-ls -s "$URL" 2>&1 | grep -q "^Target:$PREFIX:vol0 " || test_fail "iscsi-ls after garbage"
expect_line "^event: login-failed \? from 10\.0\.2\.2:[0-9]+ to \?: closed during login"
expect_line "^event: login iqn\.2008-11\.org\.linux-kvm from 10\.0\.2\.2:[0-9]+ to $PREFIX:vol0 auth none"
expect_line "^event: logout iqn\.2008-11\.org\.linux-kvm from 10\.0\.2\.2:[0-9]+ to $PREFIX:vol0"

# ---- the idle flush clears need-check; then the host checks what qedbox wrote
sleep 12
kill "$QEMU_PID"
qemu_wait_exit 10
for img in vol0.qed blank0.img child0.qed; do
	# The disks are larger than the images' data: qemu-img counts the zeros past the last
	# cluster as leaked (status 3). Corruption (2) or an error (1) fails.
	out=$(qemu-img check -f qed "$D/$img" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
		test_fail "qemu-img check $img: status $rc: $out"
	fi
	info=$(qemu-img info -f qed "$D/$img" 2>&1)
done
qemu-img convert -f qed -O raw "$D/vol0.qed" "$D/host.raw"
cmp -n 1024000 "$D/data.raw" "$D/host.raw" >/dev/null || test_fail "host read of vol0 differs (head)"
cmp -n 65777664 -i 1331200:1331200 "$D/data.raw" "$D/host.raw" >/dev/null || test_fail "host read of vol0 differs (tail)"
python3 - "$D/host.raw" <<'PY' || test_fail "qemu-io pattern not on the host image"
import sys
with open(sys.argv[1], "rb") as f:
    f.seek(1000 * 1024)
    assert f.read(300 * 1024) == b"\x5a" * (300 * 1024)
PY

# ---- CHAP and initiator ACLs
qemu-img create -q -f qed "$D/vol1.qed" 16M && truncate -s 32M "$D/vol1.qed"
PORT=$(free_port)
ALLOWED=iqn.2026-11.org.qedbox.test:allowed
# shellcheck disable=SC2046
qemu_start auth 300 -M pc -m 256M -kernel "$ELF" \
	-append "exit=debug portal=127.0.0.1:$PORT chap=alice:secret-of-alice acl=vol1/$ALLOWED" \
	$(disk vol1 vol1.qed) -device virtio-rng-pci \
	-netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$PORT-:3260" \
	-device virtio-net-pci,netdev=n0
qemu_wait_line "^iscsi: listening on port 3260, 1 target" 120 || test_fail "auth: no listener"
expect_line "^target $PREFIX:vol1: .*initiators restricted"
T=$PREFIX:vol1/0
inq() { iscsi-inq -i "$1" "$2" >"$D/inq.out" 2>&1; }
# A refusal must be the target's answer to the login, not some other failure.
refused() { ! inq "$1" "$2" && grep -qi "login" "$D/inq.out"; }
inq "$ALLOWED" "iscsi://alice%secret-of-alice@127.0.0.1:$PORT/$T" ||
	test_fail "auth: the allowed initiator with the right secret was refused: $(cat "$D/inq.out")"
refused "$ALLOWED" "iscsi://alice%wrong-secret@127.0.0.1:$PORT/$T" ||
	test_fail "auth: a wrong CHAP secret was not refused at login: $(cat "$D/inq.out")"
refused "$ALLOWED" "iscsi://127.0.0.1:$PORT/$T" ||
	test_fail "auth: a login without CHAP was not refused: $(cat "$D/inq.out")"
refused iqn.2026-11.org.qedbox.test:other "iscsi://alice%secret-of-alice@127.0.0.1:$PORT/$T" ||
	test_fail "auth: an initiator outside the ACL was not refused: $(cat "$D/inq.out")"
# The console tells each login, refusal and end: who, from where, to what, how or why.
# Never a secret.
FROM="from 10\.0\.2\.2:[0-9]+ to $PREFIX:vol1"
expect_line "^event: login $ALLOWED $FROM auth CHAP${CR}?$"
expect_line "^event: logout $ALLOWED $FROM${CR}?$"
expect_line "^event: login-failed $ALLOWED $FROM: CHAP failed${CR}?$"
expect_line "^event: login-failed iqn\.2026-11\.org\.qedbox\.test:other $FROM: not in ACL${CR}?$"
grep -q "secret-of-alice\|wrong-secret" "$QEMU_LOG" && test_fail "auth: a CHAP secret on the console"
kill "$QEMU_PID"
qemu_wait_exit 10
test_finish
