#!/bin/sh
# The web server (http=, admin_token=, http_allow=) end to end. The appliance boots with
# two volumes and two spares, the admin token in a fw_cfg file; after an iSCSI workload
# (QEMU's initiator), a login to a target that does not exist, and with a session held
# open on vol1 (listed with its bytes by /api/v1/sessions):
#   - headless Chromium renders / once the actions below ran; the DOM has the volumes'
#     rows (target names, sizes, the snapshot's chain, the clone), the held session, the
#     SVG chart with a write rate above zero and the recent events (the failed login, the
#     snapshot); the screenshot stays in build/http/status.png, the DOM beside it
#   - promtool checks /metrics; the counters moved as the workload says
#   - the JSON endpoints parse and say the same
#   - the actions: 401 without a token, 403 with a wrong one, 405 with GET; a snapshot
#     of vol0 onto spare0, then a clone of the frozen image onto spare1, whose new target
#     serves vol0's data; 409 for a spare in use, 404 for an unknown volume
#   - the token appears on no page, in no metric and no JSON answer, nor on the console
#   - hostile clients (tests/system/http_hostile.py): oversized headers, garbage, chunked
#     bodies and slow connections do not stop the page from being served
# Then three short boots: http=8080 with no admin_token (the actions answer 403 "no
# admin_token configured", port 80 is closed), http_allow= excluding QEMU's host address
# 10.0.2.2 (403 on /), and http=off (nothing listens).
. "$(dirname "$0")/lib.sh"
for tool in qemu-io curl promtool chromium; do
	command -v $tool >/dev/null || { echo "$tool not installed"; exit 77; }
done
PREFIX=iqn.2026-11.org.qedbox
TOKEN=http-test-token-$$-0123456789
D=$TEST_TMP
OUT=$ROOT/build/http
mkdir -p "$OUT"

qemu-img create -q -f qed "$D/vol0.qed" 64M && truncate -s 128M "$D/vol0.qed"
qemu-img create -q -f qed "$D/vol1.qed" 32M && truncate -s 64M "$D/vol1.qed"
truncate -s 128M "$D/spare0.raw" "$D/spare1.raw"
echo "admin_token=$TOKEN" >"$D/qedbox.conf"
ISCSI=$(free_port) HTTP=$(free_port) HTTP2=$(free_port)

# boot NAME CMDLINE DISK-ARGS...: the appliance with iSCSI on $ISCSI and ports 80 and
# 8080 forwarded to $HTTP and $HTTP2.
boot() {
	name=$1 cmdline=$2
	shift 2
	qemu_start "$name" 120 -M q35 -m 256M -kernel "$ELF" -append "portal=127.0.0.1:$ISCSI $cmdline" \
		-device virtio-rng-pci "$@" \
		-netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$ISCSI-:3260,hostfwd=tcp:127.0.0.1:$HTTP-:80,hostfwd=tcp:127.0.0.1:$HTTP2-:8080" \
		-device virtio-net-pci,netdev=n0
	qemu_wait_line "^iscsi: listening" 60 || test_fail "$name: no iSCSI listener"
}
disk() { # disk ID FILE SERIAL
	echo "-drive if=none,id=$1,file=$2,format=raw,cache=unsafe -device virtio-blk-pci,drive=$1,serial=$3"
}
# get PORT PATH [CURL ARGS...]: the body on stdout, the status in $STATUS
get() {
	port=$1 path=$2
	shift 2
	STATUS=$(curl -s -m 30 -o "$D/body" -w '%{http_code}' "$@" "http://127.0.0.1:$port$path")
	cat "$D/body"
}
post() { # post PATH BODY [CURL ARGS...]
	path=$1 body=$2
	shift 2
	get "$HTTP" "$path" -X POST -H 'Content-Type: application/json' --data-binary "$body" "$@"
}
at_least() { [ -n "$2" ] && [ "$2" -ge "$3" ] 2>/dev/null || test_fail "$1: expected at least $3, got '$2'"; }
json() { # json FILE PYTHON-EXPRESSION-OF-d: prints it, fails when the file is not JSON
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# shellcheck disable=SC2046
boot main "" -fw_cfg "name=opt/org.qedbox/config,file=$D/qedbox.conf" \
	$(disk d0 "$D/vol0.qed" vol0) $(disk d1 "$D/vol1.qed" vol1) \
	$(disk d2 "$D/spare0.raw" spare0) $(disk d3 "$D/spare1.raw" spare1)
expect_line "^http: listening on port 80 \(pages for anyone, actions with the admin token\)"
MAIN_LOG=$QEMU_LOG

# ---- a workload, a failed login (an event), and a session held open
io=$(qemu-io -f raw -c 'write -P 0x5a 0 4M' -c 'read -P 0x5a 0 4M' -c flush \
	"iscsi://127.0.0.1:$ISCSI/$PREFIX:vol0/0" 2>&1)
printf '%s\n' "$io" | grep -Eq "Pattern verification failed|(read|write|flush) failed" &&
	test_fail "qemu-io: $io"
qemu-io -f raw -c 'read 0 64k' "iscsi://127.0.0.1:$ISCSI/$PREFIX:nosuch/0" >/dev/null 2>&1
qemu-io -f raw -c 'write -P 0x33 0 64k' -c 'sleep 40000' "iscsi://127.0.0.1:$ISCSI/$PREFIX:vol1/0" \
	>"$D/held.log" 2>&1 &
HELD=$!
tries=100
while [ $tries -gt 0 ]; do
	get "$HTTP" /api/v1/sessions >"$D/sessions.json"
	# listed once logged in; its 64 KiB write in once the write is done
	[ "$(json "$D/sessions.json" "[s['bytes_in'] >= 65536 for s in d['sessions'] if not s['discovery']]" 2>/dev/null)" = "[True]" ] && break
	sleep 0.2
	tries=$((tries - 1))
done
[ $tries -gt 0 ] ||
	test_fail "the held session and its 64 KiB never showed in /api/v1/sessions: $(cat "$D/sessions.json")"

# ---- /metrics
get "$HTTP" /metrics >"$D/metrics.txt"
[ "$STATUS" = 200 ] || test_fail "/metrics: status $STATUS"
promtool check metrics <"$D/metrics.txt" >"$D/promtool.out" 2>&1 ||
	test_fail "promtool check metrics: $(cat "$D/promtool.out")"
metric() { awk -v k="$1 " 'index($0, k) == 1 { print $NF }' "$D/metrics.txt"; }
at_least read_ops "$(metric 'qedbox_volume_read_ops_total{volume="vol0"}')" 1
at_least written "$(metric 'qedbox_volume_write_bytes_total{volume="vol0"}')" 4194304
at_least flushes "$(metric 'qedbox_volume_flush_ops_total{volume="vol0"}')" 1
inf=$(metric 'qedbox_volume_write_latency_seconds_bucket{volume="vol0",le="+Inf"}')
at_least "write latencies" "$inf" 1
# The histogram's count comes from the latency buckets, the ops counter from the command
# counts: every write timed once.
[ "$(metric 'qedbox_volume_write_latency_seconds_count{volume="vol0"}')" = \
  "$(metric 'qedbox_volume_write_ops_total{volume="vol0"}')" ] ||
	test_fail "write latency histogram: its count differs from the writes counted"
at_least sessions "$(metric qedbox_sessions)" 1
at_least "login failures" "$(metric 'qedbox_login_failures_total{reason="unknown target"}')" 1
at_least logins "$(metric qedbox_logins_total)" 2
echo "# http: /metrics $(grep -vc '^#' "$D/metrics.txt") samples, promtool clean"

# ---- JSON
get "$HTTP" /api/v1/volumes >"$D/volumes.json"
[ "$(json "$D/volumes.json" "' '.join(v['name'] + ':' + v['target'] + ':' + str(v['size']) for v in d['volumes'])")" = \
	"vol0:$PREFIX:vol0:67108864 vol1:$PREFIX:vol1:33554432" ] ||
	test_fail "/api/v1/volumes: $(cat "$D/volumes.json")"
get "$HTTP" /api/v1/images >"$D/images.json"
[ "$(json "$D/images.json" "' '.join(m['serial'] + ':' + m['role'] for m in d['images'])")" = \
	"vol0:served vol1:served spare0:spare spare1:spare" ] || test_fail "/api/v1/images: $(cat "$D/images.json")"

# ---- the actions and their access
A=/api/v1/volumes/vol0/snapshot
post $A '{"onto":"spare0"}' >"$D/a1.json"
[ "$STATUS" = 401 ] || test_fail "snapshot without a token: $STATUS $(cat "$D/a1.json")"
post $A '{"onto":"spare0"}' -H "Authorization: Bearer wrong-token-0123456789" >"$D/a2.json"
[ "$STATUS" = 403 ] || test_fail "snapshot with a wrong token: $STATUS"
get "$HTTP" $A >/dev/null
[ "$STATUS" = 405 ] || test_fail "GET of an action: $STATUS"
AUTH="Authorization: Bearer $TOKEN"
post /api/v1/volumes/nosuch/snapshot '{"onto":"spare0"}' -H "$AUTH" >"$D/a3.json"
[ "$STATUS" = 404 ] || test_fail "snapshot of an unknown volume: $STATUS $(cat "$D/a3.json")"
post $A '{"onto":"spare0"}' -H "$AUTH" >"$D/snap.json"
[ "$STATUS" = 200 ] || test_fail "snapshot: $STATUS $(cat "$D/snap.json")"
[ "$(json "$D/snap.json" "d['name'] + ' ' + d['target'] + ' ' + d['image'] + ' ' + ','.join(d['backing_chain'])")" = \
	"vol0 $PREFIX:vol0 spare0 vol0" ] || test_fail "snapshot answer: $(cat "$D/snap.json")"
post /api/v1/images/vol0/clone '{"onto":"spare0"}' -H "$AUTH" >"$D/a4.json"
[ "$STATUS" = 409 ] || test_fail "clone onto a spare in use: $STATUS $(cat "$D/a4.json")"
post /api/v1/images/vol0/clone '{"onto": "spare1"}' -H "$AUTH" >"$D/clone.json"
[ "$STATUS" = 200 ] || test_fail "clone: $STATUS $(cat "$D/clone.json")"
[ "$(json "$D/clone.json" "d['name'] + ' ' + d['target']")" = "spare1 $PREFIX:spare1" ] ||
	test_fail "clone answer: $(cat "$D/clone.json")"
io=$(qemu-io -f raw -c 'read -P 0x5a 0 4M' "iscsi://127.0.0.1:$ISCSI/$PREFIX:spare1/0" 2>&1)
printf '%s\n' "$io" | grep -Eq "Pattern verification failed|read failed|qemu-io:" &&
	test_fail "the clone does not serve vol0's data: $io"

# ---- the page, as a browser renders it
# the throughput history takes a sample every 5 s: wait for the first rate point
tries=150
while [ $tries -gt 0 ] && ! get "$HTTP" / | grep -q '<polyline class="write"[^>]*points="[0-9]'; do
	sleep 0.1
	tries=$((tries - 1))
done
chrome() {
	timeout 60 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$D/chrome" "$@" \
		"http://127.0.0.1:$HTTP/" 2>>"$D/chrome.err"
}
{ chrome --dump-dom >"$D/dom.html" && [ -s "$D/dom.html" ] && cp "$D/dom.html" "$OUT/status-dom.html"; } ||
	test_fail "chromium --dump-dom failed: $(tail -3 "$D/chrome.err")"
rm -f "$OUT/status.png"
chrome --screenshot="$OUT/status.png" --window-size=1280,1400 >/dev/null
[ -s "$OUT/status.png" ] || test_fail "no screenshot in $OUT/status.png"
dom_has() { grep -Fq -- "$1" "$D/dom.html" || test_fail "the rendered page lacks: $1"; }
dom_has '<tr class="volume"><td>vol0</td><td>iqn.2026-11.org.qedbox:vol0</td><td class="n">64.0 MiB</td>'
dom_has '<tr class="volume"><td>vol1</td><td>iqn.2026-11.org.qedbox:vol1</td><td class="n">32.0 MiB</td>'
grep -Eq '<tr class="session"><td>[^<]+</td><td>10\.0\.2\.2:[0-9]+</td><td>iqn.2026-11.org.qedbox:vol1</td>' "$D/dom.html" ||
	test_fail "the rendered page lacks the held session's row"
dom_has '<svg id="chart"'
# a point above the axis (y 140): the workload's writes
grep -Eq '<polyline class="write"[^>]* points="[^"]*[0-9]+,([0-9]|[0-9][0-9]|1[0-3][0-9]) ' "$D/dom.html" ||
	test_fail "the chart has no write rate above zero"
grep -Eq '<li class="event">[^<]*vol0 snapshot: image vol0 frozen read-only' "$D/dom.html" ||
	test_fail "the rendered page lacks the snapshot among the recent events"
grep -Eq '<li class="event">[^<]*login-failed[^<]*nosuch' "$D/dom.html" ||
	test_fail "the rendered page lacks the failed login among the recent events"
dom_has '<tr class="volume"><td>spare1</td><td>iqn.2026-11.org.qedbox:spare1</td>'
dom_has '<td>spare0 → vol0</td>'
echo "# http: status page $(wc -c <"$D/dom.html") bytes rendered, screenshot build/http/status.png"

# ---- hostile clients, then the page still serves
python3 "$ROOT/tests/system/http_hostile.py" 127.0.0.1 "$HTTP" >"$D/hostile.out" 2>&1 ||
	test_fail "hostile clients: $(grep -v '^ok' "$D/hostile.out")"
get "$HTTP" / >"$D/after.html"
[ "$STATUS" = 200 ] && grep -q '</html>' "$D/after.html" || test_fail "the page after the hostile clients: $STATUS"

# ---- no secret anywhere
get "$HTTP" /api/v1/sessions >"$D/sessions2.json"
for f in dom.html metrics.txt volumes.json images.json sessions.json sessions2.json snap.json clone.json \
	a1.json a2.json a3.json a4.json after.html; do
	grep -Fq "$TOKEN" "$D/$f" && test_fail "the admin token appears in $f"
done
grep -Fq "$TOKEN" "$MAIN_LOG" && test_fail "the admin token appears on the console"
grep -q 'admin_token=\*\*\*' "$MAIN_LOG" || test_fail "the console does not show admin_token masked"
kill "$HELD" 2>/dev/null
wait "$HELD" 2>/dev/null
kill "$QEMU_PID"
qemu_wait_exit 10

# ---- http=8080 without a token: actions refused, port 80 closed
qemu-img create -q -f qed "$D/small.qed" 16M && truncate -s 32M "$D/small.qed"
# shellcheck disable=SC2046
boot moved "http=8080" $(disk d0 "$D/small.qed" small0)
expect_line "^http: listening on port 8080 \(pages for anyone, no actions: no admin_token\)"
get "$HTTP2" / >/dev/null
[ "$STATUS" = 200 ] || test_fail "http=8080: / answered $STATUS"
get "$HTTP2" /api/v1/volumes/small0/snapshot -X POST --data-binary '{"onto":"x"}' \
	-H "Authorization: Bearer $TOKEN" >"$D/notoken.json"
[ "$STATUS" = 403 ] && grep -q 'no admin_token configured' "$D/notoken.json" ||
	test_fail "an action without admin_token: $STATUS $(cat "$D/notoken.json")"
get "$HTTP" / >/dev/null
[ "$STATUS" = 000 ] || test_fail "http=8080: port 80 answered $STATUS"
kill "$QEMU_PID"
qemu_wait_exit 10

# ---- http_allow without 10.0.2.2 (where QEMU's forwarded connections come from)
# shellcheck disable=SC2046
boot allow "http_allow=192.168.0.0/16,10.0.2.3" $(disk d0 "$D/small.qed" small0)
expect_line "^http: listening on port 80 \(pages for http_allow only"
for path in / /metrics /api/v1/volumes; do
	get "$HTTP" $path >/dev/null
	[ "$STATUS" = 403 ] || test_fail "http_allow: $path answered $STATUS"
done
kill "$QEMU_PID"
qemu_wait_exit 10

# ---- http=off
# shellcheck disable=SC2046
boot off "http=off" $(disk d0 "$D/small.qed" small0)
grep -q "^http: listening" "$QEMU_LOG" && test_fail "http=off: the server listens"
get "$HTTP" / >/dev/null
[ "$STATUS" = 000 ] || test_fail "http=off: port 80 answered $STATUS"
kill "$QEMU_PID"
qemu_wait_exit 10
test_finish
