# Shared by the system tests (sourced; POSIX sh). Boots the firmware under
# qemu-system-x86_64 with the console in a log file, every run bounded by `timeout` and
# killed on exit, and gives the tests ways to wait for console lines and exit statuses.
#
#   . "$(dirname "$0")/lib.sh"
#   qemu_start NAME SECONDS [QEMU ARGS...]  start in the background; QEMU_PID, QEMU_LOG
#   qemu_wait_line PATTERN [SECONDS]        wait until the log holds PATTERN (grep -E)
#   qemu_wait_exit [SECONDS]                wait for QEMU's end; its status in QEMU_STATUS
#   qemu_run NAME SECONDS [QEMU ARGS...]    start and wait for the end
#   free_port                               a free TCP port on 127.0.0.1
#   qemu_cpu_permille SECONDS               QEMU's CPU time over SECONDS, in 1/1000 of a core
#   expect_line PATTERN / expect_status N    record a failure (test_fail) when not so
#   io_start URL OUT / io_cmd LINE / io_end  one qemu-io session (one login) fed its
#                                           commands one at a time; output in OUT
#   test_finish                              exit 0, or 1 after failures
#
# Every QEMU gets -nic none first (without it, a run that names no network would get
# QEMU's default NIC on unrestricted user networking; a test's own -nic or -netdev
# still applies) and -device isa-debug-exit: with exit=debug on the command line the
# firmware's power-off status becomes QEMU's exit status (code << 1) | 1: 1 success,
# 3 failure, 5 fatal CPU exception. A run that times out ends with status 124.

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ELF=$ROOT/build/qedbox.elf # boot it with: -kernel "$ELF" -append "CMDLINE"
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 not installed"; exit 77; }
[ -f "$ELF" ] || { echo "$ELF not built (make firmware)"; exit 1; }
TEST_NAME=$(basename "$0" .sh)
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/qedbox-$TEST_NAME.XXXXXX")
QEMU_PID= QEMU_LOG= QEMU_STATUS= TEST_FAILURES=0

QEMU_ACCEL=$(sh "$ROOT/mk/qemu-accel.sh" "$ELF") # KVM when it boots the firmware, else TCG

test_cleanup() {
	if [ -n "$QEMU_PID" ]; then
		kill "$QEMU_PID" 2>/dev/null
		wait "$QEMU_PID" 2>/dev/null
	fi
	rm -rf "$TEST_TMP"
}
trap test_cleanup EXIT
trap 'exit 2' INT TERM HUP

test_fail() {
	echo "FAIL: $*"
	TEST_FAILURES=$((TEST_FAILURES + 1))
}

test_finish() {
	[ "$TEST_FAILURES" -eq 0 ] && exit 0
	echo "$TEST_FAILURES check(s) failed"
	exit 1
}

# A TCP port on 127.0.0.1 that nothing listens on now (for hostfwd and tgtd).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

qemu_start() {
	name=$1 secs=$2
	shift 2
	QEMU_LOG=$TEST_TMP/$name.log
	: >"$QEMU_LOG"
	# shellcheck disable=SC2086
	timeout -k 5 "$secs" qemu-system-x86_64 $QEMU_ACCEL -display none -monitor none \
		-no-reboot -serial "file:$QEMU_LOG" -nic none \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		"$@" >"$TEST_TMP/$name.qemu" 2>&1 &
	QEMU_PID=$!
}

# Polls every 0.1 s; fails early when QEMU has ended without printing the line.
qemu_wait_line() {
	pattern=$1 secs=${2:-30}
	tries=$((secs * 10))
	while [ $tries -gt 0 ]; do
		grep -Eq -- "$pattern" "$QEMU_LOG" && return 0
		kill -0 "$QEMU_PID" 2>/dev/null || { grep -Eq -- "$pattern" "$QEMU_LOG"; return; }
		sleep 0.1
		tries=$((tries - 1))
	done
	return 1
}

qemu_wait_exit() {
	secs=${1:-60}
	tries=$((secs * 10))
	while [ $tries -gt 0 ] && kill -0 "$QEMU_PID" 2>/dev/null; do
		sleep 0.1
		tries=$((tries - 1))
	done
	kill "$QEMU_PID" 2>/dev/null
	wait "$QEMU_PID"
	QEMU_STATUS=$?
	QEMU_PID=
}

# The CPU time (user + system) of the running QEMU (timeout's child); status 1 and no
# output when it cannot be read (QEMU gone), so that callers fail rather than pass.
qemu_cpu_permille() {
	qpid=$(pgrep -P "$QEMU_PID" qemu-system | head -n 1)
	[ -n "$qpid" ] || return 1
	t0=$(awk '{ print $14 + $15 }' "/proc/$qpid/stat" 2>/dev/null)
	sleep "$1"
	t1=$(awk '{ print $14 + $15 }' "/proc/$qpid/stat" 2>/dev/null)
	[ -n "$t0" ] && [ -n "$t1" ] || return 1
	echo $(((t1 - t0) * 1000 / ($1 * $(getconf CLK_TCK))))
}

qemu_run() {
	qemu_start "$@"
	qemu_wait_exit "$2"
}

# Checks on the last run's console log and status; on failure shows the log's end.
expect_line() {
	if ! grep -Eq -- "$1" "$QEMU_LOG"; then
		test_fail "$(basename "$QEMU_LOG" .log): no console line matching '$1'"
		tail -n 20 "$QEMU_LOG" | sed 's/^/    | /'
		tail -n 5 "${QEMU_LOG%.log}.qemu" 2>/dev/null | sed 's/^/    qemu: /'
	fi
}

expect_status() {
	[ "$QEMU_STATUS" = "$1" ] ||
		test_fail "$(basename "$QEMU_LOG" .log): QEMU exit status: expected $1, got $QEMU_STATUS"
}

# One qemu-io session, its commands fed through a FIFO. qemu-io reads the next command
# only once the last has returned, and lines sent together may sit in its input buffer
# until more input comes: io_cmd sends one and waits (up to 24 s) for the next prompt.
# aio_* commands return at once; their results follow in OUT.
io_start() {
	IO_OUT=$2
	mkfifo "$TEST_TMP/io.fifo"
	qemu-io -f raw "$1" <"$TEST_TMP/io.fifo" >"$IO_OUT" 2>&1 &
	IO_PID=$!
	exec 7>"$TEST_TMP/io.fifo"
}

io_prompts() { grep -o "qemu-io> " "$IO_OUT" | wc -l; }

io_cmd() {
	n=$(io_prompts) i=0
	echo "$1" >&7
	while [ "$(io_prompts)" -le "$n" ] && [ $i -lt 1200 ]; do sleep 0.02; i=$((i + 1)); done
	[ $i -lt 1200 ] || test_fail "qemu-io: no prompt 24 s after '$1'"
}

# Quits and waits (up to 60 s); the session's exit status in IO_STATUS.
io_end() {
	echo quit >&7
	exec 7>&-
	i=0
	while kill -0 "$IO_PID" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	kill "$IO_PID" 2>/dev/null
	wait "$IO_PID"
	IO_STATUS=$?
	rm -f "$TEST_TMP/io.fifo"
}
