/*
 * virtio-net frames between lwIP's pbufs and the rings (see virtio_net_priv.h).
 *
 * Receive: every rx descriptor holds one PBUF_POOL pbuf of PBUF_POOL_BUFSIZE bytes
 * (header + a whole 1514-byte frame). On completion the header is stripped, the pbuf
 * goes to lwIP, and once a quarter of the ring is empty fresh pbufs are posted in one
 * batch, with one kick.
 * MRG_RXBUF is not taken: it lets a frame span several buffers, which pays only for
 * frames larger than one buffer, i.e. with the device coalescing segments (GUEST_TSO*),
 * which lwIP cannot take (no LRO; a segment larger than the MSS it announced). The
 * header is 12 bytes either way: VIRTIO_F_VERSION_1 makes num_buffers always present.
 * Transmit: a packet of n pbufs takes a chain of n + 1 buffers (the slot's header,
 * then each pbuf: no copy), one descriptor with indirect tables; the packet is
 * pbuf_ref'd until the device returns it. Only a chain longer than VNET_TX_MAX_BUFS is
 * flattened into one copy. When the ring is full, packets wait in a backlog (in order)
 * that the poller drains as completions free descriptors, so lwIP never sees ERR_MEM
 * from a momentary burst. The device is notified once per poll for all packets queued.
 * Packets are numbered as linkoutput takes them, for the transmit fence (virtio_net.h):
 * a pbuf may reference memory lwIP does not own (Data-In the iSCSI target lends), which
 * its owner reuses only once every packet up to then is back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/prot/ethernet.h"
#include "lwip/prot/ip.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/tcp.h"
#include "virtio_net_priv.h"

/* ---- receive ------------------------------------------------------------------------ */

_Static_assert(sizeof(struct virtio_net_hdr) == 12,
	       "with VIRTIO_F_VERSION_1 the header always has num_buffers: 12 bytes");

/* Posts pbufs until the rx ring is full or the pool is empty. */
bool vnet_rx_refill(struct virtio_net *vn)
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
	if (written < VNET_HDR_LEN + SIZEOF_ETH_HDR || written > p->len || vn->netif == NULL) {
		vn->stats.rx_dropped++;
		pbuf_free(p);
		return;
	}
	pbuf_realloc(p, (u16_t)written);
	pbuf_remove_header(p, VNET_HDR_LEN);
	vn->stats.rx_packets++;
	if (vn->netif->input(p, vn->netif) != ERR_OK) {
		vn->stats.rx_dropped++;
		pbuf_free(p);
	}
}

bool vnet_rx_poll(struct virtio_net *vn)
{
	unsigned n = 0;
	struct pbuf *p;
	uint32_t written;
	while (n < VNET_RX_BATCH && (p = virtqueue_get_used(&vn->rxq, &written)) != NULL) {
		vn->rx_posted--;
		rx_deliver(vn, p, written);
		n++;
	}
	bool refilled = false;
	if (vn->rxq.size - vn->rx_posted >= vn->rxq.size / VNET_RX_REFILL_DIVISOR)
		refilled = vnet_rx_refill(vn);
	return n > 0 || refilled;
}

/* ---- transmit ----------------------------------------------------------------------- */

/* VIRTIO_NET_F_CSUM: the device computes the TCP checksum, which lwIP left at zero
 * (its generation is off for this netif). As virtio asks (partial checksum), the field
 * gets the pseudo-header sum and the header says where the device starts summing
 * (csum_start) and where in that range the result goes (csum_offset). Anything but an
 * unfragmented TCP/IPv4 frame keeps lwIP's own checksums. Idempotent: a backlogged
 * packet may pass here twice. */
static void tx_offload_checksum(struct virtio_net_hdr *hdr, struct pbuf *p)
{
	uint8_t h[SIZEOF_ETH_HDR + IP_HLEN];
	if (pbuf_copy_partial(p, h, sizeof h, 0) != sizeof h || h[12] != 0x08 || h[13] != 0x00)
		return;
	const uint8_t *ip = h + SIZEOF_ETH_HDR;
	unsigned ihl = (ip[0] & 0x0fu) * 4, total = (unsigned)ip[2] << 8 | ip[3];
	bool fragment = ((ip[6] & 0x3fu) | ip[7]) != 0; /* more-fragments or an offset */
	if (ip[0] >> 4 != 4 || ip[9] != IP_PROTO_TCP || fragment || ihl < IP_HLEN ||
	    total < ihl + TCP_HLEN || SIZEOF_ETH_HDR + total > p->tot_len)
		return;
	uint32_t sum = IP_PROTO_TCP + (total - ihl);
	for (unsigned i = 12; i < 20; i += 2) /* source and destination addresses */
		sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	uint16_t start = (uint16_t)(SIZEOF_ETH_HDR + ihl);
	pbuf_put_at(p, start + VNET_TCP_CSUM_OFFSET, (u8_t)(sum >> 8));
	pbuf_put_at(p, start + VNET_TCP_CSUM_OFFSET + 1, (u8_t)sum);
	hdr->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	hdr->csum_start = start;
	hdr->csum_offset = VNET_TCP_CSUM_OFFSET;
}

/* Puts p on the tx ring behind a header: 0, or -ENOSPC when descriptors or slots lack.
 * The header is complete before the chain is published: the device may take it at once. */
static int tx_submit(struct virtio_net *vn, struct pbuf *p, uint64_t seq)
{
	struct virtq_buf bufs[VNET_TX_MAX_BUFS];
	unsigned n = 1;
	struct vnet_tx_slot *slot = vn->free_slots;
	if (slot == NULL)
		return -ENOSPC;
	memset(&slot->hdr, 0, sizeof slot->hdr);
	if (virtio_has_feature(&vn->vdev, VIRTIO_NET_F_CSUM))
		tx_offload_checksum(&slot->hdr, p);
	bufs[0] = (struct virtq_buf){&slot->hdr, VNET_HDR_LEN, false};
	for (struct pbuf *q = p; q != NULL; q = q->next)
		if (q->len > 0)
			bufs[n++] = (struct virtq_buf){q->payload, q->len, false};
	if (!virtqueue_can_add(&vn->txq, n) || virtqueue_add(&vn->txq, bufs, n, slot) != 0)
		return -ENOSPC;
	vn->free_slots = slot->next_free;
	slot->p = p;
	slot->seq = seq;
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
		if (tx_submit(vn, p, vn->backlog_seq[vn->backlog_head]) != 0)
			break;
		pbuf_free(p); /* the backlog's reference; the ring holds its own */
		vn->backlog_head = (vn->backlog_head + 1) % VNET_TX_BACKLOG;
		vn->backlog_len--;
		sent = true;
	}
	return sent;
}

bool vnet_tx_reap(struct virtio_net *vn)
{
	bool reaped = false;
	struct vnet_tx_slot *slot;
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

static err_t tx_backlog_add(struct virtio_net *vn, struct pbuf *p, uint64_t seq)
{
	if (vn->backlog_len == VNET_TX_BACKLOG) {
		vn->stats.tx_dropped++;
		return ERR_MEM;
	}
	pbuf_ref(p);
	unsigned tail = (vn->backlog_head + vn->backlog_len) % VNET_TX_BACKLOG;
	vn->backlog[tail] = p;
	vn->backlog_seq[tail] = seq;
	vn->backlog_len++;
	vn->stats.tx_backlogged++;
	return ERR_OK;
}

/* Copies a chain too long for one descriptor chain into one pbuf. */
static err_t tx_linearised(struct virtio_net *vn, struct pbuf *p, uint64_t seq)
{
	struct pbuf *flat = pbuf_clone(PBUF_RAW, PBUF_RAM, p);
	if (flat == NULL) {
		vn->stats.tx_dropped++;
		return ERR_MEM;
	}
	vn->stats.tx_copied++;
	err_t err = ERR_OK;
	if (vn->backlog_len > 0 || tx_submit(vn, flat, seq) != 0)
		err = tx_backlog_add(vn, flat, seq);
	pbuf_free(flat); /* the ring or the backlog holds its own reference */
	return err;
}

err_t vnet_linkoutput(struct netif *netif, struct pbuf *p)
{
	struct virtio_net *vn = netif->state;
	err_t err = ERR_OK;
	uint64_t seq = vn->tx_handed++;
	if (pbuf_clen(p) + 1 > VNET_TX_MAX_BUFS)
		err = tx_linearised(vn, p, seq);
	else if (vn->backlog_len > 0 || tx_submit(vn, p, seq) != 0)
		err = tx_backlog_add(vn, p, seq);
	return err;
}

/* ---- the poller and the halt hook ------------------------------------------------------ */

bool vnet_poll(struct virtio_net *vn)
{
	virtqueue_disable_interrupts(&vn->rxq);
	virtqueue_disable_interrupts(&vn->txq);
	bool progress = vnet_tx_reap(vn);
	progress = vnet_rx_poll(vn) || progress;
	virtqueue_kick(&vn->txq);
	return progress;
}

bool vnet_before_halt(struct virtio_net *vn)
{
	virtqueue_kick(&vn->txq); /* a packet queued after the last poll must not wait */
	bool waiting = virtqueue_enable_interrupts(&vn->rxq);
	if (vn->backlog_len > 0)
		waiting = virtqueue_enable_interrupts(&vn->txq) || waiting;
	return waiting;
}

void virtio_net_get_stats(const struct virtio_net *vn, struct virtio_net_stats *out)
{
	*out = vn->stats;
	out->rxq = vn->rxq.stats;
	out->txq = vn->txq.stats;
}

uint64_t virtio_net_tx_handed(const struct virtio_net *vn)
{
	return vn->tx_handed;
}

/* The backlog is in order, so its head is its oldest; the ring's slots may complete in
 * any order, so each is looked at, unless none is in flight (the common case: asked once
 * per command that lent data, after its completions were reaped). */
bool virtio_net_tx_released(const struct virtio_net *vn, uint64_t mark)
{
	if (vn->txq.in_flight == 0 && vn->backlog_len == 0)
		return true;
	if (vn->backlog_len > 0 && vn->backlog_seq[vn->backlog_head] < mark)
		return false;
	for (unsigned i = 0; vn->slots != NULL && i < vn->txq.size; i++)
		if (vn->slots[i].p != NULL && vn->slots[i].seq < mark)
			return false;
	return true;
}

int vnet_io_init(struct virtio_net *vn)
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

void vnet_io_destroy(struct virtio_net *vn)
{
	for (unsigned i = 0; i < vn->rxq.size; i++)
		if (vn->rxq.cookies[i] != NULL)
			pbuf_free(vn->rxq.cookies[i]);
	for (unsigned i = 0; vn->slots != NULL && i < vn->txq.size; i++)
		if (vn->slots[i].p != NULL)
			pbuf_free(vn->slots[i].p);
	while (vn->backlog_len > 0) {
		pbuf_free(vn->backlog[vn->backlog_head]);
		vn->backlog_head = (vn->backlog_head + 1) % VNET_TX_BACKLOG;
		vn->backlog_len--;
	}
	free(vn->slots);
	vn->slots = NULL;
	vn->free_slots = NULL;
}
