# qed/: the QED core (qed/README.md; docs/DESIGN.md, "Crash safety"). Sees only
# lib/: it builds and is tested on the host.
PORTABLE_SRCS += qed/qed_header.c qed/qed_table.c qed/qed_cluster.c qed/qed_read.c \
	qed/qed_write.c qed/qed_flush.c qed/qed_open.c qed/qed_check.c qed/qed_create.c qed/qed_io.c \
	qed/qed_volume.c qed/qed_record.c
HOST_TESTS += $(HOST)/tests/qed/test_qed_basic $(HOST)/tests/qed/test_qed_header \
	$(HOST)/tests/qed/test_qed_io $(HOST)/tests/qed/test_qed_concurrency \
	$(HOST)/tests/qed/test_qed_errors $(HOST)/tests/qed/test_qed_check \
	$(HOST)/tests/qed/test_qed_random $(HOST)/tests/qed/test_qed_durability \
	$(HOST)/tests/qed/test_qed_fuzz $(HOST)/tests/qed/test_qed_link \
	$(HOST)/tests/qed/test_qed_alloc $(HOST)/tests/qed/test_qed_record \
	$(HOST)/tests/qed/test_qed_snapshot
$(FW)/qed/%: private LAYER_INCLUDES = $(QED_INCLUDES)
$(HOST)/qed/%: private LAYER_INCLUDES = $(QED_INCLUDES)
# The QED tests look at the format's constants (qed_format.h) directly, and use the
# crash-simulating disk of tests/support/ and the host file disk of qed/tool/.
$(HOST)/tests/qed/%: private TEST_INCLUDES = $(QED_INCLUDES) -Itests/support -Iqed/tool
