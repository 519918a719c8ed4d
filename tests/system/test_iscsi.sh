#!/bin/sh
# The iSCSI target end to end: the firmware serves a raw virtio-blk disk (iscsi=raw)
# under QEMU user networking (restrict=on, forwarding on 127.0.0.1 only), and real
# initiators use it: libiscsi's tools (inquiry, capacity, discovery, its iSCSI
# conformance suite) and QEMU's iscsi block driver (qemu-img convert both ways, checked
# byte for byte). A second boot requires CHAP: the right secret logs in, a wrong one
# does not.
. "$(dirname "$0")/lib.sh"
for tool in iscsi-inq iscsi-ls iscsi-readcapacity16 qemu-img; do
	command -v $tool >/dev/null || { echo "$tool not installed"; exit 77; }
done
qemu-img --help | grep -q "iscsi" || { echo "qemu-img without iscsi support (qemu-block-extra)"; exit 77; }
CR=$(printf "\r")
IQN=iqn.2026-11.org.qedbox:disk0
DISK=$TEST_TMP/disk0.raw

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# boot NAME "CMDLINE": the appliance with the disk, the target on $PORT.
boot() {
	PORT=$(free_port)
	qemu_start "$1" 300 -M q35 -m 256M -kernel "$ELF" -append "$2" \
		-drive if=none,id=d0,file="$DISK",format=raw \
		-device virtio-blk-pci,drive=d0,serial=disk0 \
		-netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$PORT-:3260" \
		-device virtio-net-pci,netdev=n0
	qemu_wait_line "^net: 10\.0\.2\.15:3260${CR}?$" 60 || test_fail "$1: no address bound"
}

head -c 64M /dev/urandom >"$DISK"
cp "$DISK" "$TEST_TMP/orig.raw"
boot plain "iscsi=raw"
expect_line "^iscsi: target $IQN \(67108864 bytes\)"
URL=iscsi://127.0.0.1:$PORT/$IQN/0

out=$(timeout 30 iscsi-ls iscsi://127.0.0.1:$PORT 2>&1)
printf '%s\n' "$out" | grep -q "Target:$IQN Portal:10.0.2.15:3260,1" ||
	test_fail "discovery: SendTargets did not list $IQN: $out"
out=$(timeout 30 iscsi-inq "$URL" 2>&1)
printf '%s\n' "$out" | grep -q "Peripheral Device Type:DIRECT_ACCESS" ||
	test_fail "iscsi-inq: $out"
out=$(timeout 30 iscsi-readcapacity16 "$URL" 2>&1)
printf '%s\n' "$out" | grep -q "Total size:67108864" || test_fail "readcapacity16: $out"

# QEMU's initiator reads the whole disk, then writes 16 MiB, both checked byte for byte.
start=$(date +%s.%N)
timeout 120 qemu-img convert -f raw -O raw "$URL" "$TEST_TMP/back.raw" 2>"$TEST_TMP/convert.err"
end=$(date +%s.%N)
if cmp -s "$TEST_TMP/back.raw" "$TEST_TMP/orig.raw"; then
	echo "# iscsi read (qemu-img convert, 64 MiB, $(if [ -w /dev/kvm ]; then echo kvm; else echo tcg; fi)):" \
		"$(echo "64 / ($end - $start)" | bc -l | cut -c1-5) MiB/s"
else
	test_fail "qemu-img convert from the target differs from the disk: $(tail -n 3 "$TEST_TMP/convert.err")"
fi
head -c 16M /dev/urandom >"$TEST_TMP/new.raw"
timeout 120 qemu-img convert -n -f raw -O raw "$TEST_TMP/new.raw" "$URL" 2>"$TEST_TMP/convert.err" ||
	test_fail "qemu-img convert to the target: $(tail -n 3 "$TEST_TMP/convert.err")"
cmp -s -n 16777216 "$TEST_TMP/new.raw" "$DISK" || test_fail "written data did not reach the disk"

# libiscsi's iSCSI conformance suite: the cases that concern this layer must pass; the
# totals of the whole suite are a figure (some cases depend on the SCSI layer's policy).
if command -v iscsi-test-cu >/dev/null; then
	for t in iSCSI.iSCSIcmdsn iSCSI.iSCSIResiduals.Read10Invalid iSCSI.iSCSIResiduals.Read10Residuals \
		iSCSI.iSCSIResiduals.Read16Residuals iSCSI.iSCSITMF; do
		out=$(timeout 120 iscsi-test-cu --dataloss -t "$t" "$URL" 2>&1)
		printf '%s\n' "$out" | grep -Eq "tests +[0-9]+ +[0-9]+ +[0-9]+ +0 " ||
			test_fail "iscsi-test-cu $t: $(printf '%s\n' "$out" | grep -E "FAIL|tests " | head -5)"
	done
	out=$(timeout 200 iscsi-test-cu --dataloss -t iSCSI "$URL" 2>&1)
	printf '%s\n' "$out" | awk '/tests +[0-9]/ { print "# libiscsi iSCSI suite: " $4 " of " $3 " tests passed" }'
fi
qemu_wait_exit 1

# CHAP: the right secret logs in, a wrong one is refused.
boot chap "iscsi=raw chap=alice:secretsecret12"
out=$(timeout 30 iscsi-inq "iscsi://alice%secretsecret12@127.0.0.1:$PORT/$IQN/0" 2>&1)
printf '%s\n' "$out" | grep -q "DIRECT_ACCESS" || test_fail "chap: the right secret was refused: $out"
if timeout 30 iscsi-inq "iscsi://alice%wrongsecret99@127.0.0.1:$PORT/$IQN/0" >/dev/null 2>&1; then
	test_fail "chap: a wrong secret logged in"
fi
out=$(timeout 30 iscsi-inq "iscsi://127.0.0.1:$PORT/$IQN/0" 2>&1) &&
	test_fail "chap: a login without CHAP was accepted"
printf '%s\n' "$out" | grep -qi "login\|auth" || test_fail "chap: no login failure reported: $out"

qemu_wait_exit 1
test_finish
