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
# Persistent reservations (APTPL) across reboots and a killed QEMU.
SYSTEM_TESTS += tests/system/test_aptpl.sh
# Linux's open-iscsi initiator in a VM built from Debian's packages (tests/linux-vm/).
SYSTEM_TESTS += tests/system/test_linux_initiator.sh

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

# The Linux guests of the two below, built from Debian's packages into build/linux-vm/
# (tests/linux-vm/build.sh: once, then again only when its inputs change).
linux-vm:
	$(Q)sh tests/linux-vm/build.sh $(BUILD)/linux-vm

# qedbox against a Linux+tgt VM of the same shape, both up at once (tests/bench/
# bench_appliance.sh; BENCH_ROUNDS, BENCH_MIB, BENCH_MEM, BENCH_VCPUS, QEDBOX_ELF).
BENCHES += tests/bench/bench_appliance.sh
bench-appliance: all linux-vm
	$(Q)sh tests/bench/bench_appliance.sh
.PHONY: linux-vm bench-appliance

# Where the appliance's time goes: the sampling profiler's dump per workload, symbolised
# (tests/bench/profile.sh; PROFILE_WORKLOADS, PROFILE_SIZE, PROFILE_HZ, PROFILE_TOP and
# PROFILE_MEM adjust it). Not part of make bench: it measures no ratio.
profile: all
	$(Q)sh tests/bench/profile.sh
.PHONY: profile
