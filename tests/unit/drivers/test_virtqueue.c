/*
 * Host test of the split virtqueue (drivers/virtqueue.c) against a fake device that
 * reads the rings the way a virtio device does: avail ring, descriptor chains (direct
 * and indirect), used ring. Covers layout, the free list under random completion
 * orders and index wrap-around, indirect tables, kicks, and malformed input; the
 * event-index arithmetic across the wrap, kicks suppressed by avail_event, interrupts
 * off while polling and on before halting (EVENT_IDX and flags), and the counters.
 */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "virtqueue.h"

/* ---- the fake device ------------------------------------------------------------------ */
struct seen_buf {
	uint64_t addr;
	uint32_t len;
	bool writes;
};

struct fake_dev {
	struct virtqueue *vq;
	uint16_t last_avail;
	uint16_t used_idx;
	unsigned notifies;
};

static void fake_notify(struct virtqueue *vq)
{
	((struct fake_dev *)vq->notify_ctx)->notifies++;
}

static void fake_attach(struct fake_dev *dev, struct virtqueue *vq)
{
	*dev = (struct fake_dev){ .vq = vq };
	vq->notify = fake_notify;
	vq->notify_ctx = dev;
}

/* Walks a chain from desc[] starting at i; returns the buffer count. */
static unsigned walk(const struct virtq_desc *table, unsigned table_len, uint16_t i,
		     struct seen_buf *out, unsigned max)
{
	unsigned n = 0;
	for (;;) {
		CHECK(i < table_len);
		if (i >= table_len || n == max)
			return n;
		out[n++] = (struct seen_buf){ table[i].addr, table[i].len,
					      (table[i].flags & VIRTQ_DESC_F_WRITE) != 0 };
		if (!(table[i].flags & VIRTQ_DESC_F_NEXT))
			return n;
		i = table[i].next;
	}
}

/* Takes the next available chain; returns its head, or -1 when none is available. */
static int dev_pop(struct fake_dev *dev, struct seen_buf *out, unsigned max, unsigned *n)
{
	struct virtqueue *vq = dev->vq;
	if (dev->last_avail == vq->avail->idx)
		return -1;
	uint16_t head = vq->avail->ring[dev->last_avail++ % vq->size];
	const struct virtq_desc *d = &vq->desc[head];
	if (d->flags & VIRTQ_DESC_F_INDIRECT) {
		CHECK(!(d->flags & VIRTQ_DESC_F_NEXT));
		CHECK_EQ(0, d->len % sizeof(struct virtq_desc));
		*n = walk((const struct virtq_desc *)(uintptr_t)d->addr,
			  d->len / sizeof(struct virtq_desc), 0, out, max);
	} else {
		*n = walk(vq->desc, vq->size, head, out, max);
	}
	return head;
}

static void dev_push(struct fake_dev *dev, uint32_t id, uint32_t len)
{
	struct virtqueue *vq = dev->vq;
	vq->used->ring[dev->used_idx % vq->size] = (struct virtq_used_elem){ id, len };
	vq->used->idx = ++dev->used_idx;
}

/* ---- cases ------------------------------------------------------------------------- */
static void test_layout(void)
{
	struct virtqueue vq;
	CHECK_EQ(-EINVAL, virtqueue_init(&vq, 0, 6, 0));
	CHECK_EQ(-EINVAL, virtqueue_init(&vq, 0, 0, 0));
	CHECK_EQ(0, virtqueue_init(&vq, 3, 256, 0));
	CHECK_EQ(3, vq.index);
	CHECK_EQ(256, vq.num_free);
	CHECK_EQ(0, virtqueue_desc_addr(&vq) % 4096);
	CHECK_EQ(virtqueue_desc_addr(&vq) + 256 * 16, virtqueue_avail_addr(&vq));
	CHECK_EQ(0, virtqueue_used_addr(&vq) % 4);
	CHECK(virtqueue_used_addr(&vq) >= virtqueue_avail_addr(&vq) + 4 + 2 * 256 + 2);
	CHECK_EQ(virtqueue_used_addr(&vq) + 4 + 8 * 256 + 2,
		 virtqueue_desc_addr(&vq) + virtqueue_ring_bytes(256));
	virtqueue_destroy(&vq);
}

static void test_direct_chain(void)
{
	struct virtqueue vq;
	struct fake_dev dev;
	CHECK_EQ(0, virtqueue_init(&vq, 0, 8, 0));
	fake_attach(&dev, &vq);
	char hdr[16], data[512], status;
	struct virtq_buf bufs[] = { { hdr, 16, false }, { data, 512, true }, { &status, 1, true } };
	int cookie;
	CHECK_EQ(0, virtqueue_add(&vq, bufs, 3, &cookie));
	CHECK_EQ(5, vq.num_free);
	CHECK_EQ(1, vq.avail->idx);
	struct seen_buf seen[8];
	unsigned n = 0;
	int head = dev_pop(&dev, seen, 8, &n);
	CHECK(head >= 0);
	CHECK_EQ(3, n);
	CHECK_EQ((uintptr_t)hdr, seen[0].addr);
	CHECK_EQ(16, seen[0].len);
	CHECK(!seen[0].writes);
	CHECK_EQ((uintptr_t)data, seen[1].addr);
	CHECK(seen[1].writes && seen[2].writes);
	CHECK_EQ(1, seen[2].len);
	CHECK(!virtqueue_has_used(&vq));
	CHECK(virtqueue_get_used(&vq, NULL) == NULL);
	dev_push(&dev, head, 513);
	uint32_t written = 0;
	CHECK(virtqueue_get_used(&vq, &written) == &cookie);
	CHECK_EQ(513, written);
	CHECK_EQ(8, vq.num_free);
	CHECK_EQ(0, vq.in_flight);
	virtqueue_destroy(&vq);
}

static void test_full_ring(void)
{
	struct virtqueue vq;
	CHECK_EQ(0, virtqueue_init(&vq, 0, 8, 0));
	char b[3];
	struct virtq_buf bufs[] = { { b, 1, false }, { b + 1, 1, true }, { b + 2, 1, true } };
	int c1, c2, c3;
	CHECK_EQ(0, virtqueue_add(&vq, bufs, 3, &c1));
	CHECK_EQ(0, virtqueue_add(&vq, bufs, 3, &c2));
	CHECK(!virtqueue_can_add(&vq, 3));
	CHECK(virtqueue_can_add(&vq, 2));
	CHECK_EQ(-ENOSPC, virtqueue_add(&vq, bufs, 3, &c3));
	CHECK_EQ(2, vq.avail->idx); /* the refused chain published nothing */
	CHECK_EQ(2, vq.num_free);
	virtqueue_destroy(&vq);
}

static void test_indirect(void)
{
	struct virtqueue vq;
	struct fake_dev dev;
	CHECK_EQ(0, virtqueue_init(&vq, 0, 8, 4));
	fake_attach(&dev, &vq);
	char b[8];
	struct virtq_buf bufs[5] = { { b, 1, false }, { b + 1, 2, false }, { b + 3, 3, true },
				     { b + 6, 1, true }, { b + 7, 1, true } };
	int cookies[8];
	for (int i = 0; i < 8; i++)
		CHECK_EQ(0, virtqueue_add(&vq, bufs, 3, &cookies[i]));
	CHECK_EQ(0, vq.num_free); /* one descriptor per chain: depth = queue size */
	struct seen_buf seen[8];
	unsigned n;
	for (int i = 0; i < 8; i++) {
		int head = dev_pop(&dev, seen, 8, &n);
		CHECK_EQ(3, n);
		CHECK_EQ((uintptr_t)(b + 1), seen[1].addr);
		CHECK_EQ(2, seen[1].len);
		CHECK(!seen[1].writes && seen[2].writes);
		dev_push(&dev, head, 4);
	}
	for (int i = 0; i < 8; i++)
		CHECK(virtqueue_get_used(&vq, NULL) == &cookies[i]);
	/* Longer than an indirect table: falls back to direct descriptors. */
	CHECK_EQ(0, virtqueue_add(&vq, bufs, 5, &cookies[0]));
	CHECK_EQ(3, vq.num_free);
	int head = dev_pop(&dev, seen, 8, &n);
	CHECK_EQ(5, n);
	CHECK_EQ((uintptr_t)(b + 7), seen[4].addr);
	dev_push(&dev, head, 0);
	CHECK(virtqueue_get_used(&vq, NULL) == &cookies[0]);
	CHECK_EQ(8, vq.num_free);
	virtqueue_destroy(&vq);
}

static void test_kick(void)
{
	struct virtqueue vq;
	struct fake_dev dev;
	CHECK_EQ(0, virtqueue_init(&vq, 0, 8, 0));
	fake_attach(&dev, &vq);
	char b;
	struct virtq_buf buf = { &b, 1, true };
	virtqueue_kick(&vq);
	CHECK_EQ(0, dev.notifies); /* nothing new */
	CHECK_EQ(0, virtqueue_add(&vq, &buf, 1, &b));
	CHECK_EQ(0, virtqueue_add(&vq, &buf, 1, &b));
	virtqueue_kick(&vq);
	CHECK_EQ(1, dev.notifies); /* one for the batch */
	virtqueue_kick(&vq);
	CHECK_EQ(1, dev.notifies);
	vq.used->flags = VIRTQ_USED_F_NO_NOTIFY;
	CHECK_EQ(0, virtqueue_add(&vq, &buf, 1, &b));
	virtqueue_kick(&vq);
	CHECK_EQ(1, dev.notifies); /* the device asked for none */
	virtqueue_destroy(&vq);
}

/* §2.7.10's vring_need_event: an event index in [old, new) asks, across the 16-bit wrap. */
static void test_need_event_arithmetic(void)
{
	CHECK(virtq_need_event(5, 6, 5));	  /* the entry asked for was written */
	CHECK(!virtq_need_event(6, 6, 5));	  /* not yet: it is the next one */
	CHECK(!virtq_need_event(4, 6, 5));	  /* already passed before old */
	CHECK(virtq_need_event(5, 9, 2));	  /* inside a batch */
	CHECK(virtq_need_event(2, 9, 2));	  /* the batch's first */
	CHECK(!virtq_need_event(9, 9, 2));	  /* one past its last */
	CHECK(!virtq_need_event(3, 3, 3));	  /* nothing moved */
	CHECK(virtq_need_event(0xffff, 0, 0xffff)); /* across the wrap */
	CHECK(virtq_need_event(0xfffe, 3, 0xfff0));
	CHECK(virtq_need_event(1, 3, 0xfff0));
	CHECK(!virtq_need_event(3, 3, 0xfff0));
	CHECK(!virtq_need_event(0xffef, 3, 0xfff0));
	/* Exhaustively on a window around the wrap: true exactly for old <= event < new. */
	unsigned wrong = 0;
	for (unsigned old = 0xfff0; old < 0x10010; old++)
		for (unsigned n = 0; n < 40; n++)
			for (unsigned e = old - 50; e < old + 90; e++) {
				bool want = e >= old && e < old + n;
				if (virtq_need_event((uint16_t)e, (uint16_t)(old + n), (uint16_t)old) != want)
					wrong++;
			}
	CHECK_EQ(0, wrong);
}

/* With EVENT_IDX a kick goes out only when the batch passes the device's avail_event,
 * and counts what it skipped. */
static void test_kick_event_idx(void)
{
	struct virtqueue vq;
	struct fake_dev dev;
	CHECK_EQ(0, virtqueue_init(&vq, 0, 8, 0));
	fake_attach(&dev, &vq);
	vq.event_idx = true;
	char b;
	struct virtq_buf buf = { &b, 1, true };
	*vq.avail_event = 0; /* the device wants to hear of entry 0 */
	CHECK_EQ(0, virtqueue_add(&vq, &buf, 1, &b));
	CHECK_EQ(0, virtqueue_add(&vq, &buf, 1, &b));
	vq.used->flags = VIRTQ_USED_F_NO_NOTIFY; /* ignored with EVENT_IDX */
	virtqueue_kick(&vq);
	CHECK_EQ(1, dev.notifies);
	CHECK_EQ(1, vq.stats.kicks);
	CHECK_EQ(2, vq.stats.added);
	/* The device is busy with entries up to 5: no kick for 2..4. */
	*vq.avail_event = 5;
	for (int i = 0; i < 3; i++)
		CHECK_EQ(0, virtqueue_add(&vq, &buf, 1, &b));
	virtqueue_kick(&vq);
	CHECK_EQ(1, dev.notifies);
	CHECK_EQ(1, vq.stats.kicks_suppressed);
	/* Entry 5 is the one it asked for. */
	CHECK_EQ(0, virtqueue_add(&vq, &buf, 1, &b));
	virtqueue_kick(&vq);
	CHECK_EQ(2, dev.notifies);
	/* Up to the 16-bit wrap, the device asking for nothing on the way... */
	struct seen_buf seen[2];
	unsigned n;
	*vq.avail_event = 0x8000;
	while (vq.avail_idx != 0xfffe) {
		int head;
		while ((head = dev_pop(&dev, seen, 2, &n)) >= 0)
			dev_push(&dev, (uint32_t)head, 0);
		while (virtqueue_get_used(&vq, NULL))
			;
		CHECK_EQ(0, virtqueue_add(&vq, &buf, 1, &b));
		virtqueue_kick(&vq);
		if (vq.avail_idx == 0x9000)
			*vq.avail_event = 0xf000; /* the device moves it ahead */
	}
	CHECK_EQ(4, dev.notifies); /* entries 0x8000 and 0xf000 */
	CHECK_EQ(0xfffe - 6 - 2, vq.stats.kicks_suppressed - 1);
	int head = dev_pop(&dev, seen, 2, &n);
	dev_push(&dev, (uint32_t)head, 0);
	CHECK(virtqueue_get_used(&vq, NULL) == &b);
	CHECK_EQ(0, vq.in_flight);
	/* ...then a batch 0xfffe..0x0001 passes an event at 0xffff. */
	*vq.avail_event = 0xffff;
	for (int i = 0; i < 3; i++)
		CHECK_EQ(0, virtqueue_add(&vq, &buf, 1, &b));
	CHECK_EQ(1, vq.avail_idx);
	virtqueue_kick(&vq);
	CHECK_EQ(5, dev.notifies);
	virtqueue_destroy(&vq);
}

/* The device's interrupt decision (§2.7.7) for a used index moving old -> new. */
static bool device_would_interrupt(const struct virtqueue *vq, uint16_t new_idx, uint16_t old_idx)
{
	if (vq->event_idx)
		return virtq_need_event(*vq->used_event, new_idx, old_idx);
	return !(vq->avail->flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/* Interrupts off while polling, on just before halting, counted both ways. */
static void check_interrupt_control(bool event_idx)
{
	struct virtqueue vq;
	struct fake_dev dev;
	CHECK_EQ(0, virtqueue_init(&vq, 0, 8, 0));
	fake_attach(&dev, &vq);
	vq.event_idx = event_idx;
	char b[8];
	struct virtq_buf buf = { b, 1, true };
	struct seen_buf seen[2];
	unsigned n, interrupts = 0;
	/* Past the wrap, to check the used_event arithmetic there too. */
	vq.last_used = dev.used_idx = 0xfffc;
	vq.used->idx = 0xfffc;
	virtqueue_disable_interrupts(&vq); /* polling */
	for (int round = 0; round < 4; round++) {
		CHECK_EQ(0, virtqueue_add(&vq, &buf, 1, b));
		int head = dev_pop(&dev, seen, 2, &n);
		uint16_t old = dev.used_idx;
		dev_push(&dev, (uint32_t)head, 0);
		interrupts += device_would_interrupt(&vq, dev.used_idx, old);
		virtqueue_disable_interrupts(&vq);
		CHECK(virtqueue_get_used(&vq, NULL) == b);
	}
	CHECK_EQ(0, interrupts);
	CHECK_EQ(0, vq.stats.interrupts);
	/* About to halt with two in flight: the first completion interrupts. */
	CHECK_EQ(0, virtqueue_add(&vq, &buf, 1, b));
	CHECK_EQ(0, virtqueue_add(&vq, &buf, 1, b + 1));
	CHECK(!virtqueue_enable_interrupts(&vq));
	CHECK_EQ(1, vq.stats.interrupts_armed);
	for (int i = 0; i < 2; i++) {
		int head = dev_pop(&dev, seen, 2, &n);
		uint16_t old = dev.used_idx;
		dev_push(&dev, (uint32_t)head, 0);
		interrupts += device_would_interrupt(&vq, dev.used_idx, old);
	}
	CHECK_EQ(event_idx ? 1 : 2, interrupts); /* flags: the device may not coalesce */
	virtqueue_disable_interrupts(&vq); /* woken: polling again */
	CHECK_EQ(1, vq.stats.interrupts);
	CHECK(virtqueue_get_used(&vq, NULL) == b);
	CHECK(virtqueue_get_used(&vq, NULL) == b + 1);
	/* A completion that came before the device saw the request: the caller must not
	 * halt, and polls it instead. */
	CHECK_EQ(0, virtqueue_add(&vq, &buf, 1, b));
	int head = dev_pop(&dev, seen, 2, &n);
	dev_push(&dev, (uint32_t)head, 0);
	CHECK(virtqueue_enable_interrupts(&vq));
	virtqueue_disable_interrupts(&vq);
	CHECK(virtqueue_get_used(&vq, NULL) == b);
	CHECK_EQ(vq.stats.added, vq.stats.used);
	CHECK_EQ(7, vq.stats.used);
	virtqueue_destroy(&vq);
}

static void test_interrupts_event_idx(void) { check_interrupt_control(true); }
static void test_interrupts_flags(void) { check_interrupt_control(false); }

static void test_bad_input(void)
{
	struct virtqueue vq;
	struct fake_dev dev;
	CHECK_EQ(0, virtqueue_init(&vq, 0, 4, 0));
	fake_attach(&dev, &vq);
	char b[2];
	struct virtq_buf wrong_order[] = { { b, 1, true }, { b + 1, 1, false } };
	CHECK_EQ(-EINVAL, virtqueue_add(&vq, wrong_order, 2, b));
	CHECK_EQ(-EINVAL, virtqueue_add(&vq, wrong_order, 1, NULL));
	CHECK_EQ(-EINVAL, virtqueue_add(&vq, wrong_order, 0, b));
	struct virtq_buf many[5] = { { b, 1, false } };
	CHECK_EQ(-EINVAL, virtqueue_add(&vq, many, 5, b));
	CHECK_EQ(4, vq.num_free);
	/* A used entry naming a free or out-of-range head is skipped, not trusted. */
	dev_push(&dev, 2, 0);
	dev_push(&dev, 100, 0);
	CHECK(virtqueue_get_used(&vq, NULL) == NULL);
	CHECK_EQ(2, vq.bad_used);
	CHECK_EQ(4, vq.num_free);
	virtqueue_destroy(&vq);
}

/* Random chain lengths, random completion order, past the 16-bit index wrap: every
 * chain the device sees is the one submitted, and no descriptor leaks. */
struct chain {
	struct virtq_buf bufs[6];
	unsigned n;
	int head;
	char mem[6];
};

static void stress(uint16_t indirect_max)
{
	enum { SIZE = 16, OPS = 200000 };
	struct virtqueue vq;
	struct fake_dev dev;
	CHECK_EQ(0, virtqueue_init(&vq, 0, SIZE, indirect_max));
	fake_attach(&dev, &vq);
	static struct chain chains[SIZE];
	struct chain *device_has[SIZE];
	unsigned device_count = 0, free_slots = SIZE, completed = 0, mismatches = 0;
	bool slot_busy[SIZE] = { false };
	srand(42);
	for (unsigned op = 0; op < OPS; op++) {
		if (rand() % 2 && free_slots) {
			unsigned s = 0;
			while (slot_busy[s])
				s++;
			struct chain *c = &chains[s];
			c->n = 1 + rand() % 6;
			unsigned readable = rand() % (c->n + 1);
			for (unsigned i = 0; i < c->n; i++)
				c->bufs[i] = (struct virtq_buf){ &c->mem[i], 1 + i, i >= readable };
			if (virtqueue_add(&vq, c->bufs, c->n, c) == 0) {
				slot_busy[s] = true;
				free_slots--;
			}
			struct seen_buf seen[8];
			unsigned n;
			int head;
			while ((head = dev_pop(&dev, seen, 8, &n)) >= 0) {
				CHECK(head < SIZE);
				struct chain *got = vq.cookies[head];
				if (!got || got->n != n) {
					mismatches++;
					continue;
				}
				for (unsigned i = 0; i < n; i++)
					if (seen[i].addr != (uintptr_t)got->bufs[i].addr ||
					    seen[i].len != got->bufs[i].len ||
					    seen[i].writes != got->bufs[i].device_writes)
						mismatches++;
				got->head = head;
				device_has[device_count++] = got;
			}
		} else if (device_count) {
			unsigned k = rand() % device_count;
			struct chain *c = device_has[k];
			device_has[k] = device_has[--device_count];
			dev_push(&dev, c->head, 7);
			uint32_t written = 0;
			CHECK(virtqueue_get_used(&vq, &written) == c);
			CHECK_EQ(7, written);
			slot_busy[c - chains] = false;
			free_slots++;
			completed++;
		}
	}
	CHECK_EQ(0, mismatches);
	CHECK(completed > 65536); /* the 16-bit ring indexes wrapped at least once */
	CHECK_EQ(device_count, vq.in_flight);
	virtqueue_destroy(&vq);
}

static void test_stress_direct(void) { stress(0); }
static void test_stress_indirect(void) { stress(4); }

int main(void)
{
	RUN(test_layout);
	RUN(test_direct_chain);
	RUN(test_full_ring);
	RUN(test_indirect);
	RUN(test_kick);
	RUN(test_need_event_arithmetic);
	RUN(test_kick_event_idx);
	RUN(test_interrupts_event_idx);
	RUN(test_interrupts_flags);
	RUN(test_bad_input);
	RUN(test_stress_direct);
	RUN(test_stress_indirect);
	return check_report("test_virtqueue");
}
