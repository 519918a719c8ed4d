#!/bin/sh
# libiscsi's conformance suite (iscsi-test-cu) against a QED volume served by the
# firmware (a blank disk formatted at boot), under QEMU user networking (restrict=on,
# forwarded on 127.0.0.1 only).
#   must pass: the iSCSI-layer cases (CmdSN window, read residuals, task management)
#   figures:   the totals of libiscsi's whole iSCSI family; with ISCSI_CONFORMANCE_FULL=1
#              also of the SCSI family (about a minute more under TCG)
# Known failures outside this layer: iSCSI.iSCSIResiduals.Write* and WriteVerify* expect
# GOOD and a partial write when EDTL < the CDB's length (the SCSI layer answers CHECK
# CONDITION), iSCSIDataSnInvalid's DataSN=27 case runs on libiscsi's reconnect path and
# never sends the bad DataSN.
. "$(dirname "$0")/lib.sh"
command -v iscsi-test-cu >/dev/null || { echo "iscsi-test-cu (libiscsi-bin) not installed"; exit 77; }
CR=$(printf "\r")
IQN=iqn.2026-11.org.qedbox:disk0

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
truncate -s 96M "$TEST_TMP/disk0.img"
qemu_start conformance 600 -M q35 -m 512M -kernel "$ELF" \
	-append "exit=debug format=disk0 portal=127.0.0.1:$PORT" \
	-drive if=none,id=disk0,file="$TEST_TMP/disk0.img",format=raw,cache=unsafe \
	-device virtio-blk-pci,drive=disk0,serial=disk0 \
	-netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$PORT-:3260" \
	-device virtio-net-pci,netdev=n0
qemu_wait_line "^iscsi: listening on port 3260, 1 target" 120 || test_fail "no listener"
qemu_wait_line "^net: 10\.0\.2\.15:3260${CR}?$" 60 || test_fail "no address"
URL=iscsi://127.0.0.1:$PORT/$IQN/0

# summary LINES: "passed of ran" from CUnit's "tests" summary row.
summary() { printf '%s\n' "$1" | awk '/^ +tests +[0-9]/ { print $4 " of " $3 }'; }

for t in iSCSI.iSCSIcmdsn iSCSI.iSCSIResiduals.Read10Invalid iSCSI.iSCSIResiduals.Read10Residuals \
	iSCSI.iSCSIResiduals.Read12Residuals iSCSI.iSCSIResiduals.Read16Residuals iSCSI.iSCSITMF; do
	out=$(timeout 120 iscsi-test-cu --dataloss -t "$t" "$URL" 2>&1)
	printf '%s\n' "$out" | grep -Eq "^ +tests +([0-9]+) +\1 +\1 +0 " ||
		test_fail "iscsi-test-cu $t: $(printf '%s\n' "$out" | grep -E "FAIL|tests " | head -5)"
done
out=$(timeout 200 iscsi-test-cu --dataloss -t iSCSI "$URL" 2>&1)
echo "# libiscsi iSCSI family: $(summary "$out") tests passed"
if [ -n "${ISCSI_CONFORMANCE_FULL:-}" ]; then
	out=$(timeout 400 iscsi-test-cu --dataloss -t SCSI "$URL" 2>&1)
	echo "# libiscsi SCSI family: $(summary "$out") tests passed"
	# CUnit numbers the failed assertions of each failed test from 1: name its source.
	printf '%s\n' "$out" | sed -n 's/^ *1\. \([a-z0-9_]*\.c\):.*/#   failed: \1/p'
fi
kill "$QEMU_PID"
qemu_wait_exit 10
test_finish
