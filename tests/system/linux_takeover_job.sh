# Run inside the open-iscsi initiator VM (tests/linux-vm/init-initiator hands it to sh)
# by test_ceph_takeover.sh: ext4 mounted on a volume while the appliance serving it is
# killed and a standby takes over at the same portal. Session recovery must hide the
# takeover: replacement_timeout (120 s) is longer than it, so no I/O error may reach the
# file system. Login at 10.0.2.100:3260 (QEMU's guestfwd to the appliance's forwarded
# port), mkfs.ext4, mount; "linux-takeover: writing" tells the host to cut; files
# written and synced one by one across the takeover; then no I/O error in the kernel
# log, fsck clean, every file's sha256 after a read-only remount. Prints one line:
#   linux-takeover: PASS ...   or   linux-takeover: FAIL <step>: <detail>
# (test_ceph_takeover.sh puts linux_job_lib.sh in front: step, fail, login_disk, verify_and_logout.)
JOB=linux-takeover
PORTAL=10.0.2.100:3260
TARGET=iqn.2026-11.org.qedbox:lnx0
FILES=40

uptime_ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }

login_disk node.session.timeo.replacement_timeout 120
step mkfs mkfs.ext4 -F -q -E nodiscard "$dev"
step mount mount -t ext4 "$dev" /mnt
mkdir -p /tmp/files
echo "linux-takeover: writing"
longest=0
for i in $(seq "$FILES"); do
	dd if=/dev/urandom of="/tmp/files/f$i" bs=4096 count=$((i * 4)) 2>/dev/null
	t0=$(uptime_ms)
	step "copy f$i" cp "/tmp/files/f$i" /mnt/
	step "sync f$i" sync
	t=$(($(uptime_ms) - t0))
	[ "$t" -gt "$longest" ] && longest=$t
	sleep 0.3
done
(cd /tmp/files && sha256sum f*) >/tmp/sums
dmesg | grep -E "I/O error|EXT4-fs error|rejecting I/O|Buffer I/O" >/tmp/step.log && fail "kernel log"
recoveries=$(dmesg | grep -c "detected conn error")
verify_and_logout
echo "linux-takeover: PASS: $FILES files written and synced across the takeover," \
	"$recoveries connection error(s) recovered, no I/O error, the longest copy+sync" \
	"$((longest / 1000)).$((longest % 1000 / 100)) s; fsck clean, sha256 verified"
