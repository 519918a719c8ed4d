#!/bin/sh
# qedbox on Ceph RBD, and a standby that takes over (README, "Ceph RBD and takeover").
# One throw-away cluster (tests/ceph/cluster.sh) for the whole test, in build/.
#
# Disks, all RBD images: vol0 and lnx0 (blank, formatted by the appliance), golden (a
# QED image qemu-img made and wrote) and clone0 (a QED image whose backing file is
# golden). Every appliance runs the same command line ($D/appliance.sh) on the same
# images.
#
#  1. Power cut: appliance A serves vol0, lnx0 and clone0 on port P; Linux open-iscsi in
#     a VM (tests/linux-vm/) mounts ext4 on lnx0 and writes files
#     (linux_takeover_job.sh), takeover_workload.py writes and syncs vol0, qemu-io
#     (libiscsi) writes clone0; A's QEMU is killed (SIGKILL) in the middle.
#     tools/qedbox-takeover -m lock-rm fences A and boots standby B on the same port.
#     The three initiators log in again by themselves and carry on: no error may reach
#     them (Linux: none in the kernel log, fsck clean, every file's sum). Printed: the
#     time from the kill to the first write B acknowledged.
#  2. Hung, not dead: B is paused (SIGSTOP); qedbox-takeover -m blocklist boots C on
#     another port; C writes vol0. B is resumed: its write must fail, it must stop
#     serving (NOT READY afterwards, the console line) and C's data must be intact.
#  3. All stopped: qemu-img check of vol0 and clone0 through rbd: (no corruption), every
#     write takeover_workload.py saw acknowledged before a completed SYNCHRONIZE CACHE
#     reads back, other sectors hold old or new data; clone0 reads golden's data where
#     it was not written, golden is unchanged.
#
# Planted bug this test was seen to fail on (reverted, never committed): app/volumes.c
# serving the image's volume without its guard (d->vol = &d->qed_vol): B, resumed, has
# no "stopped serving" line (it tried a header write instead: "qed: header write failed")
# and answers reads with MEDIUM ERROR instead of NOT READY.
. "$(dirname "$0")/lib.sh"
LINUX=$ROOT/build/linux-vm
if ! sh "$ROOT/tests/linux-vm/build.sh" "$LINUX"; then
	echo "the Linux initiator VM could not be built from Debian's packages"
	exit 77
fi
for t in rbd ceph-mon ceph-osd qemu-io qemu-img iscsi-ls; do
	command -v $t >/dev/null || { echo "$t not installed"; exit 77; }
done
qemu-img --help | grep -q "Supported formats:.* rbd" || { echo "QEMU has no rbd driver (qemu-block-extra)"; exit 77; }
D=$TEST_TMP
CEPH=$ROOT/build/ceph-test.$$
PREFIX=iqn.2026-11.org.qedbox
PIDS=

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	sh "$ROOT/tests/ceph/cluster.sh" down "$CEPH"
	rm -rf "$CEPH"
	test_cleanup
}
trap cleanup EXIT

sh "$ROOT/tests/ceph/cluster.sh" up "$CEPH" || exit 1
C=$CEPH/ceph.conf
rbd_url() { echo "rbd:rbd/$1:conf=$C:id=admin"; }
# A QED image on RBD as the host opens it: clone0's backing file "golden" is a disk
# serial, which the host cannot resolve: checked without its backing image.
rbd_json() { echo "{\"driver\": \"rbd\", \"pool\": \"rbd\", \"image\": \"$1\", \"conf\": \"$C\"}"; }
qed_json() { echo "json:{\"driver\": \"qed\", \"file\": $(rbd_json "$1"), \"backing\": null}"; }

# ---- the images
rbd -c "$C" create --size 64M rbd/vol0 && rbd -c "$C" create --size 64M rbd/lnx0 ||
	{ test_fail "rbd create"; test_finish; }
qemu-img create -q -f qed -o cluster_size=65536 "$(rbd_url golden)" 32M &&
	qemu-io -f qed -c 'write -P 0x6e 0 2M' -c flush "$(rbd_url golden)" >/dev/null &&
	qemu-img create -q -f qed -u -b golden -F qed "$(rbd_url clone0)" 32M &&
	rbd -c "$C" resize --size 48M rbd/clone0 >/dev/null 2>&1 ||
	{ test_fail "the golden image and its clone on RBD"; test_finish; }
golden_sum() {
	qemu-img convert -f raw -O raw "$(rbd_url golden)" "$D/golden.raw" && md5sum <"$D/golden.raw"
}
golden_before=$(golden_sum)

# Every appliance: the same configuration on the same images (clone0 before golden: in
# PCI order, golden must be opened as clone0's backing image, not served); only the name (console
# log, pid file) and the host port differ. werror/rerror=report: a fenced appliance's
# failed I/O reaches the firmware as a device error instead of pausing the VM.
cat >"$D/appliance.sh" <<EOF
name=\$1 port=\$2
drive() { echo "file=$(rbd_url "\$1"),format=raw,if=none,id=\$1,cache=writeback,werror=report,rerror=report"; }
exec timeout -k 5 400 qemu-system-x86_64 $QEMU_ACCEL -display none -monitor none -no-reboot \\
	-M q35 -m 256M -kernel "$ELF" -append "format=vol0,lnx0 portal=10.0.2.100:3260 write_cache=off" \\
	-serial "file:$D/\$name.log" -pidfile "$D/\$name.qpid" -device virtio-rng-pci \\
	-drive "\$(drive vol0)" -device virtio-blk-pci,drive=vol0,serial=vol0 \\
	-drive "\$(drive lnx0)" -device virtio-blk-pci,drive=lnx0,serial=lnx0 \\
	-drive "\$(drive clone0)" -device virtio-blk-pci,drive=clone0,serial=clone0 \\
	-drive "\$(drive golden)" -device virtio-blk-pci,drive=golden,serial=golden \\
	-nic "user,model=virtio-net-pci,restrict=on,hostfwd=tcp:127.0.0.1:\$port-:3260"
EOF
wait_log() { # NAME PATTERN SECONDS
	n=$(($3 * 10))
	while [ $n -gt 0 ]; do
		grep -Eq -- "$2" "$D/$1.log" 2>/dev/null && return 0
		sleep 0.1
		n=$((n - 1))
	done
	test_fail "$1: no console line '$2' within $3 s"
	tail -n 15 "$D/$1.log" 2>/dev/null | sed 's/^/    | /'
	return 1
}
takeover() { # METHOD PORT NAME
	"$ROOT/tools/qedbox-takeover" -c "$C" -m "$1" -p "127.0.0.1:$2" -t 3 -w 120 -d \
		-P "$D/$3.pid" -i rbd/vol0 -i rbd/lnx0 -i rbd/clone0 -i rbd/golden -- \
		sh "$D/appliance.sh" "$3" "$2" >"$D/takeover-$3.out" 2>&1
	rc=$?
	[ -f "$D/$3.pid" ] && PIDS="$PIDS $(cat "$D/$3.pid")"
	sed 's/^/    /' "$D/takeover-$3.out"
	[ $rc -eq 0 ] || test_fail "qedbox-takeover -m $1: status $rc"
	return $rc
}

# ---- 1. power cut of A in the middle of the workloads, takeover by B (lock-rm)
P=$(free_port)
sh "$D/appliance.sh" a "$P" &
PIDS="$PIDS $!"
wait_log a "^iscsi: listening on port 3260, 3 targets" 120 || test_finish
grep -q "^volume vol0: formatting" "$D/a.log" || test_fail "A did not format vol0"
cat "$ROOT/tests/system/linux_job_lib.sh" "$ROOT/tests/system/linux_takeover_job.sh" >"$D/job.sh"
# Linux's open-iscsi with ext4 mounted on lnx0 (tests/system/linux_takeover_job.sh),
# reaching the portal at 10.0.2.100:3260 through guestfwd and a relay to port P.
timeout -k 5 300 qemu-system-x86_64 $QEMU_ACCEL -display none -monitor none -no-reboot \
	-M q35 -m 512M -kernel "$LINUX/vmlinuz" -initrd "$LINUX/initiator.cpio.gz" \
	-append "console=ttyS0 quiet panic=-1" -serial "file:$D/linux.log" \
	-fw_cfg "name=opt/org.qedbox/job,file=$D/job.sh" \
	-netdev "user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:3260-cmd:python3 $ROOT/tests/linux-vm/relay.py $P" \
	-device virtio-net-pci,netdev=n0 >"$D/linux.qemu" 2>&1 &
LINUXVM=$!
PIDS="$PIDS $LINUXVM"
wait_log linux "^linux-takeover: (writing|FAIL)" 150 || test_finish
grep -a "^linux-takeover: FAIL" "$D/linux.log" && { test_fail "Linux initiator before the cut"; test_finish; }
python3 "$ROOT/tests/system/takeover_workload.py" run 127.0.0.1 "$P" "$PREFIX:vol0" \
	"$D/journal" 8 >"$D/workload.out" 2>&1 &
WORKLOAD=$!
PIDS="$PIDS $WORKLOAD"
# libiscsi (QEMU's iscsi driver) on clone0: 64 KiB writes with pauses, a flush and a
# read-back at the end; it must never report an error, the takeover included.
{
	for i in $(seq 40); do echo "-c 'write -P 0x$((i + 16)) $(((i % 8) * 65536 + 4194304)) 64k' -c 'sleep 300'"; done
	echo "-c 'write -P 0x77 8M 64k' -c flush -c 'read -P 0x77 8M 64k' -c 'read -P 0x6e 1M 64k'"
} | tr '\n' ' ' >"$D/qemu-io.args"
killed_at=
eval "timeout 300 qemu-io -f raw $(cat "$D/qemu-io.args") iscsi://127.0.0.1:$P/$PREFIX:clone0/0" \
	>"$D/qemu-io.out" 2>&1 &
QEMUIO=$!
PIDS="$PIDS $QEMUIO"
n=600
syncs() { c=$(cat "$D/journal" 2>/dev/null | grep -c '^S'); echo "${c:-0}"; }
while [ $n -gt 0 ] && [ "$(syncs)" -lt 4 ]; do sleep 0.1; n=$((n - 1)); done
[ $n -gt 0 ] || { test_fail "the workload did not reach 4 SYNCHRONIZE CACHE in 60 s"; cat "$D/workload.out"; test_finish; }
kill -0 "$QEMUIO" 2>/dev/null || test_fail "qemu-io ended before the power cut: it proves nothing"
kill -9 "$(cat "$D/a.qpid")" || test_fail "no QEMU of A to kill"
killed_at=$(date +%s.%N)
takeover lock-rm "$P" b
wait "$WORKLOAD"
rc=$?
grep "^# \|^FAIL" "$D/workload.out"
[ $rc -eq 0 ] || test_fail "the workload on vol0 (status $rc): $(tail -n 3 "$D/workload.out")"
first=$(sed -n 's/^first-write-at //p' "$D/workload.out")
t=$(awk -v a="$killed_at" -v b="${first:-0}" 'BEGIN { printf "%.1f", b - a }')
echo "# takeover (lock-rm): $t s from the power cut to the first write the standby acknowledged"
wait "$QEMUIO"
rc=$?
max=$(sed -n 's/.* ops; \([0-9:.]*\)[ (].*/\1/p' "$D/qemu-io.out" |
	awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; if (s > m) m = s } END { printf "%.1f", m }')
echo "# libiscsi (qemu-io) on clone0: status $rc, its slowest command $max s"
[ $rc -eq 0 ] && ! grep -Eq "failed|error|Pattern verification" "$D/qemu-io.out" &&
	[ "$(grep -c '^wrote 65536/65536' "$D/qemu-io.out")" -eq 41 ] &&
	[ "$(grep -c '^read 65536/65536' "$D/qemu-io.out")" -eq 2 ] ||
	test_fail "qemu-io through the takeover: $(grep -v '^[0-9]' "$D/qemu-io.out" | tail -n 5)"
# The boot-time check of a crashed image, on a remote disk: what it found, how long.
grep "qed check" "$D/b.log" | grep -v "progress" | sed "s/^/# B's boot check: /"

n=1200
while [ $n -gt 0 ] && kill -0 "$LINUXVM" 2>/dev/null; do sleep 0.1; n=$((n - 1)); done
grep -a "^linux-takeover:" "$D/linux.log" | tail -n 1 | sed 's/^/# /'
grep -aq "^linux-takeover: PASS" "$D/linux.log" ||
	test_fail "Linux open-iscsi across the takeover: $(grep -a "^linux-takeover:" "$D/linux.log" | tail -n 1)"

# ---- 2. B hung (paused), takeover by C (blocklist); B resumed must not write
P2=$(free_port)
B=$(cat "$D/b.qpid")
kill -STOP "$B"
stopped=$(date +%s.%N)
takeover blocklist "$P2" c
URL_C=iscsi://127.0.0.1:$P2/$PREFIX:vol0/0
ok=
for _ in $(seq 60); do
	timeout 60 qemu-io -f raw -c 'write -P 0x5c 40M 1M' -c flush "$URL_C" >"$D/c-write.out" 2>&1 &&
		! grep -q failed "$D/c-write.out" && ok=1 && break
	sleep 0.2
done
t=$(awk -v a="$stopped" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
[ -n "$ok" ] || test_fail "C never took a write: $(cat "$D/c-write.out")"
echo "# takeover (blocklist): $t s from the hang to the first write the standby acknowledged"
kill -CONT "$B"
out=$(timeout 60 qemu-io -f raw -c 'write -P 0xba 40M 64k' "iscsi://127.0.0.1:$P/$PREFIX:vol0/0" 2>&1)
printf '%s\n' "$out" | grep -q "^wrote" && test_fail "B, fenced, acknowledged a write: $out"
wait_log b "^event: device-error vol0: (write|flush) failed \(device error\): stopped serving; another appliance may own this disk" 30
[ "$(grep -c "^event: device-error vol0: .*stopped serving" "$D/b.log")" -eq 1 ] || test_fail "B said more than once that vol0 stopped"
out=$(timeout 60 qemu-io -f raw -c 'read 0 4k' "iscsi://127.0.0.1:$P/$PREFIX:vol0/0" 2>&1)
printf '%s\n' "$out" | grep -q "SENSE KEY:.*(2) ASCQ:.*(0x0403)" ||
	test_fail "B, stopped, should answer NOT READY 04/03: $out"
out=$(timeout 60 qemu-io -f raw -c 'read -P 0x5c 40M 1M' "$URL_C" 2>&1)
printf '%s\n' "$out" | grep -q "^read 1048576/1048576" && ! printf '%s\n' "$out" | grep -q verification ||
	test_fail "C's data after B was resumed: $out"
# clone0 through C: golden's data where nothing was written, libiscsi's last write.
out=$(timeout 60 qemu-io -f raw -c 'read -P 0x6e 1M 1M' -c 'read -P 0x77 8M 64k' \
	"iscsi://127.0.0.1:$P2/$PREFIX:clone0/0" 2>&1)
[ "$(printf '%s\n' "$out" | grep -c '^read ')" -eq 2 ] && ! printf '%s\n' "$out" | grep -q verification ||
	test_fail "clone0 through C (golden's data, libiscsi's last write): $out"

# ---- 3. everything stopped: the images on RBD, checked and read by the host
for p in $PIDS; do kill "$p" 2>/dev/null; done
for p in $PIDS; do wait "$p" 2>/dev/null; done
PIDS=
for img in vol0 clone0; do
	out=$(qemu-img check "$(qed_json $img)" 2>&1)
	rc=$?
	[ $rc -eq 0 ] || [ $rc -eq 3 ] || test_fail "qemu-img check of $img on RBD: status $rc: $out"
done
qemu-img convert -f qed -O raw "$(rbd_url vol0)" "$D/vol0.raw" || test_fail "qemu-img convert of vol0"
python3 "$ROOT/tests/system/takeover_workload.py" verify "$D/journal" "$D/vol0.raw" ||
	test_fail "vol0 after the power cut and the takeover"
out=$(qemu-io -f qed -c 'read -P 0x5c 40M 1M' "$(rbd_url vol0)" 2>&1)
printf '%s\n' "$out" | grep -q '^read 1048576/1048576' && ! printf '%s\n' "$out" | grep -q verification ||
	test_fail "vol0 on RBD (C's write): $out"
[ "$(golden_sum)" = "$golden_before" ] ||
	test_fail "golden changed"
test_finish
