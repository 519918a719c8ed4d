/*
 * A small in-memory blkdev for the QED unit tests (header-only: each test is one C file).
 *
 * Sparse (64 KiB chunks allocated on first write; chunks of zeros take no memory), so
 * images at the format's limits fit. Bytes never written read as 0xdb: the stale
 * contents of a real disk, which a QED image must never serve.
 * Requests queue up and complete from testdisk_poll(), which task_run_all() calls, so
 * many requests are really in flight at once; with reverse set, a batch completes in the
 * reverse order of submission. fail_op/fail_nth make the nth request (counting from 1) of
 * one kind fail with -EIO. Held writes (hold_*) complete late, and with hold_fail the
 * first of them fails; with hold_flushes, flushes are held too, and writes_under_held_flush
 * counts the writes sent while one waits (what a power cut then could keep while losing
 * all the flush was to make durable; the first few are listed). Counters let tests assert how many writes and
 * flushes ran.
 *
 *     struct testdisk *d = testdisk_new(64 << 20, 512);
 *     run_in_task(fn, arg);    // spawns fn and drives every test disk until it returns
 */
#ifndef QEDBOX_TESTDISK_H
#define QEDBOX_TESTDISK_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blkdev.h"
#include "task.h"
#include "volume.h"

#define TESTDISK_CHUNK (64u * 1024)
#define TESTDISK_MAX 8
#define TESTDISK_QUEUE 4096

struct testdisk {
	struct blkdev dev;
	uint8_t **chunks;
	uint64_t nchunks;
	struct blkdev_req *queue[TESTDISK_QUEUE];
	unsigned queued;
	bool reverse;
	int fail_op;            /* enum blkdev_op, or -1 */
	unsigned fail_nth;      /* 0: off */
	unsigned count[5];      /* requests seen per op */
	unsigned max_in_flight;
	/* Writes touching [hold_off, hold_off + hold_len) wait until the disk has been
	 * polled hold_polls more times: a slow request, so others overtake it. */
	uint64_t hold_off, hold_len;
	unsigned hold_polls;
	bool hold_flushes;      /* flushes are held too (hold_polls) */
	unsigned writes_under_held_flush;
	uint64_t under_held_flush_off[8], under_held_flush_len[8]; /* the first 8 of them */
	struct completion *hold_seen; /* completed when a held write is submitted */
	int hold_fail;          /* nonzero: the next held write submitted fails with it */
	struct blkdev_req *hold_failing;
	int hold_failing_status;
};

static struct testdisk *testdisks[TESTDISK_MAX];
static uint8_t testdisk_zero_chunk[1]; /* marks a chunk of zeros */

static inline bool testdisk_held(const struct testdisk *d, const struct blkdev_req *req)
{
	if (d->hold_polls == 0)
		return false;
	if (req->op == BLKDEV_FLUSH)
		return d->hold_flushes;
	return req->op == BLKDEV_WRITE &&
	       req->offset < d->hold_off + d->hold_len && d->hold_off < req->offset + req->len;
}

static inline bool testdisk_flush_held(const struct testdisk *d)
{
	for (unsigned i = 0; i < d->queued; i++)
		if (d->queue[i]->op == BLKDEV_FLUSH && testdisk_held(d, d->queue[i]))
			return true;
	return false;
}

static inline void testdisk_submit(struct blkdev *dev, struct blkdev_req *req)
{
	struct testdisk *d = dev->priv;
	if (d->queued == TESTDISK_QUEUE)
		abort();
	if (req->op != BLKDEV_READ && req->op != BLKDEV_FLUSH && testdisk_flush_held(d)) {
		if (d->writes_under_held_flush < 8) {
			d->under_held_flush_off[d->writes_under_held_flush] = req->offset;
			d->under_held_flush_len[d->writes_under_held_flush] = req->len;
		}
		d->writes_under_held_flush++;
	}
	d->queue[d->queued++] = req;
	if (d->hold_seen && testdisk_held(d, req)) {
		completion_done(d->hold_seen, 0);
		d->hold_seen = NULL;
	}
	if (d->hold_fail && testdisk_held(d, req)) {
		d->hold_failing = req;
		d->hold_failing_status = d->hold_fail;
		d->hold_fail = 0;
	}
	if (d->queued > d->max_in_flight)
		d->max_in_flight = d->queued;
}

static const struct blkdev_ops testdisk_ops = { .submit = testdisk_submit };

static struct testdisk *testdisk_new(uint64_t capacity, uint32_t sector_size)
{
	struct testdisk *d = calloc(1, sizeof(*d));
	d->dev.ops = &testdisk_ops;
	d->dev.capacity = capacity;
	d->dev.sector_size = sector_size;
	d->dev.flags = BLKDEV_F_VOLATILE_CACHE;
	strcpy(d->dev.serial, "testdisk");
	d->dev.priv = d;
	d->nchunks = (capacity + TESTDISK_CHUNK - 1) / TESTDISK_CHUNK;
	d->chunks = calloc(d->nchunks, sizeof(*d->chunks));
	d->fail_op = -1;
	for (int i = 0; i < TESTDISK_MAX; i++) {
		if (!testdisks[i]) {
			testdisks[i] = d;
			break;
		}
	}
	return d;
}

static inline void testdisk_free(struct testdisk *d)
{
	for (int i = 0; i < TESTDISK_MAX; i++)
		if (testdisks[i] == d)
			testdisks[i] = NULL;
	for (uint64_t i = 0; i < d->nchunks; i++)
		if (d->chunks[i] != testdisk_zero_chunk)
			free(d->chunks[i]);
	free(d->chunks);
	free(d);
}

static inline bool testdisk_all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Copies bytes in (write) or out (read) of the sparse store; unwritten bytes read as
 * the filler 0xdb, standing for the stale contents of a real disk. */
static inline void testdisk_copy(struct testdisk *d, uint64_t off, void *buf, size_t len, bool write)
{
	uint8_t *p = buf;
	while (len > 0) {
		uint64_t c = off / TESTDISK_CHUNK, in = off % TESTDISK_CHUNK;
		size_t n = TESTDISK_CHUNK - in < len ? TESTDISK_CHUNK - in : len;
		bool zeros = write && n == TESTDISK_CHUNK && (!p || testdisk_all_zero(p, n));
		if (zeros) {
			free(d->chunks[c] == testdisk_zero_chunk ? NULL : d->chunks[c]);
			d->chunks[c] = testdisk_zero_chunk; /* whole zero chunks cost nothing */
		} else if (write) {
			if (!d->chunks[c] || d->chunks[c] == testdisk_zero_chunk) {
				uint8_t *chunk = malloc(TESTDISK_CHUNK);
				memset(chunk, d->chunks[c] ? 0 : 0xdb, TESTDISK_CHUNK);
				d->chunks[c] = chunk;
			}
			if (p)
				memcpy(d->chunks[c] + in, p, n);
			else
				memset(d->chunks[c] + in, 0, n);
		} else if (d->chunks[c] == testdisk_zero_chunk) {
			memset(p, 0, n);
		} else if (d->chunks[c]) {
			memcpy(p, d->chunks[c] + in, n);
		} else {
			memset(p, 0xdb, n);
		}
		off += n;
		len -= n;
		if (p)
			p += n;
	}
}

/* Direct access for tests, outside any task. */
static inline void testdisk_peek(struct testdisk *d, uint64_t off, void *buf, size_t len)
{
	testdisk_copy(d, off, buf, len, false);
}

static inline void testdisk_poke(struct testdisk *d, uint64_t off, const void *buf, size_t len)
{
	testdisk_copy(d, off, (void *)(uintptr_t)buf, len, true);
}

static inline int testdisk_execute(struct testdisk *d, struct blkdev_req *req)
{
	d->count[req->op]++;
	if ((int)req->op == d->fail_op && d->count[req->op] == d->fail_nth)
		return -EIO;
	if (req == d->hold_failing) {
		d->hold_failing = NULL;
		return d->hold_failing_status;
	}
	switch (req->op) {
	case BLKDEV_READ:
		testdisk_copy(d, req->offset, req->buf, req->len, false);
		break;
	case BLKDEV_WRITE:
		testdisk_copy(d, req->offset, req->buf, req->len, true);
		break;
	case BLKDEV_WRITE_ZEROES:
	case BLKDEV_DISCARD:
		testdisk_copy(d, req->offset, NULL, req->len, true);
		break;
	case BLKDEV_FLUSH:
		break;
	}
	return 0;
}

static inline bool testdisk_poll_one(struct testdisk *d)
{
	unsigned n = d->queued;
	if (n == 0)
		return false;
	if (d->hold_polls > 0)
		d->hold_polls--;
	struct blkdev_req *batch[TESTDISK_QUEUE];
	memcpy(batch, d->queue, n * sizeof(*batch));
	d->queued = 0;
	for (unsigned i = 0; i < n; i++) {
		struct blkdev_req *req = batch[d->reverse ? n - 1 - i : i];
		if (testdisk_held(d, req))
			d->queue[d->queued++] = req;
		else
			req->done(req, testdisk_execute(d, req));
	}
	return true;
}

static inline bool testdisk_poll(void *ctx)
{
	(void)ctx;
	bool progress = false;
	for (int i = 0; i < TESTDISK_MAX; i++)
		if (testdisks[i])
			progress |= testdisk_poll_one(testdisks[i]);
	return progress;
}

/* Runs fn(arg) in a task and drives the disks until every task returned. */
static inline bool run_in_task(task_fn fn, void *arg)
{
	task_spawn(fn, arg);
	bool ok = task_run_all(testdisk_poll, NULL);
	if (!ok)
		task_reset();
	return ok;
}

/* ---- a raw volume over a test disk (backing images) ------------------------------------ */
static inline int rawvol_read(struct volume *v, uint64_t off, void *buf, size_t len)
{
	return blkdev_read(v->priv, off, buf, len);
}

static inline int rawvol_write(struct volume *v, uint64_t off, const void *buf, size_t len)
{
	return blkdev_write(v->priv, off, buf, len);
}

static inline int rawvol_flush(struct volume *v)
{
	return blkdev_flush(v->priv);
}

static const struct volume_ops rawvol_ops = {
	.read = rawvol_read, .write = rawvol_write, .flush = rawvol_flush,
};

static inline void rawvol_init(struct volume *v, struct testdisk *d, uint64_t size)
{
	memset(v, 0, sizeof(*v));
	v->ops = &rawvol_ops;
	v->size = size;
	v->block_size = d->dev.sector_size;
	v->priv = &d->dev;
}

/* An open_backing that opens every backing file as the volume backing_ctx points at. */
static inline int open_ctx_volume(void *ctx, const char *name, const char *fmt,
				  struct volume **out)
{
	(void)name;
	(void)fmt;
	*out = ctx;
	return 0;
}

#endif
