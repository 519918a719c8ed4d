#!/bin/sh
# qedtool's command line: bad input gives a clear message and a nonzero exit, never a
# crash; check's exit statuses (0 clean, 2 corruption after damage, 0 after check -r);
# size suffixes; relative backing names resolved from the image's directory.
set -u
Q=${QEDTOOL:-build/host/qedtool}
[ -x "$Q" ] || { echo "$Q not built"; exit 1; }
Q=$(cd "$(dirname "$Q")" && pwd)/$(basename "$Q")
T=$(mktemp -d /tmp/qedbox-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
fails=0
# expect STATUS DESCRIPTION CMD...: runs CMD, which must exit STATUS and, when failing,
# say something on stderr; a crash (signal) always fails.
expect() {
	want=$1 what=$2; shift 2
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ $rc -ne "$want" ] || [ $rc -ge 128 ] || { [ $rc -ne 0 ] && [ ! -s "$T/err" ]; }; then
		echo "FAIL: $what: expected exit $want, got $rc; stderr: $(head -c 200 "$T/err")"
		fails=$((fails + 1))
	fi
}

expect 1 "no command" "$Q"
expect 1 "unknown command" "$Q" frobnicate
expect 1 "missing file" "$Q" info "$T/nope.qed"
expect 1 "bad size" "$Q" create "$T/a.qed" 12Q
expect 1 "bad cluster size" "$Q" create -c 3000 "$T/a.qed" 1M
expect 1 "table size 32" "$Q" create -t 32 "$T/a.qed" 1M
head -c 65536 /dev/urandom > "$T/junk"
expect 1 "not a QED image" "$Q" info "$T/junk"
: > "$T/empty"
expect 1 "empty file" "$Q" check "$T/empty"
expect 0 "create 1G with suffix" "$Q" create -c 64K "$T/a.qed" 1G
grep -q '"virtual-size": 1073741824' "$T/out" 2>/dev/null || true
expect 0 "info --json" "$Q" info --json "$T/a.qed"
grep -q '"virtual-size": 1073741824' "$T/out" || { echo "FAIL: 1G size not in info"; fails=$((fails + 1)); }
expect 1 "read past the end" "$Q" read "$T/a.qed" 1G 512
expect 1 "write past the end" sh -c "printf abc | '$Q' write '$T/a.qed' 1073741823"
expect 0 "write near the end" sh -c "printf abc | '$Q' write '$T/a.qed' 1073741821"
expect 0 "read it back" "$Q" read "$T/a.qed" 1073741821 3
[ "$(cat "$T/out")" = abc ] || { echo "FAIL: read back '$(cat "$T/out")'"; fails=$((fails + 1)); }
expect 0 "check clean" "$Q" check "$T/a.qed"

# Damage: point an L1 entry past the end of the file; check reports it (2), -r fixes it.
"$Q" create -c 64K "$T/d.qed" 64M 2>/dev/null
printf 'x' | "$Q" write "$T/d.qed" 0
l1=$(od -An -tu8 -j40 -N8 "$T/d.qed" | tr -d ' ')
printf '\000\000\000\000\000\001\000\000' | dd of="$T/d.qed" bs=1 seek=$((l1 + 8)) conv=notrunc status=none
expect 2 "check finds the bad L1 entry" "$Q" check "$T/d.qed"
expect 0 "check -r repairs it" "$Q" check -r "$T/d.qed"
grep -q "found and repaired" "$T/out" || { echo "FAIL: check -r did not report the repair"; fails=$((fails + 1)); }
expect 0 "clean afterwards" "$Q" check "$T/d.qed"
expect 0 "data before the damage survives" "$Q" read "$T/d.qed" 0 1
[ "$(cat "$T/out")" = x ] || { echo "FAIL: data lost by repair"; fails=$((fails + 1)); }

# Backing file names are relative to the image's directory, not the working directory.
mkdir "$T/dir"
printf 'backing!' > "$T/dir/base.raw"
head -c 1048568 /dev/zero >> "$T/dir/base.raw"
expect 0 "create over relative backing" sh -c "cd '$T/dir' && '$Q' create -b base.raw -F raw top.qed"
expect 0 "read through backing from elsewhere" sh -c "cd / && '$Q' read '$T/dir/top.qed' 0 8"
[ "$(cat "$T/out")" = 'backing!' ] || { echo "FAIL: backing read '$(cat "$T/out")'"; fails=$((fails + 1)); }
expect 1 "missing backing file" sh -c "rm '$T/dir/base.raw' && '$Q' read '$T/dir/top.qed' 0 8"

echo "# qedtool cli failures: $fails"
[ $fails -eq 0 ]
