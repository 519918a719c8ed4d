# Run inside the open-iscsi initiator VM (tests/linux-vm/init-initiator hands it to sh)
# by test_linux_initiator.sh: the life of a volume under Linux's kernel initiator.
# Discovery and login at 10.0.2.100:3260 (QEMU's guestfwd to qedbox's forwarded port),
# mkfs.ext4, files written with their sha256 known beforehand, sync, umount, fsck, a
# read-only mount without caches that must give the same sums, logout. Prints one line:
#   linux-initiator: PASS ...   or   linux-initiator: FAIL <step>: <detail>
# (test_linux_initiator.sh puts linux_job_lib.sh in front: step, fail, login_disk, verify_and_logout.)
JOB=linux-initiator
PORTAL=10.0.2.100:3260
TARGET=iqn.2026-11.org.qedbox:lnx0

login_disk

# The files, staged in RAM first: random data of several sizes, one empty, one tree.
mkdir -p /tmp/files/tree/a/b
dd if=/dev/urandom of=/tmp/files/big bs=1M count=24 2>/dev/null
head -c 300001 /dev/urandom >/tmp/files/odd
: >/tmp/files/empty
for i in $(seq 40); do
	dd if=/dev/urandom of="/tmp/files/tree/a/b/f$i" bs=4096 count="$i" 2>/dev/null
done
(cd /tmp/files && find . -type f | sort | xargs sha256sum) >/tmp/sums
files=$(wc -l </tmp/sums)

step mkfs mkfs.ext4 -F -q -E nodiscard "$dev"
step mount mount -t ext4 "$dev" /mnt
step copy cp -a /tmp/files/. /mnt/
step sync sync
verify_and_logout
echo "linux-initiator: PASS: $files files, sha256 verified after fsck and a read-only remount"
