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
 * used rings; its interrupt wakes the CPU when idle: MSI-X, or INTx for a device
 * without MSI-X (QEMU's -nic shorthand creates one).
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

#endif
