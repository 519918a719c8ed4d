# tests/: shared test support. Unit tests live in tests/unit/<dir>/ and are listed by the
# build.mk of the directory they test; system tests in tests/system/.

# The iSCSI benchmark: the appliance against Debian's tgt, side by side.
BENCHES += tests/bench/bench_iscsi.sh
bench-iscsi: all
	$(Q)sh tests/bench/bench_iscsi.sh
.PHONY: bench-iscsi
