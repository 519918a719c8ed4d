/*
 * Workloads for the crash enumeration test (test_crash.c) and the fault sweep
 * (test_qed_faults.c): each runs in a task against an open image and issues its writes
 * through the guest model, so every acknowledgement and flush is in the trace. At the
 * end, recovery_verify(): what both tests require of a recovered image.
 */
#ifndef QEDBOX_CRASH_WORKLOADS_H
#define QEDBOX_CRASH_WORKLOADS_H

#include <stdio.h>

#include "support/guest_model.h"
#include "task.h"

#define CLUSTER 4096u
#define TABLE_SIZE 2u
#define IMAGE_SIZE (16u << 20)      /* 4 L2 tables of 1024 entries x 4 KiB */
#define L2_SPAN ((uint64_t)TABLE_SIZE * CLUSTER / 8 * CLUSTER)
#define DISK_CAPACITY (2u << 20)

struct wl_ctx {
	struct guest_model *g;
	struct qed_image *img;
	uint64_t rng;
	int expect_err;         /* the one errno a failing operation may return (faults) */
	int errors;             /* operations the core failed: a workload must not see any */
	int bad_status;         /* ... with another status than expect_err */
};

static uint64_t wl_rand(struct wl_ctx *c)
{
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	return c->rng;
}

/* Counts a failed operation, and one that failed with an unexpected status. */
static void wl_status(struct wl_ctx *c, int rc)
{
	c->errors += rc != 0;
	c->bad_status += rc != 0 && rc != c->expect_err;
}

static void wl_write(struct wl_ctx *c, uint64_t off, uint64_t len)
{
	wl_status(c, guest_write(c->g, c->img, off, len));
}

static void wl_zero_range(struct wl_ctx *c, uint64_t off, uint64_t len)
{
	wl_status(c, guest_zero(c->g, c->img, off, len));
}

static void wl_flush(struct wl_ctx *c)
{
	wl_status(c, guest_flush(c->g, c->img));
}

/* Sequential writes of 2-6 KiB (so some straddle clusters), a flush every third. */
static void wl_sequential(struct wl_ctx *c)
{
	uint64_t off = 0;
	for (int i = 0; i < 14; i++) {
		uint64_t len = (4 + wl_rand(c) % 9) * 512;
		wl_write(c, off, len);
		off += len;
		if (i % 3 == 2)
			wl_flush(c);
	}
}

/* Random sector-aligned writes in the first 256 KiB: new clusters and overwrites. */
static void wl_random(struct wl_ctx *c)
{
	for (int i = 0; i < 16; i++) {
		uint64_t len = (1 + wl_rand(c) % 12) * 512;
		uint64_t off = wl_rand(c) % (256 * 1024 / 512 - 16) * 512;
		wl_write(c, off, len);
		if (wl_rand(c) % 4 == 0)
			wl_flush(c);
	}
}

/* Writes that each need a new L2 table, with overwrites in between. */
static void wl_new_tables(struct wl_ctx *c)
{
	for (uint64_t t = 0; t < IMAGE_SIZE / L2_SPAN; t++) {
		wl_write(c, t * L2_SPAN + 3 * CLUSTER + 512, 2048);
		if (t == 1)
			wl_flush(c);
		wl_write(c, t * L2_SPAN + 1024, 1536);
	}
	wl_write(c, 2 * L2_SPAN - CLUSTER, 2 * CLUSTER); /* across two tables */
}

/* Partial-cluster writes over a backing file: the rest of each cluster comes from it. */
static void wl_backing(struct wl_ctx *c)
{
	for (int i = 0; i < 10; i++) {
		uint64_t cl = wl_rand(c) % 48;
		uint64_t sec = wl_rand(c) % 7;
		wl_write(c, cl * CLUSTER + sec * 512, 512 * (1 + wl_rand(c) % (8 - sec)));
		if (i % 4 == 3)
			wl_flush(c);
	}
	wl_write(c, L2_SPAN + 512, 512);
}

/* Zeroing: whole clusters (zero clusters) and partial ranges over written data. */
static void wl_zero(struct wl_ctx *c)
{
	wl_write(c, 0, 6 * CLUSTER);
	wl_flush(c);
	wl_zero_range(c, CLUSTER, 2 * CLUSTER);
	wl_zero_range(c, 4 * CLUSTER + 1024, 1024);
	wl_zero_range(c, 10 * CLUSTER, CLUSTER); /* unallocated */
	wl_flush(c);
	wl_write(c, CLUSTER + 512, 512); /* writes into a zero cluster */
	wl_zero_range(c, 0, CLUSTER);
	wl_write(c, 12 * CLUSTER, 3 * CLUSTER);
	wl_zero_range(c, 12 * CLUSTER, 3 * CLUSTER);
	wl_write(c, 13 * CLUSTER + 1024, 1024);
	wl_flush(c);
	wl_zero_range(c, L2_SPAN, 2 * CLUSTER); /* no L2 yet */
}

/* Tasks of one workload sharing its context: lane i runs fn(&arg[i]); wl_run_lanes()
 * returns when all have. */
#define WL_LANES_MAX 8
struct lane_arg {
	struct wl_ctx *c;
	unsigned lane;
	unsigned *running;
	struct completion *all_done;
};

static void lane_finished(struct lane_arg *a)
{
	if (--*a->running == 0)
		completion_done(a->all_done, 0);
}

static void wl_run_lanes(struct wl_ctx *c, void (*fn)(void *), unsigned lanes)
{
	struct lane_arg args[WL_LANES_MAX];
	unsigned running = lanes;
	struct completion all_done;
	completion_init(&all_done);
	for (unsigned i = 0; i < lanes; i++) {
		args[i] = (struct lane_arg){ c, i, &running, &all_done };
		if (!task_spawn(fn, &args[i]))
			c->errors++;
	}
	completion_wait(&all_done);
}

/* Many tasks in flight: each writes its own sectors of the same clusters, so allocating
 * writes to one cluster race; one of them flushes now and then. */
static void concurrent_lane(void *p)
{
	struct lane_arg *a = p;
	for (unsigned cl = 0; cl < 6; cl++) {
		uint64_t base = (cl * 5 % 7) * CLUSTER + (cl >= 3 ? L2_SPAN : 0);
		wl_write(a->c, base + a->lane * 512, 512);
		if (a->lane == 0 && cl % 2 == 1)
			wl_flush(a->c);
	}
	lane_finished(a);
}

static void wl_concurrent(struct wl_ctx *c)
{
	wl_run_lanes(c, concurrent_lane, 8);
}

/* Mixed, over a backing file: four tasks doing random writes, zeroing and flushes in
 * their own 64 KiB stripes, so allocations, COW and zero clusters interleave. */
struct mixed_arg {
	struct wl_ctx c;
	unsigned lane;
	unsigned *running;
	struct completion *all_done;
};

static void mixed_lane(void *p)
{
	struct mixed_arg *a = p;
	struct wl_ctx *c = &a->c;
	uint64_t stripe = a->lane * 16 * CLUSTER + (a->lane & 1) * L2_SPAN;
	for (int i = 0; i < 8; i++) {
		uint64_t off = stripe + wl_rand(c) % (16 * CLUSTER / 512 - 16) * 512;
		uint64_t r = wl_rand(c) % 8;
		if (r == 0)
			wl_zero_range(c, off / CLUSTER * CLUSTER, CLUSTER);
		else if (r == 1)
			wl_flush(c);
		else
			wl_write(c, off, (1 + wl_rand(c) % 16) * 512);
	}
	if (--*a->running == 0)
		completion_done(a->all_done, 0);
}

static void wl_mixed(struct wl_ctx *c)
{
	enum { LANES = 4 };
	struct mixed_arg args[LANES];
	unsigned running = LANES;
	struct completion all_done;
	completion_init(&all_done);
	for (unsigned i = 0; i < LANES; i++) {
		args[i] = (struct mixed_arg){ *c, i, &running, &all_done };
		args[i].c.rng = c->rng + i * 1000003;
		args[i].c.errors = args[i].c.bad_status = 0;
		if (!task_spawn(mixed_lane, &args[i]))
			c->errors++;
	}
	completion_wait(&all_done);
	for (unsigned i = 0; i < LANES; i++) {
		c->errors += args[i].c.errors;
		c->bad_status += args[i].c.bad_status;
	}
}

/* Two tasks race on the same clusters: one allocates a cluster (sector 0), the other
 * writes another sector of it and flushes at once, so its write may find the cluster's
 * entry set in memory while the allocation's L2 write is still in flight. */
static void race_lane(void *p)
{
	struct lane_arg *a = p;
	for (uint64_t cl = 0; cl < 12; cl++) {
		wl_write(a->c, (cl * 3 + 1) * CLUSTER + a->lane * 512, 512);
		if (a->lane == 1)
			wl_flush(a->c);
	}
	lane_finished(a);
}

static void wl_race(struct wl_ctx *c)
{
	wl_run_lanes(c, race_lane, 2);
}

/* Need-check cleared, then allocations again: an allocation after a flush that had
 * nothing to flush but the header (the second of two flushes in a row clears the bit)
 * must set need-check, durably, before it links anything; into an existing L2 table
 * (data and entry with no flush between), into a new one, and over a zero cluster. */
static void wl_flush_flush_alloc(struct wl_ctx *c)
{
	static const uint64_t where[] = {
		0, 5 * CLUSTER + 1024, L2_SPAN + 2 * CLUSTER, 9 * CLUSTER,
		3 * L2_SPAN + 512, 2 * CLUSTER, 20 * CLUSTER + 3072,
	};
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		wl_write(c, where[i], (1 + wl_rand(c) % 8) * 512);
		if (i == 3)
			wl_zero_range(c, 30 * CLUSTER, CLUSTER);
		wl_flush(c);
		wl_flush(c); /* quiet: clears need-check */
		if (i % 2)
			wl_write(c, where[i], 512); /* in place: no need-check needed */
	}
}

/* Allocations in flight while another task flushes in a loop: a flush that finds no new
 * allocation since the previous one must still keep need-check while one is under way.
 * One task writes new clusters (some in new L2 tables), the other only flushes. */
static void clear_lane(void *p)
{
	struct lane_arg *a = p;
	for (uint64_t i = 0; i < 10; i++) {
		if (a->lane == 1)
			wl_flush(a->c);
		else
			wl_write(a->c, (i % 3) * L2_SPAN + (4 * i + 1) * CLUSTER - 1024,
				 CLUSTER + 2048);
	}
	lane_finished(a);
}

static void wl_clear_during_alloc(struct wl_ctx *c)
{
	wl_write(c, 0, CLUSTER);
	wl_flush(c);
	wl_flush(c);
	wl_run_lanes(c, clear_lane, 2);
}

/* Writes of many clusters: 16 whole clusters at once into a new table, runs whose first
 * and last clusters are partial (each sent with its fill as one request), a small write
 * inside one cluster, a run over allocated and new clusters, one across two tables. */
static void wl_big_writes(struct wl_ctx *c)
{
	wl_write(c, 0, 16 * CLUSTER);
	wl_write(c, 16 * CLUSTER + 1024, 5 * CLUSTER);
	wl_flush(c);
	wl_write(c, 24 * CLUSTER + 512, 1024);
	wl_write(c, 20 * CLUSTER + 2048, 8 * CLUSTER);
	wl_write(c, L2_SPAN - 2 * CLUSTER - 512, 4 * CLUSTER);
	wl_flush(c);
	wl_write(c, 40 * CLUSTER, 8 * CLUSTER + 1536);
}

/* Multi-cluster writers at once, all into a table that none of them finds: one creates
 * it, the others link into it together; one lane flushes between its writes. */
static void big_lane(void *p)
{
	struct lane_arg *a = p;
	for (uint64_t i = 0; i < 3; i++) {
		uint64_t off = 2 * L2_SPAN + (a->lane * 3 + i) * 8 * CLUSTER + (i == 1 ? 1536 : 0);
		wl_write(a->c, off, i == 2 ? 5 * CLUSTER + 512 : 6 * CLUSTER);
		if (a->lane == 0 && i == 0)
			wl_flush(a->c);
	}
	lane_finished(a);
}

static void wl_big_lanes(struct wl_ctx *c)
{
	wl_run_lanes(c, big_lane, 4);
}

struct workload {
	const char *name;
	void (*run)(struct wl_ctx *c);
	bool backing;
	uint64_t seed;
	/* test_crash: fewer crash states is a failure (an enumeration that shrank). The
	 * minimums are 90% of the counts measured when they were committed (all re-measured
	 * when an allocating write began to send each partial cluster with its fill as one
	 * request: fewer writes in doubt at each cut, so fewer subsets). */
	uint64_t min_states;
};

static const struct workload workloads[] = {
	{ "sequential", wl_sequential, false, 11, 3641 },
	{ "random", wl_random, false, 23, 4821 },
	{ "new-l2-tables", wl_new_tables, false, 37, 554 },
	{ "backing-cow", wl_backing, true, 41, 1737 },
	{ "zeroing", wl_zero, false, 53, 1085 },
	{ "concurrent", wl_concurrent, false, 67, 20390 },
	{ "random-2", wl_random, false, 71, 3833 },
	{ "concurrent-2", wl_concurrent, false, 89, 20965 },
	{ "mixed-backing", wl_mixed, true, 97, 15205 },
	{ "mixed", wl_mixed, false, 101, 21295 },
	{ "alloc-race", wl_race, false, 107, 1277 },
	{ "alloc-race-2", wl_race, false, 109, 1404 },
	{ "flush-flush-alloc", wl_flush_flush_alloc, false, 113, 315 },
	{ "flush-flush-alloc-b", wl_flush_flush_alloc, true, 127, 293 },
	{ "clear-during-alloc", wl_clear_during_alloc, false, 131, 2466 },
	{ "clear-during-alloc-2", wl_clear_during_alloc, false, 137, 2762 },
	{ "big-writes", wl_big_writes, false, 139, 2472 },
	{ "big-writes-backing", wl_big_writes, true, 149, 2461 },
	{ "big-lanes", wl_big_lanes, false, 151, 8493 },
	{ "big-lanes-backing", wl_big_lanes, true, 157, 9147 },
};

/* ---- what a recovered image must show (test_crash after a power cut, test_qed_faults
 * after a device error) ------------------------------------------------------------ */
enum recovery_stage { REC_OK, REC_OPEN, REC_READ_ONLY, REC_REPAIR, REC_SECOND, REC_GUEST,
		      REC_CLOSE, REC_REOPEN, REC_STAGES };
static const char *const recovery_stage_names[REC_STAGES] = {
	"ok", "open", "read-only check", "check -r", "second check", "guest data/allocation",
	"close", "reopen without check",
};

static enum recovery_stage recovery_fail(enum recovery_stage st, char *why, size_t len,
					 const char *what, int rc, uint64_t n)
{
	snprintf(why, len, "%s: rc %d, %llu corruptions", what, rc, (unsigned long long)n);
	return st;
}

/* The checks of the opened image, in order, up to the first that fails. */
static enum recovery_stage recovery_checks(struct qed_image *img, const struct guest_model *g,
					   char *why, size_t len)
{
	struct qed_check_result r = { 0 };
	/* What the boot path left: a read-only look before anything repairs it. */
	int rc = qed_check(img, false, &r);
	if (rc || r.corruptions || r.check_errors)
		return recovery_fail(REC_READ_ONLY, why, len, "read-only check right after open",
				     rc, r.corruptions);
	rc = qed_check(img, true, &r);
	if (rc || r.corruptions > r.corruptions_fixed)
		return recovery_fail(REC_REPAIR, why, len, "check -r left corruption", rc,
				     r.corruptions - r.corruptions_fixed);
	rc = qed_check(img, false, &r);
	if (rc || r.corruptions || r.check_errors)
		return recovery_fail(REC_SECOND, why, len, "second check", rc, r.corruptions);
	if (!guest_verify_image(g, img, CLUSTER, why, len))
		return REC_GUEST;
	return REC_OK;
}

/* In a task: opens the image on dev (with the boot-time check); a read-only check then
 * finds no corruption, check -r leaves none, a second check finds none, every sector and
 * allocation is one the guest model allows (guest_verify_image), the image closes, and
 * it opens again without a check. Returns the first stage that failed (why says how),
 * or REC_OK. */
static enum recovery_stage recovery_verify(struct blkdev *dev, const struct qed_open_opts *opts,
					   const struct guest_model *g, char *why, size_t len)
{
	struct qed_image *img;
	int rc = qed_open(dev, opts, &img);
	if (rc)
		return recovery_fail(REC_OPEN, why, len, "open failed", rc, 0);
	enum recovery_stage st = recovery_checks(img, g, why, len);
	rc = qed_close(img);
	if (st == REC_OK && rc)
		st = recovery_fail(REC_CLOSE, why, len, "close failed", rc, 0);
	if (st != REC_OK)
		return st;
	/* A consistent image closes clean: it opens again without any check. */
	struct qed_open_opts plain = *opts;
	plain.check_on_open = false;
	rc = qed_open(dev, &plain, &img);
	if (rc)
		return recovery_fail(REC_REOPEN, why, len, "reopen needs a check again", rc, 0);
	qed_close(img);
	return REC_OK;
}

#endif
