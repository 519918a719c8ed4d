/*
 * The self-test of a block device (the selftest=SERIAL key; app/disks.h). It OVERWRITES
 * the disk. Run inside a task.
 *
 * Layout on the disk (bytes; the system test checks the same regions on the host):
 *   [0, 256 KiB)            64 concurrent 4 KiB writes        pattern
 *   [1 MiB, 2 MiB)          one 1 MiB write, concurrent too   pattern
 *   [3 MiB, 3 MiB + 64 KiB) pattern, then WRITE_ZEROES        zeros (pattern if the
 *                                                             device lacks the command)
 *   [4 MiB, 12 MiB)         512 concurrent 16 KiB writes      pattern (more requests
 *                           than the ring holds: the driver's FIFO is exercised)
 *   [12 MiB, +64 KiB)       DISCARD when offered              unspecified
 *   last 8 sectors          one write ending at the capacity  pattern
 *                           (the first four regions: 67 requests in flight at once)
 * then FLUSH, reads everything back (as many concurrent requests) and compares, and
 * checks that requests past the end or misaligned fail with -EINVAL.
 *
 * The pattern of the 512-byte unit at byte offset o (s = o / 512): "qedboxst",
 * then s as a little-endian 64-bit number, then byte i (16..511) = (s * 7 + i) & 0xff.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "task.h"
#include "disks.h"

#define KiB 1024ull
#define MiB (1024ull * KiB)

#define SMALL_COUNT 64
#define SMALL_LEN   (4 * KiB)
#define BIG_OFF     (1 * MiB)
#define BIG_LEN     (1 * MiB)
#define ZERO_OFF    (3 * MiB)
#define ZERO_LEN    (64 * KiB)
#define BULK_OFF    (4 * MiB)
#define BULK_LEN    (8 * MiB)
#define BULK_REQ    (16 * KiB)
#define BULK_COUNT  (BULK_LEN / BULK_REQ)
#define DISCARD_OFF (12 * MiB)
#define DISCARD_LEN (64 * KiB)
#define TAIL_SECTORS 8
#define MIN_CAPACITY (13 * MiB)
#define UNIT 512

static void fill_pattern(uint8_t *buf, uint64_t disk_off, size_t len)
{
	for (size_t u = 0; u < len; u += UNIT) {
		uint64_t s = (disk_off + u) / UNIT;
		uint8_t *p = buf + u;
		memcpy(p, "qedboxst", 8);
		for (int i = 0; i < 8; i++)
			p[8 + i] = (uint8_t)(s >> (8 * i));
		for (int i = 16; i < UNIT; i++)
			p[i] = (uint8_t)(s * 7 + i);
	}
}

/* 0 when buf holds the pattern (or zeros) for disk_off; else says where not. */
static int verify(const uint8_t *buf, uint64_t disk_off, size_t len, bool zeros)
{
	static uint8_t expect[UNIT];
	for (size_t u = 0; u < len; u += UNIT) {
		if (zeros)
			memset(expect, 0, UNIT);
		else
			fill_pattern(expect, disk_off + u, UNIT);
		for (size_t i = 0; i < UNIT; i++)
			if (buf[u + i] != expect[i]) {
				printf("selftest: byte %" PRIu64 ": expected 0x%02x, read 0x%02x\n",
				       disk_off + u + i, expect[i], buf[u + i]);
				return -EIO;
			}
	}
	return 0;
}

/* ---- many requests in flight, waited for together ------------------------------------- */
struct batch {
	struct completion all_done;
	unsigned pending;
	int status;
};

static void batch_req_done(struct blkdev_req *req, int status)
{
	struct batch *b = req->priv;
	if (status && !b->status)
		b->status = status;
	if (--b->pending == 0)
		completion_done(&b->all_done, b->status);
}

/* A part of the disk written or read as len / req_len concurrent requests. */
struct region {
	uint64_t off;
	size_t len, req_len;
	uint8_t *buf;
	bool zeros; /* reads back as zeros (after WRITE_ZEROES) */
};

/* Submits every request of every region at once, then waits for all of them. */
static int run_regions(struct blkdev *dev, enum blkdev_op op, const struct region *r,
		       unsigned nr)
{
	unsigned n = 0;
	for (unsigned i = 0; i < nr; i++)
		n += r[i].len / r[i].req_len;
	struct blkdev_req *reqs = calloc(n, sizeof(*reqs));
	if (!reqs)
		return -ENOMEM;
	struct batch b = { .pending = n };
	completion_init(&b.all_done);
	struct blkdev_req *q = reqs;
	for (unsigned i = 0; i < nr; i++)
		for (size_t done = 0; done < r[i].len; done += r[i].req_len, q++) {
			*q = (struct blkdev_req){ .op = op, .offset = r[i].off + done,
						  .buf = r[i].buf + done, .len = r[i].req_len,
						  .done = batch_req_done, .priv = &b };
			blkdev_submit(dev, q);
		}
	int rc = completion_wait(&b.all_done);
	free(reqs);
	return rc;
}

static uint64_t ms_since(uint64_t t0)
{
	return (clock_ns() - t0) / 1000000;
}

static unsigned kib_per_s(uint64_t bytes, uint64_t t0)
{
	uint64_t ns = clock_ns() - t0;
	return ns ? (unsigned)(bytes * 1000000000ull / 1024 / ns) : 0;
}

enum { R_SMALL, R_BIG, R_ZERO, R_TAIL, R_COUNT };

/* The small regions, carved out of one buffer. */
static void layout(struct region *r, uint8_t *misc, const struct blkdev *dev)
{
	size_t tail_len = TAIL_SECTORS * dev->sector_size;
	r[R_SMALL] = (struct region){ 0, SMALL_COUNT * SMALL_LEN, SMALL_LEN, misc, false };
	r[R_BIG] = (struct region){ BIG_OFF, BIG_LEN, BIG_LEN, r[R_SMALL].buf + r[R_SMALL].len, false };
	r[R_ZERO] = (struct region){ ZERO_OFF, ZERO_LEN, ZERO_LEN, r[R_BIG].buf + BIG_LEN,
				     (dev->flags & BLKDEV_F_WRITE_ZEROES) != 0 };
	r[R_TAIL] = (struct region){ dev->capacity - tail_len, tail_len, tail_len,
				     r[R_ZERO].buf + ZERO_LEN, false };
}

/* The write phase: the small regions at once (67 requests in flight), WRITE_ZEROES and
 * DISCARD, then the bulk region (512 requests, timed) and a FLUSH. */
static int write_all(struct blkdev *dev, struct region *r, uint8_t *bulk)
{
	for (unsigned i = 0; i < R_COUNT; i++)
		fill_pattern(r[i].buf, r[i].off, r[i].len);
	int rc = run_regions(dev, BLKDEV_WRITE, r, R_COUNT);
	if (!rc && (dev->flags & BLKDEV_F_WRITE_ZEROES))
		rc = blkdev_write_zeroes(dev, ZERO_OFF, ZERO_LEN);
	if (!rc && (dev->flags & BLKDEV_F_DISCARD))
		rc = blkdev_discard(dev, DISCARD_OFF, DISCARD_LEN);
	if (rc)
		return rc;
	struct region b = { BULK_OFF, BULK_LEN, BULK_REQ, bulk, false };
	fill_pattern(bulk, BULK_OFF, BULK_LEN);
	uint64_t t0 = clock_ns();
	rc = run_regions(dev, BLKDEV_WRITE, &b, 1);
	if (!rc)
		rc = blkdev_flush(dev);
	printf("selftest %s: wrote 8 MiB as %llu x 16 KiB + flush in %llu ms (%u KiB/s)\n",
	       dev->serial, (unsigned long long)BULK_COUNT, (unsigned long long)ms_since(t0),
	       kib_per_s(BULK_LEN, t0));
	return rc;
}

static int read_and_verify(struct blkdev *dev, struct region *r, uint8_t *bulk)
{
	for (unsigned i = 0; i < R_COUNT; i++)
		memset(r[i].buf, 0xa5, r[i].len);
	int rc = run_regions(dev, BLKDEV_READ, r, R_COUNT);
	for (unsigned i = 0; i < R_COUNT && !rc; i++)
		rc = verify(r[i].buf, r[i].off, r[i].len, r[i].zeros);
	if (rc)
		return rc;
	struct region b = { BULK_OFF, BULK_LEN, BULK_REQ, bulk, false };
	memset(bulk, 0xa5, BULK_LEN);
	uint64_t t0 = clock_ns();
	rc = run_regions(dev, BLKDEV_READ, &b, 1);
	printf("selftest %s: read 8 MiB as %llu x 16 KiB in %llu ms (%u KiB/s)\n", dev->serial,
	       (unsigned long long)BULK_COUNT, (unsigned long long)ms_since(t0),
	       kib_per_s(BULK_LEN, t0));
	return rc ? rc : verify(bulk, BULK_OFF, BULK_LEN, false);
}

/* Requests the blkdev layer must refuse without touching the device. */
static int check_refusals(struct blkdev *dev, uint8_t *buf)
{
	uint64_t ss = dev->sector_size, cap = dev->capacity;
	struct { uint64_t off; size_t len; const char *what; } bad[] = {
		{ cap, ss, "read at the capacity" },
		{ cap - ss, 2 * ss, "read across the end" },
		{ ss / 2, ss, "misaligned read" },
		{ UINT64_MAX - ss + 1, ss, "read at offset 2^64 - sector" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = blkdev_read(dev, bad[i].off, buf, bad[i].len);
		if (rc != -EINVAL) {
			printf("selftest: %s: expected -EINVAL, got %d\n", bad[i].what, rc);
			return -EIO;
		}
	}
	int rc = blkdev_write(dev, cap, buf, ss);
	if (rc != -EINVAL) {
		printf("selftest: write at the capacity: expected -EINVAL, got %d\n", rc);
		return -EIO;
	}
	return 0;
}

int blk_selftest(struct blkdev *dev)
{
	if (dev->capacity < MIN_CAPACITY || dev->sector_size > SMALL_LEN ||
	    (dev->flags & BLKDEV_F_READ_ONLY)) {
		printf("selftest %s: needs a writable disk of at least 13 MiB, sectors <= 4 KiB\n",
		       dev->serial);
		return -EINVAL;
	}
	struct region r[R_COUNT];
	uint8_t *misc = malloc(SMALL_COUNT * SMALL_LEN + BIG_LEN + ZERO_LEN +
			       TAIL_SECTORS * dev->sector_size);
	uint8_t *bulk = malloc(BULK_LEN);
	int rc = misc && bulk ? 0 : -ENOMEM;
	if (!rc) {
		layout(r, misc, dev);
		rc = write_all(dev, r, bulk);
	}
	if (!rc)
		rc = read_and_verify(dev, r, bulk);
	if (!rc)
		rc = check_refusals(dev, misc);
	free(misc);
	free(bulk);
	return rc;
}
