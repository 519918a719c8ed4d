# lib/: the runtime every layer shares: cooperative tasks, and the blkdev and volume
# interfaces that the drivers, the QED core and the SCSI layer meet through.
PORTABLE_SRCS += lib/task.c lib/task_switch.S lib/blkdev.c
HOST_TESTS += $(HOST)/tests/lib/test_task
# The raw passthrough volume (a blkdev served as it is, for comparison and benchmarks).
PORTABLE_SRCS += lib/raw_volume.c
HOST_TESTS += $(HOST)/tests/lib/test_raw_volume
# The ChaCha20 block function and the random number generator built on it.
PORTABLE_SRCS += lib/chacha20.c lib/random.c
HOST_TESTS += $(HOST)/tests/lib/test_random
