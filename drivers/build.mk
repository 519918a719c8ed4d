# drivers/: PCI, the virtio-pci transport and split virtqueues, virtio-blk.
# The virtqueue ring logic is portable (tested on the host against a fake device);
# the rest talks to hardware through boot/platform.h and is firmware only.
FW_SRCS += drivers/pci.c drivers/pci_names.c drivers/virtio_pci.c
PORTABLE_SRCS += drivers/virtqueue.c
FW_CFLAGS_EXTRA += -Iboot
HOST_TESTS += $(HOST)/tests/drivers/test_virtqueue
FW_SRCS += drivers/virtio_net.c
