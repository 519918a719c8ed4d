#!/bin/sh
# Runs each test given (a host test binary or a system test script), each bounded in
# time, and ends with the summary line "N passed, N failed, N skipped".
# Lines a test prints starting with "# " are shown even when it passes (its figures).
# A test that exits 77 is skipped (say why on its output). With CI=true in the
# environment a skip counts as a failure too (CI has every package: a test that cannot
# run there checks nothing), and the summary says so. TEST_TIMEOUT overrides the bound.
pass=0 fail=0 skip=0 failed=""
for t in "$@"; do
	case $t in *.sh) cmd="sh $t" ;; *) cmd=$t ;; esac
	start=$(date +%s)
	out=$(timeout -k 10 "${TEST_TIMEOUT:-600}" $cmd 2>&1)
	rc=$?
	secs=$(( $(date +%s) - start ))
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1)); printf 'PASS %s (%ss)\n' "$t" "$secs"
		printf "%s\n" "$out" | grep "^# " | sed "s/^/     /"
	elif [ $rc -eq 77 ]; then
		skip=$((skip + 1))
		if [ "${CI:-}" = true ]; then
			fail=$((fail + 1)); failed="$failed $t"
			printf 'SKIP %s (CI=true: counted as a failure)\n' "$t"
		else
			printf 'SKIP %s\n' "$t"
		fi
		printf '%s\n' "$out" | tail -n 3 | sed 's/^/     /'
	else
		fail=$((fail + 1)); failed="$failed $t"
		printf 'FAIL %s (exit %s after %ss)\n' "$t" "$rc" "$secs"
		# A sanitizer's report is shown from its first line (the error, then the stack).
		report=$(printf '%s\n' "$out" | sed -n '/==ERROR: \|: runtime error: /,$p' | head -n 40)
		[ -n "$report" ] || report=$(printf '%s\n' "$out" | tail -n 40)
		printf '%s\n' "$report" | sed 's/^/     /'
	fi
	[ -n "${VERBOSE:-}" ] && printf '%s\n' "$out"
done
[ -n "$failed" ] && echo "failed:$failed"
if [ "${CI:-}" = true ] && [ $skip -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped (CI=true: the $skip skipped are among the failed)"
else
	echo "$pass passed, $fail failed, $skip skipped"
fi
[ $fail -eq 0 ]
