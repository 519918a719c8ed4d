#!/bin/sh
# The initiator most users run: Linux's kernel initiator (open-iscsi) in a VM built from
# Debian's packages (tests/linux-vm/build.sh) uses a volume of the appliance as a disk:
# discovery and login, mkfs.ext4, files written, fsck, verified after a read-only remount,
# logout (tests/system/linux_initiator_job.sh, run in the guest; it prints one result
# line). The two VMs meet through the host: qedbox's port is forwarded to 127.0.0.1, and
# the guest reaches it at 10.0.2.100:3260 through QEMU's guestfwd and a relay
# (both under restrict=on); qedbox gives that address in SendTargets (portal=).
# Then, on the host: the QED image passes qemu-img check with its need-check bit cleared
# by the idle flush, and the file system in it passes the host's e2fsck.
. "$(dirname "$0")/lib.sh"
LINUX=$ROOT/build/linux-vm
if ! sh "$ROOT/tests/linux-vm/build.sh" "$LINUX"; then
	echo "the Linux initiator VM could not be built from Debian's packages"
	exit 77
fi
D=$TEST_TMP
TARGET=iqn.2026-11.org.qedbox:lnx0
QEDBOX_PID=
trap 'kill "$QEDBOX_PID" 2>/dev/null; test_cleanup' EXIT

qemu-img create -q -f qed "$D/lnx0.qed" 128M && truncate -s 192M "$D/lnx0.qed"
PORT=$(free_port)
qemu_start qedbox 240 -M q35 -m 256M -kernel "$ELF" \
	-append "exit=debug portal=10.0.2.100:3260" \
	-drive "if=none,id=d0,file=$D/lnx0.qed,format=raw,cache=unsafe" \
	-device virtio-blk-pci,drive=d0,serial=lnx0 \
	-netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$PORT-:3260" \
	-device virtio-net-pci,netdev=n0
QEDBOX_PID=$QEMU_PID QEDBOX_LOG=$QEMU_LOG
qemu_wait_line "^iscsi: listening" 120 || { test_fail "qedbox: no listener"; test_finish; }
QEMU_PID=

cat "$ROOT/tests/system/linux_job_lib.sh" "$ROOT/tests/system/linux_initiator_job.sh" >"$D/job.sh"
# The guest's connections to 10.0.2.100:3260 each start a relay to qedbox's port.
qemu_start initiator 200 -M q35 -m 512M -kernel "$LINUX/vmlinuz" \
	-initrd "$LINUX/initiator.cpio.gz" -append "console=ttyS0 quiet panic=-1" \
	-fw_cfg "name=opt/org.qedbox/job,file=$D/job.sh" \
	-netdev "user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:3260-cmd:python3 $ROOT/tests/linux-vm/relay.py $PORT" \
	-device virtio-net-pci,netdev=n0
qemu_wait_exit 200
expect_line "^linux-initiator: PASS"
grep -a "^linux-initiator:" "$QEMU_LOG" | sed 's/^/# /'

# Two idle-flush periods (5 s each) after the last write: the need-check bit is cleared.
sleep 11
QEMU_PID=$QEDBOX_PID QEMU_LOG=$QEDBOX_LOG
expect_line "^target $TARGET: "
kill "$QEMU_PID"
qemu_wait_exit 10
QEDBOX_PID=
out=$(qemu-img check -f qed "$D/lnx0.qed" 2>&1)
rc=$?
# The disk is larger than the image's data: the zeros past it count as leaks (status 3).
[ $rc -eq 0 ] || [ $rc -eq 3 ] || test_fail "qemu-img check: status $rc: $out"
python3 - "$D/lnx0.qed" <<'PY' || test_fail "the QED header's need-check bit is still set"
import struct, sys
with open(sys.argv[1], "rb") as f:
    header = f.read(24)
magic, features = header[:4], struct.unpack_from("<Q", header, 16)[0]
sys.exit(0 if magic == b"QED\0" and not features & 2 else 1)
PY
qemu-img convert -f qed -O raw "$D/lnx0.qed" "$D/lnx0.raw"
E2FSCK=$(command -v e2fsck || echo /sbin/e2fsck) # e2fsprogs (in the Makefile's PACKAGES)
out=$("$E2FSCK" -fn "$D/lnx0.raw" 2>&1) || test_fail "host e2fsck of the volume: $out"
test_finish
