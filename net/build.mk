# net/: the iSCSI target and the SCSI commands it runs (portable protocol code: sees only
# lib/, built and tested on the host), and the firmware's network: the lwIP port
# (net/lwip_port/), the bring-up of the netif, the iSCSI and echo listeners on lwIP.
# Those firmware parts also see the platform and lwIP.
$(FW)/net/%: private LAYER_INCLUDES = $(NET_INCLUDES)
$(HOST)/net/%: private LAYER_INCLUDES = $(NET_INCLUDES)
NET_FW_OBJS := $(patsubst %,$(FW)/%.o,net/net_init.c net/tcp_echo.c net/text_service.c \
	net/http_server.c net/iscsi_lwip.c)
$(NET_FW_OBJS) $(FW)/net/lwip_port/%: private LAYER_INCLUDES = $(NET_FW_INCLUDES)
$(HOST)/net/lwip_port/%: private LAYER_INCLUDES = -Inet/lwip_port/config
$(HOST)/tests/net/%: private TEST_INCLUDES = $(NET_INCLUDES) -Inet/lwip_port/config
# The test support files of net/ are built into libqedbox.a with the tests' view.
$(HOST)/tests/unit/net/%: private LAYER_INCLUDES = $(NET_INCLUDES) -Itests

# ---- the iSCSI target (RFC 7143), with CRC32C for digests and MD5 for CHAP ---------------
PORTABLE_SRCS += $(filter-out net/iscsi_lwip.c,$(sort $(wildcard net/iscsi_*.c))) net/crc32c.c net/md5.c
HOST_SRCS += tests/unit/net/iscsi_test_support.c
HOST_TESTS += $(HOST)/tests/net/test_crc32c $(HOST)/tests/net/test_md5 \
	$(HOST)/tests/net/test_iscsi_rx $(HOST)/tests/net/test_iscsi_param \
	$(HOST)/tests/net/test_iscsi_login $(HOST)/tests/net/test_iscsi_cmd \
	$(HOST)/tests/net/test_iscsi_session $(HOST)/tests/net/test_iscsi_fuzz \
	$(HOST)/tests/net/test_iscsi_bounds
# SCSI data received straight into command buffers: lifetimes under aborts, bounds.
HOST_TESTS += $(HOST)/tests/net/test_iscsi_rxpath
# Admission: login deadline and PDU cap, connection slots and eviction.
HOST_TESTS += $(HOST)/tests/net/test_iscsi_conn
# Sessions listed for a status page, login and session counters, session-end events.
HOST_TESTS += $(HOST)/tests/net/test_iscsi_info
# The lwIP binding (firmware) tested on the host over lwIP's loopback.
ISCSI_LWIP_TEST_SRCS := tests/unit/net/lwip_host.c net/iscsi_lwip.c
$(HOST)/tests/net/test_iscsi_lwip: tests/unit/net/test_iscsi_lwip.c $(ISCSI_LWIP_TEST_SRCS) \
		$(HOST)/liblwip.a $(HOST)/libqedbox.a
	$(call quiet,HOSTLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -DQEDBOX_LWIP_HOST $(LWIP_INCLUDES) -Itests $(NET_INCLUDES) \
		$(BOOT_INCLUDES) -o $@ $< $(ISCSI_LWIP_TEST_SRCS) $(HOST)/liblwip.a $(HOST)/libqedbox.a
HOST_TESTS += $(HOST)/tests/net/test_iscsi_lwip
# ---- end of the iSCSI block --------------------------------------------------------------

# SCSI command emulation (portable: built for the firmware and the host).
PORTABLE_SRCS += net/scsi.c net/scsi_opcodes.c net/scsi_sense.c net/scsi_inquiry.c net/scsi_unit.c \
	net/scsi_rw.c net/scsi_mode.c net/scsi_unmap.c net/scsi_caw.c net/scsi_lba_status.c \
	net/scsi_reserve.c net/scsi_pr.c net/scsi_stats.c
HOST_SRCS += tests/unit/net/scsi_test_support.c
HOST_TESTS += $(HOST)/tests/net/test_scsi_inquiry $(HOST)/tests/net/test_scsi_rw \
	$(HOST)/tests/net/test_scsi_unit $(HOST)/tests/net/test_scsi_mode \
	$(HOST)/tests/net/test_scsi_unmap $(HOST)/tests/net/test_scsi_dispatch \
	$(HOST)/tests/net/test_scsi_fuzz $(HOST)/tests/net/test_scsi_pr \
	$(HOST)/tests/net/test_scsi_lba_status $(HOST)/tests/net/test_scsi_stats

# The web server's request parser (portable; net/http_server.c binds it to lwIP).
PORTABLE_SRCS += net/http_parse.c
HOST_TESTS += $(HOST)/tests/net/test_http_parse

include net/lwip.mk
FW_SRCS += net/iscsi_lwip.c
SYSTEM_TESTS += tests/system/test_iscsi.sh tests/system/test_iscsi_cu.sh tests/system/test_hostile.sh
