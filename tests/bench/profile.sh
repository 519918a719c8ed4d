#!/bin/sh
# make profile: where the appliance's time goes, per workload. Boots qedbox with its
# sampling profiler on (profile=HZ, dump on profile_port) under QEMU in the shape of
# bench_iscsi.sh (a QED volume on a host file with cache=none, user networking with
# hostfwd on 127.0.0.1), then for each workload: fetches the dump (which starts a new
# window), runs `qemu-img bench` over iscsi://, fetches the window and prints it
# symbolised (tests/bench/profile_report.sh). The dumps stay in build/profile/, with a
# copy of the ELF that made them (a rebuilt one has other addresses).
#
# Variables (environment or make's command line):
#   PROFILE_WORKLOADS  "NAME:QEMU-IMG-BENCH-ARGS;..." (default: 1 MiB sequential writes,
#                      then reads, depth 8, over PROFILE_SIZE; the writes allocate)
#   PROFILE_SIZE       the volume in MiB (256)
#   PROFILE_HZ         samples per second (1000)
#   PROFILE_TOP        functions listed per workload (15)
#   PROFILE_LINES      hottest 16-byte buckets listed with their source line (10)
#   PROFILE_MEM        the VM's memory (512M)
set -u
. "$(dirname "$0")/../system/lib.sh"
PREFIX=iqn.2026-11.org.qedbox
MIB=${PROFILE_SIZE:-256}
HZ=${PROFILE_HZ:-1000}
TOP=${PROFILE_TOP:-15}
LINES_TOP=${PROFILE_LINES:-10}
MEM=${PROFILE_MEM:-512M}
WORKLOADS=${PROFILE_WORKLOADS:-"seq1m-write:-w -c $MIB -s 1048576 -d 8;seq1m-read:-c $MIB -s 1048576 -d 8"}
OUT=$ROOT/build/profile
D=$TEST_TMP
mkdir -p "$OUT"
rm -f "$OUT"/*.dump
cp "$ELF" "$OUT/qedbox.elf"

PORT=$(free_port) DUMP_PORT=$(free_port)
qemu-img create -q -f qed "$D/vol.qed" "${MIB}M" && truncate -s $(((MIB + 64) << 20)) "$D/vol.qed"
qemu_start profile 3600 -M q35 -m "$MEM" -kernel "$OUT/qedbox.elf" \
	-append "portal=127.0.0.1:$PORT profile=$HZ profile_port=3270" \
	-drive "if=none,id=d0,file=$D/vol.qed,format=raw,cache=none,aio=threads" \
	-device virtio-blk-pci,drive=d0,serial=prof0 \
	-netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$PORT-:3260,hostfwd=tcp:127.0.0.1:$DUMP_PORT-:3270" \
	-device virtio-net-pci,netdev=n0
qemu_wait_line "^iscsi: listening" 120 || { echo "qedbox did not start"; tail -n 20 "$QEMU_LOG"; exit 1; }
grep -q "^qedbox: profiler: served" "$QEMU_LOG" || { echo "the profiler did not start"; tail -n 20 "$QEMU_LOG"; exit 1; }

fetch() {
	python3 "$ROOT/tests/system/profile_fetch.py" 127.0.0.1 "$DUMP_PORT" 60
}

case $QEMU_ACCEL in *kvm*) accel=kvm ;; *) accel=tcg ;; esac
URL=iscsi://127.0.0.1:$PORT/$PREFIX:prof0/0
status=0
IFS_SAVED=$IFS
IFS=';'
for workload in $WORKLOADS; do
	IFS=$IFS_SAVED
	name=${workload%%:*} args=${workload#*:}
	fetch >/dev/null || { status=1; break; } # ends the previous window
	# shellcheck disable=SC2086
	bench=$(qemu-img bench -f raw $args "$URL" 2>&1)
	fetch >"$OUT/$name.dump" || { status=1; break; }
	echo "==== $name: qemu-img bench $args (qedbox under $accel, $MEM)"
	printf '%s\n' "$bench" | sed -n 's/^Run completed in/qemu-img bench: run completed in/p'
	sh "$ROOT/tests/bench/profile_report.sh" -n "$TOP" -l "$LINES_TOP" "$OUT/qedbox.elf" "$OUT/$name.dump" || status=1
	echo
	IFS=';'
done
IFS=$IFS_SAVED
echo "dumps in $OUT/ (sh tests/bench/profile_report.sh [-n TOP] $OUT/qedbox.elf DUMP)"
exit $status
