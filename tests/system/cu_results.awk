# Reads iscsi-test-cu's verbose output; prints one line per test: FAMILY.TEST RESULT,
# where RESULT is pass, skip (the test skipped itself: the feature is absent) or fail.
# A test's own output runs from "Test: NAME ..." to its "passed" or "FAILED"; what a
# suite's set-up prints after that (e.g. "[SKIPPED] PERSISTENT RESERVE IN is not
# implemented" on the same line) belongs to no test. A test repeated in another family
# (ALL, SCSI, ...) is counted once.
function finish(result) {
	if (open && !seen[suite "." name]++)
		print suite "." name, result
	open = 0
}
function scan(text,    end) {
	if (!open)
		return
	end = match(text, /passed|FAILED/)
	part = end ? substr(text, 1, end - 1) : text
	if (part ~ /\[FAILED\]/) failed = 1
	if (part ~ /\[SKIPPED\]/) skipped = 1
	if (end)
		finish(substr(text, end, 6) == "FAILED" || failed ? "fail" : (skipped ? "skip" : "pass"))
}
/^Suite: / { finish("fail"); suite = $2; next }
/^  Test: / {
	finish("fail")
	name = $2; open = 1; failed = 0; skipped = 0
	sub(/^  Test: [^ ]* \.\.\./, "")
}
{ scan($0) }
