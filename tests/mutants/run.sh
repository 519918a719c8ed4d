#!/bin/sh
# Mutation testing: proves that the tests catch the bugs that matter most.
#
#   sh tests/mutants/run.sh [NAME...]      (make mutants: all of them)
#
# Each tests/mutants/NN-name.diff is one deliberate bug, a unified diff against the tree
# with a header of three lines before it:
#
#   # breaks: what the bug breaks (one line)
#   # caught-by: the tests that must catch it, fastest first: host tests as <dir>/<name>
#   #            (build/host/tests/<dir>/<name>), system tests as system/<script>.sh
#
# The mutants are applied one at a time to a scratch copy of the tree in
# build/mutants/work (never to the working tree; removed at the end), seeded with the
# objects of build/host (and build/fw when a system test is named) so that each mutant
# rebuilds only the file it changes. For each: patch, build what its tests need, run
# them in order until one fails, revert. A mutant is caught when one of its tests fails
# (a test that times out fails too); it survives when all pass, and also when it does
# not apply or does not build (a mutant that cannot be run proves nothing).
#
# First the tests named by the selected mutants run once on the unmutated copy: a test
# that fails there would make every mutant look caught, so the run stops.
#
# Prints a table (mutant, file, what it breaks, the test that caught it or NOT CAUGHT)
# ending with "mutants: C of N caught"; exits non-zero unless every mutant was caught.
# MUTANT_TIMEOUT bounds each test run in seconds (default 600); MUTANT_JOBS is make's -j
# (default 2); VERBOSE=1 shows the output of the catching test.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=$ROOT/tests/mutants
SCRATCH=$ROOT/build/mutants
WORK=$SCRATCH/work
TIMEOUT=${MUTANT_TIMEOUT:-600}
JOBS=${MUTANT_JOBS:-2}
unset MAKEFLAGS MFLAGS MAKELEVEL # a make of our own, not a part of the caller's

die() { echo "mutants: $*" >&2; exit 2; }

# ---- which mutants -------------------------------------------------------------------
if [ $# -gt 0 ]; then
	mutants=""
	for n in "$@"; do
		f=$(ls "$DIR"/*.diff 2>/dev/null | grep -F "/$n" | head -n 1)
		[ -n "$f" ] || die "no mutant named $n"
		mutants="$mutants $f"
	done
else
	mutants=$(ls "$DIR"/*.diff 2>/dev/null)
fi
[ -n "$mutants" ] || die "no mutants in $DIR"

header() { sed -n "s/^# $2: *//p" "$1" | head -n 1; }
files_of() { sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$1" | tr '\n' ' ' | sed 's/ $//'; }

all_tests=""
need_fw=0
for m in $mutants; do
	tests=$(header "$m" caught-by)
	[ -n "$tests" ] && [ -n "$(header "$m" breaks)" ] && [ -n "$(files_of "$m")" ] ||
		die "$(basename "$m"): needs '# breaks:', '# caught-by:' and a diff"
	for t in $tests; do
		case " $all_tests " in *" $t "*) ;; *) all_tests="$all_tests $t" ;; esac
		case $t in system/*) need_fw=1 ;; esac
	done
done

# ---- the scratch copy ----------------------------------------------------------------
mkdir -p "$SCRATCH"
exec 9>"$SCRATCH/lock"
flock -n 9 || die "another mutation run is using $SCRATCH"
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

start_all=$(date +%s)
rm -rf "$WORK"
mkdir -p "$WORK/build"
# The tree as it is (uncommitted edits included, build/ and .git left out), timestamps
# kept so that the seeded objects stay up to date.
(cd "$ROOT" && tar --exclude=./build --exclude=./.git -cf - .) | tar -C "$WORK" -xf - ||
	die "cannot copy the tree"
ln -s "$(readlink -f "$ROOT/build/deps")" "$WORK/build/deps" || die "build/deps missing (make deps)"
cp -p "$ROOT/build/.packages" "$WORK/build/.packages" 2>/dev/null && touch "$WORK/build/.packages"
[ -d "$ROOT/build/host" ] && cp -a "$ROOT/build/host" "$WORK/build/host"
if [ $need_fw = 1 ] && [ -d "$ROOT/build/fw" ]; then
	cp -a "$ROOT/build/fw" "$WORK/build/fw"
	cp -p "$ROOT/build/qedbox.elf" "$WORK/build/" 2>/dev/null
fi

# Make targets and commands of a list of tests.
targets_of() {
	for t in $1; do
		case $t in
		system/*) echo all ;;
		*) echo "build/host/tests/$t" ;;
		esac
	done | sort -u | tr '\n' ' '
}

build() { # targets...
	make -C "$WORK" -j"$JOBS" --no-print-directory "$@" >"$SCRATCH/build.log" 2>&1
}

# Runs one test in the scratch copy; its output goes to $SCRATCH/test.log.
run_test() {
	case $1 in
	system/*) set -- sh "tests/$1" ;;
	*) set -- "build/host/tests/$1" ;;
	esac
	(cd "$WORK" && timeout -k 10 "$TIMEOUT" "$@") >"$SCRATCH/test.log" 2>&1
}

# ---- the tests pass without any mutant ----------------------------------------------
echo "mutants: building the scratch copy and running its tests unmutated:$all_tests"
build $(targets_of "$all_tests") || { tail -n 30 "$SCRATCH/build.log"; die "the unmutated copy does not build"; }
for t in $all_tests; do
	s=$(date +%s)
	if ! run_test "$t"; then
		tail -n 30 "$SCRATCH/test.log"
		die "$t fails without any mutant: fix it first"
	fi
	echo "  ok $t ($(( $(date +%s) - s ))s)"
done

# ---- one mutant at a time -------------------------------------------------------------
rows=""
caught=0 total=0
row() { rows="$rows$(printf '%-38s %-24s %-72s %s' "$1" "$2" "$3" "$4")
"; }

for m in $mutants; do
	name=$(basename "$m" .diff)
	breaks=$(header "$m" breaks)
	tests=$(header "$m" caught-by)
	files=$(files_of "$m")
	total=$((total + 1))
	s=$(date +%s)
	result=""
	if ! (cd "$WORK" && patch -p1 -s --no-backup-if-mismatch -r - <"$m") >"$SCRATCH/patch.log" 2>&1; then
		result="NOT CAUGHT (does not apply)"
		cat "$SCRATCH/patch.log"
		# Whatever went in comes out: the copy is made again from the tree.
		(cd "$ROOT" && tar --exclude=./build --exclude=./.git -cf - .) | tar -C "$WORK" -xf -
	else
		if ! build $(targets_of "$tests"); then
			result="NOT CAUGHT (does not build)"
			tail -n 20 "$SCRATCH/build.log"
		else
			for t in $tests; do
				if ! run_test "$t"; then
					result="caught by $t"
					[ -n "${VERBOSE:-}" ] && tail -n 20 "$SCRATCH/test.log"
					break
				fi
			done
			[ -n "$result" ] || result="NOT CAUGHT"
		fi
		(cd "$WORK" && patch -p1 -R -s --no-backup-if-mismatch -r - <"$m") ||
			die "$name: cannot revert"
	fi
	case $result in caught*) caught=$((caught + 1)) ;; esac
	result="$result ($(( $(date +%s) - s ))s)"
	printf '  %-38s %s\n' "$name" "$result"
	row "$name" "$files" "$breaks" "$result"
done

echo
printf '%-38s %-24s %-72s %s\n' mutant file breaks result
printf '%s' "$rows"
echo "# mutation run: $(( $(date +%s) - start_all )) s"
echo "mutants: $caught of $total caught"
[ "$caught" -eq "$total" ]
