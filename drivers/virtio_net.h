/*
 * virtio-net: a modern virtio network device as an lwIP netif (firmware only).
 *
 * Boot wiring:
 *     struct virtio_net *vn;
 *     for each PCI function d with virtio_pci_device_type(d) == VIRTIO_ID_NET:
 *         rc = virtio_net_attach(d, &vn);      // device live, rx buffers posted, poller on
 *     then lwIP's netif_add(..., vn, virtio_net_netif_init, ...) (app/network.c does it
 *     through net/net_init.h)
 *
 * Frames go straight between lwIP's pbufs and the rings: received frames land in
 * PBUF_POOL pbufs posted to the rx queue (refilled after every completion), and
 * transmitted pbuf chains become descriptor chains behind a per-slot virtio_net_hdr,
 * referenced (pbuf_ref) until the device has used them. A loop poller drains both
 * used rings; the device interrupts only when the loop is about to halt (event
 * suppression, VIRTIO_F_RING_EVENT_IDX when offered), and the interrupt only wakes the
 * CPU: MSI-X, or INTx for a device without MSI-X (QEMU's -nic shorthand creates one).
 */
#ifndef QEDBOX_VIRTIO_NET_H
#define QEDBOX_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "lwip/err.h"
#include "lwip/netif.h"
#include "virtqueue.h"

struct pci_dev;
struct virtio_net;

/* What a device did since it was attached (virtio_net_get_stats). */
struct virtio_net_stats {
	uint64_t rx_packets, rx_dropped;
	uint64_t tx_packets;    /* sent as descriptor chains over lwIP's own pbufs */
	uint64_t tx_copied;     /* of those, chains too long for one request, flattened */
	uint64_t tx_backlogged; /* waited for ring room */
	uint64_t tx_dropped;
	/* Per queue: kicks, kicks suppressed, interrupts, used buffers (virtqueue.h). */
	struct virtqueue_stats rxq, txq;
};

/* Resets and sets up the device, posts receive buffers and registers the poller.
 * 0, or the transport's negative errno (-ENODEV, -EIO, -ENOMEM, ...). */
int virtio_net_attach(struct pci_dev *pci, struct virtio_net **out);

/* lwIP netif init callback: netif->state must be the struct virtio_net. */
err_t virtio_net_netif_init(struct netif *netif);

/* The counters of vn (the appliance's is netif_default->state) into *out. */
void virtio_net_get_stats(const struct virtio_net *vn, struct virtio_net_stats *out);

/* The transmit fence. The driver holds each packet's pbufs until the device has read
 * them, after lwIP let go: memory lent to lwIP by reference (PBUF_ROM/REF) may be
 * reused only once the packets that carried it are back. Packets are numbered as
 * linkoutput takes them; virtio_net_tx_handed() is the next number, and
 * virtio_net_tx_released(vn, mark) whether every packet numbered below mark is back. */
uint64_t virtio_net_tx_handed(const struct virtio_net *vn);
bool virtio_net_tx_released(const struct virtio_net *vn, uint64_t mark);

#endif
