/*
 * virtio_pci: the modern (virtio 1.x) PCI transport. Firmware only.
 *
 * Finds the common, notify, ISR and device configuration structures through the
 * vendor-specific PCI capabilities, resets the device, negotiates features, sets up
 * split virtqueues (virtqueue.h) whose interrupts wake the CPU (irq_wakeup_vector()):
 * by MSI-X, or by INTx through the I/O APIC when the device has no MSI-X (QEMU's -nic,
 * or vectors=0). Legacy-only devices are refused (-ENODEV).
 *
 * Driver sequence (virtio 1.x §3.1.1), e.g. for a network device:
 *     struct virtio_dev vdev;
 *     for each d in pci_device(i): if (virtio_pci_device_type(d) == VIRTIO_ID_NET) ...
 *     rc = virtio_pci_init(&vdev, d);          // reset, ACKNOWLEDGE | DRIVER, MSI-X on
 *     rc = virtio_negotiate(&vdev, (1ull << VIRTIO_NET_F_MAC) | ...);
 *                                              // VERSION_1 always; FEATURES_OK checked
 *     if (virtio_has_feature(&vdev, VIRTIO_NET_F_MAC)) mac[i] = virtio_cfg_read8(&vdev, i);
 *     rc = virtio_setup_queue(&vdev, 0, &rxq, 256, 0);   // rx: no indirect tables
 *     rc = virtio_setup_queue(&vdev, 1, &txq, 256, 4);   // tx: indirect when offered
 *     virtio_driver_ok(&vdev);                 // the device is live from here
 *     ... virtqueue_add / virtqueue_kick / virtqueue_get_used (virtqueue.h) ...
 * On any failure after virtio_pci_init, call virtio_fail(&vdev) (sets FAILED).
 * Every queue's used-buffer interrupt goes to the same MSI-X entry (or INTx); no
 * handler work is needed: register a poller with loop_add_poller() that drains the used
 * rings, and a halt hook (loop_add_halt_hook) that calls virtio_isr_ack() and then arms
 * the queues' interrupts (virtqueue_enable_interrupts). VIRTIO_F_RING_EVENT_IDX, when
 * asked for and negotiated, is applied to every queue set up after.
 */
#ifndef QEDBOX_VIRTIO_PCI_H
#define QEDBOX_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "pci.h"
#include "virtio_spec.h"
#include "virtqueue.h"

struct virtio_dev {
	struct pci_dev *pci;
	uint16_t type;                 /* VIRTIO_ID_* */
	volatile uint8_t *common;      /* struct virtio_pci_common_cfg */
	volatile uint8_t *notify_base;
	uint32_t notify_len;
	uint32_t notify_off_multiplier;
	volatile uint8_t *isr;
	volatile uint8_t *device_cfg;
	uint32_t device_cfg_len;
	uint64_t device_features;      /* what the device offered */
	uint64_t features;             /* what was negotiated */
	uint16_t num_queues;
	unsigned msix_entries;         /* MSI-X table size; 0: INTx */
	uint16_t queue_vector;         /* MSI-X entry used by every queue */
};

/* VIRTIO_ID_* of a PCI function, or 0 when it is not a virtio device. */
uint16_t virtio_pci_device_type(const struct pci_dev *d);

/* Maps the capability structures, enables bus mastering and MSI-X (or else INTx,
 * msix_entries 0), resets the device (status 0, waited for) and sets ACKNOWLEDGE |
 * DRIVER. 0; -ENODEV when the function lacks the modern capabilities or has neither
 * usable MSI-X nor a routed INTx pin (it could never wake the CPU); -ETIMEDOUT when the
 * reset never completes. */
int virtio_pci_init(struct virtio_dev *vdev, struct pci_dev *pci);

/* On INTx, reads the ISR status, which acknowledges the interrupt and lowers the
 * level-triggered line (virtio 1.x §4.1.4.5); nothing on MSI-X. Call it in the halt hook
 * (or the poller) before looking at the used rings a last time: a buffer used after the
 * read raises the line again, so the loop cannot halt with it unseen, and a line seen
 * is lowered before the CPU halts (else it would wake it at once). Once per halt rather
 * than per poll: the read is an exit to the host. */
void virtio_isr_ack(const struct virtio_dev *vdev);

/* Accepts the offered subset of wanted plus VIRTIO_F_VERSION_1 and sets FEATURES_OK.
 * 0; -ENODEV when the device lacks VERSION_1; -EIO when it refuses FEATURES_OK. */
int virtio_negotiate(struct virtio_dev *vdev, uint64_t wanted);

static inline bool virtio_has_feature(const struct virtio_dev *vdev, unsigned bit)
{
	return (vdev->features >> bit) & 1;
}

/* Sets up queue `index` with min(device maximum, max_size) descriptors (rounded down to
 * a power of 2), indirect tables of indirect_max entries when
 * VIRTIO_F_RING_INDIRECT_DESC was negotiated and indirect_max > 1, its notifier and
 * its MSI-X vector, then enables it. Call between virtio_negotiate and
 * virtio_driver_ok. 0; -ENOENT (no such queue); -ENOMEM; -EIO (vector refused). */
int virtio_setup_queue(struct virtio_dev *vdev, uint16_t index, struct virtqueue *vq,
		       uint16_t max_size, uint16_t indirect_max);

void virtio_driver_ok(struct virtio_dev *vdev);
void virtio_fail(struct virtio_dev *vdev);

/* Device configuration reads at byte offset off (the device type's layout, e.g.
 * VIRTIO_BLK_CFG_*); 0 past the structure. Reads are retried until config_generation
 * is stable, so a multi-word value is never torn. */
uint8_t virtio_cfg_read8(const struct virtio_dev *vdev, uint32_t off);
uint16_t virtio_cfg_read16(const struct virtio_dev *vdev, uint32_t off);
uint32_t virtio_cfg_read32(const struct virtio_dev *vdev, uint32_t off);
uint64_t virtio_cfg_read64(const struct virtio_dev *vdev, uint32_t off);

#endif
