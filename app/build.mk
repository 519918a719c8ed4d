# app/: the appliance, on top of every layer: main() and start-up in one place, the
# configuration (parsed once into typed values), the disk table and self-test, the
# volumes (disks to QED images to iSCSI targets) and the network wiring.
FW_SRCS += app/main.c app/entropy.c app/disks.c app/blk_selftest.c app/volumes.c app/volumes_snap.c app/volumes_status.c app/network.c \
	app/profile.c app/status_collect.c app/http_service.c
# The configuration is portable: host-tested.
PORTABLE_SRCS += app/config_text.c app/config_keys.c app/config.c
# The sampling profiler and its dump, end to end.
SYSTEM_TESTS += tests/system/test_profile.sh
# The web server: status page in Chromium, /metrics through promtool, the API, access.
SYSTEM_TESTS += tests/system/test_http.sh
HOST_TESTS += $(HOST)/tests/app/test_config_text $(HOST)/tests/app/test_config
# The web server's content: the status page, /metrics, the JSON API, access and the
# throughput history are portable (host-tested on made-up snapshots); the routes and the
# collection of the snapshot are the firmware's.
PORTABLE_SRCS += app/status_rates.c app/http_html.c app/http_metrics.c app/http_json.c \
	app/http_access.c
HOST_TESTS += $(HOST)/tests/app/test_http_content

$(FW)/app/%: private LAYER_INCLUDES = $(APP_INCLUDES)
$(HOST)/app/%: private LAYER_INCLUDES = $(APP_HOST_INCLUDES)
$(HOST)/tests/app/%: private TEST_INCLUDES = $(APP_HOST_INCLUDES)
# Online snapshots and thin clones under a running session, and power cuts during a
# snapshot (the spare's writes rebuilt from QEMU's blklogwrites log by snapcut.py).
SYSTEM_TESTS += tests/system/test_snapshot.sh tests/system/test_snapshot_powercut.sh
