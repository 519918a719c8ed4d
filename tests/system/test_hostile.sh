#!/bin/sh
# A hostile initiator against the appliance while an honest session keeps writing and
# verifying data (tests/system/hostile.py has the attacks, iscsi_client.py the initiator).
#   main boot: volumes A, B, C (64 MiB each, formatted at boot), per-initiator CHAP
#     credentials in an ACL, discovery_chap; the configuration in a fw_cfg file, so that
#     no secret is on QEMU's command line (attack 8 checks the process list)
#   attacks 1-3, 5-7 on the main boot (hostile.py), each a line '# attack N (...): ...'
#   attack 4: the CHAP challenges of the first logins of two identical short boots differ
#   a configuration whose mutual secret equals the initiator secret is refused at boot
# The figures: the honest session's rounds, the memory high-water mark if the console
# reports one, each attack's time, and the console's events (rate-limited, no secret).
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
D=$TEST_TMP
PREFIX=iqn.2026-11.org.qedbox
I=iqn.2026-11.org.qedbox.test
HONEST=$I:honest BONLY=$I:bonly SWITCHER=$I:switcher MALLORY=$I:mallory
start=$(date +%s)

# ---- the secrets (random per run) and the configuration file
secret() { python3 -c 'import secrets; print("s-" + secrets.token_hex(10))'; }
S_HONEST=$(secret) S_HONEST_M=$(secret) S_BONLY=$(secret) S_SW_A=$(secret) S_SW_B=$(secret)
S_MALLORY=$(secret) S_SHARED=$(secret) S_SHARED_M=$(secret) S_DISC=$(secret)
SECRETS="$S_HONEST $S_HONEST_M $S_BONLY $S_SW_A $S_SW_B $S_MALLORY $S_SHARED $S_SHARED_M $S_DISC"
# Console lines shown in the output go through redact.
redact() {
	for s in $SECRETS; do set -- "$@" -e "s/$s/<secret>/g"; done
	sed "$@"
}
cat >"$D/qedbox.conf" <<EOF
# qedbox configuration for test_hostile (fw_cfg opt/org.qedbox/config)
acl=vola/$HONEST/honest-user:$S_HONEST/vola-target:$S_HONEST_M,vola/$SWITCHER/switch-a:$S_SW_A,volb/$SWITCHER/switch-b:$S_SW_B,volb/$BONLY/bonly-user:$S_BONLY,volc/$MALLORY/mallory-user:$S_MALLORY
chap=shared-user:$S_SHARED       # initiators without credentials of their own
mutual_chap=shared-target:$S_SHARED_M
discovery_chap=disc-user:$S_DISC
EOF
cat >"$D/hostile.json" <<EOF
{"prefix": "$PREFIX", "vol": {"A": "vola", "B": "volb", "C": "volc"},
 "honest": {"iqn": "$HONEST", "chap": ["honest-user", "$S_HONEST"], "mutual": ["vola-target", "$S_HONEST_M"]},
 "bonly": {"iqn": "$BONLY", "chap": ["bonly-user", "$S_BONLY"]},
 "switcher": {"iqn": "$SWITCHER", "chap_a": ["switch-a", "$S_SW_A"], "chap_b": ["switch-b", "$S_SW_B"]},
 "mallory": {"iqn": "$MALLORY", "chap": ["mallory-user", "$S_MALLORY"]},
 "shared": {"chap": ["shared-user", "$S_SHARED"], "mutual": ["shared-target", "$S_SHARED_M"]},
 "discovery": {"chap": ["disc-user", "$S_DISC"]}}
EOF

for v in vola volb volc; do truncate -s 64M "$D/$v.img"; done
disks() {
	for v in vola volb volc; do
		echo "-drive if=none,id=$v,file=$D/$v.img,format=raw,cache=unsafe -device virtio-blk-pci,drive=$v,serial=$v"
	done
}
# boot NAME SECONDS PORT CONFIG [EXTRA CMDLINE]
boot() {
	# shellcheck disable=SC2046
	qemu_start "$1" "$2" -M q35 -m 512M -kernel "$ELF" -append "exit=debug format=vola,volb,volc $5" $(disks) \
		-nic "user,model=virtio-net-pci,restrict=on,hostfwd=tcp:127.0.0.1:$3-:3260" \
		-device virtio-rng-pci -fw_cfg "name=opt/org.qedbox/config,file=$4"
}
stop_qemu() {
	kill "$QEMU_PID" 2>/dev/null
	qemu_wait_exit 10
}

# ---- the main boot
PORT=$(free_port)
boot main 540 "$PORT" "$D/qedbox.conf"
qemu_wait_line "^iscsi: listening on port 3260" 120 || test_fail "main: no listener"
qemu_wait_line "^net: 10\.0\.2\.15:3260" 60 || test_fail "main: no address"

# attack 8: no secret in the process list (QEMU's command line included)
qpid=$(pgrep -P "$QEMU_PID" qemu-system | head -n 1)
qargs=$(ps -o args= -p "$qpid" 2>/dev/null)
plist=$(ps -eo args 2>/dev/null)
leaked=""
for s in $SECRETS; do
	case $plist in *"$s"*) leaked="$leaked $s" ;; esac
done
if [ -z "$qargs" ]; then
	echo "# attack 8 (secrets not in the process list): QEMU's command line not found"
	test_fail "attack 8: QEMU process not found"
elif [ -n "$leaked" ]; then
	echo "# attack 8 (secrets not in the process list): $(echo "$leaked" | wc -w) secret(s) visible in ps"
	test_fail "attack 8: secrets in the process list"
else
	case $qargs in
	*opt/org.qedbox/config*) echo "# attack 8 (secrets not in the process list): none of 9 secrets in ps; QEMU gets them through fw_cfg" ;;
	*) test_fail "attack 8: QEMU's command line has no fw_cfg configuration" ;;
	esac
fi

timeout -k 5 420 python3 "$HERE/hostile.py" main "$PORT" "$D/hostile.json" >"$D/hostile.out" 2>&1
rc=$?
cat "$D/hostile.out"
[ $rc -eq 0 ] || test_fail "hostile.py: $(grep -c '^FAIL' "$D/hostile.out") check(s) failed (status $rc)"
if grep -Eq "fatal|exception|panic|assert" "$QEMU_LOG"; then
	test_fail "main: the console reports a crash"
	grep -E -m 5 "fatal|exception|panic|assert" "$QEMU_LOG" | redact | sed 's/^/    | /'
fi
kill -0 "$QEMU_PID" 2>/dev/null || test_fail "main: the appliance is gone (QEMU ended)"
# The console's events: within their rate limit (20 at once, then 5 a second, plus a
# "suppressed" line at most every 4 s), counted since the test began (an upper bound on
# the appliance's uptime), and never a secret.
events=$(grep -c "^event: " "$QEMU_LOG")
secs=$(( $(date +%s) - start + 1 ))
echo "# console events under attack: $events lines in ${secs}s (at most $((20 + 6 * secs))), $(grep -c "^event: [0-9]* events suppressed" "$QEMU_LOG") 'suppressed' lines"
[ "$events" -gt 0 ] || test_fail "main: no event on the console"
[ "$events" -le $((20 + 6 * secs)) ] || test_fail "main: console events past their rate limit"
for s in $SECRETS; do
	grep -q -- "$s" "$QEMU_LOG" && test_fail "main: a secret on the console"
done
hw=$(grep -i "memory high-water" "$QEMU_LOG" | tail -n 1 | tr -d '\r' | redact)
echo "# memory high-water: ${hw:-unknown}"
stop_qemu

# ---- attack 4: CHAP challenges of two identical boots (the disks are formatted now)
challenge_boot() {
	port=$(free_port)
	boot "challenge$1" 120 "$port" "$D/qedbox.conf"
	if qemu_wait_line "^iscsi: listening on port 3260" 60; then
		timeout -k 5 60 python3 "$HERE/hostile.py" challenge "$port" "$D/hostile.json" >"$D/challenge$1.out" 2>&1
	else
		echo "none no_listener" >"$D/challenge$1.out"
	fi
	stop_qemu
}
challenge_boot 1
challenge_boot 2
b1=$(sed -n 1p "$D/challenge1.out") b1b=$(sed -n 2p "$D/challenge1.out")
b2=$(sed -n 1p "$D/challenge2.out")
case "$b1 $b2" in
*none*)
	echo "# attack 4 (CHAP challenges differ between boots): no challenge offered: boot 1 '$b1', boot 2 '$b2'"
	test_fail "attack 4: the logins got no CHAP challenge"
	;;
*)
	if [ "$b1" = "$b2" ]; then
		echo "# attack 4 (CHAP challenges differ between boots): SAME first challenge in both boots: $b1"
		test_fail "attack 4: the first CHAP challenge repeats across boots"
	elif [ "$b1" = "$b1b" ]; then
		echo "# attack 4 (CHAP challenges differ between boots): two logins in one boot got the same challenge: $b1"
		test_fail "attack 4: CHAP challenges repeat within a boot"
	else
		echo "# attack 4 (CHAP challenges differ between boots): boot 1 '$b1', boot 2 '$b2', second login of boot 1 '$b1b': all differ"
	fi
	;;
esac

# ---- a mutual secret equal to the initiator secret is refused at boot
cat >"$D/same.conf" <<EOF
acl=vola/$HONEST/honest-user:$S_HONEST/vola-target:$S_HONEST
chap=shared-user:$S_SHARED
mutual_chap=shared-target:$S_SHARED
EOF
boot same 120 "$(free_port)" "$D/same.conf" "poweroff=ready"
qemu_wait_exit 120
same=$(grep -i "mutual" "$QEMU_LOG" | grep -i "same secret" | head -n 1 | tr -d '\r' | redact)
if [ -n "$same" ]; then
	echo "# mutual secret = initiator secret: refused at boot: $same"
else
	echo "# mutual secret = initiator secret: the console says nothing about it"
	test_fail "same-secret configuration: no console line with 'mutual' and 'same secret'"
	grep -iE "chap|acl|mutual|config" "$QEMU_LOG" | head -n 5 | redact | sed 's/^/    | /'
fi

echo "# test_hostile took $(($(date +%s) - start)) s ($QEMU_ACCEL)"
test_finish
