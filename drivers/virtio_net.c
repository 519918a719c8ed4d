/*
 * virtio-net driver: see virtio_net.h. One queue pair (rx 0, tx 1).
 *
 * Receive: every rx descriptor holds one PBUF_POOL pbuf of PBUF_POOL_BUFSIZE bytes
 * (header + a whole 1514-byte frame, so MRG_RXBUF is not needed). On completion the
 * header is stripped, the pbuf goes to lwIP and a fresh one is posted in its place.
 * Transmit: a packet of n pbufs takes a chain of n + 1 buffers (the slot's header,
 * then each pbuf), one descriptor with indirect tables; the packet is pbuf_ref'd until
 * the device returns it, which also keeps lwIP from retransmitting a segment the
 * device still reads. When the ring is full, packets wait in a backlog (in order) that
 * the poller drains as completions free descriptors, so lwIP never sees ERR_MEM from a
 * momentary burst.
 */
#include "virtio_net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/etharp.h"
#include "lwip/pbuf.h"
#include "lwip/timeouts.h"
#include "lwip_port.h"
#include "platform.h"
#include "virtio_pci.h"

#define QUEUE_MAX_SIZE 256
#define TX_MAX_BUFS 18        /* header + pbufs per packet; longer chains are copied */
#define TX_BACKLOG 512        /* packets waiting for descriptors */
#define RX_BATCH 64           /* frames handed to lwIP per poll, so tx gets its turn */
#define LINK_CHECK_MS 1000
#define NET_HDR_LEN ((uint32_t)sizeof(struct virtio_net_hdr))
#define MAX_FRAME_LEN 1514

struct tx_slot {
	struct virtio_net_hdr hdr; /* zero: no offload */
	struct pbuf *p;
	struct tx_slot *next_free;
};

struct virtio_net {
	struct virtio_dev vdev;
	struct virtqueue rxq, txq;
	struct netif *netif;
	struct tx_slot *slots; /* txq.size of them */
	struct tx_slot *free_slots;
	struct pbuf *backlog[TX_BACKLOG];
	unsigned backlog_head, backlog_len;
	unsigned rx_posted;
	struct virtio_net_stats stats;
};

/* ---- receive ------------------------------------------------------------------------ */

/* Posts pbufs until the rx ring is full or the pool is empty. */
static bool rx_refill(struct virtio_net *vn)
{
	bool posted = false;
	while (virtqueue_can_add(&vn->rxq, 1)) {
		struct pbuf *p = pbuf_alloc(PBUF_RAW, PBUF_POOL_BUFSIZE, PBUF_POOL);
		if (p == NULL)
			break; /* retried at the next poll, once lwIP freed some */
		struct virtq_buf buf = {p->payload, p->len, true};
		if (p->next != NULL || virtqueue_add(&vn->rxq, &buf, 1, p) != 0) {
			pbuf_free(p);
			break;
		}
		vn->rx_posted++;
		posted = true;
	}
	if (posted)
		virtqueue_kick(&vn->rxq);
	return posted;
}

static void rx_deliver(struct virtio_net *vn, struct pbuf *p, uint32_t written)
{
	if (written < NET_HDR_LEN + SIZEOF_ETH_HDR || written > p->len || vn->netif == NULL) {
		vn->stats.rx_dropped++;
		pbuf_free(p);
		return;
	}
	pbuf_realloc(p, (u16_t)written);
	pbuf_remove_header(p, NET_HDR_LEN);
	vn->stats.rx_packets++;
	if (vn->netif->input(p, vn->netif) != ERR_OK) {
		vn->stats.rx_dropped++;
		pbuf_free(p);
	}
}

static bool rx_poll(struct virtio_net *vn)
{
	unsigned n = 0;
	struct pbuf *p;
	uint32_t written;
	while (n < RX_BATCH && (p = virtqueue_get_used(&vn->rxq, &written)) != NULL) {
		vn->rx_posted--;
		rx_deliver(vn, p, written);
		n++;
	}
	bool refilled = rx_refill(vn);
	return n > 0 || refilled;
}

/* ---- transmit ----------------------------------------------------------------------- */

/* Puts p on the tx ring behind a header: 0, or -ENOSPC when descriptors or slots lack. */
static int tx_submit(struct virtio_net *vn, struct pbuf *p)
{
	struct virtq_buf bufs[TX_MAX_BUFS];
	unsigned n = 1;
	struct tx_slot *slot = vn->free_slots;
	if (slot == NULL)
		return -ENOSPC;
	bufs[0] = (struct virtq_buf){&slot->hdr, NET_HDR_LEN, false};
	for (struct pbuf *q = p; q != NULL; q = q->next)
		if (q->len > 0)
			bufs[n++] = (struct virtq_buf){q->payload, q->len, false};
	if (!virtqueue_can_add(&vn->txq, n) || virtqueue_add(&vn->txq, bufs, n, slot) != 0)
		return -ENOSPC;
	vn->free_slots = slot->next_free;
	memset(&slot->hdr, 0, sizeof slot->hdr);
	slot->p = p;
	pbuf_ref(p);
	vn->stats.tx_packets++;
	return 0;
}

/* Sends backlogged packets, oldest first, while the ring has room. */
static bool tx_drain_backlog(struct virtio_net *vn)
{
	bool sent = false;
	while (vn->backlog_len > 0) {
		struct pbuf *p = vn->backlog[vn->backlog_head];
		if (tx_submit(vn, p) != 0)
			break;
		pbuf_free(p); /* the backlog's reference; the ring holds its own */
		vn->backlog_head = (vn->backlog_head + 1) % TX_BACKLOG;
		vn->backlog_len--;
		sent = true;
	}
	if (sent)
		virtqueue_kick(&vn->txq);
	return sent;
}

static bool tx_reap(struct virtio_net *vn)
{
	bool reaped = false;
	struct tx_slot *slot;
	uint32_t written;
	while ((slot = virtqueue_get_used(&vn->txq, &written)) != NULL) {
		pbuf_free(slot->p);
		slot->p = NULL;
		slot->next_free = vn->free_slots;
		vn->free_slots = slot;
		reaped = true;
	}
	return tx_drain_backlog(vn) || reaped;
}

static err_t tx_backlog_add(struct virtio_net *vn, struct pbuf *p)
{
	if (vn->backlog_len == TX_BACKLOG) {
		vn->stats.tx_dropped++;
		return ERR_MEM;
	}
	pbuf_ref(p);
	vn->backlog[(vn->backlog_head + vn->backlog_len) % TX_BACKLOG] = p;
	vn->backlog_len++;
	vn->stats.tx_backlogged++;
	return ERR_OK;
}

/* Copies a chain too long for one descriptor chain into one pbuf. */
static err_t tx_linearised(struct virtio_net *vn, struct pbuf *p)
{
	struct pbuf *flat = pbuf_clone(PBUF_RAW, PBUF_RAM, p);
	if (flat == NULL) {
		vn->stats.tx_dropped++;
		return ERR_MEM;
	}
	err_t err = ERR_OK;
	if (vn->backlog_len > 0 || tx_submit(vn, flat) != 0)
		err = tx_backlog_add(vn, flat);
	pbuf_free(flat); /* the ring or the backlog holds its own reference */
	return err;
}

static err_t virtio_net_linkoutput(struct netif *netif, struct pbuf *p)
{
	struct virtio_net *vn = netif->state;
	err_t err = ERR_OK;
	if (pbuf_clen(p) + 1 > TX_MAX_BUFS)
		err = tx_linearised(vn, p);
	else if (vn->backlog_len > 0 || tx_submit(vn, p) != 0)
		err = tx_backlog_add(vn, p);
	virtqueue_kick(&vn->txq);
	return err;
}

/* ---- link, poller, set-up ----------------------------------------------------------- */

static void link_check(void *arg)
{
	struct virtio_net *vn = arg;
	bool up = virtio_cfg_read16(&vn->vdev, VIRTIO_NET_CFG_STATUS) & VIRTIO_NET_S_LINK_UP;
	if (up && !netif_is_link_up(vn->netif))
		netif_set_link_up(vn->netif);
	else if (!up && netif_is_link_up(vn->netif))
		netif_set_link_down(vn->netif);
	sys_timeout(LINK_CHECK_MS, link_check, vn);
}

static bool virtio_net_poll(void *ctx)
{
	struct virtio_net *vn = ctx;
	virtio_isr_ack(&vn->vdev);
	bool progress = tx_reap(vn);
	progress = rx_poll(vn) || progress;
	return progress;
}

static int setup_tx_slots(struct virtio_net *vn)
{
	vn->slots = calloc(vn->txq.size, sizeof *vn->slots);
	if (vn->slots == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < vn->txq.size; i++) {
		vn->slots[i].next_free = vn->free_slots;
		vn->free_slots = &vn->slots[i];
	}
	return 0;
}

static int setup_device(struct virtio_net *vn, struct pci_dev *pci)
{
	uint64_t wanted = 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS |
			  1ull << VIRTIO_F_RING_INDIRECT_DESC;
	int rc = virtio_pci_init(&vn->vdev, pci);
	if (rc != 0)
		return rc;
	if ((rc = virtio_negotiate(&vn->vdev, wanted)) != 0 ||
	    (rc = virtio_setup_queue(&vn->vdev, VIRTIO_NET_RX_QUEUE, &vn->rxq, QUEUE_MAX_SIZE, 0)) != 0 ||
	    (rc = virtio_setup_queue(&vn->vdev, VIRTIO_NET_TX_QUEUE, &vn->txq, QUEUE_MAX_SIZE,
				     TX_MAX_BUFS)) != 0 ||
	    (rc = setup_tx_slots(vn)) != 0) {
		virtio_fail(&vn->vdev);
		return rc;
	}
	virtio_driver_ok(&vn->vdev);
	return 0;
}

int virtio_net_attach(struct pci_dev *pci, struct virtio_net **out)
{
	struct virtio_net *vn = calloc(1, sizeof *vn);
	if (vn == NULL)
		return -ENOMEM;
	int rc = setup_device(vn, pci);
	if (rc != 0) {
		printf("virtio-net: device set-up failed (%d)\n", rc);
		free(vn);
		return rc;
	}
	rx_refill(vn);
	loop_add_poller(virtio_net_poll, vn);
	*out = vn;
	return 0;
}

err_t virtio_net_netif_init(struct netif *netif)
{
	struct virtio_net *vn = netif->state;
	vn->netif = netif;
	netif->name[0] = 'v';
	netif->name[1] = 'n';
	netif->output = etharp_output;
	netif->linkoutput = virtio_net_linkoutput;
	netif->mtu = 1500;
	netif->hwaddr_len = ETH_HWADDR_LEN;
	for (unsigned i = 0; i < ETH_HWADDR_LEN; i++)
		netif->hwaddr[i] = virtio_has_feature(&vn->vdev, VIRTIO_NET_F_MAC)
					   ? virtio_cfg_read8(&vn->vdev, VIRTIO_NET_CFG_MAC + i)
					   : (uint8_t)(lwip_port_rand() >> 8);
	if (!virtio_has_feature(&vn->vdev, VIRTIO_NET_F_MAC))
		netif->hwaddr[0] = (netif->hwaddr[0] & 0xfe) | 0x02; /* unicast, local */
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
	NETIF_SET_CHECKSUM_CTRL(netif, NETIF_CHECKSUM_ENABLE_ALL);
	if (virtio_has_feature(&vn->vdev, VIRTIO_NET_F_STATUS))
		link_check(vn);
	else
		netif_set_link_up(netif);
	printf("virtio-net: mac %02x:%02x:%02x:%02x:%02x:%02x, rx %u tx %u descriptors%s%s\n",
	       netif->hwaddr[0], netif->hwaddr[1], netif->hwaddr[2], netif->hwaddr[3],
	       netif->hwaddr[4], netif->hwaddr[5], vn->rxq.size, vn->txq.size,
	       vn->txq.indirect_max ? ", indirect" : "",
	       vn->vdev.msix_entries ? "" : ", INTx");
	return ERR_OK;
}

void virtio_net_get_stats(const struct virtio_net *vn, struct virtio_net_stats *stats)
{
	*stats = vn->stats;
}
