# drivers/: PCI, the virtio-pci transport and split virtqueues, virtio-blk.
# The virtqueue ring logic and the virtio-blk request engine are portable (tested on the host against a fake device);
# the rest talks to hardware through boot/platform.h and is firmware only.
FW_SRCS += drivers/pci.c drivers/pci_names.c drivers/virtio_pci.c drivers/virtio_blk.c \
	drivers/blk_selftest.c drivers/drivers_init.c
PORTABLE_SRCS += drivers/virtqueue.c drivers/virtio_blk_io.c
HOST_TESTS += $(HOST)/tests/drivers/test_virtqueue $(HOST)/tests/drivers/test_virtio_blk_io
SYSTEM_TESTS += tests/system/test_blk.sh
FW_SRCS += drivers/virtio_net.c drivers/virtio_net_io.c
# The disk table says whether sector 0 holds a QED header (qed_probe).
$(FW)/drivers/virtio_blk.c.o: FW_CFLAGS_EXTRA += -Iqed
# Entropy from the host (virtio-rng).
FW_SRCS += drivers/virtio_rng.c
# Files from QEMU's fw_cfg; the directory lookup is portable and tested on the host.
FW_SRCS += drivers/fw_cfg.c
PORTABLE_SRCS += drivers/fw_cfg_dir.c
HOST_TESTS += $(HOST)/tests/drivers/test_fw_cfg
