/* Host tests of the crash-simulating memory disk (tests/support/memdisk.c). */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "support/memdisk.h"
#include "task.h"

static struct memdisk *new_disk(uint64_t seed)
{
	struct memdisk_opts o = { .capacity = 64 * 1024, .trace = true, .seed = seed };
	return memdisk_new(&o);
}

struct job {
	struct blkdev *dev;
	uint64_t offset;
	uint8_t fill;
	size_t len;
	bool flush_after;
	int rc;
};

static void write_job(void *arg)
{
	struct job *j = arg;
	uint8_t *buf = malloc(j->len);
	memset(buf, j->fill, j->len);
	j->rc = blkdev_write(j->dev, j->offset, buf, j->len);
	if (!j->rc && j->flush_after)
		j->rc = blkdev_flush(j->dev);
	free(buf);
}

static int run_write(struct memdisk *md, uint64_t off, uint8_t fill, size_t len, bool flush)
{
	struct job j = { memdisk_blkdev(md), off, fill, len, flush, 1 };
	task_spawn(write_job, &j);
	CHECK(task_run_all(memdisk_poll, md));
	return j.rc;
}

static void test_starts_with_garbage_and_reads_back_writes(void)
{
	struct memdisk *md = new_disk(1);
	CHECK(memdisk_is_garbage(memdisk_data(md), 512));
	CHECK_EQ(0, run_write(md, 512, 0x5a, 1024, false));
	CHECK_EQ(0x5a, memdisk_data(md)[512]);
	CHECK_EQ(0x5a, memdisk_data(md)[1535]);
	CHECK(!memdisk_is_garbage(memdisk_data(md) + 512, 1024));
	CHECK(memdisk_is_garbage(memdisk_data(md) + 1536, 512));
	memdisk_free(md);
}

static void test_completes_out_of_order(void)
{
	/* Eight concurrent writers: some seed must complete them other than FIFO. */
	struct memdisk *md = new_disk(7);
	struct job jobs[8];
	for (int i = 0; i < 8; i++) {
		jobs[i] = (struct job){ memdisk_blkdev(md), (uint64_t)i * 512, (uint8_t)i, 512,
			false, 1 };
		task_spawn(write_job, &jobs[i]);
	}
	CHECK(task_run_all(memdisk_poll, md));
	int last = -1, out_of_order = 0;
	for (size_t i = 0; i < memdisk_trace_len(md); i++) {
		const struct memdisk_event *ev = memdisk_trace_event(md, i);
		if (ev->kind == MEMDISK_EV_WRITE_DONE) {
			out_of_order += (int)ev->id < last;
			last = (int)ev->id;
		}
	}
	CHECK(out_of_order > 0);
	memdisk_free(md);
}

/* Replays to the end and returns the durable byte at off after a cut keeping `keep`. */
static uint8_t byte_after_cut(struct memdisk *md, uint64_t off, uint64_t keep, int torn,
			      uint64_t tear_bits, size_t *n_unflushed)
{
	struct memdisk_opts o = { .capacity = 64 * 1024 };
	struct memdisk *after = memdisk_new(&o);
	struct memdisk_replay r;
	CHECK_EQ(0, memdisk_replay_init(&r, md));
	while (memdisk_replay_step(&r))
		;
	*n_unflushed = r.n_unflushed;
	struct memdisk_cut cut = { keep, torn, tear_bits };
	memdisk_power_cut(&r, &cut, after);
	uint8_t b = memdisk_data(after)[off];
	memdisk_replay_free(&r);
	memdisk_free(after);
	return b;
}

static void test_unflushed_write_may_be_lost_or_kept(void)
{
	struct memdisk *md = new_disk(3);
	CHECK_EQ(0, run_write(md, 0, 0x11, 512, true));
	CHECK_EQ(0, run_write(md, 0, 0x22, 512, false));
	size_t n;
	CHECK_EQ(0x11, byte_after_cut(md, 0, 0, -1, 0, &n));
	CHECK_EQ(1, n);
	CHECK_EQ(0x22, byte_after_cut(md, 0, 1, -1, 0, &n));
	memdisk_free(md);
}

static void test_torn_write_lands_chosen_sectors(void)
{
	struct memdisk *md = new_disk(3);
	CHECK_EQ(0, run_write(md, 0, 0x33, 2048, false));
	size_t n;
	/* Sectors 0 and 2 land, 1 and 3 keep their old (garbage) contents. */
	CHECK_EQ(0x33, byte_after_cut(md, 0, 0, 0, 0x5, &n));
	CHECK_EQ('S', byte_after_cut(md, 512, 0, 0, 0x5, &n));
	CHECK_EQ(0x33, byte_after_cut(md, 1024, 0, 0, 0x5, &n));
	CHECK_EQ('S', byte_after_cut(md, 1536, 0, 0, 0x5, &n));
	memdisk_free(md);
}

static void test_replay_tracks_flush_boundaries(void)
{
	struct memdisk *md = new_disk(5);
	CHECK_EQ(0, run_write(md, 0, 0x44, 512, true));
	struct memdisk_replay r;
	CHECK_EQ(0, memdisk_replay_init(&r, md));
	size_t max_unflushed = 0;
	while (memdisk_replay_step(&r)) {
		const struct memdisk_event *ev = memdisk_trace_event(md, r.events - 1);
		if (r.n_unflushed > max_unflushed)
			max_unflushed = r.n_unflushed;
		if (ev->kind == MEMDISK_EV_FLUSH_DONE)
			CHECK_EQ(0x44, r.durable[0]);
		else
			CHECK_EQ('S', r.durable[0]);
	}
	CHECK_EQ(1, max_unflushed);
	CHECK_EQ(0, r.n_unflushed);
	memdisk_replay_free(&r);
	memdisk_free(md);
}

static void count_done(struct blkdev_req *req, int status)
{
	(void)status;
	(*(int *)req->priv)++;
}

static void test_flush_covers_only_writes_completed_before_it(void)
{
	/* Write and flush submitted together: the write completes after the flush was
	 * submitted, so that flush must not make it durable. */
	struct memdisk *md = new_disk(11);
	uint8_t buf[512];
	memset(buf, 0x66, sizeof(buf));
	int done = 0;
	struct blkdev_req w = { .op = BLKDEV_WRITE, .offset = 0, .buf = buf, .len = 512,
		.done = count_done, .priv = &done };
	struct blkdev_req f = { .op = BLKDEV_FLUSH, .done = count_done, .priv = &done };
	blkdev_submit(memdisk_blkdev(md), &w);
	blkdev_submit(memdisk_blkdev(md), &f);
	while (memdisk_poll(md))
		;
	CHECK_EQ(2, done);
	size_t n;
	CHECK_EQ('S', byte_after_cut(md, 0, 0, -1, 0, &n));
	CHECK_EQ(1, n);
	memdisk_free(md);
}

static void test_injected_error_and_space_limit(void)
{
	struct memdisk *md = new_disk(2);
	memdisk_fail_request(md, 2, -EIO, false);
	CHECK_EQ(0, run_write(md, 0, 1, 512, false));
	CHECK_EQ(-EIO, run_write(md, 0, 2, 512, false));
	CHECK_EQ(1, memdisk_data(md)[0]);
	CHECK_EQ(0, run_write(md, 0, 3, 512, false));
	memdisk_fail_request(md, 1, -EIO, true);
	CHECK_EQ(-EIO, run_write(md, 0, 4, 512, false));
	CHECK_EQ(-EIO, run_write(md, 0, 5, 512, false));
	memdisk_fail_request(md, 0, 0, false);
	memdisk_set_space_limit(md, 4096);
	CHECK_EQ(0, run_write(md, 3584, 6, 512, false));
	CHECK_EQ(-ENOSPC, run_write(md, 3584, 7, 1024, false));
	memdisk_free(md);
}

int main(void)
{
	RUN(test_starts_with_garbage_and_reads_back_writes);
	RUN(test_completes_out_of_order);
	RUN(test_unflushed_write_may_be_lost_or_kept);
	RUN(test_torn_write_lands_chosen_sectors);
	RUN(test_replay_tracks_flush_boundaries);
	RUN(test_flush_covers_only_writes_completed_before_it);
	RUN(test_injected_error_and_space_limit);
	return check_report("test_memdisk");
}
