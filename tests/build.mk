# tests/: shared test support. Unit tests live in tests/unit/<dir>/ and are listed by the
# build.mk of the directory they test; system tests in tests/system/.

# The crash-simulating memory disk.
HOST_SRCS += tests/support/memdisk.c tests/support/memdisk_replay.c
HOST_TESTS += $(HOST)/tests/support/test_memdisk

# qedtool and its host file disk live in qed/tool/ (kept out of qed/build.mk, which the
# QED core owns).
#include qed/tool/build.mk
