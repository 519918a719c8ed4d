#!/bin/sh
# Builds the two Linux guests of the benchmarks and tests from Debian's package archive
# alone: a cloud kernel and two initramfs images, cached in OUT (default build/linux-vm):
#   vmlinuz              Debian's cloud kernel (virtio and iSCSI drivers as modules)
#   target.cpio.gz       the rival appliance: tgtd serving /dev/vda (init-target)
#   initiator.cpio.gz    the kernel initiator: open-iscsi, e2fsprogs; runs the job script
#                        QEMU hands over through fw_cfg (init-initiator)
# The .debs are fetched with `apt-get download` into OUT/debs (once) and unpacked with
# dpkg-deb; nothing of the host goes into the images: busybox (the guests' shell, and the
# cpio that packs them) comes from busybox-static's .deb too, and every binary's
# shared-library closure is checked to resolve inside the unpacked packages.
# The images are rebuilt only when this folder's files or the set of .debs change.
#
#   usage: sh tests/linux-vm/build.sh [OUT]       prints nothing when up to date
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE/../../build/linux-vm}
mkdir -p "$OUT/debs"
OUT=$(cd "$OUT" && pwd)
DEBS=$OUT/debs
# One builder at a time (make test and make bench may start it together).
exec 9>"$OUT/.lock"
flock 9

# The concrete kernel package behind the metapackage (linux-image-6.1.0-NN-cloud-amd64).
kernel_package() {
	apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n 1
}

# Packages per image. The libraries are each binary's closure, found once with ldd
# (libc6 included: the guests never borrow the host's).
COMMON_PKGS="busybox-static libc6"
TARGET_PKGS="tgt libaio1 libibverbs1 librdmacm1 libnl-3-200 libnl-route-3-200 libsystemd0
	libcap2 libgcrypt20 libgpg-error0 liblzma5 libzstd1 liblz4-1"
INITIATOR_PKGS="open-iscsi e2fsprogs libisns0 libssl3 libmount1 libblkid1 libkmod2
	libsystemd0 libopeniscsiusr libselinux1 libpcre2-8-0 libcap2 libgcrypt20 libgpg-error0
	liblzma5 libzstd1 liblz4-1 libext2fs2 libcom-err2 libss2 libuuid1"

# Modules in load order (insmod resolves nothing itself).
VIRTIO_MODS="virtio_pci_modern_dev virtio_pci_legacy_dev virtio_ring virtio virtio_pci
	failover net_failover virtio_net virtio_blk"
TARGET_MODS=$VIRTIO_MODS
INITIATOR_MODS="$VIRTIO_MODS qemu_fw_cfg scsi_common scsi_mod scsi_transport_iscsi libiscsi
	libiscsi_tcp iscsi_tcp sd_mod"

# download PKG...: each package's .deb into DEBS unless one is there; `apt-get update`
# once when the archive's lists do not know a package yet.
download() {
	need=""
	for p in "$@"; do
		ls "$DEBS/${p}_"*.deb >/dev/null 2>&1 || need="$need $p"
	done
	[ -z "$need" ] && return 0
	# shellcheck disable=SC2086 # a list of package names
	(cd "$DEBS" && apt-get download -q $need >/dev/null 2>"$OUT/apt.err") || {
		apt-get update -qq >/dev/null &&
			(cd "$DEBS" && apt-get download -q $need >/dev/null 2>"$OUT/apt.err")
	} || { cat "$OUT/apt.err" >&2; echo "linux-vm: apt-get download failed:$need" >&2; exit 1; }
	rm -f "$OUT/apt.err"
}

KPKG=$(kernel_package)
if [ -z "$KPKG" ]; then
	apt-get update -qq >/dev/null
	KPKG=$(kernel_package)
fi
[ -n "$KPKG" ] || { echo "linux-vm: no linux-image-cloud-amd64 in the archive" >&2; exit 1; }
ALL_PKGS=$(echo "$KPKG $COMMON_PKGS $TARGET_PKGS $INITIATOR_PKGS" | tr -s ' \t\n' '\n' | sort -u)
# shellcheck disable=SC2086
download $ALL_PKGS

# The inputs: this folder's files and the .debs (their names carry the versions).
deb_of() { ls "$DEBS/${1}_"*.deb | tail -n 1; }
key=$( (cat "$HERE"/build.sh "$HERE"/init-*; for p in $ALL_PKGS; do basename "$(deb_of "$p")"; done) |
	sha256sum | cut -d' ' -f1)
if [ -f "$OUT/key" ] && [ "$(cat "$OUT/key")" = "$key" ] && [ -f "$OUT/vmlinuz" ] &&
	[ -f "$OUT/target.cpio.gz" ] && [ -f "$OUT/initiator.cpio.gz" ]; then
	exit 0
fi
echo "linux-vm: building the kernel and initramfs images in $OUT"
rm -f "$OUT/key"

ROOT=$OUT/root # every package unpacked: the source of the images' files
rm -rf "$ROOT" && mkdir -p "$ROOT"
for p in $ALL_PKGS; do
	dpkg-deb -x "$(deb_of "$p")" "$ROOT"
done
KVER=${KPKG#linux-image-}
BUSYBOX=$ROOT/bin/busybox
LOADER=$ROOT/lib64/ld-linux-x86-64.so.2
cp "$ROOT/boot/vmlinuz-$KVER" "$OUT/vmlinuz.new" && mv "$OUT/vmlinuz.new" "$OUT/vmlinuz"

# closure BINARY...: the shared libraries they load, as paths inside ROOT; fails when one
# resolves outside (a package missing from the lists above).
closure() {
	for b in "$@"; do
		LD_LIBRARY_PATH=$ROOT/lib/x86_64-linux-gnu:$ROOT/usr/lib/x86_64-linux-gnu \
			"$LOADER" --list "$ROOT$b" || { echo "linux-vm: ldd $b failed" >&2; return 1; }
	done | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $2 == "=>" && $3 == "not" { print "MISSING:" $1 }' |
		sort -u
}

# stage DIR ROLE "MODULES" BINARY...: the image's tree: busybox, the binaries with their
# libraries at their own paths, the modules with their load order, /init.
stage() {
	dir=$1 role=$2 mods=$3
	shift 3
	rm -rf "$dir" && mkdir -p "$dir/bin" "$dir/lib/modules" "$dir/lib64" "$dir/etc"
	cp "$BUSYBOX" "$dir/bin/busybox"
	cp "$LOADER" "$dir/lib64/"
	libs=$(closure "$@")
	for lib in $libs; do
		case $lib in
		"$ROOT"/*) ;;
		*) echo "linux-vm: $role: $lib is not from the packages (add its package)" >&2; return 1 ;;
		esac
		rel=${lib#"$ROOT"}
		mkdir -p "$dir$(dirname "$rel")" && cp -L "$lib" "$dir$rel"
	done
	for b in "$@"; do
		mkdir -p "$dir$(dirname "$b")" && cp "$ROOT$b" "$dir$b"
	done
	: >"$dir/lib/modules/order"
	for m in $mods; do
		ko=$(find "$ROOT/lib/modules/$KVER/kernel" -name "$m.ko" | head -n 1)
		[ -n "$ko" ] || { echo "linux-vm: module $m not in $KPKG" >&2; return 1; }
		cp "$ko" "$dir/lib/modules/" && echo "$m" >>"$dir/lib/modules/order"
	done
	cp "$HERE/init-common" "$dir/init-common"
	cp "$HERE/init-$role" "$dir/init" && chmod 755 "$dir/init"
}

# pack DIR FILE: a gzipped newc cpio, made with the packaged busybox.
pack() {
	(cd "$1" && find . | LC_ALL=C sort | "$BUSYBOX" cpio -o -H newc 2>/dev/null) | gzip -6 >"$2.new"
	mv "$2.new" "$2"
}

stage "$OUT/stage-target" target "$TARGET_MODS" /usr/sbin/tgtd /usr/sbin/tgtadm
pack "$OUT/stage-target" "$OUT/target.cpio.gz"

S=$OUT/stage-initiator
stage "$S" initiator "$INITIATOR_MODS" /sbin/iscsid /sbin/iscsiadm /sbin/iscsi-iname \
	/sbin/mke2fs /sbin/e2fsck
ln -s mke2fs "$S/sbin/mkfs.ext4" && ln -s e2fsck "$S/sbin/fsck.ext4"
cp "$ROOT/etc/mke2fs.conf" "$S/etc/"
mkdir -p "$S/etc/iscsi"
# No systemd in the guest: iscsiadm starts iscsid itself if it is not running yet.
sed 's|^iscsid.startup = .*|iscsid.startup = /sbin/iscsid|' "$ROOT/etc/iscsi/iscsid.conf" \
	>"$S/etc/iscsi/iscsid.conf"
pack "$S" "$OUT/initiator.cpio.gz"

rm -rf "$ROOT" "$OUT/stage-target" "$S"
echo "$key" >"$OUT/key"
ls -l "$OUT/vmlinuz" "$OUT/target.cpio.gz" "$OUT/initiator.cpio.gz" | awk '{ print "linux-vm: " $NF ": " $5 " bytes" }'
