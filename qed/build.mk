# qed/: the QED core (see qed/README.md and DESIGN.md, "QED on a raw disk").
PORTABLE_SRCS += qed/qed_header.c qed/qed_table.c qed/qed_cluster.c qed/qed_read.c \
	qed/qed_write.c qed/qed_flush.c qed/qed_open.c qed/qed_check.c qed/qed_create.c qed/qed_io.c \
	qed/qed_volume_status.c
HOST_TESTS += $(HOST)/tests/qed/test_qed_basic $(HOST)/tests/qed/test_qed_header \
	$(HOST)/tests/qed/test_qed_io $(HOST)/tests/qed/test_qed_concurrency \
	$(HOST)/tests/qed/test_qed_errors $(HOST)/tests/qed/test_qed_check \
	$(HOST)/tests/qed/test_qed_random $(HOST)/tests/qed/test_qed_durability \
	$(HOST)/tests/qed/test_qed_fuzz $(HOST)/tests/qed/test_qed_link
# The QED tests look at the format's constants (qed_format.h) directly.
$(HOST)/tests/qed/%: HOST_CFLAGS += -Iqed
