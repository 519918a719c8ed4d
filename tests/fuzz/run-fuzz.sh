#!/bin/sh
# Runs the libFuzzer targets built by tests/fuzz/build.mk (binaries in build/fuzz/).
#
#   run-fuzz.sh fuzz SECONDS TARGET...   fuzzes each target for SECONDS, starting from its
#                                        seeds, its regression inputs and what earlier runs
#                                        found (build/fuzz/work/<target>/corpus, kept), then
#                                        prints per target its executions, coverage and
#                                        crashes; exits 1 when one crashed
#   run-fuzz.sh test TARGET RUNS         for make test: every seed and regression input,
#                                        then RUNS executions of fresh mutations; prints one
#                                        "# " line with the figures
#
# A crash's input is saved as build/fuzz/work/<target>/crash-<sha1> (or leak-, timeout-,
# oom-); reproduce it with build/fuzz/fuzz_<target> <file>. Once fixed, keep it in
# tests/fuzz/regressions/<target>/.
set -u
FUZZ=build/fuzz
FUZZ_OPTS="-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1"
export ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=1:print_legend=0"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-}${UBSAN_OPTIONS:+:}print_stacktrace=1"

# The figures of one libFuzzer log: executions, coverage (cov: and ft: of the last status
# line), corpus size, and the artifacts it wrote.
figures() { # log
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$1" | tail -n 1)
	[ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9][0-9]*\)[[:space:]].*/\1/p' "$1" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$1" | tail -n 1 | cut -d' ' -f2)
	ft=$(grep -o 'ft: [0-9]*' "$1" | tail -n 1 | cut -d' ' -f2)
	corp=$(grep -o 'corp: [0-9]*' "$1" | tail -n 1 | cut -d' ' -f2)
	artifacts=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$1")
}

inputs_of() { # target: the committed input folders that exist
	for d in tests/fuzz/corpus/$1 tests/fuzz/regressions/$1; do
		[ -d "$d" ] && printf '%s ' "$d"
	done
}

mode=${1:?mode}
shift
case $mode in
fuzz)
	secs=${1:?seconds}
	shift
	crashed=0
	summary=""
	for t in "$@"; do
		work=$FUZZ/work/$t
		mkdir -p "$work/corpus"
		log=$work/fuzz.log
		echo "fuzzing $t for ${secs}s (log: $log)"
		"$FUZZ/fuzz_$t" $FUZZ_OPTS -max_total_time="$secs" -artifact_prefix="$work/" \
			"$work/corpus" $(inputs_of "$t") > "$log" 2>&1
		rc=$?
		figures "$log"
		n=$(printf '%s\n' "$artifacts" | grep -c .)
		line=$(printf '%-12s %10s execs  cov: %-5s ft: %-6s corpus: %-5s crashes: %s' \
			"$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$n")
		if [ "$rc" -ne 0 ] || [ "$n" -gt 0 ]; then
			crashed=1
			line="$line (exit $rc) $artifacts"
			grep -m 1 -A 12 '==ERROR\|runtime error\|invariant failed\|Assertion' "$log" | sed 's/^/    /'
		fi
		summary="$summary$line
"
	done
	echo "fuzz summary (${secs}s per target):"
	printf '%s' "$summary"
	exit $crashed
	;;
test)
	t=${1:?target}
	runs=${2:-3000}
	work=$FUZZ/work/$t-test
	rm -rf "$work"
	mkdir -p "$work/corpus"
	log=$work/fuzz.log
	seeds=$(inputs_of "$t")
	nseeds=$(find $seeds -type f 2>/dev/null | wc -l)
	"$FUZZ/fuzz_$t" $FUZZ_OPTS -runs="$runs" -max_total_time=5 -artifact_prefix="$work/" \
		"$work/corpus" $seeds > "$log" 2>&1
	rc=$?
	figures "$log"
	if [ "$rc" -ne 0 ] || [ -n "$artifacts" ]; then
		cat "$log"
		echo "fuzz_$t: exit $rc, input saved: $artifacts"
		exit 1
	fi
	echo "# fuzz_$t: $nseeds seed and regression inputs, ${execs:-?} executions, cov: ${cov:-?}"
	rm -rf "$work"
	;;
*)
	echo "usage: $0 fuzz SECONDS TARGET... | test TARGET RUNS" >&2
	exit 2
	;;
esac
