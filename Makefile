# qedbox: every build and test entry point.
#
#   make            build/qedbox.elf (the firmware) and build/host/qedtool
#   make run        boot the appliance under QEMU with a scratch volume in build/
#   make test       host unit tests, then system tests under qemu-system
#   make unit-test  the host unit tests alone
#                   (both also run every host test again built with ASan and UBSan, and
#                   each libFuzzer target briefly on its seeds and regression inputs)
#   make fuzz       coverage-guided fuzzing, FUZZ_SECONDS per target (tests/fuzz/build.mk)
#   make mutants    mutation testing: every bug of tests/mutants/ caught by the tests
#   make bench      benchmarks, printed as ratios against a baseline run side by side
#   make bench-appliance  qedbox against a Linux+tgt VM of the same shape (in make bench)
#   make profile    where the appliance's time goes per workload (sampling profiler)
#   make iso        build/qedbox.iso, bootable with -cdrom through GRUB
#
# Each directory adds its sources and tests in its own build.mk. Third-party code
# (newlib, lwIP) is taken from Debian's packages at build time into build/deps/.
# V=1 shows full commands.

BUILD := build
DEPS := $(BUILD)/deps
HOST := $(BUILD)/host
FW := $(BUILD)/fw

V ?= 0
Q := $(if $(filter 1,$(V)),,@)
quiet = $(if $(filter 1,$(V)),,@printf '  %-7s %s\n' '$(1)' '$(2)';)

# Debian packages the build and the tests need; installed when missing (as root).
# Build: gcc ... newlib-source. Tests: qemu-system-x86 (qemu-system-x86_64), qemu-utils
# (qemu-img, qemu-io), qemu-block-extra (QEMU's iscsi driver), grub-pc-bin grub-common
# xorriso mtools (the ISO boot), libiscsi-bin (iscsi-ls, iscsi-inq, iscsi-test-cu), tgt
# (the reference target), python3 (the tests' helpers), procps (pgrep in lib.sh), clang
# libclang-rt-dev (libFuzzer and its runtime, tests/fuzz/), e2fsprogs (e2fsck of a volume
# Linux formatted) and apt (`apt-get download` of the Linux guests' packages,
# tests/linux-vm/build.sh, which takes busybox from its .deb: the host needs no busybox
# or cpio), curl, chromium (renders the status page headless) and prometheus (promtool
# checks /metrics): tests/system/test_http.sh.
PACKAGES := gcc make binutils xz-utils dpkg-dev newlib-source qemu-system-x86 qemu-utils \
	qemu-block-extra grub-pc-bin grub-common xorriso mtools libiscsi-bin tgt python3 procps \
	clang libclang-rt-dev e2fsprogs apt curl chromium prometheus
PACKAGES_STAMP := $(BUILD)/.packages

WARN := -Wall -Wextra -Werror -Wshadow -Wcast-qual
COMMON_CFLAGS := -std=c11 -g -O2 $(WARN) -MMD -MP

# Host objects: the portable code (lib/, qed/, the protocol parts of net/) and host tools.
# HOST_SAN=1 (set only by the sanitized sub-make below) adds the sanitizers to every
# host compile and link, lwIP's host library included.
HOST_SAN ?= 0
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
HOST_SAN_FLAGS := $(if $(filter 1,$(HOST_SAN)),$(SAN_FLAGS))
HOST_CC := gcc
HOST_CFLAGS := $(COMMON_CFLAGS) -D_GNU_SOURCE $(HOST_SAN_FLAGS)
HOST_LDLIBS :=

# Firmware objects: freestanding, linked with newlib.
NEWLIB := $(DEPS)/newlib/x86_64-elf
LWIP := $(DEPS)/lwip
FW_CC := gcc
FW_CFLAGS := $(COMMON_CFLAGS) -ffreestanding -fno-pic -fno-pie -mno-red-zone \
	-fno-stack-protector -fno-omit-frame-pointer -nostdinc \
	-isystem $(NEWLIB)/include -isystem $(shell $(FW_CC) -print-file-name=include) \
	-DQEDBOX_FIRMWARE
FW_LDFLAGS := -nostdlib -static -no-pie -z max-page-size=0x1000 -T linker.ld

# ---- the layers ---------------------------------------------------------------------------
# Dependencies point one way (docs/DESIGN.md, "Layers"):
#
#     app  ->  qed, net  ->  drivers  ->  boot (the platform)  ->  lib
#
# qed/ and the protocol code of net/ see only lib/ (they build on the host); the lwIP
# port and the firmware bindings of net/ also see the platform; drivers/ see the
# platform and lwIP's own headers (struct netif is where virtio-net meets the stack).
# Each folder is compiled with only its own layer's include paths, so including a header
# of a layer above is a build error; `make check-layers` proves it.
LWIP_INCLUDES = -Inet/lwip_port/config -I$(LWIP)/src/include
LIB_INCLUDES := -Ilib
BOOT_INCLUDES := -Iboot $(LIB_INCLUDES)
DRIVERS_INCLUDES = -Idrivers $(BOOT_INCLUDES) $(LWIP_INCLUDES)
QED_INCLUDES := -Iqed $(LIB_INCLUDES)
NET_INCLUDES := -Inet $(LIB_INCLUDES)
NET_FW_INCLUDES = -Inet -Inet/lwip_port $(BOOT_INCLUDES) $(LWIP_INCLUDES)
APP_INCLUDES = -Iapp -Iqed -Inet -Inet/lwip_port $(DRIVERS_INCLUDES)
# On the host the appliance's portable files (configuration) see the same folders but
# no lwIP (its port is firmware-only).
APP_HOST_INCLUDES := -Iapp -Iqed -Inet -Idrivers $(BOOT_INCLUDES)

# Filled in by the build.mk files.
FW_SRCS :=        # firmware-only sources (boot/, drivers/, firmware glue of net/)
PORTABLE_SRCS :=  # sources built both for the firmware and the host
HOST_SRCS :=      # host-only support code (file and memory disks, fakes), in libqedbox.a
HOST_TESTS :=     # host test executables, run by make test
SYSTEM_TESTS :=   # scripts run by make test after the host tests (under qemu-system)
BENCHES :=        # scripts run by make bench
HOST_TOOLS :=     # host programs built by make

all: firmware host-tools

include lib/build.mk
include boot/build.mk
include drivers/build.mk
include qed/build.mk
include net/build.mk
include app/build.mk
include tests/build.mk
include tests/fuzz/build.mk

# ---- third-party dependencies -------------------------------------------------------
$(PACKAGES_STAMP): Makefile
	$(Q)mkdir -p $(@D)
	$(Q)sh mk/packages.sh $(PACKAGES)
	$(Q)touch $@

$(NEWLIB)/lib/libc.a: | $(PACKAGES_STAMP)
	$(call quiet,NEWLIB,$(DEPS)/newlib (a few minutes, once))
	$(Q)sh mk/build-newlib.sh $(DEPS)/newlib

$(LWIP)/src/Filelists.mk: | $(PACKAGES_STAMP)
	$(call quiet,FETCH,lwip)
	$(Q)sh mk/fetch-lwip.sh $(LWIP)

deps: $(PACKAGES_STAMP) $(NEWLIB)/lib/libc.a $(LWIP)/src/Filelists.mk

# The Ceph tier (qedbox on RBD images of a throw-away cluster, and takeover: tests/ceph/,
# tests/system/test_ceph_takeover.sh) needs Debian's Ceph: ceph-mon, ceph-osd and
# ceph-common (ceph, rbd, rados), uuid-runtime (uuidgen), with qemu-block-extra's rbd
# driver. Installed only by the targets that run the tier (about 47 s, once).
CEPH_PACKAGES := ceph-mon ceph-osd ceph-common uuid-runtime
CEPH_PACKAGES_STAMP := $(BUILD)/.packages-ceph
CEPH_TESTS := tests/system/test_ceph_takeover.sh
$(CEPH_PACKAGES_STAMP): Makefile | $(PACKAGES_STAMP)
	$(Q)sh mk/packages.sh $(CEPH_PACKAGES)
	$(Q)touch $@

# ---- objects --------------------------------------------------------------------------
# Every object waits for the dependencies so that headers from build/deps exist.
FW_OBJS := $(patsubst %,$(FW)/%.o,$(FW_SRCS) $(PORTABLE_SRCS))
HOST_LIB_OBJS := $(patsubst %,$(HOST)/%.o,$(PORTABLE_SRCS) $(HOST_SRCS))

$(FW)/%.c.o: %.c | deps
	$(call quiet,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(FW_CC) $(FW_CFLAGS) $(LAYER_INCLUDES) $(FW_CFLAGS_EXTRA) -c $< -o $@

$(FW)/%.S.o: %.S | deps
	$(call quiet,AS,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(FW_CC) $(FW_CFLAGS) $(LAYER_INCLUDES) -c $< -o $@

$(HOST)/%.c.o: %.c | deps
	$(call quiet,HOSTCC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(LAYER_INCLUDES) $(HOST_CFLAGS_EXTRA) -c $< -o $@

$(HOST)/%.S.o: %.S | deps
	$(call quiet,HOSTAS,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(LAYER_INCLUDES) -c $< -o $@

$(HOST)/libqedbox.a: $(HOST_LIB_OBJS)
	$(call quiet,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

host-tools: $(HOST_TOOLS)

# A host unit test is one C file, tests/unit/<dir>/<name>.c, linked with libqedbox.a; it
# sees the headers of the layer it tests (TEST_INCLUDES, set per <dir> in build.mk).
$(HOST)/tests/%: tests/unit/%.c $(HOST)/libqedbox.a
	$(call quiet,HOSTLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -Itests $(TEST_INCLUDES) -o $@ $< $(HOST)/libqedbox.a $(HOST_LDLIBS)

# ---- the sanitized host tests ---------------------------------------------------------
# Every host test is also built with AddressSanitizer (LeakSanitizer included) and
# UndefinedBehaviorSanitizer into a second tree, build/host-san/, and run by make test and
# make unit-test after the plain ones. The mechanism is this same Makefile run again over
# the other output directory: every host rule, and every per-folder variable of the
# build.mk files, is written against $(HOST), so `$(MAKE) HOST=build/host-san HOST_SAN=1`
# builds the same sources and tests there with HOST_SAN_FLAGS added, no rule duplicated.
# The sub-make starts after deps so that the two makes never fetch or build them at once.
SAN := $(BUILD)/host-san
SAN_TESTS := $(patsubst $(HOST)/%,$(SAN)/%,$(HOST_TESTS))
# A UBSan report shows its stack, an ASan report no shadow legend; LeakSanitizer is on
# (the default on x86_64, said here): a test that leaks fails.
SAN_ENV := UBSAN_OPTIONS=print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1:print_legend=0

san-tests: deps
	$(Q)$(MAKE) --no-print-directory HOST=$(SAN) HOST_SAN=1 host-tests

host-tests: $(HOST_TESTS)

# ---- entry points -------------------------------------------------------------------
test: all $(HOST_TESTS) san-tests check-layers $(FUZZ_TESTS) $(CEPH_PACKAGES_STAMP)
	$(Q)$(SAN_ENV) sh tests/run-tests.sh $(HOST_TESTS) $(SAN_TESTS) $(FUZZ_TESTS) $(SYSTEM_TESTS) \
		$(CEPH_TESTS)

# The Ceph tier alone (about a minute, the cluster's bring-up included).
test-ceph: all $(CEPH_PACKAGES_STAMP)
	$(Q)sh tests/run-tests.sh $(CEPH_TESTS)

# The host unit tests alone (under a minute, no VM).
unit-test: all $(HOST_TESTS) san-tests check-layers $(FUZZ_TESTS)
	$(Q)$(SAN_ENV) sh tests/run-tests.sh $(HOST_TESTS) $(SAN_TESTS) $(FUZZ_TESTS)

# Each layer's include paths admit its own headers and refuse those of the layers above.
check-layers: deps
	$(Q)FW_CC="$(FW_CC)" FW_CFLAGS="$(FW_CFLAGS)" HOST_CC="$(HOST_CC)" \
		HOST_CFLAGS="$(HOST_CFLAGS)" LIB="$(LIB_INCLUDES)" BOOT="$(BOOT_INCLUDES)" \
		DRIVERS="$(DRIVERS_INCLUDES)" QED="$(QED_INCLUDES)" NET="$(NET_INCLUDES)" \
		NET_FW="$(NET_FW_INCLUDES)" APP="$(APP_INCLUDES)" sh mk/check-layers.sh

# Mutation testing (tests/mutants/run.sh): each committed bug in tests/mutants/ must make
# one of the tests it names fail. Not part of make test (about 3 minutes).
mutants: all $(HOST_TESTS)
	$(Q)sh tests/mutants/run.sh

bench: all
	$(Q)for b in $(BENCHES); do sh $$b || exit 1; done

clean:
	rm -rf $(FW) $(HOST) $(SAN) $(FUZZ) $(BUILD)/*.elf $(BUILD)/*.iso

distclean:
	rm -rf $(BUILD)

.PHONY: all firmware deps host-tools test bench clean distclean run iso check-layers unit-test \
	san-tests host-tests mutants test-ceph
.DELETE_ON_ERROR:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
