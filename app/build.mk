# app/: the appliance, on top of every layer: main() and start-up in one place, the
# configuration (parsed once into typed values), the disk table and self-test, the
# volumes (disks to QED images to iSCSI targets) and the network wiring.
FW_SRCS += app/main.c app/entropy.c app/disks.c app/blk_selftest.c app/volumes.c app/volumes_snap.c app/volumes_status.c app/network.c \
	app/profile.c
# The configuration is portable: host-tested.
PORTABLE_SRCS += app/config_text.c app/config_keys.c app/config.c
# The sampling profiler and its dump, end to end.
SYSTEM_TESTS += tests/system/test_profile.sh
HOST_TESTS += $(HOST)/tests/app/test_config_text $(HOST)/tests/app/test_config

$(FW)/app/%: private LAYER_INCLUDES = $(APP_INCLUDES)
$(HOST)/app/%: private LAYER_INCLUDES = $(APP_HOST_INCLUDES)
$(HOST)/tests/app/%: private TEST_INCLUDES = $(APP_HOST_INCLUDES)
# Online snapshots and thin clones under a running session, and power cuts during a
# snapshot (the spare's writes rebuilt from QEMU's blklogwrites log by snapcut.py).
SYSTEM_TESTS += tests/system/test_snapshot.sh tests/system/test_snapshot_powercut.sh
