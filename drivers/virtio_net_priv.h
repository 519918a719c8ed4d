/*
 * Internals of the virtio-net driver, shared by virtio_net.c (device set-up, poller,
 * netif) and virtio_net_io.c (frames between lwIP's pbufs and the rings, tested on the
 * host against a fake device). Not for other users.
 *
 * Ownership: an rx pbuf belongs to the ring from posting until its completion, then to
 * lwIP. A tx packet is referenced (pbuf_ref) by the ring or by the backlog until the
 * device has used it; lwIP keeps its own reference and never changes a segment whose
 * pbuf is still referenced elsewhere (tcp_output_segment_busy).
 */
#ifndef QEDBOX_VIRTIO_NET_PRIV_H
#define QEDBOX_VIRTIO_NET_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "virtio_net.h"
#include "virtio_pci.h"

#define VNET_TX_MAX_BUFS     18	 /* header + pbufs per packet; longer chains are copied */
#define VNET_TX_BACKLOG	     512 /* packets waiting for descriptors */
#define VNET_RX_BATCH	     64	 /* frames handed to lwIP per poll, so tx gets its turn */
/* Empty rx slots that make a refill worth it: with EVENT_IDX a device that has taken
 * any buffer since the last refill wants a kick for the next, so refilling a slot or two
 * per poll would cost an exit each time. A quarter of the ring keeps three quarters
 * posted (192 full frames with 256 slots): far more than one poll delivers. */
#define VNET_RX_REFILL_DIVISOR 4
#define VNET_HDR_LEN	     ((uint32_t)sizeof(struct virtio_net_hdr))
#define VNET_TCP_CSUM_OFFSET 16 /* checksum field within the TCP header */

struct vnet_tx_slot {
	struct virtio_net_hdr hdr; /* zero, or the checksum request (VIRTIO_NET_F_CSUM) */
	struct pbuf *p;
	uint64_t seq;		   /* p's number among the packets handed to the driver */
	struct vnet_tx_slot *next_free;
};

struct virtio_net {
	struct virtio_dev vdev;
	struct virtqueue rxq, txq;
	struct netif *netif;	    /* NULL until virtio_net_netif_init */
	struct vnet_tx_slot *slots; /* txq.size of them */
	struct vnet_tx_slot *free_slots;
	struct pbuf *backlog[VNET_TX_BACKLOG];
	uint64_t backlog_seq[VNET_TX_BACKLOG];
	unsigned backlog_head, backlog_len;
	uint64_t tx_handed;	    /* packets linkoutput took: the next one's number */
	unsigned rx_posted;
	struct virtio_net_stats stats; /* the driver's own counters; the queues keep theirs */
};

/* virtio_net_io.c */
int vnet_io_init(struct virtio_net *vn);     /* after the queues exist: tx slots */
void vnet_io_destroy(struct virtio_net *vn); /* frees slots, backlog and posted pbufs */
bool vnet_rx_refill(struct virtio_net *vn);  /* posts pool pbufs until the ring is full */
bool vnet_rx_poll(struct virtio_net *vn);    /* delivers completed frames, refills */
bool vnet_tx_reap(struct virtio_net *vn);    /* releases sent packets, drains the backlog */
/* Queues p for the device; the notification waits for the end of the poll (vnet_poll)
 * or the halt (vnet_before_halt), so a burst of segments costs one. */
err_t vnet_linkoutput(struct netif *netif, struct pbuf *p);
/* The poller's work: interrupts off, sent packets reaped, frames delivered, then one
 * kick for everything queued since the last. True when anything progressed. */
bool vnet_poll(struct virtio_net *vn);
/* The halt hook's work: kicks what is still unannounced, asks for the rx interrupt (and
 * the tx one while packets wait for room); true when a buffer came back meanwhile.
 * No tx interrupt otherwise: sent packets are reaped at the next wake, whatever its
 * cause, and waking for them alone would cost a halt per burst. */
bool vnet_before_halt(struct virtio_net *vn);

#endif
