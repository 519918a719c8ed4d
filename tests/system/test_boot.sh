#!/bin/sh
# Boots the firmware every supported way and checks what it says and how it stops:
# PVH (-kernel) on pc and q35, GRUB multiboot2 from an ISO (-cdrom), RAM above 4 GiB,
# ACPI power-off, the event loop's idle stop, and the report of deliberate CPU faults.
. "$(dirname "$0")/lib.sh"

# PVH on both machine types: banner, memory map, command line, unknown keys, ready,
# and the status that exit=debug gives a clean power-off (code 0 -> status 1).
for machine in pc q35; do
	qemu_run "pvh-$machine" 60 -M $machine -m 256M -rtc base=2020-02-29T23:59:58 \
		-kernel "$ELF" -append "exit=debug poweroff=ready bogus=1 other"
	expect_status 1
	expect_line "^qedbox: booting \(pvh, clock (tsc|kvmclock), 20(20-02-29 23:59:5[89]|20-03-01 00:00:0[0-9]) UTC\)"
	expect_line "^  0x000000100000-0x[0-9a-f]{12} ram"
	expect_line "^qedbox: memory: 25[0-9] MiB RAM in [0-9]+ regions, heap [0-9]+ MiB"
	expect_line "^qedbox: command line: exit=debug poweroff=ready bogus=1 other"
	expect_line "^qedbox: command line: unknown key 'bogus' \(ignored\)"
	expect_line "^qedbox: command line: unknown key 'other' \(ignored\)"
	expect_line "^qedbox: ready"
	if grep -q "unknown key '\(exit\|poweroff\)'" "$QEMU_LOG"; then
		test_fail "pvh-$machine: a known key was reported unknown"
	fi
done

# ACPI soft power-off (no debug exit): QEMU ends by itself with status 0.
for machine in pc q35; do
	qemu_run "acpi-$machine" 60 -M $machine -m 128M -kernel "$ELF" -append "poweroff=ready"
	expect_status 0
	expect_line "^qedbox: power-off: PM1a_CNT 0x604, S5 type 0 \(from the FADT and .?_S5\)"
	expect_line "^qedbox: ready"
done

# RAM above 4 GiB: q35 puts 2 GiB below and the rest above; the heap lands there.
qemu_run "high-ram" 60 -M q35 -m 4608M -kernel "$ELF" -append "exit=debug poweroff=idle help"
expect_status 1
expect_line "^  0x000100000000-0x00019fffffff ram"
expect_line "heap [0-9]+ MiB at 0x100000000"
expect_line "^  exit +debug:"
expect_line "^qedbox: ready"

# Without poweroff the loop halts and waits: the VM stays up and costs the host almost
# no CPU (a spinning loop would use a whole core: 200 ticks of 1/100 s in 2 s).
qemu_start "idle" 30 -M q35 -m 128M -kernel "$ELF" -append "exit=debug" \
	-pidfile "$TEST_TMP/idle.pid"
qemu_wait_line "^qedbox: ready" 20 || test_fail "idle: no ready line"
sleep 0.5
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$(cat "$TEST_TMP/idle.pid")/stat"; }
before=$(cpu_ticks)
sleep 2
after=$(cpu_ticks)
hz=$(getconf CLK_TCK)
[ $((after - before)) -le $((hz / 5)) ] ||
	test_fail "idle: QEMU used $((after - before)) ticks of 1/$hz s in 2 s (expected <= $((hz / 5)))"
echo "# idle appliance: $((after - before)) CPU ticks of 1/$hz s in 2 s"
kill -0 "$QEMU_PID" 2>/dev/null || test_fail "idle: the appliance stopped by itself"
qemu_wait_exit 1

# A command line longer than the firmware keeps (2047 bytes) is cut and said so; the
# keys before the cut still count.
long=$(printf 'x%.0s' $(seq 1 2100))
qemu_run "long-cmdline" 60 -M pc -m 128M -kernel "$ELF" -append "exit=debug poweroff=ready pad=$long"
expect_status 1
expect_line "^qedbox: command line longer than 2047 bytes: the rest is ignored"
expect_line "^qedbox: ready"

# A configuration file larger than the appliance takes is reported with its size and
# ignored, and the boot goes on (the size is a size_t: newlib's printf has no %zu).
head -c 200000 /dev/zero | tr '\0' '#' >"$TEST_TMP/big.conf"
qemu_run "big-config" 60 -M pc -m 128M -kernel "$ELF" -append "exit=debug poweroff=ready" \
	-fw_cfg "name=opt/org.qedbox/config,file=$TEST_TMP/big.conf"
expect_status 1
expect_line "^qedbox: config file opt/org.qedbox/config: 200000 bytes, more than [0-9]+: ignored"
expect_line "^qedbox: entropy: cpu [a-z]+ \([0-9]+ bytes\), virtio-rng [0-9]+ bytes"
expect_line "^qedbox: ready"

# mmio_map() at the top of the physical address space (PML4 and PDPT entries far from
# RAM), and its refusal beyond the CPU's physical address width.
qemu_run "mmio" 60 -M q35 -m 128M -kernel "$ELF" -append "exit=debug poweroff=ready mmiotest"
expect_status 1
expect_line "^qedbox: mmiotest: 0x[0-9a-f]+f000 mapped \(read 0x[0-9a-f]+\), 0x[0-9a-f]+ refused"
expect_line "^qedbox: ready"

# The event loop: a task runs, a poller's timer wakes the halted CPU ten times (20 ms
# apart), then the loop stops; about one halt per wakeup means it slept, not spun (one
# fewer when the host ran QEMU late and a deadline had passed before the loop could halt).
qemu_run "looptest" 60 -M q35 -m 128M -kernel "$ELF" -append "exit=debug looptest=10"
expect_status 1
expect_line "^qedbox: looptest: task ran 3 yields and ended"
expect_line "^qedbox: looptest: 10 timer wakeups in [2-9][0-9]{2} ms, ([5-9]|[1-3][0-9]) halts"

# Deliberate faults: the report names the vector and QEMU ends with the panic status.
# crash_boot KIND MACHINE REPORT: boots with crashtest=KIND, expects that report.
crash_boot() {
	qemu_run "$1" 60 -M "$2" -m 128M -kernel "$ELF" -append "exit=debug crashtest=$1"
	expect_status 5
	expect_line "^qedbox: fatal CPU exception: $3"
}
crash_boot ud2 q35 "invalid opcode vector=0x0000000000000006 error=0x0000000000000000 rip=0x0000000000[0-9a-f]{6} cr2="
expect_line "^ rax=0x[0-9a-f]{16} rbx="
crash_boot pf pc "page fault vector=0x000000000000000e .* cr2=0x00007ff000000000"
crash_boot de pc "divide error vector=0x0000000000000000"
# Page 0 is unmapped: a NULL read faults.
crash_boot null q35 "page fault vector=0x000000000000000e .* cr2=0x0000000000000000"
# A boot-stack overflow hits the guard page; the double fault is reported on its own stack.
crash_boot stack q35 "double fault vector=0x0000000000000008"

# GRUB multiboot2 from an ISO; the command line comes from grub.cfg.
if command -v grub-mkrescue >/dev/null; then
	sh "$ROOT/mk/mkiso.sh" "$ELF" "$TEST_TMP/test.iso" "exit=debug poweroff=ready isokey" ||
		test_fail "mkiso.sh failed"
	qemu_run "iso" 120 -M q35 -m 256M -cdrom "$TEST_TMP/test.iso"
	expect_status 1
	expect_line "^qedbox: booting \(multiboot2,"
	expect_line "^qedbox: command line: exit=debug poweroff=ready isokey"
	expect_line "^qedbox: command line: unknown key 'isokey'"
	expect_line "^qedbox: ready"
else
	test_fail "grub-mkrescue not installed: the ISO boot is not tested"
fi

test_finish
