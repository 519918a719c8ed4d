/*
 * Host test of the virtio-blk request engine (drivers/virtio_blk_io.c) on a real
 * virtqueue served by a fake virtio-blk device over a memory disk. The device takes
 * chains off the avail ring, executes them, and completes them in random order.
 * Covers: many requests beyond ring space (FIFO), splitting by seg_max/size_max and by
 * the discard / write-zeroes limits, device status mapping, flush semantics with and
 * without a volatile cache, and done() callbacks that submit again.
 */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "task.h"
#include "virtio_blk_priv.h"

#define DISK_BYTES (1024 * 1024)

struct pending_chain {
	int head;
	struct virtq_desc chain[40];
	unsigned n;
};

struct fake_blk {
	struct vblk v;
	uint8_t *disk;
	uint16_t last_avail, used_idx;
	struct pending_chain pending[256];
	unsigned npending;
	unsigned requests, flushes, discards, zeroes, max_pending, max_data_descs;
	unsigned interrupts;  /* the device's used-buffer notifications, as §2.7.7 decides */
	uint32_t last_sectors[64]; /* sectors per data request, in arrival order */
	unsigned nlast;
	int fail_type;        /* reply fail_status to requests of this type; -1: none */
	uint8_t fail_status;
	bool write_no_status; /* leave the status byte untouched */
};

static const struct blkdev_ops ops = { .submit = vblk_submit };

static void notify(struct virtqueue *vq) { (void)vq; }

static void setup(struct fake_blk *f, uint16_t qsize, uint16_t indirect_max,
		  uint32_t data_segs, uint32_t seg_bytes, uint32_t flags)
{
	memset(f, 0, sizeof(*f));
	f->fail_type = -1;
	f->disk = calloc(1, DISK_BYTES);
	CHECK_EQ(0, virtqueue_init(&f->v.vq, 0, qsize, indirect_max));
	f->v.vq.notify = notify;
	f->v.blk = (struct blkdev){ .ops = &ops, .capacity = DISK_BYTES, .sector_size = 512,
				    .flags = flags, .priv = &f->v };
	f->v.data_segs = data_segs;
	f->v.seg_bytes = seg_bytes;
	f->v.max_discard_sectors = 32;
	f->v.max_write_zeroes_sectors = 16;
	CHECK_EQ(0, vblk_io_init(&f->v));
}

static void teardown(struct fake_blk *f)
{
	CHECK_EQ(0, f->v.vq.in_flight);
	CHECK(f->v.fifo_head == NULL);
	virtqueue_destroy(&f->v.vq);
	free(f->v.slots);
	while (f->v.free_jobs) {
		struct vblk_job *j = f->v.free_jobs;
		f->v.free_jobs = j->next;
		free(j);
	}
	free(f->disk);
}

/* Takes every available chain (following indirect tables) into the pending list. */
static void device_fetch(struct fake_blk *f)
{
	struct virtqueue *vq = &f->v.vq;
	while (f->last_avail != vq->avail->idx) {
		struct pending_chain *p = &f->pending[f->npending++];
		p->head = vq->avail->ring[f->last_avail++ % vq->size];
		const struct virtq_desc *table = vq->desc;
		uint16_t i = p->head;
		if (vq->desc[i].flags & VIRTQ_DESC_F_INDIRECT) {
			table = (const struct virtq_desc *)(uintptr_t)vq->desc[i].addr;
			i = 0;
		}
		p->n = 0;
		for (;;) {
			p->chain[p->n++] = table[i];
			if (!(table[i].flags & VIRTQ_DESC_F_NEXT))
				break;
			i = table[i].next;
		}
	}
	*vq->avail_event = f->last_avail; /* EVENT_IDX: tell me of the next one (as QEMU does) */
	if (f->npending > f->max_pending)
		f->max_pending = f->npending;
}

static void *ptr(const struct virtq_desc *d) { return (void *)(uintptr_t)d->addr; }

/* Executes one chain on the memory disk; returns the status to report. */
static uint8_t device_execute(struct fake_blk *f, struct pending_chain *p)
{
	const struct virtio_blk_outhdr *h = ptr(&p->chain[0]);
	CHECK_EQ(sizeof(*h), p->chain[0].len);
	CHECK(!(p->chain[0].flags & VIRTQ_DESC_F_WRITE));
	CHECK_EQ(1, p->chain[p->n - 1].len);
	f->requests++;
	if ((int)h->type == f->fail_type)
		return f->fail_status;
	uint64_t off = h->sector * 512;
	switch (h->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT: {
		uint32_t total = 0;
		for (unsigned i = 1; i + 1 < p->n; i++) {
			CHECK_EQ(h->type == VIRTIO_BLK_T_IN, (p->chain[i].flags & VIRTQ_DESC_F_WRITE) != 0);
			CHECK(off + total + p->chain[i].len <= DISK_BYTES);
			if (h->type == VIRTIO_BLK_T_IN)
				memcpy(ptr(&p->chain[i]), f->disk + off + total, p->chain[i].len);
			else
				memcpy(f->disk + off + total, ptr(&p->chain[i]), p->chain[i].len);
			total += p->chain[i].len;
		}
		if (p->n - 2 > f->max_data_descs)
			f->max_data_descs = p->n - 2;
		if (f->nlast < 64)
			f->last_sectors[f->nlast++] = total / 512;
		return VIRTIO_BLK_S_OK;
	}
	case VIRTIO_BLK_T_FLUSH:
		CHECK_EQ(2, p->n);
		f->flushes++;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES: {
		CHECK_EQ(3, p->n);
		const struct virtio_blk_discard_write_zeroes *r = ptr(&p->chain[1]);
		bool zeroes = h->type == VIRTIO_BLK_T_WRITE_ZEROES;
		CHECK(r->num_sectors <= (zeroes ? 16u : 32u));
		CHECK(r->sector * 512 + r->num_sectors * 512ull <= DISK_BYTES);
		if (zeroes) {
			memset(f->disk + r->sector * 512, 0, r->num_sectors * 512ull);
			f->zeroes++;
		} else {
			f->discards++;
		}
		return VIRTIO_BLK_S_OK;
	}
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

/* Completes one pending chain picked at random; false when none is pending. */
static bool device_complete_one(struct fake_blk *f)
{
	if (f->npending == 0)
		return false;
	unsigned k = (unsigned)rand() % f->npending;
	struct pending_chain p = f->pending[k];
	f->pending[k] = f->pending[--f->npending];
	uint8_t status = device_execute(f, &p);
	if (!f->write_no_status)
		*(uint8_t *)ptr(&p.chain[p.n - 1]) = status;
	struct virtqueue *vq = &f->v.vq;
	vq->used->ring[f->used_idx % vq->size] = (struct virtq_used_elem){ p.head, 1 };
	vq->used->idx = ++f->used_idx;
	if (vq->event_idx ? virtq_need_event(*vq->used_event, f->used_idx, f->used_idx - 1)
			  : !(vq->avail->flags & VIRTQ_AVAIL_F_NO_INTERRUPT))
		f->interrupts++;
	return true;
}

/* The loop's work: the device runs a little, then the driver's poller. */
static bool poll_all(void *ctx)
{
	struct fake_blk *f = ctx;
	device_fetch(f);
	bool progress = false;
	for (int i = 0; i < 3 && device_complete_one(f); i++)
		progress = true;
	return vblk_poll(&f->v) || progress;
}

static void drain(struct fake_blk *f)
{
	while (poll_all(f))
		;
}

/* ---- async submission with counters -------------------------------------------------- */
struct counter {
	unsigned done;
	int last_status;
	int statuses[600];
};

static void count_done(struct blkdev_req *req, int status)
{
	struct counter *c = req->priv;
	c->statuses[c->done++] = status;
	c->last_status = status;
}

static void submit(struct fake_blk *f, struct blkdev_req *r, enum blkdev_op op, uint64_t off,
		   void *buf, size_t len, struct counter *c)
{
	*r = (struct blkdev_req){ .op = op, .offset = off, .buf = buf, .len = len,
				  .done = count_done, .priv = c };
	blkdev_submit(&f->v.blk, r);
}

static void fill(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 9));
}

/* 100 writes into a ring that holds 2 requests: all wait in the FIFO and complete. */
static void test_fifo_beyond_ring(void)
{
	struct fake_blk f;
	setup(&f, 8, 0, 1, 1u << 30, 0);
	static uint8_t data[100][4096], back[100][4096];
	static struct blkdev_req reqs[100];
	struct counter c = { 0 };
	for (unsigned i = 0; i < 100; i++) {
		fill(data[i], 4096, i);
		submit(&f, &reqs[i], BLKDEV_WRITE, i * 4096ull, data[i], 4096, &c);
	}
	CHECK_EQ(2, f.v.vq.in_flight); /* 3 descriptors each, 8 in the ring */
	drain(&f);
	CHECK_EQ(100, c.done);
	for (unsigned i = 0; i < 100; i++)
		CHECK_EQ(0, c.statuses[i]);
	CHECK_EQ(2, f.max_pending);
	struct counter r = { 0 };
	for (unsigned i = 0; i < 100; i++)
		submit(&f, &reqs[i], BLKDEV_READ, i * 4096ull, back[i], 4096, &r);
	drain(&f);
	CHECK_EQ(100, r.done);
	CHECK_MEM_EQ(data, back, sizeof(data));
	teardown(&f);
}

/* With indirect tables every ring slot is one request: depth = queue size. */
static void test_indirect_depth(void)
{
	struct fake_blk f;
	setup(&f, 16, 4, 2, 4096, 0);
	static uint8_t buf[40][4096];
	static struct blkdev_req reqs[40];
	struct counter c = { 0 };
	for (unsigned i = 0; i < 40; i++)
		submit(&f, &reqs[i], BLKDEV_READ, i * 4096ull, buf[i], 4096, &c);
	CHECK_EQ(16, f.v.vq.in_flight);
	CHECK_EQ(0, f.v.vq.stats.kicks); /* submitting never notifies: the poller does, once */
	vblk_poll(&f.v);
	CHECK_EQ(1, f.v.vq.stats.kicks);
	drain(&f);
	CHECK_EQ(40, c.done);
	CHECK_EQ(16, f.max_pending);
	teardown(&f);
}

/* 64 KiB with 2 segments of 4 KiB per request: 8 requests of 16 sectors. */
static void test_split_by_segments(void)
{
	struct fake_blk f;
	setup(&f, 64, 0, 2, 4096, 0);
	static uint8_t data[65536], back[65536];
	fill(data, sizeof(data), 9);
	struct blkdev_req req;
	struct counter c = { 0 };
	submit(&f, &req, BLKDEV_WRITE, 8192, data, sizeof(data), &c);
	drain(&f);
	CHECK_EQ(1, c.done);
	CHECK_EQ(0, c.last_status);
	CHECK_EQ(8, f.requests);
	CHECK_EQ(2, f.max_data_descs);
	for (unsigned i = 0; i < f.nlast; i++)
		CHECK_EQ(16, f.last_sectors[i]);
	CHECK_MEM_EQ(data, f.disk + 8192, sizeof(data));
	submit(&f, &req, BLKDEV_READ, 8192, back, sizeof(back), &c);
	drain(&f);
	CHECK_EQ(2, c.done);
	CHECK_MEM_EQ(data, back, sizeof(back));
	teardown(&f);
}

static void test_status_mapping(void)
{
	struct fake_blk f;
	setup(&f, 64, 0, 2, 4096, 0);
	static uint8_t buf[65536];
	struct blkdev_req req;
	struct counter c = { 0 };
	f.fail_type = VIRTIO_BLK_T_OUT;
	f.fail_status = VIRTIO_BLK_S_IOERR;
	submit(&f, &req, BLKDEV_WRITE, 0, buf, 65536, &c); /* 8 pieces, all fail */
	drain(&f);
	CHECK_EQ(1, c.done); /* one completion, after every piece came back */
	CHECK_EQ(-EIO, c.last_status);
	f.fail_status = VIRTIO_BLK_S_UNSUPP;
	submit(&f, &req, BLKDEV_WRITE, 0, buf, 4096, &c);
	drain(&f);
	CHECK_EQ(-EOPNOTSUPP, c.last_status);
	f.fail_type = -1;
	f.write_no_status = true; /* a device that never writes the status byte */
	submit(&f, &req, BLKDEV_READ, 0, buf, 4096, &c);
	drain(&f);
	CHECK_EQ(-EIO, c.last_status);
	f.write_no_status = false;
	submit(&f, &req, BLKDEV_READ, 0, buf, 4096, &c);
	drain(&f);
	CHECK_EQ(0, c.last_status);
	CHECK_EQ(4, c.done);
	teardown(&f);
}

static void test_flush(void)
{
	struct fake_blk f;
	setup(&f, 8, 0, 1, 4096, 0);
	struct blkdev_req req;
	struct counter c = { 0 };
	submit(&f, &req, BLKDEV_FLUSH, 0, NULL, 0, &c);
	CHECK_EQ(1, c.done); /* write-through device: nothing to send */
	CHECK_EQ(0, c.last_status);
	CHECK_EQ(0, f.v.vq.in_flight);
	teardown(&f);

	setup(&f, 8, 0, 1, 4096, BLKDEV_F_VOLATILE_CACHE);
	c.done = 0;
	submit(&f, &req, BLKDEV_FLUSH, 0, NULL, 0, &c);
	CHECK_EQ(0, c.done); /* never acknowledged before the device did it */
	drain(&f);
	CHECK_EQ(1, c.done);
	CHECK_EQ(1, f.flushes);
	f.fail_type = VIRTIO_BLK_T_FLUSH;
	f.fail_status = VIRTIO_BLK_S_IOERR;
	submit(&f, &req, BLKDEV_FLUSH, 0, NULL, 0, &c);
	drain(&f);
	CHECK_EQ(-EIO, c.last_status);
	teardown(&f);
}

/* 64 KiB of zeroes with at most 16 sectors per request: 8 requests. */
static void test_write_zeroes_and_discard_limits(void)
{
	struct fake_blk f;
	setup(&f, 8, 0, 1, 4096, BLKDEV_F_WRITE_ZEROES | BLKDEV_F_DISCARD);
	memset(f.disk, 0x77, DISK_BYTES);
	struct blkdev_req req;
	struct counter c = { 0 };
	submit(&f, &req, BLKDEV_WRITE_ZEROES, 4096, NULL, 65536, &c);
	drain(&f);
	CHECK_EQ(0, c.last_status);
	CHECK_EQ(8, f.zeroes);
	static const uint8_t zeros[65536];
	CHECK_MEM_EQ(zeros, f.disk + 4096, 65536);
	CHECK_EQ(0x77, f.disk[4095]);
	CHECK_EQ(0x77, f.disk[4096 + 65536]);
	submit(&f, &req, BLKDEV_DISCARD, 0, NULL, 65536, &c);
	drain(&f);
	CHECK_EQ(4, f.discards); /* 32 sectors each */
	CHECK_EQ(2, c.done);
	/* Not offered: refused before the driver sees it. */
	f.v.blk.flags = 0;
	submit(&f, &req, BLKDEV_DISCARD, 0, NULL, 4096, &c);
	CHECK_EQ(-EOPNOTSUPP, c.last_status);
	teardown(&f);
}

/* Each done() submits the next request: 200 chained requests, all complete. */
struct chain_state {
	struct fake_blk *f;
	struct blkdev_req req;
	uint8_t buf[512];
	unsigned left, done;
};

static void chain_done(struct blkdev_req *req, int status)
{
	struct chain_state *s = req->priv;
	CHECK_EQ(0, status);
	s->done++;
	if (--s->left)
		blkdev_submit(&s->f->v.blk, req);
}

static void test_resubmit_from_done(void)
{
	struct fake_blk f;
	setup(&f, 8, 0, 1, 4096, 0);
	static struct chain_state s;
	s = (struct chain_state){ .f = &f, .left = 200 };
	s.req = (struct blkdev_req){ .op = BLKDEV_WRITE, .offset = 512, .buf = s.buf,
				     .len = 512, .done = chain_done, .priv = &s };
	blkdev_submit(&f.v.blk, &s.req);
	drain(&f);
	CHECK_EQ(200, s.done);
	teardown(&f);
}

/* Blocking helpers from tasks, the way the QED core uses the device. */
static struct fake_blk task_f;
static int task_results[8];

static void writer_task(void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg;
	uint8_t buf[8192], back[8192];
	fill(buf, sizeof(buf), 100 + i);
	int rc = blkdev_write(&task_f.v.blk, i * 8192ull, buf, sizeof(buf));
	if (!rc)
		rc = blkdev_flush(&task_f.v.blk);
	if (!rc)
		rc = blkdev_read(&task_f.v.blk, i * 8192ull, back, sizeof(back));
	if (!rc && memcmp(buf, back, sizeof(buf)) != 0)
		rc = -EIO;
	if (!rc)
		rc = blkdev_read(&task_f.v.blk, DISK_BYTES, back, 512) == -EINVAL ? 0 : -EIO;
	task_results[i] = rc ? rc : 1;
}

static void test_tasks(void)
{
	setup(&task_f, 16, 0, 1, 4096, BLKDEV_F_VOLATILE_CACHE);
	for (unsigned i = 0; i < 8; i++)
		task_spawn(writer_task, (void *)(uintptr_t)i);
	CHECK(task_run_all(poll_all, &task_f));
	for (unsigned i = 0; i < 8; i++)
		CHECK_EQ(1, task_results[i]);
	CHECK_EQ(8, task_f.flushes);
	teardown(&task_f);
	task_reset();
}

/* The device interrupts only when the loop is about to halt with requests in flight. */
static void check_interrupts_only_before_halt(bool event_idx)
{
	struct fake_blk f;
	setup(&f, 64, 4, 1, 4096, 0);
	f.v.vq.event_idx = event_idx;
	static uint8_t buf[100][4096];
	static struct blkdev_req reqs[100];
	struct counter c = { 0 };
	vblk_poll(&f.v); /* the loop polls from the start */
	for (unsigned i = 0; i < 100; i++)
		submit(&f, &reqs[i], BLKDEV_READ, i * 4096ull, buf[i], 4096, &c);
	drain(&f);
	CHECK_EQ(100, c.done);
	CHECK_EQ(0, f.interrupts); /* all seen by polling */
	CHECK(!vblk_before_halt(&f.v)); /* nothing in flight: nothing to ask for */
	CHECK_EQ(0, f.v.vq.stats.interrupts_armed);

	submit(&f, &reqs[0], BLKDEV_READ, 0, buf[0], 4096, &c);
	submit(&f, &reqs[1], BLKDEV_READ, 4096, buf[1], 4096, &c);
	uint64_t kicks = f.v.vq.stats.kicks;
	CHECK(!vblk_before_halt(&f.v)); /* submitted after the last poll: kicked here */
	CHECK_EQ(kicks + 1, f.v.vq.stats.kicks);
	device_fetch(&f);
	CHECK(device_complete_one(&f));
	CHECK_EQ(1, f.interrupts); /* armed: it wakes the CPU */
	CHECK(device_complete_one(&f));
	CHECK_EQ(event_idx ? 1 : 2, f.interrupts); /* EVENT_IDX: only the first */
	vblk_poll(&f.v);
	CHECK_EQ(1, f.v.vq.stats.interrupts);
	CHECK_EQ(102, c.done);

	/* A completion between the last poll and the halt keeps the loop from halting. */
	submit(&f, &reqs[0], BLKDEV_READ, 0, buf[0], 4096, &c);
	vblk_poll(&f.v);
	device_fetch(&f);
	CHECK(device_complete_one(&f));
	CHECK(vblk_before_halt(&f.v));
	drain(&f);
	CHECK_EQ(103, c.done);
	CHECK_EQ(f.v.vq.stats.added, f.v.vq.stats.used);
	teardown(&f);
}

static void test_interrupts_event_idx(void) { check_interrupts_only_before_halt(true); }
static void test_interrupts_flags(void) { check_interrupts_only_before_halt(false); }

int main(void)
{
	srand(7);
	RUN(test_fifo_beyond_ring);
	RUN(test_indirect_depth);
	RUN(test_split_by_segments);
	RUN(test_status_mapping);
	RUN(test_flush);
	RUN(test_write_zeroes_and_discard_limits);
	RUN(test_resubmit_from_done);
	RUN(test_tasks);
	RUN(test_interrupts_event_idx);
	RUN(test_interrupts_flags);
	return check_report("test_virtio_blk_io");
}
