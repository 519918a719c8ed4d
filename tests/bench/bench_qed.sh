#!/bin/sh
# make bench-qed: qedbox's QED core against QEMU's QED driver (qemu-img bench -f qed)
# and against raw files (qedbox's file blkdev alone, and qemu-img bench -f raw), in one
# run, on files under build/bench (one filesystem for all), with the same access patterns:
#   alloc-4k     4 KiB writes into a fresh image, one per 64 KiB cluster, depth 32 (every
#                write allocates a cluster it covers only in part: the rest is filled)
#   alloc-1m     1 MiB sequential writes into a fresh image, depth 8 (each allocates 16
#                clusters at once)
#   alloc-write  64 KiB sequential writes into a fresh 128 MiB image, depth 32 (every
#                write allocates a cluster; the raw files are fresh sparse files)
#   inplace      64 KiB writes, depth 32, four passes over the written image (every
#                cluster already allocated; four passes make the run long enough to time)
#   read4k       4 KiB reads, depth 32, strided by 4 KiB x 4099 (a permutation of all
#                blocks; qemu-img bench has no random mode, this defeats sequentiality)
#
# Methodology (so that the sides are comparable and the figures stable on a shared host):
#  - Same cache mode on both sides, BENCH_CACHE (default none):
#      none       O_DIRECT: qemu-img bench -t none; qedbox's file blkdev FILE_BLKDEV_DIRECT
#      writeback  the page cache: qemu-img bench -t writeback; qedbox's file blkdev plain
#  - Same I/O engine shape: QEMU's aio=threads (its default) is a thread pool doing
#    preadv/pwritev; qedbox's file blkdev is a pool of 16 threads doing pread/pwrite,
#    completions handed back to the task loop. Depth 32 on both sides; qedbox runs one
#    task per request in flight, as the appliance does with iSCSI commands.
#  - Only the I/O phase is timed on both sides (qemu-img bench's "Run completed in",
#    bench_qed's clock around the workers; opening and closing excluded).
#  - BENCH_REPS repetitions (default 9); in each, the four contenders run in a rotated
#    order, each after a sync (no dirty pages left by the one before). Each time is the
#    median of its repetitions. Each ratio is the median over the repetitions of the
#    ratio within one repetition (the two contenders ran seconds apart, so the load of a
#    shared host drifts less between them than across the whole run); speed ratios: >1
#    means the first named is faster.
#  - Before the measurements, every image of the inplace and read4k cases is fully
#    written (the alloc-write case's repetitions do that).
# The images qedbox wrote are checked with qemu-img check and map afterwards.
set -eu
B=build/bench
QEDTOOL=build/host/qedtool
BENCH=build/host/bench_qed
command -v qemu-img >/dev/null || { echo "qemu-img not installed"; exit 77; }
CACHE=${BENCH_CACHE:-none}
case $CACHE in none|writeback) ;; *) echo "BENCH_CACHE: none or writeback"; exit 1 ;; esac
REPS=${BENCH_REPS:-9}
mkdir -p $B
trap 'rm -f $B/ours.qed $B/qemu.qed $B/ours.raw $B/qemu.raw' EXIT INT TERM
SIZE=134217728
N_WRITE=2048     # x 64 KiB = 128 MiB
N_ALLOC4K=2048   # x 4 KiB, one per 64 KiB cluster
N_ALLOC1M=128    # x 1 MiB = 128 MiB
N_INPLACE=8192   # x 64 KiB = 4 x 128 MiB
N_READ=32768     # x 4 KiB, each block once
STEP_READ=$((4096 * 4099))

qemu_secs() { # qemu-img bench args -> seconds
	qemu-img bench -t "$CACHE" "$@" | sed -n 's/^Run completed in \([0-9.]*\) seconds.*/\1/p'
}
ours_secs() { "$BENCH" "$@" "$CACHE" | cut -d' ' -f1; }
fresh() {
	rm -f $B/ours.qed $B/qemu.qed $B/ours.raw $B/qemu.raw
	$QEDTOOL create -c 64K -t 4 $B/ours.qed $SIZE
	qemu-img create -q -f qed -o cluster_size=65536,table_size=4 $B/qemu.qed $SIZE
	truncate -s $SIZE $B/ours.raw $B/qemu.raw
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# paired A B: median over i of B[i] / A[i] (speed of A relative to B), lists of seconds.
paired() {
	printf '%s\n%s\n' "$1" "$2" | awk 'NR == 1 { n = split($0, a, " ") }
		NR == 2 { split($0, b, " "); for (i = 1; i <= n; i++) r[i] = (a[i] > 0 ? b[i] / a[i] : 0)
			  for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
				  if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
			  printf "%.2f", r[int((n + 1) / 2)] }'
}

# contender NAME CASE: one measurement, in seconds.
contender() {
	sync
	case $2 in
	read4k) rd="read $N_READ 4096 $STEP_READ 32"
		qrd="-c $N_READ -s 4096 -S $STEP_READ -d 32" ;;
	alloc-4k) rd="write $N_ALLOC4K 4096 65536 32"
		qrd="-w -c $N_ALLOC4K -s 4096 -S 65536 -d 32" ;;
	alloc-1m) rd="write $N_ALLOC1M 1048576 1048576 8"
		qrd="-w -c $N_ALLOC1M -s 1048576 -d 8" ;;
	inplace) rd="write $N_INPLACE 65536 65536 32"
		qrd="-w -c $N_INPLACE -s 65536 -d 32" ;;
	*)      rd="write $N_WRITE 65536 65536 32"
		qrd="-w -c $N_WRITE -s 65536 -d 32" ;;
	esac
	op=${rd%% *} args=${rd#* }
	# shellcheck disable=SC2086
	case $1 in
	o_qed) ours_secs qed $op $B/ours.qed $args ;;
	q_qed) qemu_secs -f qed $qrd $B/qemu.qed ;;
	o_raw) ours_secs raw $op $B/ours.raw $args ;;
	q_raw) qemu_secs -f raw $qrd $B/qemu.raw ;;
	esac
}

# run_case NAME: REPS rounds of the four contenders (rotated), medians and ratios.
run_case() {
	name=$1
	o_qed="" q_qed="" o_raw="" q_raw=""
	order="o_qed q_qed o_raw q_raw"
	for r in $(seq "$REPS"); do
		case $name in alloc-*) fresh ;; esac
		for c in $order; do
			t=$(contender "$c" "$name")
			[ -n "$t" ] || { echo "$c $name: no result"; exit 1; }
			eval "$c=\"\$$c $t\""
		done
		order="${order#* } ${order%% *}"
	done
	# shellcheck disable=SC2086
	oq=$(median $o_qed) qq=$(median $q_qed) orw=$(median $o_raw) qrw=$(median $q_raw)
	printf '# %-11s qedbox-qed %6.3fs  qemu-qed %6.3fs  qedbox-raw %6.3fs  qemu-raw %6.3fs | qedbox-qed/qemu-qed %sx  qedbox-qed/qedbox-raw %sx  qedbox-qed/qemu-raw %sx  qemu-qed/qemu-raw %sx\n' \
		"$name" "$oq" "$qq" "$orw" "$qrw" "$(paired "$o_qed" "$q_qed")" \
		"$(paired "$o_qed" "$o_raw")" "$(paired "$o_qed" "$q_raw")" "$(paired "$q_qed" "$q_raw")"
	echo "#   runs (s): qedbox-qed$o_qed; qemu-qed$q_qed; qedbox-raw$o_raw; qemu-raw$q_raw"
}

echo "# bench-qed: cache=$CACHE, 128 MiB images, 64 KiB clusters, depth 32, median of $REPS; ratios are speed ratios (time of the second / time of the first), median of the per-repetition ratios"
# The allocating cases run first (fresh images), alloc-write last: inplace and read4k
# reuse what it wrote.
run_case alloc-4k
run_case alloc-1m
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
