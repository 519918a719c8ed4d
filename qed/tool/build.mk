# qed/tool/: the host tool (qedtool) and the host file blkdev it and the benchmarks use.
HOST_SRCS += qed/tool/file_blkdev.c
# The file blkdev carries requests out on worker threads: its users link with -pthread.
$(HOST)/qed/tool/file_blkdev.c.o: HOST_CFLAGS_EXTRA += -pthread
HOST_TESTS += $(HOST)/tests/qed/test_file_blkdev
$(HOST)/tests/qed/test_file_blkdev: HOST_LDLIBS += -pthread
HOST_TOOLS += $(HOST)/qedtool

QEDTOOL_SRCS := qed/tool/qedtool.c qed/tool/qedtool_cmds.c qed/tool/qedtool_image.c qed/tool/qedtool_io.c
$(HOST)/qedtool: $(QEDTOOL_SRCS) $(HOST)/libqedbox.a
	$(call quiet,HOSTLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(QED_INCLUDES) -Iqed/tool -o $@ $(QEDTOOL_SRCS) $(HOST)/libqedbox.a $(HOST_LDLIBS) -pthread
