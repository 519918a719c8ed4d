/*
 * Modern virtio-pci transport (virtio 1.x §4.1); see virtio_pci.h for use.
 *
 * All register accesses go through the mmio helpers below with the width the spec
 * gives the field; 64-bit registers are written as two 32-bit halves, low first,
 * which every device must accept (§4.1.3.1).
 */
#include "virtio_pci.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#include "platform.h"

#define RESET_TIMEOUT_NS 1000000000ull

#define COMMON_OFF(field) offsetof(struct virtio_pci_common_cfg, field)

static uint8_t rd8(volatile uint8_t *base, size_t off) { return *(volatile uint8_t *)(base + off); }
static uint16_t rd16(volatile uint8_t *base, size_t off) { return *(volatile uint16_t *)(base + off); }
static uint32_t rd32(volatile uint8_t *base, size_t off) { return *(volatile uint32_t *)(base + off); }
static void wr8(volatile uint8_t *base, size_t off, uint8_t v) { *(volatile uint8_t *)(base + off) = v; }
static void wr16(volatile uint8_t *base, size_t off, uint16_t v) { *(volatile uint16_t *)(base + off) = v; }
static void wr32(volatile uint8_t *base, size_t off, uint32_t v) { *(volatile uint32_t *)(base + off) = v; }

static void wr64(volatile uint8_t *base, size_t off, uint64_t v)
{
	wr32(base, off, (uint32_t)v);
	wr32(base, off + 4, (uint32_t)(v >> 32));
}

uint16_t virtio_pci_device_type(const struct pci_dev *d)
{
	if (d->vendor_id != VIRTIO_PCI_VENDOR_ID)
		return 0;
	if (d->device_id >= VIRTIO_PCI_MODERN_DEVICE_BASE && d->device_id <= 0x107f)
		return d->device_id - VIRTIO_PCI_MODERN_DEVICE_BASE;
	if (d->device_id >= VIRTIO_PCI_TRANSITIONAL_FIRST &&
	    d->device_id <= VIRTIO_PCI_TRANSITIONAL_LAST)
		return pci_cfg_read16(d, 0x2e); /* subsystem device ID = virtio type */
	return 0;
}

/* Maps the structure a virtio capability at cap describes; NULL if unusable. */
static volatile uint8_t *map_cap(const struct pci_dev *d, uint8_t cap, uint32_t min_len,
				 uint32_t *len_out)
{
	uint8_t bar = pci_cfg_read8(d, cap + VIRTIO_PCI_CAP_BAR_OFF);
	uint32_t off = pci_cfg_read32(d, cap + VIRTIO_PCI_CAP_OFFSET_OFF);
	uint32_t len = pci_cfg_read32(d, cap + VIRTIO_PCI_CAP_LENGTH_OFF);
	if (bar >= PCI_MAX_BARS || len < min_len)
		return NULL;
	if (len_out)
		*len_out = len;
	return pci_map_bar(d, bar, off, len);
}

/* Takes, for each structure type, the first capability that maps (§4.1.4.1). */
static void find_structures(struct virtio_dev *vdev)
{
	const struct pci_dev *d = vdev->pci;
	for (uint8_t cap = pci_find_capability(d, PCI_CAP_ID_VNDR, 0); cap;
	     cap = pci_find_capability(d, PCI_CAP_ID_VNDR, cap)) {
		switch (pci_cfg_read8(d, cap + VIRTIO_PCI_CAP_CFG_TYPE_OFF)) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			if (!vdev->common)
				vdev->common = map_cap(d, cap, sizeof(struct virtio_pci_common_cfg), NULL);
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			if (!vdev->notify_base) {
				vdev->notify_base = map_cap(d, cap, 2, &vdev->notify_len);
				vdev->notify_off_multiplier =
					pci_cfg_read32(d, cap + VIRTIO_PCI_NOTIFY_CAP_MULT_OFF);
			}
			break;
		case VIRTIO_PCI_CAP_ISR_CFG:
			if (!vdev->isr)
				vdev->isr = map_cap(d, cap, 1, NULL);
			break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			if (!vdev->device_cfg)
				vdev->device_cfg = map_cap(d, cap, 1, &vdev->device_cfg_len);
			break;
		default:
			break;
		}
	}
}

static void set_status(struct virtio_dev *vdev, uint8_t bits)
{
	uint8_t s = rd8(vdev->common, COMMON_OFF(device_status));
	wr8(vdev->common, COMMON_OFF(device_status), s | bits);
}

/* Writes 0 and waits for the device to read back 0: it may still be finishing what a
 * boot loader left in flight (§4.1.4.3.2). */
static int reset_device(struct virtio_dev *vdev)
{
	wr8(vdev->common, COMMON_OFF(device_status), 0);
	uint64_t deadline = clock_ns() + RESET_TIMEOUT_NS;
	while (rd8(vdev->common, COMMON_OFF(device_status)) != 0) {
		if (clock_ns() > deadline)
			return -ETIMEDOUT;
		__builtin_ia32_pause();
	}
	return 0;
}

int virtio_pci_init(struct virtio_dev *vdev, struct pci_dev *pci)
{
	*vdev = (struct virtio_dev){ .pci = pci, .type = virtio_pci_device_type(pci) };
	/* Bus mastering only after the reset: until then the device may still be working
	 * on rings a boot loader left in memory that is ours now. */
	pci_enable(pci, PCI_COMMAND_MEMORY);
	find_structures(vdev);
	if (!vdev->common || !vdev->notify_base || !vdev->isr)
		return -ENODEV;
	int rc = reset_device(vdev);
	if (rc)
		return rc;
	pci_enable(pci, PCI_COMMAND_MASTER);
	/* QEMU's -nic gives virtio-net no MSI-X: then INTx, msix_entries 0. */
	if (pci_msix_enable(pci, &vdev->msix_entries) != 0) {
		vdev->msix_entries = 0;
		rc = pci_intx_enable(pci);
		if (rc)
			return rc;
	}
	/* Entry 0 for configuration changes, entry 1 (when there is one) for the queues. */
	vdev->queue_vector = vdev->msix_entries == 0 ? VIRTIO_MSI_NO_VECTOR
			     : vdev->msix_entries > 1 ? 1 : 0;
	set_status(vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	set_status(vdev, VIRTIO_CONFIG_S_DRIVER);
	if (vdev->msix_entries > 0)
		wr16(vdev->common, COMMON_OFF(msix_config), 0);
	vdev->num_queues = rd16(vdev->common, COMMON_OFF(num_queues));
	return 0;
}

int virtio_negotiate(struct virtio_dev *vdev, uint64_t wanted)
{
	volatile uint8_t *c = vdev->common;
	wr32(c, COMMON_OFF(device_feature_select), 0);
	uint64_t offered = rd32(c, COMMON_OFF(device_feature));
	wr32(c, COMMON_OFF(device_feature_select), 1);
	offered |= (uint64_t)rd32(c, COMMON_OFF(device_feature)) << 32;
	vdev->device_features = offered;
	if (!((offered >> VIRTIO_F_VERSION_1) & 1))
		return -ENODEV;
	vdev->features = offered & (wanted | 1ull << VIRTIO_F_VERSION_1);
	wr32(c, COMMON_OFF(driver_feature_select), 0);
	wr32(c, COMMON_OFF(driver_feature), (uint32_t)vdev->features);
	wr32(c, COMMON_OFF(driver_feature_select), 1);
	wr32(c, COMMON_OFF(driver_feature), (uint32_t)(vdev->features >> 32));
	set_status(vdev, VIRTIO_CONFIG_S_FEATURES_OK);
	if (!(rd8(c, COMMON_OFF(device_status)) & VIRTIO_CONFIG_S_FEATURES_OK))
		return -EIO;
	return 0;
}

static void notify_queue(struct virtqueue *vq)
{
	*(volatile uint16_t *)vq->notify_ctx = vq->index;
}

static uint16_t pow2_floor(uint16_t v)
{
	uint16_t p = 1;
	while (p <= v / 2)
		p *= 2;
	return p;
}

int virtio_setup_queue(struct virtio_dev *vdev, uint16_t index, struct virtqueue *vq,
		       uint16_t max_size, uint16_t indirect_max)
{
	volatile uint8_t *c = vdev->common;
	if (index >= vdev->num_queues)
		return -ENOENT;
	wr16(c, COMMON_OFF(queue_select), index);
	uint16_t size = rd16(c, COMMON_OFF(queue_size));
	if (size == 0)
		return -ENOENT;
	if (max_size && size > max_size)
		size = max_size;
	size = pow2_floor(size);
	wr16(c, COMMON_OFF(queue_size), size);
	if (!virtio_has_feature(vdev, VIRTIO_F_RING_INDIRECT_DESC))
		indirect_max = 0;
	int rc = virtqueue_init(vq, index, size, indirect_max);
	if (rc)
		return rc;
	vq->event_idx = virtio_has_feature(vdev, VIRTIO_F_RING_EVENT_IDX);
	uint64_t notify_off = (uint64_t)rd16(c, COMMON_OFF(queue_notify_off)) *
			      vdev->notify_off_multiplier;
	if (notify_off + 2 > vdev->notify_len) {
		virtqueue_destroy(vq);
		return -EIO;
	}
	vq->notify = notify_queue;
	vq->notify_ctx = (void *)(uintptr_t)(vdev->notify_base + notify_off);
	wr64(c, COMMON_OFF(queue_desc), virtqueue_desc_addr(vq));
	wr64(c, COMMON_OFF(queue_driver), virtqueue_avail_addr(vq));
	wr64(c, COMMON_OFF(queue_device), virtqueue_used_addr(vq));
	wr16(c, COMMON_OFF(queue_msix_vector), vdev->queue_vector);
	if (vdev->msix_entries > 0 &&
	    rd16(c, COMMON_OFF(queue_msix_vector)) != vdev->queue_vector) {
		virtqueue_destroy(vq);
		return -EIO; /* without a vector the CPU would never wake for this queue */
	}
	wr16(c, COMMON_OFF(queue_enable), 1);
	return 0;
}

void virtio_isr_ack(const struct virtio_dev *vdev)
{
	if (vdev->msix_entries == 0)
		(void)rd8(vdev->isr, 0);
}

void virtio_driver_ok(struct virtio_dev *vdev)
{
	set_status(vdev, VIRTIO_CONFIG_S_DRIVER_OK);
}

void virtio_fail(struct virtio_dev *vdev)
{
	if (vdev->common)
		set_status(vdev, VIRTIO_CONFIG_S_FAILED);
}

/* Reads size bytes at off until config_generation is the same before and after. */
static uint64_t cfg_read(const struct virtio_dev *vdev, uint32_t off, unsigned size)
{
	if (!vdev->device_cfg || off + size > vdev->device_cfg_len)
		return 0;
	uint64_t v;
	uint8_t gen;
	do {
		gen = rd8(vdev->common, COMMON_OFF(config_generation));
		switch (size) {
		case 1: v = rd8(vdev->device_cfg, off); break;
		case 2: v = rd16(vdev->device_cfg, off); break;
		case 4: v = rd32(vdev->device_cfg, off); break;
		default:
			v = rd32(vdev->device_cfg, off) |
			    (uint64_t)rd32(vdev->device_cfg, off + 4) << 32;
			break;
		}
	} while (gen != rd8(vdev->common, COMMON_OFF(config_generation)));
	return v;
}

uint8_t virtio_cfg_read8(const struct virtio_dev *vdev, uint32_t off) { return cfg_read(vdev, off, 1); }
uint16_t virtio_cfg_read16(const struct virtio_dev *vdev, uint32_t off) { return cfg_read(vdev, off, 2); }
uint32_t virtio_cfg_read32(const struct virtio_dev *vdev, uint32_t off) { return cfg_read(vdev, off, 4); }
uint64_t virtio_cfg_read64(const struct virtio_dev *vdev, uint32_t off) { return cfg_read(vdev, off, 8); }
