#!/bin/sh
# make bench-qed: qedbox's QED core against QEMU's QED driver (qemu-img bench -f qed)
# and against raw files (qedbox's file blkdev, and qemu-img bench -f raw), in one run on
# files under build/bench (the same filesystem for all), with the same access patterns:
#   alloc-write  64 KiB sequential writes into a fresh 128 MiB image (every write allocates)
#   inplace      the same writes again (every cluster already allocated)
#   read4k       4 KiB reads, depth 32, strided by 4 KiB x 4099 (a permutation of all
#                blocks; qemu-img bench has no random mode, this defeats sequentiality)
# Both sides go through the page cache (qemu-img bench's default cache=writeback,
# aio=threads). qedbox's file blkdev runs requests one at a time from its poll loop (no
# thread pool): depth 32 is 32 requests in flight in the QED core, serial at the host.
# Each contender starts after a sync (no dirty pages left by the one before).
# Prints seconds per case, and ratios (>1: qedbox faster).
set -eu
B=build/bench
QEDTOOL=build/host/qedtool
BENCH=build/host/bench_qed
command -v qemu-img >/dev/null || { echo "qemu-img not installed"; exit 77; }
mkdir -p $B
trap 'rm -f $B/ours.qed $B/qemu.qed $B/ours.raw $B/qemu.raw' EXIT INT TERM
SIZE=134217728
N_WRITE=2048     # x 64 KiB = 128 MiB
N_READ=32768     # x 4 KiB, each block once
STEP_READ=$((4096 * 4099))
REPS=${BENCH_REPS:-5}

qemu_secs() { # qemu-img bench args -> seconds
	qemu-img bench "$@" | sed -n 's/^Run completed in \([0-9.]*\) seconds.*/\1/p'
}
ours_secs() { "$BENCH" "$@" | cut -d' ' -f1; }
# Dirty pages left by one contender would slow the next one down: start each clean.
settle() { sync; }
fresh() {
	rm -f $B/ours.qed $B/qemu.qed $B/ours.raw $B/qemu.raw
	$QEDTOOL create -c 64K -t 4 $B/ours.qed $SIZE
	qemu-img create -q -f qed -o cluster_size=65536,table_size=4 $B/qemu.qed $SIZE
	truncate -s $SIZE $B/ours.raw $B/qemu.raw
}
min() { printf '%s\n' "$@" | sort -g | head -n 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# case NAME: runs the four contenders REPS times, keeps the best of each.
run_case() {
	name=$1
	o_qed="" q_qed="" o_raw="" q_raw=""
	for r in $(seq "$REPS"); do
		if [ "$name" = alloc-write ]; then fresh; fi
		case $name in
		alloc-write|inplace)
			settle; o_qed="$o_qed $(ours_secs qed write $B/ours.qed $N_WRITE 65536 65536 32)"
			settle; q_qed="$q_qed $(qemu_secs -w -f qed -c $N_WRITE -s 65536 -d 32 $B/qemu.qed)"
			settle; o_raw="$o_raw $(ours_secs raw write $B/ours.raw $N_WRITE 65536 65536 32)"
			settle; q_raw="$q_raw $(qemu_secs -w -f raw -c $N_WRITE -s 65536 -d 32 $B/qemu.raw)" ;;
		read4k)
			settle; o_qed="$o_qed $(ours_secs qed read $B/ours.qed $N_READ 4096 $STEP_READ 32)"
			settle; q_qed="$q_qed $(qemu_secs -f qed -c $N_READ -s 4096 -S $STEP_READ -d 32 $B/qemu.qed)"
			settle; o_raw="$o_raw $(ours_secs raw read $B/ours.raw $N_READ 4096 $STEP_READ 32)"
			settle; q_raw="$q_raw $(qemu_secs -f raw -c $N_READ -s 4096 -S $STEP_READ -d 32 $B/qemu.raw)" ;;
		esac
	done
	# shellcheck disable=SC2086
	oq=$(min $o_qed) qq=$(min $q_qed) orw=$(min $o_raw) qrw=$(min $q_raw)
	printf '# %-11s qedbox-qed %6.3fs  qemu-qed %6.3fs  qedbox-raw %6.3fs  qemu-raw %6.3fs | qedbox/qemu-qed %sx  qedbox-qed/qedbox-raw %sx  qemu-qed/qemu-raw %sx\n' \
		"$name" "$oq" "$qq" "$orw" "$qrw" "$(ratio "$qq" "$oq")" "$(ratio "$orw" "$oq")" "$(ratio "$qrw" "$qq")"
}

echo "# bench-qed: 128 MiB images, 64 KiB clusters, best of $REPS; ratios are speed ratios (time of the other / time of the first)"
# alloc-write must run first (fresh images), then inplace and read4k reuse what it wrote.
run_case alloc-write
run_case inplace
run_case read4k
# The images qedbox wrote are sound: qemu-img check passes and maps 128 MiB of data.
qemu-img check -q $B/ours.qed || { echo "qemu-img check of the benchmark image failed"; exit 1; }
mapped=$(qemu-img map --output=json $B/ours.qed |
	sed -n 's/.*"length": \([0-9]*\), "depth": 0, "present": true, "zero": false, "data": true.*/\1/p' |
	awk '{ n += $1 } END { print n + 0 }')
[ "$mapped" = $SIZE ] || { echo "the benchmark image maps $mapped bytes of data, not $SIZE"; exit 1; }
echo "# qemu-img check and map of qedbox's benchmark image: ok ($mapped bytes of data)"
