# net/: see DESIGN.md

# ---- iSCSI target (RFC 7143) and CRC32C: owned by the iscsi branch ---------------------
PORTABLE_SRCS += $(sort $(wildcard net/iscsi_*.c)) net/crc32c.c net/md5.c
HOST_CFLAGS += -Inet
FW_CFLAGS += -Inet
HOST_TESTS += $(HOST)/tests/net/test_crc32c $(HOST)/tests/net/test_md5
# ---- end of the iSCSI block --------------------------------------------------------------
