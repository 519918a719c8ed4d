# lib/: the runtime every layer shares, at the bottom of the graph: cooperative tasks, the
# blkdev and volume interfaces that the drivers, the QED core and the SCSI layer meet
# through, and small helpers (size syntax). Sees only itself.
PORTABLE_SRCS += lib/task.c lib/task_switch.S lib/blkdev.c lib/parse_size.c
HOST_TESTS += $(HOST)/tests/lib/test_task $(HOST)/tests/lib/test_parse_size
# The raw passthrough volume (a blkdev served as it is, for comparison and benchmarks).
PORTABLE_SRCS += lib/raw_volume.c
HOST_TESTS += $(HOST)/tests/lib/test_raw_volume
# A served volume stops at its first device error on a write (the gate under its image).
PORTABLE_SRCS += lib/volume_guard.c
HOST_TESTS += $(HOST)/tests/lib/test_volume_guard
# The ChaCha20 block function and the random number generator built on it.
PORTABLE_SRCS += lib/chacha20.c lib/random.c
HOST_TESTS += $(HOST)/tests/lib/test_random
# The event log: console events, their rate limit and the ring of the latest.
PORTABLE_SRCS += lib/event_log.c
HOST_TESTS += $(HOST)/tests/lib/test_event_log

$(FW)/lib/%: private LAYER_INCLUDES = $(LIB_INCLUDES)
$(HOST)/lib/%: private LAYER_INCLUDES = $(LIB_INCLUDES)
$(HOST)/tests/lib/%: private TEST_INCLUDES = $(LIB_INCLUDES) -Itests/support
# The capped text buffer the web server's pages are written into.
PORTABLE_SRCS += lib/strbuf.c
HOST_TESTS += $(HOST)/tests/lib/test_strbuf
# The switchable volume a snapshot swaps the image below a served volume with.
PORTABLE_SRCS += lib/volume_gate.c
HOST_TESTS += $(HOST)/tests/lib/test_volume_gate
