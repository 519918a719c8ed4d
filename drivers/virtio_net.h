/*
 * virtio-net: a modern virtio network device as an lwIP netif (firmware only).
 *
 * Boot wiring:
 *     struct virtio_net *vn;
 *     for each PCI function d with virtio_pci_device_type(d) == VIRTIO_ID_NET:
 *         rc = virtio_net_attach(d, &vn);      // device live, rx buffers posted, poller on
 *     net_start(vn, virtio_net_netif_init);     // net/net_init.h: netif_add + addressing
 *
 * Frames go straight between lwIP's pbufs and the rings: received frames land in
 * PBUF_POOL pbufs posted to the rx queue (refilled after every completion), and
 * transmitted pbuf chains become descriptor chains behind a per-slot virtio_net_hdr,
 * referenced (pbuf_ref) until the device has used them. A loop poller drains both
 * used rings; MSI-X wakes the CPU when idle. A device without MSI-X (QEMU's -nic
 * shorthand creates one) is polled: the loop halts for at most 1 ms while traffic
 * flows, 20 ms once the link has been quiet for a second.
 */
#ifndef QEDBOX_VIRTIO_NET_H
#define QEDBOX_VIRTIO_NET_H

#include <stdint.h>

#include "lwip/err.h"
#include "lwip/netif.h"

struct pci_dev;
struct virtio_net;

/* Resets and sets up the device, posts receive buffers and registers the poller.
 * 0, or the transport's negative errno (-ENODEV, -EIO, -ENOMEM, ...). */
int virtio_net_attach(struct pci_dev *pci, struct virtio_net **out);

/* lwIP netif init callback: netif->state must be the struct virtio_net. */
err_t virtio_net_netif_init(struct netif *netif);

/* Counters for the console and tests. */
struct virtio_net_stats {
	uint64_t rx_packets, rx_dropped, tx_packets, tx_backlogged, tx_dropped;
};
void virtio_net_get_stats(const struct virtio_net *vn, struct virtio_net_stats *stats);

#endif
