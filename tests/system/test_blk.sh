#!/bin/sh
# System test of PCI and virtio-blk: boots the firmware under QEMU with two virtio-blk
# disks (a raw scratch disk and a QED image made by qemu-img), checks the console's
# PCI and disk tables, runs the boot self-test (selftest=<serial>) on the scratch disk,
# checks the exit status, then checks on the host what the self-test wrote.
#   run 1: pc,  transitional devices, 512-byte blocks, scratch size not a 4 KiB multiple,
#          scratch queue of 64 without indirect descriptors (21 requests fit the ring)
#   run 2: q35, modern-only devices (disable-legacy=on), 4 KiB logical blocks, the QED
#          disk behind a PCIe root port (bus 1: the PCI scan follows bridges)
#   In both, the scratch disk has no MSI-X (vectors=0: INTx through the I/O APIC), the
#   QED disk has MSI-X.
#   run 3: pc,  no self-test, one disk of each kind: the appliance must idle with the
#          CPU halted
. "$(dirname "$0")/lib.sh"

command -v qemu-img >/dev/null || { echo "qemu-img missing"; exit 77; }
command -v python3 >/dev/null || { echo "python3 missing (host-side pattern check)"; exit 77; }
CR=$(printf "\r") # console lines end in CR LF


# Fills a file with 0xee bytes so that zeros and patterns are told apart from "unwritten".
make_scratch() {
	python3 -c "import sys; open(sys.argv[1], 'wb').write(b'\xee' * int(sys.argv[2]))" "$1" "$2"
}

# Checks the self-test's regions in a disk image (layout: drivers/blk_selftest.c).
check_pattern() {
	python3 - "$1" "$2" "$3" <<'EOF'
import sys
path, block, zeroes = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "yes"
MiB = 1 << 20
data = open(path, "rb").read()
def pattern(off, length):
    out = bytearray()
    for o in range(off, off + length, 512):
        s = o // 512
        out += b"qedboxst" + s.to_bytes(8, "little")
        out += bytes((s * 7 + i) & 0xff for i in range(16, 512))
    return bytes(out)
tail = 8 * block
regions = [(0, 256 * 1024, False), (1 * MiB, 1 * MiB, False), (3 * MiB, 64 * 1024, zeroes),
           (4 * MiB, 8 * MiB, False), (len(data) - tail, tail, False)]
bad = 0
for off, length, zero in regions:
    want = bytes(length) if zero else pattern(off, length)
    got = data[off:off + length]
    if got != want:
        first = next(i for i in range(length) if got[i] != want[i])
        print("FAIL: host check: byte %d: expected 0x%02x, found 0x%02x" %
              (off + first, want[first], got[first]))
        bad += 1
# Bytes the test never wrote stay as they were.
if data[256 * 1024:1 * MiB] != b"\xee" * (768 * 1024):
    print("FAIL: host check: bytes between the regions were changed"); bad += 1
sys.exit(1 if bad else 0)
EOF
}

# One run with the self-test; $1 name, $2 machine, $3 scratch bytes, $4 scratch device
# options, $5 expected block size, $6 expected queue description, $7 scratch-only
# device options, $8 expected peak of requests in flight (the ring's capacity), $9 extra
# QEMU arguments, ${10} QED-disk-only device options.
selftest_run() {
	name=$1 machine=$2 size=$3 opts=$4 block=$5 queue=$6 depth=$8 extra=$9 qed_opts=${10}
	scratch=$TEST_TMP/$name-scratch.raw qed=$TEST_TMP/$name-vol.qed
	make_scratch "$scratch" "$size"
	qemu-img create -q -f qed "$qed" 64M || { test_fail "qemu-img create"; return; }
	qed_bytes=$(stat -c %s "$qed")
	qed_bytes=$((qed_bytes / 512 * 512))
	# shellcheck disable=SC2086
	qemu_run "$name" 300 -M "$machine" -m 256M -kernel "$ELF" \
		-append "exit=debug selftest=scratch" $extra \
		-drive "file=$scratch,format=raw,if=none,id=d0,cache=writeback" \
		-device "virtio-blk-pci,drive=d0,serial=scratch$opts$7" \
		-drive "file=$qed,format=raw,if=none,id=d1,cache=writethrough" \
		-device "virtio-blk-pci,drive=d1,serial=qedvol,write-cache=off,config-wce=off$opts$qed_opts"
	expect_line "^pci: 00:00\.0 8086:"
	expect_line "^pci: [0-9a-f:.]+ 1af4:10(01|42) .*virtio-blk"
	expect_line "^disk: 2 virtio-blk disks"
	expect_line "^disk [01]: serial=scratch capacity=$size block=$block wcache=on qed=no queue=$queue discard write-zeroes"
	expect_line "^disk [01]: serial=qedvol capacity=$qed_bytes block=$block wcache=off qed=yes "
	expect_line "^disk [01]: serial=scratch .* intx${CR}?$"
	expect_line "^irq: IRQ [0-9]+ -> GSI [0-9]+, level-triggered"
	if grep -q "^disk [01]: serial=qedvol .* intx" "$QEMU_LOG"; then
		test_fail "$name: the disk with MSI-X is on INTx"
	fi
	expect_line "^selftest scratch: PASS"
	expect_status 1
	grep -E "^selftest scratch: (wrote|read|[0-9]+ device requests)" "$QEMU_LOG" |
		sed "s/^/# $name: /"
	expect_line "^selftest scratch: [0-9]+ device requests, $depth at most in flight"
	# Interrupts that get lost (a blocked I/O APIC pin) leave the disk to crawl along on
	# other wake-ups: its 8 MiB then take seconds instead of well under 100 ms.
	write_ms=$(sed -n 's/^selftest scratch: wrote .* in \([0-9]*\) ms.*/\1/p' "$QEMU_LOG")
	[ "${write_ms:-0}" -lt 2000 ] ||
		test_fail "$name: the self-test's writes took $write_ms ms: interrupts lost?"
	check_pattern "$scratch" "$block" yes || test_fail "$name: scratch disk contents"
	qemu-img check -q "$qed" || test_fail "$name: the QED image was changed"
}

# pc: interrupt suppression by the avail ring's flags (no EVENT_IDX); q35: by the event
# index. Either way an interrupt lost or never asked for stalls the self-test (below).
selftest_run pc pc $((32 * 1024 * 1024 + 3 * 512)) "" 512 "64" \
	",queue-size=64,indirect_desc=off,vectors=0,event_idx=off" 21 "" ""
selftest_run q35 q35 $((32 * 1024 * 1024 + 3 * 4096)) \
	",disable-legacy=on,logical_block_size=4096,physical_block_size=4096" 4096 \
	"256 indirect event-index" \
	",vectors=0" 256 "-device pcie-root-port,id=rp1,chassis=1,slot=1" ",bus=rp1"
expect_line "^pci: 01:00\.0 1af4:1042 .*virtio-blk"

# A wrong serial fails cleanly; a read-only disk says so (VIRTIO_BLK_F_RO) and is not
# self-tested.
make_scratch "$TEST_TMP/other.raw" $((16 * 1024 * 1024))
qemu_run noserial 120 -M pc -m 256M -kernel "$ELF" -append "exit=debug selftest=nosuchdisk" \
	-drive "file=$TEST_TMP/other.raw,format=raw,if=none,id=d0" \
	-device "virtio-blk-pci,drive=d0,serial=other"
expect_line "^selftest nosuchdisk: FAIL"
expect_status 3
qemu_run readonly 120 -M pc -m 256M -kernel "$ELF" -append "exit=debug selftest=other" \
	-drive "file=$TEST_TMP/other.raw,format=raw,if=none,id=d0,readonly=on" \
	-device "virtio-blk-pci,drive=d0,serial=other"
expect_line "^disk 0: serial=other capacity=16777216 block=512 .* ro( |$)"
expect_line "^selftest other: FAIL"
expect_status 3
python3 -c "import sys; sys.exit(open(sys.argv[1],'rb').read() != b'\xee' * (16 << 20))" \
	"$TEST_TMP/other.raw" || test_fail "readonly: the read-only disk was changed"

# Idle: after boot the CPU halts; QEMU's CPU time over 3 s stays small. One disk on
# MSI-X, one on INTx (its level-triggered line must not keep the CPU awake).
make_scratch "$TEST_TMP/intx.raw" $((1024 * 1024))
qemu_start idle 120 -M pc -m 256M -kernel "$ELF" -append "exit=debug" \
	-drive "file=$TEST_TMP/other.raw,format=raw,if=none,id=d0" \
	-device "virtio-blk-pci,drive=d0,serial=other" \
	-drive "file=$TEST_TMP/intx.raw,format=raw,if=none,id=d1" \
	-device "virtio-blk-pci,drive=d1,serial=intx,vectors=0"
if qemu_wait_line "^disk 1: serial=" 60; then
	sleep 1
	if permille=$(qemu_cpu_permille 3); then
		echo "# idle CPU with two disks (MSI-X, INTx): $((permille / 10)).$((permille % 10))% of a core"
		[ "$permille" -lt 250 ] ||
			test_fail "idle: QEMU used $((permille / 10))% of a core while the appliance was idle"
	else
		test_fail "idle: could not read QEMU's CPU time"
	fi
else
	test_fail "idle: no disk table"
	tail -n 20 "$QEMU_LOG" | sed 's/^/    | /'
fi
kill "$QEMU_PID" 2>/dev/null
wait "$QEMU_PID" 2>/dev/null
QEMU_PID=

test_finish
