#!/bin/sh
# make check-layers: proves that each layer's include paths (the *_INCLUDES variables of
# the top Makefile, passed in the environment) admit the headers the layer may use and
# refuse every header of the layers above it: a wrong include is a build error.
#
# For each case, a one-line C file that includes the header is compiled with the layer's
# flags; "ok" cases must compile, "no" cases must fail with "No such file".
fail=0 checked=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/qedbox-layers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# check LAYER FLAGS-NAME CC CFLAGS ok|no HEADER...
check() {
	layer=$1 cc=$2 cflags=$3 want=$4
	shift 4
	for header in "$@"; do
		printf '#include "%s"\n' "$header" >"$tmp/probe.c"
		# shellcheck disable=SC2086 # the flags are words
		if $cc $cflags -fsyntax-only "$tmp/probe.c" >"$tmp/out" 2>&1; then
			got=ok
		elif grep -q "No such file" "$tmp/out"; then
			got=no
		else
			got="error: $(head -n 1 "$tmp/out")"
		fi
		checked=$((checked + 1))
		if [ "$got" != "$want" ]; then
			echo "check-layers: $layer including \"$header\": expected $want, got $got"
			fail=$((fail + 1))
		fi
	done
}

fw="$FW_CFLAGS"
host="$HOST_CFLAGS"
check lib "$HOST_CC" "$host $LIB" ok task.h blkdev.h volume.h parse_size.h
check lib "$HOST_CC" "$host $LIB" no platform.h virtio_blk.h qed.h iscsi.h scsi.h config.h
check boot "$FW_CC" "$fw $BOOT" ok platform.h boot_priv.h task.h
check boot "$FW_CC" "$fw $BOOT" no virtio_blk.h pci.h qed.h iscsi.h net_init.h config.h
check drivers "$FW_CC" "$fw $DRIVERS" ok platform.h virtio_blk.h blkdev.h lwip/netif.h
check drivers "$FW_CC" "$fw $DRIVERS" no qed.h qed_format.h iscsi.h scsi.h net_init.h \
	lwip_port.h config.h volumes.h
check qed "$HOST_CC" "$host $QED" ok qed.h blkdev.h
check qed "$HOST_CC" "$host $QED" no platform.h virtio_blk.h iscsi.h scsi.h config.h
check net "$HOST_CC" "$host $NET" ok iscsi.h scsi.h volume.h
check net "$HOST_CC" "$host $NET" no platform.h virtio_blk.h qed.h config.h lwip/tcp.h
check net-firmware "$FW_CC" "$fw $NET_FW" ok iscsi.h lwip/tcp.h lwip_port.h platform.h
check net-firmware "$FW_CC" "$fw $NET_FW" no virtio_blk.h virtio_net.h qed.h config.h
check app "$FW_CC" "$fw $APP" ok config.h qed.h iscsi_lwip.h virtio_blk.h platform.h

# Private headers (*_priv.h) are their folder's own: no file elsewhere includes one.
for f in $(git ls-files '*.c' '*.h' 2>/dev/null); do
	case $f in tests/*) continue ;; esac
	dir=$(dirname "$f")
	for h in $(sed -n 's/^#include "\([^"]*_priv\.h\)".*/\1/p' "$f"); do
		checked=$((checked + 1))
		if [ ! -f "$dir/$h" ]; then
			echo "check-layers: $f includes $h, the private header of another folder"
			fail=$((fail + 1))
		fi
	done
done

echo "check-layers: $checked checks, $fail failed"
[ "$fail" -eq 0 ]
