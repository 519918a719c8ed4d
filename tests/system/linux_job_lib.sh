# Shared by the jobs the open-iscsi initiator VM runs (linux_initiator_job.sh,
# linux_takeover_job.sh): the test puts this file in front of the job and hands the
# whole to the guest through fw_cfg (tests/linux-vm/init-initiator runs it with sh).
# Before it: JOB (the prefix of the result line), PORTAL and TARGET.
#   step NAME COMMAND...   the command's output in /tmp/step.log; FAIL NAME if it fails
#   fail NAME              prints "JOB: FAIL NAME: <the step's last lines>", exits 1
#   login_disk [STEP...]   discovery, node updates given as "NAME VALUE" pairs, login;
#                          sets dev to the LUN 0 disk of the session
#   verify_and_logout      the file system on dev mounted at /mnt: unmount, fsck, a
#                          read-only mount without caches whose files must match
#                          /tmp/sums (sha256sum -c, paths relative to /mnt), logout
fail() {
	echo "$JOB: FAIL $1: $(tail -n 3 /tmp/step.log 2>/dev/null | tr '\n' ' ')"
	exit 1
}
step() {
	name=$1
	shift
	"$@" >/tmp/step.log 2>&1 || fail "$name"
}
login_disk() {
	step discovery iscsiadm -m discovery -t sendtargets -p "$PORTAL"
	grep -q "^$PORTAL,1 $TARGET\$" /tmp/step.log || fail "discovery lists no $TARGET at $PORTAL"
	while [ $# -ge 2 ]; do
		step "update $1" iscsiadm -m node -T "$TARGET" -p "$PORTAL" -o update -n "$1" -v "$2"
		shift 2
	done
	step login iscsiadm -m node -T "$TARGET" -p "$PORTAL" --login
	dev=
	for _ in $(seq 100); do
		for b in /sys/class/iscsi_session/session*/device/target*/*:*:*:0/block/*; do
			[ -e "$b" ] && dev=/dev/${b##*/}
		done
		[ -n "$dev" ] && [ -b "$dev" ] && break
		sleep 0.2
	done
	[ -n "$dev" ] && [ -b "$dev" ] || fail "no disk after login"
}
verify_and_logout() {
	step umount umount /mnt
	step fsck fsck.ext4 -fn "$dev"
	echo 3 >/proc/sys/vm/drop_caches
	step mount-ro mount -t ext4 -o ro "$dev" /mnt
	step verify sh -c "cd /mnt && sha256sum -c /tmp/sums"
	step umount-ro umount /mnt
	step logout iscsiadm -m node -T "$TARGET" -p "$PORTAL" --logout
}
