/*
 * Host test of the virtio-net ring engine (drivers/virtio_net_io.c) on real virtqueues
 * served by a fake device, with lwIP built for the host. Covers: rx buffers posted and
 * kept posted, frames delivered byte for byte without the virtio header, runts dropped;
 * tx chains as header + one descriptor per pbuf (direct and indirect), pbufs referenced
 * until used, the backlog keeping order when the ring is full and failing cleanly when
 * it is full too, chains too long for one request copied, and with VIRTIO_NET_F_CSUM the
 * partial-checksum request that lets the device complete TCP checksums. Notifications:
 * one kick per burst (at the poll, or before the halt), rx refills in batches,
 * interrupts asked for only before halting (tx only with a backlog), the counters.
 */
#include <stdlib.h>

#include "virtio_net_priv.h"
#include "check.h"
#include "lwip_host.h"

#define MAX_FRAMES 16

struct dev_buf {
	uint8_t *addr;
	uint32_t len;
	bool writable;
};

static struct virtio_net vn;
static struct netif nif;
static uint16_t rx_avail_seen, tx_avail_seen;
static uint8_t frames[MAX_FRAMES][1600];
static unsigned frame_len[MAX_FRAMES], nframes;

static unsigned notifies[2]; /* by queue: rx 0, tx 1 */

static void notify(struct virtqueue *vq)
{
	notifies[vq->index]++;
}

static err_t record_input(struct pbuf *p, struct netif *inp)
{
	(void)inp;
	if (nframes < MAX_FRAMES) {
		frame_len[nframes] = pbuf_copy_partial(p, frames[nframes], p->tot_len, 0);
		nframes++;
	}
	pbuf_free(p);
	return ERR_OK;
}

static void setup(uint16_t rx_size, uint16_t tx_size, uint16_t tx_indirect)
{
	memset(&vn, 0, sizeof vn);
	memset(&nif, 0, sizeof nif);
	rx_avail_seen = tx_avail_seen = 0;
	nframes = 0;
	notifies[0] = notifies[1] = 0;
	CHECK_EQ(0, virtqueue_init(&vn.rxq, 0, rx_size, 0));
	CHECK_EQ(0, virtqueue_init(&vn.txq, 1, tx_size, tx_indirect));
	vn.rxq.notify = vn.txq.notify = notify;
	CHECK_EQ(0, vnet_io_init(&vn));
	nif.input = record_input;
	nif.state = &vn;
	vn.netif = &nif;
}

static void teardown(void)
{
	vnet_io_destroy(&vn);
	virtqueue_destroy(&vn.rxq);
	virtqueue_destroy(&vn.txq);
}

/* The device takes the next available chain: its head, buffers in *bufs; -1: none. */
static int dev_take(struct virtqueue *vq, uint16_t *seen, struct dev_buf *bufs, unsigned *n)
{
	if (*seen == vq->avail->idx)
		return -1;
	int head = vq->avail->ring[(*seen)++ % vq->size];
	const struct virtq_desc *table = vq->desc;
	unsigned i = (unsigned)head;
	*n = 0;
	if (table[i].flags & VIRTQ_DESC_F_INDIRECT) {
		table = (const struct virtq_desc *)(uintptr_t)table[i].addr;
		i = 0;
	}
	for (;;) {
		bufs[(*n)++] = (struct dev_buf){(uint8_t *)(uintptr_t)table[i].addr, table[i].len,
						(table[i].flags & VIRTQ_DESC_F_WRITE) != 0};
		if (!(table[i].flags & VIRTQ_DESC_F_NEXT))
			return head;
		i = table[i].next;
	}
}

static void dev_complete(struct virtqueue *vq, int head, uint32_t written)
{
	vq->used->ring[vq->used->idx % vq->size] =
	    (struct virtq_used_elem){(uint32_t)head, written};
	vq->used->idx++;
}

/* Receives len bytes of pattern seed into the next rx buffer. */
static void dev_receive(unsigned len, uint8_t seed, uint32_t written_override)
{
	struct dev_buf bufs[4];
	unsigned n;
	int head = dev_take(&vn.rxq, &rx_avail_seen, bufs, &n);
	CHECK(head >= 0);
	if (head < 0)
		return;
	CHECK_EQ(1, n);
	CHECK(bufs[0].writable);
	CHECK(bufs[0].len >= VNET_HDR_LEN + 1514);
	memset(bufs[0].addr, 0, VNET_HDR_LEN);
	for (unsigned i = 0; i < len; i++)
		bufs[0].addr[VNET_HDR_LEN + i] = (uint8_t)(seed + i);
	dev_complete(&vn.rxq, head, written_override ? written_override : VNET_HDR_LEN + len);
}

static void test_rx_frames_arrive_intact_and_ring_stays_full(void)
{
	static const unsigned lens[] = {60, 1514, 100};
	setup(8, 8, 0);
	CHECK(vnet_rx_refill(&vn));
	CHECK_EQ(8, vn.rx_posted);
	for (unsigned f = 0; f < 3; f++)
		dev_receive(lens[f], (uint8_t)(f * 40), 0);
	CHECK(vnet_rx_poll(&vn));
	CHECK_EQ(3, nframes);
	for (unsigned f = 0; f < 3 && f < nframes; f++) {
		CHECK_EQ(lens[f], frame_len[f]);
		for (unsigned i = 0; i < lens[f]; i++)
			if (frames[f][i] != (uint8_t)(f * 40 + i)) {
				CHECK_EQ((uint8_t)(f * 40 + i), frames[f][i]);
				break;
			}
	}
	CHECK_EQ(8, vn.rx_posted);
	CHECK_EQ(3, vn.stats.rx_packets);
	CHECK(!vnet_rx_poll(&vn)); /* nothing new: no progress */
	teardown();
}

static void test_rx_runt_and_overlong_dropped(void)
{
	setup(8, 8, 0);
	vnet_rx_refill(&vn);
	dev_receive(10, 1, 0);	    /* shorter than an Ethernet header */
	dev_receive(60, 2, 100000); /* device claims more than the buffer holds */
	dev_receive(64, 3, 0);
	vnet_rx_poll(&vn);
	CHECK_EQ(1, nframes);
	CHECK_EQ(64, frame_len[0]);
	CHECK_EQ(2, vn.stats.rx_dropped);
	CHECK_EQ(8, vn.rx_posted);
	teardown();
}

static struct pbuf *make_packet(unsigned len, uint8_t seed)
{
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
	for (unsigned i = 0; i < len; i++)
		((uint8_t *)p->payload)[i] = (uint8_t)(seed + i);
	return p;
}

static void check_tx_chain(uint16_t indirect)
{
	static uint8_t data[1000];
	setup(8, 16, indirect);
	struct pbuf *p = make_packet(54, 7);
	struct pbuf *ref = pbuf_alloc_reference(data, sizeof data, PBUF_REF);
	pbuf_cat(p, ref);
	CHECK_EQ(ERR_OK, vnet_linkoutput(&nif, p));
	CHECK_EQ(2, p->ref); /* ours and the ring's */
	struct dev_buf bufs[20];
	unsigned n = 0;
	int head = dev_take(&vn.txq, &tx_avail_seen, bufs, &n);
	CHECK(head >= 0);
	CHECK_EQ(3, n);
	CHECK_EQ(VNET_HDR_LEN, bufs[0].len);
	static const uint8_t zero_hdr[sizeof(struct virtio_net_hdr)];
	CHECK_MEM_EQ(zero_hdr, bufs[0].addr, VNET_HDR_LEN);
	CHECK(bufs[1].addr == p->payload && bufs[1].len == 54 && !bufs[1].writable);
	CHECK(bufs[2].addr == data && bufs[2].len == sizeof data && !bufs[2].writable);
	dev_complete(&vn.txq, head, 0);
	CHECK(vnet_tx_reap(&vn));
	CHECK_EQ(1, p->ref);
	CHECK_EQ(1, vn.stats.tx_packets);
	pbuf_free(p);
	struct virtio_net_stats st;
	virtio_net_get_stats(&vn, &st);
	CHECK_EQ(1, st.tx_packets);
	CHECK_EQ(0, st.tx_copied); /* sent from lwIP's pbufs themselves */
	CHECK_EQ(1, st.txq.added);
	CHECK_EQ(1, st.txq.used);
	teardown();
}

static void test_tx_chain_direct(void)
{
	check_tx_chain(0);
}
static void test_tx_chain_indirect(void)
{
	check_tx_chain(VNET_TX_MAX_BUFS);
}

static void test_tx_backlog_keeps_order(void)
{
	struct pbuf *pkts[10];
	setup(8, 4, 0); /* two packets of two descriptors fit */
	for (unsigned i = 0; i < 10; i++) {
		pkts[i] = make_packet(60, (uint8_t)(i * 16));
		CHECK_EQ(ERR_OK, vnet_linkoutput(&nif, pkts[i]));
	}
	CHECK_EQ(8, vn.stats.tx_backlogged);
	unsigned next = 0;
	for (unsigned round = 0; round < 10 && next < 10; round++) {
		struct dev_buf bufs[4];
		unsigned n;
		int head;
		while ((head = dev_take(&vn.txq, &tx_avail_seen, bufs, &n)) >= 0) {
			CHECK_EQ(2, n);
			CHECK_EQ((uint8_t)(next * 16), bufs[1].addr[0]); /* sent in order */
			next++;
			dev_complete(&vn.txq, head, 0);
		}
		vnet_tx_reap(&vn);
	}
	CHECK_EQ(10, next);
	CHECK_EQ(0, vn.backlog_len);
	for (unsigned i = 0; i < 10; i++) {
		CHECK_EQ(1, pkts[i]->ref);
		pbuf_free(pkts[i]);
	}
	teardown();
}

/* The transmit fence: a packet counts as released once the device has used it and the
 * driver dropped its reference, whether it waited in the backlog or not; packets handed
 * after the mark do not hold it up. */
static void test_tx_fence_releases_after_device_used(void)
{
	struct pbuf *pkts[4];
	setup(8, 4, 0); /* two packets on the ring, the rest in the backlog */
	CHECK_EQ(0, virtio_net_tx_handed(&vn));
	CHECK(virtio_net_tx_released(&vn, 0));
	for (unsigned i = 0; i < 3; i++) {
		pkts[i] = make_packet(60, (uint8_t)i);
		CHECK_EQ(ERR_OK, vnet_linkoutput(&nif, pkts[i]));
	}
	uint64_t mark = virtio_net_tx_handed(&vn);
	CHECK_EQ(3, mark);
	pkts[3] = make_packet(60, 3);
	CHECK_EQ(ERR_OK, vnet_linkoutput(&nif, pkts[3])); /* after the mark */
	CHECK(!virtio_net_tx_released(&vn, mark));
	CHECK(virtio_net_tx_released(&vn, 0));
	unsigned used = 0;
	for (unsigned round = 0; round < 4 && !virtio_net_tx_released(&vn, mark); round++) {
		struct dev_buf bufs[4];
		unsigned n;
		int head = dev_take(&vn.txq, &tx_avail_seen, bufs, &n);
		CHECK(head >= 0);
		if (head < 0)
			break;
		CHECK(!virtio_net_tx_released(&vn, mark)); /* taken is not used */
		dev_complete(&vn.txq, head, 0);
		vnet_tx_reap(&vn);
		used++;
	}
	CHECK_EQ(3, used); /* released exactly when the third came back */
	CHECK(!virtio_net_tx_released(&vn, mark + 1));
	teardown();
	for (unsigned i = 0; i < 4; i++)
		pbuf_free(pkts[i]);
}

static void test_tx_full_backlog_fails_cleanly(void)
{
	enum { N = 1 + VNET_TX_BACKLOG }; /* one on the ring, the rest waiting */
	static struct pbuf *pkts[N + 1];
	setup(8, 2, 0);
	for (unsigned i = 0; i <= N; i++)
		pkts[i] = make_packet(60, (uint8_t)i);
	for (unsigned i = 0; i < N; i++)
		CHECK_EQ(ERR_OK, vnet_linkoutput(&nif, pkts[i]));
	CHECK_EQ(ERR_MEM, vnet_linkoutput(&nif, pkts[N]));
	CHECK_EQ(1, vn.stats.tx_dropped);
	CHECK_EQ(1, pkts[N]->ref); /* not kept */
	CHECK_EQ(2, pkts[N - 1]->ref);
	teardown(); /* releases the ring's and the backlog's references */
	for (unsigned i = 0; i <= N; i++) {
		CHECK_EQ(1, pkts[i]->ref);
		pbuf_free(pkts[i]);
	}
}

static void test_long_chain_is_copied(void)
{
	setup(8, 16, 0);
	struct pbuf *p = make_packet(50, 0);
	for (unsigned i = 1; i < 20; i++)
		pbuf_cat(p, make_packet(50, (uint8_t)(i * 50)));
	CHECK_EQ(ERR_OK, vnet_linkoutput(&nif, p));
	CHECK_EQ(1, p->ref); /* the ring holds a copy */
	struct dev_buf bufs[4];
	unsigned n;
	int head = dev_take(&vn.txq, &tx_avail_seen, bufs, &n);
	CHECK_EQ(2, n);
	CHECK_EQ(1000, bufs[1].len);
	for (unsigned i = 0; i < 1000 && n == 2; i++)
		if (bufs[1].addr[i] != (uint8_t)i) {
			CHECK_EQ((uint8_t)i, bufs[1].addr[i]);
			break;
		}
	dev_complete(&vn.txq, head, 0);
	vnet_tx_reap(&vn);
	pbuf_free(p);
	CHECK_EQ(1, vn.stats.tx_copied);
	teardown();
}

/* A burst of packets costs one notification, sent by the poll that follows it. */
static void test_tx_one_kick_per_burst(void)
{
	struct pbuf *pkts[5];
	setup(8, 16, 0);
	for (unsigned i = 0; i < 5; i++) {
		pkts[i] = make_packet(60, (uint8_t)i);
		CHECK_EQ(ERR_OK, vnet_linkoutput(&nif, pkts[i]));
	}
	CHECK_EQ(5, vn.txq.avail->idx); /* published at once... */
	CHECK_EQ(0, notifies[1]);	/* ...announced later */
	vnet_poll(&vn);
	CHECK_EQ(1, notifies[1]);
	vnet_poll(&vn);
	CHECK_EQ(1, notifies[1]); /* nothing new */
	/* A packet queued after the last poll is announced before the CPU halts. */
	struct pbuf *late = make_packet(60, 9);
	CHECK_EQ(ERR_OK, vnet_linkoutput(&nif, late));
	CHECK(!vnet_before_halt(&vn));
	CHECK_EQ(2, notifies[1]);
	struct virtio_net_stats st;
	virtio_net_get_stats(&vn, &st);
	CHECK_EQ(2, st.txq.kicks);
	CHECK_EQ(6, st.tx_packets);
	teardown();
	for (unsigned i = 0; i < 5; i++)
		pbuf_free(pkts[i]);
	pbuf_free(late);
}

/* Receive buffers go back in batches (a quarter of the ring), each with one kick. */
static void test_rx_refill_in_batches(void)
{
	setup(8, 8, 0);
	CHECK(vnet_rx_refill(&vn));
	CHECK_EQ(1, notifies[0]);
	dev_receive(60, 1, 0);
	vnet_poll(&vn);
	CHECK_EQ(1, nframes);
	CHECK_EQ(7, vn.rx_posted); /* one empty slot: not worth a kick yet */
	CHECK_EQ(1, notifies[0]);
	dev_receive(60, 2, 0);
	vnet_poll(&vn);
	CHECK_EQ(8, vn.rx_posted);
	CHECK_EQ(2, notifies[0]);
	teardown();
}

/* Interrupts: off while polling; before halting, rx is armed, tx only while packets wait
 * for ring room; a frame that came meanwhile keeps the loop from halting. */
static void test_interrupts_before_halt(void)
{
	setup(8, 2, 0);
	vn.rxq.event_idx = vn.txq.event_idx = true;
	vnet_rx_refill(&vn);
	vnet_poll(&vn);
	CHECK_EQ((uint16_t)(vn.rxq.last_used - 1), *vn.rxq.used_event); /* none while polling */
	CHECK(!vnet_before_halt(&vn));
	CHECK_EQ(vn.rxq.last_used, *vn.rxq.used_event); /* the next frame wakes us */
	CHECK_EQ(1, vn.rxq.stats.interrupts_armed);
	CHECK_EQ(0, vn.txq.stats.interrupts_armed); /* nothing waits for room */
	dev_receive(60, 1, 0);
	vnet_poll(&vn);
	CHECK_EQ(1, vn.rxq.stats.interrupts);
	dev_receive(60, 2, 0);
	CHECK(vnet_before_halt(&vn)); /* it came after the poll: look again, don't halt */
	vnet_poll(&vn);
	CHECK_EQ(2, nframes);
	/* A full tx ring with a backlog: its completions must wake us to send the rest. */
	struct pbuf *pkts[3];
	for (unsigned i = 0; i < 3; i++) {
		pkts[i] = make_packet(60, (uint8_t)i);
		CHECK_EQ(ERR_OK, vnet_linkoutput(&nif, pkts[i]));
	}
	CHECK_EQ(2, vn.backlog_len);
	CHECK(!vnet_before_halt(&vn));
	CHECK_EQ(1, vn.txq.stats.interrupts_armed);
	CHECK_EQ(vn.txq.last_used, *vn.txq.used_event);
	teardown();
	for (unsigned i = 0; i < 3; i++)
		pbuf_free(pkts[i]);
}

/* Ones' complement sum of big-endian 16-bit words. */
static uint32_t sum16(const uint8_t *b, unsigned len, uint32_t sum)
{
	for (unsigned i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* An Ethernet + IPv4 + (TCP or UDP) frame with a zero transport checksum. */
static unsigned make_frame(uint8_t *f, uint8_t proto, unsigned payload)
{
	unsigned l4 = (proto == 6 ? 20 : 8) + payload, total = 20 + l4;
	memset(f, 0, 14 + total);
	f[12] = 0x08;
	f[14] = 0x45;
	f[16] = (uint8_t)(total >> 8);
	f[17] = (uint8_t)total;
	f[22] = 64;
	f[23] = proto;
	memcpy(f + 26, "\x0a\x00\x02\x0f\x0a\x00\x02\x02", 8); /* 10.0.2.15 -> 10.0.2.2 */
	if (proto == 6)
		f[14 + 20 + 12] = 5 << 4; /* data offset */
	for (unsigned i = 0; i < payload; i++)
		f[14 + total - payload + i] = (uint8_t)(i * 7 + 3);
	return 14 + total;
}

/* What the device does for NEEDS_CSUM: sum from csum_start, store the complement. */
static void device_complete_checksum(uint8_t *frame, unsigned len, const struct virtio_net_hdr *h)
{
	uint16_t c = (uint16_t)~sum16(frame + h->csum_start, len - h->csum_start, 0);
	frame[h->csum_start + h->csum_offset] = (uint8_t)(c >> 8);
	frame[h->csum_start + h->csum_offset + 1] = (uint8_t)c;
}

/* A TCP segment is valid when pseudo header + segment sum to 0xffff. */
static bool tcp_checksum_valid(const uint8_t *frame, unsigned len)
{
	uint8_t pseudo[12] = {0};
	unsigned seg = len - 34;
	memcpy(pseudo, frame + 26, 8);
	pseudo[9] = 6;
	pseudo[10] = (uint8_t)(seg >> 8);
	pseudo[11] = (uint8_t)seg;
	return sum16(frame + 34, seg, sum16(pseudo, 12, 0)) == 0xffff;
}

/* Sends frame[0..len) as a header pbuf + a referenced payload; returns the device's view
 * (frame bytes gathered from the descriptors) in out, the virtio header in hdr. */
static unsigned send_and_gather(uint8_t *frame, unsigned len, unsigned split, uint8_t *out,
				struct virtio_net_hdr *hdr)
{
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)split, PBUF_RAM);
	memcpy(p->payload, frame, split);
	pbuf_cat(p, pbuf_alloc_reference(frame + split, len - split, PBUF_REF));
	CHECK_EQ(ERR_OK, vnet_linkoutput(&nif, p));
	struct dev_buf bufs[20];
	unsigned n = 0, got = 0;
	int head = dev_take(&vn.txq, &tx_avail_seen, bufs, &n);
	CHECK(head >= 0 && n >= 2);
	memcpy(hdr, bufs[0].addr, sizeof *hdr);
	for (unsigned i = 1; i < n; i++) {
		memcpy(out + got, bufs[i].addr, bufs[i].len);
		got += bufs[i].len;
	}
	dev_complete(&vn.txq, head, 0);
	vnet_tx_reap(&vn);
	pbuf_free(p);
	return got;
}

static void test_tx_checksum_offload_request(void)
{
	static uint8_t frame[1600], seen[1600];
	struct virtio_net_hdr hdr;
	setup(8, 16, 0);
	vn.vdev.features |= 1ull << VIRTIO_NET_F_CSUM;
	unsigned len = make_frame(frame, 6, 1001); /* odd length: the device pads the sum */
	unsigned got = send_and_gather(frame, len, 54, seen, &hdr);
	CHECK_EQ(len, got);
	CHECK_EQ(VIRTIO_NET_HDR_F_NEEDS_CSUM, hdr.flags);
	CHECK_EQ(34, hdr.csum_start);
	CHECK_EQ(16, hdr.csum_offset);
	CHECK(!tcp_checksum_valid(seen, got)); /* only the pseudo-header sum so far */
	device_complete_checksum(seen, got, &hdr);
	CHECK(tcp_checksum_valid(seen, got));

	len = make_frame(frame, 17, 40); /* UDP: left to lwIP, untouched */
	got = send_and_gather(frame, len, 42, seen, &hdr);
	CHECK_EQ(0, hdr.flags);
	CHECK_MEM_EQ(frame, seen, len);
	teardown();
}

static void test_no_offload_without_the_feature(void)
{
	static uint8_t frame[1600], seen[1600];
	struct virtio_net_hdr hdr;
	setup(8, 16, 0);
	unsigned len = make_frame(frame, 6, 100);
	unsigned got = send_and_gather(frame, len, 54, seen, &hdr);
	CHECK_EQ(0, hdr.flags);
	CHECK_EQ(0, hdr.csum_start);
	CHECK_MEM_EQ(frame, seen, got);
	teardown();
}

int main(void)
{
	lwip_host_init();
	RUN(test_rx_frames_arrive_intact_and_ring_stays_full);
	RUN(test_rx_runt_and_overlong_dropped);
	RUN(test_tx_chain_direct);
	RUN(test_tx_chain_indirect);
	RUN(test_tx_backlog_keeps_order);
	RUN(test_tx_full_backlog_fails_cleanly);
	RUN(test_tx_fence_releases_after_device_used);
	RUN(test_long_chain_is_copied);
	RUN(test_tx_one_kick_per_burst);
	RUN(test_rx_refill_in_batches);
	RUN(test_interrupts_before_halt);
	RUN(test_tx_checksum_offload_request);
	RUN(test_no_offload_without_the_feature);
	return check_report("test_virtio_net_io");
}
