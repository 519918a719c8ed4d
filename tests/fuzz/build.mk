# tests/fuzz/: coverage-guided fuzzing with libFuzzer (clang). Each target is one file,
# tests/fuzz/fuzz_<name>.c, linked with the portable sources it exercises, each compiled
# again with clang -fsanitize=fuzzer,address,undefined into build/fuzz/obj/ with its own
# layer's include paths (the *_INCLUDES of the top Makefile).
#
#   make fuzz                     every target for FUZZ_SECONDS (60) each, then per target
#                                 its executions, coverage and crashes (tests/fuzz/run-fuzz.sh)
#   make fuzz FUZZ_TARGETS=qed_image FUZZ_SECONDS=600
#   make test, make unit-test     each target briefly, as one test each: its seeds and
#                                 regression inputs, then FUZZ_TEST_RUNS executions (5 s at most)
#
# Seeds: tests/fuzz/corpus/<target>/ (made by tests/fuzz/make-seeds.py). An input that
# crashed a target, once fixed, goes to tests/fuzz/regressions/<target>/. Inputs the
# fuzzer finds go to build/fuzz/work/<target>/, never into the tree.
FUZZ := $(BUILD)/fuzz
FUZZ_CC := clang
FUZZ_SAN := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# The project's warnings; clang's missing-field-initializers also flags positional
# initializers that leave the last fields to zero, which the code does on purpose.
FUZZ_CFLAGS := -std=c11 -g -O1 $(WARN) -Wno-missing-field-initializers -MMD -MP -D_GNU_SOURCE \
	$(FUZZ_SAN)
FUZZ_SECONDS ?= 60
FUZZ_TEST_RUNS ?= 10000

# What each target links (object paths under $(FUZZ)/obj/ mirror the sources).
FUZZ_LIB_SRCS := lib/task.c lib/task_switch.S lib/blkdev.c lib/event_log.c
FUZZ_SCSI_SRCS := $(filter net/scsi%,$(PORTABLE_SRCS)) tests/unit/net/scsi_test_support.c
FUZZ_ISCSI_SRCS := $(filter net/iscsi_% net/crc32c.c net/md5.c,$(PORTABLE_SRCS)) \
	tests/unit/net/iscsi_test_support.c
FUZZ_SRCS_iscsi_login := $(FUZZ_ISCSI_SRCS) $(FUZZ_SCSI_SRCS) $(FUZZ_LIB_SRCS)
FUZZ_SRCS_iscsi_text := net/iscsi_param.c
FUZZ_SRCS_iscsi_chap := net/iscsi_chap.c net/iscsi_param.c net/md5.c
FUZZ_SRCS_scsi_cdb := $(FUZZ_SCSI_SRCS) $(FUZZ_LIB_SRCS)
FUZZ_SRCS_qed_image := $(filter qed/%,$(PORTABLE_SRCS)) $(FUZZ_LIB_SRCS)
FUZZ_SRCS_pr_record := $(FUZZ_SCSI_SRCS) $(FUZZ_LIB_SRCS)
FUZZ_SRCS_http_request := net/http_parse.c

FUZZ_TARGETS ?= iscsi_login iscsi_text iscsi_chap scsi_cdb qed_image pr_record http_request
FUZZ_ALL := iscsi_login iscsi_text iscsi_chap scsi_cdb qed_image pr_record http_request
FUZZ_BINS := $(patsubst %,$(FUZZ)/fuzz_%,$(FUZZ_ALL))
# make test runs each target through a generated one-line script (run-tests.sh takes
# scripts and binaries, without arguments).
FUZZ_TESTS := $(patsubst %,$(FUZZ)/fuzz_%.sh,$(FUZZ_ALL))

# Per-layer include paths, as for the host objects; the targets see their layer and the
# test support of it.
$(FUZZ)/obj/lib/%: private FUZZ_INCLUDES = $(LIB_INCLUDES)
$(FUZZ)/obj/net/%: private FUZZ_INCLUDES = $(NET_INCLUDES)
$(FUZZ)/obj/qed/%: private FUZZ_INCLUDES = $(QED_INCLUDES)
$(FUZZ)/obj/tests/unit/net/%: private FUZZ_INCLUDES = $(NET_INCLUDES) -Itests
$(FUZZ)/fuzz_iscsi_% $(FUZZ)/fuzz_scsi_% $(FUZZ)/fuzz_pr_%: private FUZZ_INCLUDES = $(NET_INCLUDES) -Itests/unit/net
$(FUZZ)/fuzz_qed_%: private FUZZ_INCLUDES = $(QED_INCLUDES) -Itests/unit/qed
$(FUZZ)/fuzz_http_%: private FUZZ_INCLUDES = $(NET_INCLUDES)

$(FUZZ)/obj/%.c.o: %.c | $(PACKAGES_STAMP)
	$(call quiet,FUZZCC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_INCLUDES) -c $< -o $@

$(FUZZ)/obj/%.S.o: %.S | $(PACKAGES_STAMP)
	$(call quiet,FUZZAS,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_INCLUDES) -c $< -o $@

# A target: its own file, then the objects of its sources (listed per target above).
$(foreach t,$(FUZZ_ALL),$(eval $(FUZZ)/fuzz_$(t): $(patsubst %,$(FUZZ)/obj/%.o,$(FUZZ_SRCS_$(t)))))
$(FUZZ)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h | $(PACKAGES_STAMP)
	$(call quiet,FUZZLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -Itests/fuzz $(FUZZ_INCLUDES) -o $@ $< $(filter %.o,$^)

$(FUZZ)/fuzz_%.sh: $(FUZZ)/fuzz_% tests/fuzz/build.mk
	$(Q)printf 'exec sh tests/fuzz/run-fuzz.sh test %s %s\n' '$*' '$(FUZZ_TEST_RUNS)' > $@

fuzz-build: $(FUZZ_BINS)

fuzz: $(patsubst %,$(FUZZ)/fuzz_%,$(FUZZ_TARGETS))
	$(Q)sh tests/fuzz/run-fuzz.sh fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

.PHONY: fuzz fuzz-build
