# Reads iscsi-test-cu's verbose output; prints one line per test: SUITE.TEST RESULT, where
# RESULT is pass, skip (the test skipped itself: the feature is absent) or fail.
function flush() {
	if (name == "") return
	res = failed ? "fail" : (skipped ? "skip" : "pass")
	print suite "." name, res
	name = ""
}
/^Suite: / { flush(); suite = $2; next }
/^  Test: / {
	flush()
	name = $2; failed = 0; skipped = 0
}
/\[SKIPPED\]/ { skipped = 1 }
/\[FAILED\]|FAILED$/ { failed = 1 }
END { flush() }
