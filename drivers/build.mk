# drivers/: PCI, the virtio-pci transport and split virtqueues, virtio-blk, virtio-net.
# They see the platform (boot/platform.h), lib/'s blkdev, and lwIP's own headers for the
# netif that virtio-net feeds; never an image format or a protocol of ours.
# The virtqueue ring logic and the virtio-blk request engine are portable (tested on the
# host against a fake device); the rest talks to hardware and is firmware only.
FW_SRCS += drivers/pci.c drivers/pci_names.c drivers/virtio_pci.c drivers/virtio_blk.c \
	drivers/virtio_net.c drivers/virtio_net_io.c
PORTABLE_SRCS += drivers/virtqueue.c drivers/virtio_blk_io.c
HOST_TESTS += $(HOST)/tests/drivers/test_virtqueue $(HOST)/tests/drivers/test_virtio_blk_io
SYSTEM_TESTS += tests/system/test_blk.sh
# Entropy from the host (virtio-rng), and files from QEMU's fw_cfg (the directory lookup
# is portable and tested on the host).
FW_SRCS += drivers/virtio_rng.c drivers/fw_cfg.c
PORTABLE_SRCS += drivers/fw_cfg_dir.c
HOST_TESTS += $(HOST)/tests/drivers/test_fw_cfg

$(FW)/drivers/%: private LAYER_INCLUDES = $(DRIVERS_INCLUDES)
$(HOST)/drivers/%: private LAYER_INCLUDES = -Idrivers $(BOOT_INCLUDES)
$(HOST)/tests/drivers/%: private TEST_INCLUDES = -Idrivers $(BOOT_INCLUDES)
