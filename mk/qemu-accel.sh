#!/bin/sh
# Prints the QEMU accelerator arguments for booting the firmware on this machine:
#   -accel kvm -cpu host,-arch-capabilities   when /dev/kvm is writable AND the firmware
#                                             really boots under it;
#   -accel tcg                                otherwise.
# Some hosts offer a /dev/kvm that cannot run our image (seen: a software KVM, kvm_pvm,
# that stops at the first SSE instruction with "KVM internal error ... emulation
# failure" and leaves QEMU hanging), so the device's presence alone proves nothing: the
# firmware is booted once with poweroff=ready, bounded, and must exit cleanly.
# The verdict is kept in build/.qemu-accel until the firmware is rebuilt.
#
#   usage: sh mk/qemu-accel.sh FIRMWARE.elf
elf=$1
cache=$(dirname "$elf")/.qemu-accel
kvm="-accel kvm -cpu host,-arch-capabilities"
if [ ! -w /dev/kvm ]; then
	echo "-accel tcg"
	exit 0
fi
if [ -f "$cache" ] && [ "$cache" -nt "$elf" ]; then
	cat "$cache"
	exit 0
fi
# shellcheck disable=SC2086 # the accelerator arguments are words
timeout -k 2 10 qemu-system-x86_64 $kvm -M q35 -m 128M -display none -monitor none \
	-no-reboot -serial null -nic none -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-kernel "$elf" -append "exit=debug poweroff=ready" >/dev/null 2>&1
if [ $? -eq 1 ]; then # isa-debug-exit: (0 << 1) | 1, a clean power-off
	echo "$kvm" | tee "$cache"
else
	echo "qedbox: /dev/kvm does not boot the firmware here: using TCG" >&2
	echo "-accel tcg" | tee "$cache"
fi
