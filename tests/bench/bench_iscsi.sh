#!/bin/sh
# make bench-iscsi: the appliance's iSCSI throughput against Debian's tgt serving a file of
# the same size, in one run, with QEMU's own initiator (qemu-img bench over iscsi://):
#   rand4k-read/-write   4 KiB requests at depth 32, strided by 4 KiB x 4099 (a scattered
#                        permutation of the blocks: qemu-img bench has no random mode)
#   seq1m-read/-write    1 MiB requests at depth 8, sequential
# qedbox runs under QEMU (KVM when it boots the firmware here, TCG otherwise:
# mk/qemu-accel.sh) on a QED volume whose clusters are all allocated by a first pass
# (the writes measured are in place); tgt runs natively on the host. Under TCG the ratio mostly measures the emulation.
# Prints MiB/s per case and the ratio qedbox / tgt.
set -u
. "$(dirname "$0")/../system/lib.sh"
. "$(dirname "$0")/../system/tgt.sh"
command -v tgtd >/dev/null || { echo "tgt not installed"; exit 77; }
PREFIX=iqn.2026-11.org.qedbox
SIZE=$((256 << 20))
D=$TEST_TMP
trap 'tgt_stop; test_cleanup' EXIT

# mibs URL ARGS...: MiB/s of one qemu-img bench run
mibs() {
	url=$1
	shift
	out=$(qemu-img bench -f raw "$@" "$url" 2>&1)
	secs=$(printf '%s\n' "$out" | sed -n 's/^Run completed in \([0-9.]*\) seconds.*/\1/p')
	[ -n "$secs" ] || { echo "qemu-img bench failed: $out" >&2; echo 0; return; }
	awk -v s="$secs" -v c="$COUNT" -v b="$BS" 'BEGIN { printf "%.1f", c * b / s / 1048576 }'
}

run_cases() { # URL -> lines "case MiB/s"
	url=$1
	COUNT=$((SIZE / 4096)) BS=4096
	# First pass: allocate every cluster, so the measured writes are in place.
	mibs "$url" -w -c $((SIZE >> 20)) -s 1048576 -d 8 >/dev/null
	echo "rand4k-write $(mibs "$url" -w -c $COUNT -s $BS -S $((4096 * 4099)) -d 32)"
	echo "rand4k-read $(mibs "$url" -c $COUNT -s $BS -S $((4096 * 4099)) -d 32)"
	COUNT=$((SIZE >> 20)) BS=1048576
	echo "seq1m-write $(mibs "$url" -w -c $COUNT -s $BS -d 8)"
	echo "seq1m-read $(mibs "$url" -c $COUNT -s $BS -d 8)"
}

PORT=$(free_port)
qemu-img create -q -f qed "$D/vol.qed" $SIZE && truncate -s $((SIZE + (64 << 20))) "$D/vol.qed"
qemu_start bench 1200 -M q35 -m 1G -kernel "$ELF" -append "portal=127.0.0.1:$PORT" \
	-drive "if=none,id=d0,file=$D/vol.qed,format=raw,cache=none,aio=threads" \
	-device virtio-blk-pci,drive=d0,serial=bench0 \
	-netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$PORT-:3260" \
	-device virtio-net-pci,netdev=n0
qemu_wait_line "^iscsi: listening" 120 || { echo "qedbox did not start"; exit 1; }
ours=$(run_cases "iscsi://127.0.0.1:$PORT/$PREFIX:bench0/0")
kill "$QEMU_PID"; qemu_wait_exit 10

TPORT=$(free_port)
truncate -s $SIZE "$D/tgt.img"
tgt_start "$D/tgt.img" "$TPORT" iqn.2026-11.org.qedbox.bench:tgt || { echo "tgtd did not start"; exit 1; }
theirs=$(run_cases "iscsi://127.0.0.1:$TPORT/iqn.2026-11.org.qedbox.bench:tgt/1")
tgt_stop

case $QEMU_ACCEL in *kvm*) accel=kvm ;; *) accel=tcg ;; esac
echo "# iSCSI throughput, qemu-img bench over iscsi://127.0.0.1 (qedbox under $accel, tgt native)"
printf '# %-13s %10s %10s %8s\n' case "qedbox" "tgt" "ratio"
printf '%s\n' "$ours" | while read -r name q; do
	t=$(printf '%s\n' "$theirs" | awk -v n="$name" '$1 == n { print $2 }')
	printf '# %-13s %7s MiB/s %7s MiB/s %6s\n' "$name" "$q" "$t" \
		"$(awk -v a="$q" -v b="$t" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
done
