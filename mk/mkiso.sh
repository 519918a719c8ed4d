#!/bin/sh
# Makes a bootable ISO of the firmware with GRUB (multiboot2): mkiso.sh ELF ISO [CMDLINE].
# The command line is baked into grub.cfg. GRUB's own output goes to the VGA console,
# so the serial console carries the firmware's lines only.
set -eu
elf=$1 iso=$2 cmdline=${3:-}
dir=$(mktemp -d "${TMPDIR:-/tmp}/qedbox-iso.XXXXXX")
trap 'rm -rf "$dir"' EXIT
tree=$dir/tree # what goes on the ISO; the log stays outside it
mkdir -p "$tree/boot/grub"
cp "$elf" "$tree/boot/qedbox.elf"
cat > "$tree/boot/grub/grub.cfg" <<CFG
set timeout=0
set default=0
menuentry "qedbox" {
	multiboot2 /boot/qedbox.elf $cmdline
	boot
}
CFG
grub-mkrescue -o "$iso.tmp" "$tree" >"$dir/log" 2>&1 || { cat "$dir/log" >&2; exit 1; }
mv "$iso.tmp" "$iso"
