# tests/: shared test support. Unit tests live in tests/unit/<dir>/ and are listed by the
# build.mk of the directory they test; system tests in tests/system/.

# The crash-simulating memory disk, and the guest model of what a crash may leave.
HOST_SRCS += tests/support/memdisk.c tests/support/memdisk_replay.c \
	tests/support/guest_model.c
HOST_TESTS += $(HOST)/tests/support/test_memdisk
$(HOST)/tests/support/%: private LAYER_INCLUDES = $(QED_INCLUDES)
$(HOST)/tests/support/%: private TEST_INCLUDES = $(QED_INCLUDES) -Itests/support

# Crash enumeration of the QED core (tests/unit/qed/test_crash.c).
HOST_TESTS += $(HOST)/tests/qed/test_crash $(HOST)/tests/qed/test_qed_faults

# qedtool and its host file disk live in qed/tool/ (kept out of qed/build.mk, which the
# QED core owns).
include qed/tool/build.mk

# qemu-img/qemu-io interoperability of images, both ways, through qedtool.
SYSTEM_TESTS += tests/system/test_qed_interop.sh tests/system/test_qedtool_cli.sh
# Power cuts of the whole VM, rebuilt from QEMU's blklogwrites log.
SYSTEM_TESTS += tests/system/test_powercut.sh

# The QED benchmark: qedbox's core against qemu-img bench and raw, side by side.
BENCHES += tests/bench/bench_qed.sh
$(HOST)/bench_qed: tests/bench/bench_qed.c $(HOST)/libqedbox.a
	$(call quiet,HOSTLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(QED_INCLUDES) -Iqed/tool -o $@ $< $(HOST)/libqedbox.a $(HOST_LDLIBS) -pthread
HOST_TOOLS += $(HOST)/bench_qed

bench-qed: all
	$(Q)sh tests/bench/bench_qed.sh

.PHONY: bench-qed

# The iSCSI benchmark: the appliance against Debian's tgt, side by side.
BENCHES += tests/bench/bench_iscsi.sh
bench-iscsi: all
	$(Q)sh tests/bench/bench_iscsi.sh
.PHONY: bench-iscsi
