/*
 * What an allocating write costs the device, counted on a memdisk (reads, writes and
 * flushes, with requests completing out of order): a whole-cluster write reads nothing
 * and writes its cluster and one L2 sector; a 1 MiB write over 16 clusters allocates
 * them together, writes its data in one request and the L2 sector once, with no flush;
 * a write covering no cluster whole sends each cluster with its fill as one request; the
 * first allocating write after open sends its data while need-check is being set; and
 * 32 writers into one new L2 table link with a few L2 writes, not one each in turn.
 * Everything written reads back after a flush and a power cut, and checks clean.
 * The "#" lines print the requests per operation (the figures of qed/README.md).
 */
#include <stdlib.h>

#include "check.h"
#include "qed.h"
#include "qed_jobs.h"
#include "support/memdisk.h"
#include "task.h"

#define MiB (1024ull * 1024)
#define CS (64u * 1024)            /* cluster size */
#define L2_SPAN (4ull * CS / 8 * CS) /* guest bytes one L2 table maps (2 GiB) */
#define IMAGE_SIZE (8ull << 30)
#define DISK_SIZE (64 * MiB)
#define DEPTH 32

static struct memdisk *md;
static struct qed_image *img;

static void fill_pattern(uint8_t *p, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)((seed * 2654435761u + i * 7 + (i >> 9)) >> 3);
}

static bool is_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* ---- running steps in a task on the memdisk ------------------------------------------ */
static void run(task_fn fn, void *arg)
{
	task_spawn(fn, arg);
	CHECK(task_run_all(memdisk_poll, md));
}

static void create_task(void *arg)
{
	(void)arg;
	struct qed_create_opts c = { .image_size = IMAGE_SIZE, .cluster_size = CS };
	CHECK_EQ(0, qed_create(memdisk_blkdev(md), &c));
}

static void open_task(void *arg)
{
	(void)arg;
	struct qed_open_opts o = { .check_on_open = true };
	CHECK_EQ(0, qed_open(memdisk_blkdev(md), &o, &img));
}

static void close_task(void *arg)
{
	(void)arg;
	CHECK_EQ(0, qed_close(img));
	img = NULL;
}

static void flush_task(void *arg)
{
	(void)arg;
	CHECK_EQ(0, qed_flush(img));
}

struct io {
	uint64_t off;
	size_t len;
	uint8_t *buf;
};

static void write_task(void *arg)
{
	struct io *io = arg;
	CHECK_EQ(0, qed_write(img, io->off, io->buf, io->len));
}

/* Reads [off, off+len) back and compares it with expect (NULL: zeros). */
static void read_task(void *arg)
{
	struct io *io = arg;
	uint8_t *back = malloc(io->len);
	CHECK_EQ(0, qed_read(img, io->off, back, io->len));
	if (io->buf)
		CHECK_MEM_EQ(io->buf, back, io->len);
	else
		CHECK(is_zero(back, io->len));
	free(back);
}

static void check_task(void *arg)
{
	uint64_t *allocated = arg;
	struct qed_check_result r;
	CHECK_EQ(0, qed_check(img, false, &r));
	CHECK_EQ(0, r.corruptions); /* a cluster allocated twice would be one */
	CHECK_EQ(0, r.leaks);
	CHECK_EQ(*allocated, r.allocated_clusters);
}

/* A fresh image with an L2 table for its first 2 GiB and need-check set: what the
 * writes after the first one of a run find. */
static void start(void)
{
	struct memdisk_opts mo = { .capacity = DISK_SIZE, .trace = true, .seed = 7 };
	md = memdisk_new(&mo);
	run(create_task, NULL);
	run(open_task, NULL);
	static uint8_t first[4096];
	fill_pattern(first, sizeof(first), 99);
	struct io io = { 0, sizeof(first), first };
	run(write_task, &io);
}

/* Flushes and cuts the power: the disk as the flush left it (none of the writes sent
 * after it) becomes the disk the image is opened on again, with the boot-time check,
 * and checked. (The image of before the cut is closed on the old disk, which is then
 * dropped: only its memory is freed.) */
static void power_cut_and_check(uint64_t allocated)
{
	run(flush_task, NULL);
	struct memdisk_opts mo = { .capacity = DISK_SIZE, .trace = true, .seed = 13 };
	struct memdisk *after_cut = memdisk_new(&mo);
	struct memdisk_replay r;
	CHECK_EQ(0, memdisk_replay_init(&r, md));
	while (memdisk_replay_step(&r))
		;
	struct memdisk_cut none = { .keep = 0, .torn = -1 };
	memdisk_power_cut(&r, &none, after_cut);
	memdisk_replay_free(&r);
	run(close_task, NULL);
	memdisk_free(md);
	md = after_cut;
	run(open_task, NULL);
	run(check_task, &allocated);
}

static void finish(void)
{
	if (img)
		run(close_task, NULL);
	memdisk_free(md);
	md = NULL;
}

/* Runs one write and returns what it cost the device. */
static struct memdisk_stats write_cost(struct io *io)
{
	struct memdisk_stats before, after;
	memdisk_get_stats(md, &before);
	run(write_task, io);
	memdisk_get_stats(md, &after);
	return (struct memdisk_stats){
		.reads = after.reads - before.reads,
		.writes = after.writes - before.writes,
		.flushes = after.flushes - before.flushes,
		.bytes_read = after.bytes_read - before.bytes_read,
		.bytes_written = after.bytes_written - before.bytes_written,
	};
}

static void report(const char *what, const struct memdisk_stats *s)
{
	printf("# alloc %-34s %llu reads, %llu writes (%llu bytes), %llu flushes\n", what,
	       (unsigned long long)s->reads, (unsigned long long)s->writes,
	       (unsigned long long)s->bytes_written, (unsigned long long)s->flushes);
}

/* ---- cases ------------------------------------------------------------------------- */
static void test_whole_cluster_write_reads_nothing(void)
{
	start();
	static uint8_t data[CS];
	fill_pattern(data, sizeof(data), 1);
	struct io io = { 5 * CS, sizeof(data), data };
	struct memdisk_stats s = write_cost(&io);
	report("64 KiB, one whole cluster:", &s);
	CHECK_EQ(0, s.reads);
	CHECK_EQ(2, s.writes); /* the cluster, then the L2 sector pointing at it */
	CHECK_EQ(CS + 512, s.bytes_written);
	CHECK_EQ(0, s.flushes);
	run(read_task, &io);
	power_cut_and_check(2);
	run(read_task, &io);
	finish();
}

static void test_1mib_write_allocates_16_clusters_at_once(void)
{
	start();
	static uint8_t data[MiB];
	fill_pattern(data, sizeof(data), 2);
	struct io io = { 16 * CS, sizeof(data), data };
	struct memdisk_stats s = write_cost(&io);
	report("1 MiB, 16 whole clusters:", &s);
	CHECK_EQ(0, s.reads);
	CHECK_EQ(2, s.writes); /* the data in one request, one L2 sector write */
	CHECK_EQ(MiB + 512, s.bytes_written);
	CHECK_EQ(0, s.flushes);
	run(read_task, &io);
	power_cut_and_check(17);
	run(read_task, &io);
	finish();
}

static void test_partial_cluster_write_is_one_request(void)
{
	start();
	static uint8_t data[4096];
	fill_pattern(data, sizeof(data), 3);
	struct io io = { 7 * CS + 8192, sizeof(data), data };
	struct memdisk_stats s = write_cost(&io);
	report("4 KiB inside a cluster:", &s);
	CHECK_EQ(0, s.reads);
	CHECK_EQ(2, s.writes); /* the cluster with its zero fill as one request, the L2 */
	CHECK_EQ(CS + 512, s.bytes_written);
	CHECK_EQ(0, s.flushes);
	run(read_task, &io);
	struct io around[2] = { { 7 * CS, 8192, NULL }, { 7 * CS + 12288, CS - 12288, NULL } };
	run(read_task, &around[0]); /* the fill: zeros, never the disk's stale bytes */
	run(read_task, &around[1]);
	power_cut_and_check(2);
	run(read_task, &io);
	run(read_task, &around[1]);
	finish();
}

static void test_unaligned_1mib_write(void)
{
	start();
	static uint8_t data[MiB];
	fill_pattern(data, sizeof(data), 4);
	struct io io = { 32 * CS + 4096, sizeof(data), data };
	struct memdisk_stats s = write_cost(&io);
	report("1 MiB over 17 clusters, unaligned:", &s);
	CHECK_EQ(0, s.reads);
	/* the head fill, the data in one request straight from the buffer (nothing
	 * copied), the tail fill, one L2 sector */
	CHECK_EQ(4, s.writes);
	CHECK_EQ(17 * CS + 512, s.bytes_written);
	CHECK_EQ(0, s.flushes);
	run(read_task, &io);
	struct io head = { 32 * CS, 4096, NULL }, tail = { 49 * CS + 4096, CS - 4096, NULL };
	run(read_task, &head);
	run(read_task, &tail);
	power_cut_and_check(18);
	run(read_task, &io);
	finish();
}

static void test_write_across_two_partial_clusters(void)
{
	start();
	static uint8_t data[8192];
	fill_pattern(data, sizeof(data), 8);
	struct io io = { 11 * CS - 4096, sizeof(data), data };
	struct memdisk_stats s = write_cost(&io);
	report("8 KiB across two clusters:", &s);
	CHECK_EQ(0, s.reads);
	CHECK_EQ(3, s.writes); /* each cluster with its fill as one request, the L2 */
	CHECK_EQ(2 * CS + 512, s.bytes_written);
	CHECK_EQ(0, s.flushes);
	run(read_task, &io);
	struct io around[2] = { { 10 * CS, CS - 4096, NULL }, { 11 * CS + 4096, CS - 4096, NULL } };
	run(read_task, &around[0]);
	run(read_task, &around[1]);
	power_cut_and_check(3);
	run(read_task, &io);
	run(read_task, &around[0]);
	finish();
}

static void test_in_place_4k_write_is_one_request(void)
{
	start();
	static uint8_t data[4096];
	fill_pattern(data, sizeof(data), 5);
	struct io io = { 4096, sizeof(data), data };
	struct memdisk_stats s = write_cost(&io);
	report("4 KiB in place (not allocating):", &s);
	CHECK_EQ(0, s.reads);
	CHECK_EQ(1, s.writes);
	CHECK_EQ(0, s.flushes);
	finish();
}

/* The first allocating write after open: need-check is set once (a header write and a
 * flush) while the data is already on its way, a new L2 table is written and flushed
 * before L1 points at it; the next allocating write sets nothing again. */
static void test_first_write_overlaps_need_check(void)
{
	struct memdisk_opts mo = { .capacity = DISK_SIZE, .trace = true, .seed = 11 };
	md = memdisk_new(&mo);
	run(create_task, NULL);
	run(open_task, NULL);
	memdisk_trace_reset(md);
	static uint8_t data[MiB];
	fill_pattern(data, sizeof(data), 6);
	struct io io = { L2_SPAN, sizeof(data), data };
	struct memdisk_stats s = write_cost(&io);
	report("1 MiB, first after open, new L2:", &s);
	CHECK_EQ(0, s.reads);
	CHECK_EQ(4, s.writes);  /* header, data, L2 table, L1 sector */
	CHECK_EQ(2, s.flushes); /* need-check; the table before L1 points at it */
	/* The data write was sent before the need-check flush completed. */
	size_t data_submit = SIZE_MAX, first_flush_done = SIZE_MAX;
	for (size_t i = 0; i < memdisk_trace_len(md); i++) {
		const struct memdisk_event *ev = memdisk_trace_event(md, i);
		uint64_t off, len;
		if (ev->kind == MEMDISK_EV_WRITE_SUBMIT && data_submit == SIZE_MAX) {
			memdisk_trace_write(md, ev->id, &off, &len);
			if (len == MiB)
				data_submit = i;
		}
		if (ev->kind == MEMDISK_EV_FLUSH_DONE && first_flush_done == SIZE_MAX)
			first_flush_done = i;
	}
	CHECK(data_submit < first_flush_done);
	static uint8_t more[CS];
	fill_pattern(more, sizeof(more), 7);
	struct io next = { L2_SPAN + 2 * MiB, sizeof(more), more };
	s = write_cost(&next);
	report("64 KiB, second after open:", &s);
	CHECK_EQ(2, s.writes); /* no header write: need-check stays set */
	CHECK_EQ(0, s.flushes);
	power_cut_and_check(16 + 1);
	run(read_task, &io);
	run(read_task, &next);
	finish();
}

/* DEPTH writers of their own cluster each, all in a region with no L2 table yet: one
 * creates the table, the others link into it together once it is there. */
struct depth_job {
	struct job jobs[DEPTH];
	uint8_t bufs[DEPTH][CS];
};

static void depth_task(void *arg)
{
	struct depth_job *d = arg;
	run_jobs(img, d->jobs, DEPTH);
}

static void test_depth_32_into_new_table(void)
{
	start();
	struct depth_job *d = calloc(1, sizeof(*d));
	for (int i = 0; i < DEPTH; i++) {
		fill_pattern(d->bufs[i], CS, 100 + (uint32_t)i);
		d->jobs[i] = (struct job){ .off = 2 * L2_SPAN + (uint64_t)(3 * i) * CS, .len = CS,
					   .buf = d->bufs[i] };
	}
	struct memdisk_stats before, after;
	memdisk_get_stats(md, &before);
	run(depth_task, d);
	memdisk_get_stats(md, &after);
	for (int i = 0; i < DEPTH; i++)
		CHECK_EQ(0, d->jobs[i].rc);
	uint64_t writes = after.writes - before.writes;
	/* DEPTH data writes, the table, the L1 sector, and the L2 writes of the writers
	 * that came after the table: a few groups, not one each (DEPTH - 1 in turn) */
	uint64_t l2_writes = writes - DEPTH - 2;
	printf("# alloc %d x 64 KiB at depth %d, new L2:   %llu writes (%llu L2 sector writes), "
	       "%llu flushes\n", DEPTH, DEPTH, (unsigned long long)writes,
	       (unsigned long long)l2_writes, (unsigned long long)(after.flushes - before.flushes));
	CHECK(l2_writes <= 3);
	CHECK_EQ(1, after.flushes - before.flushes);
	for (int i = 0; i < DEPTH; i++) {
		struct io io = { d->jobs[i].off, CS, d->bufs[i] };
		run(read_task, &io);
	}
	power_cut_and_check(1 + DEPTH);
	for (int i = 0; i < DEPTH; i++) {
		struct io io = { d->jobs[i].off, CS, d->bufs[i] };
		run(read_task, &io);
	}
	free(d);
	finish();
}

int main(void)
{
	RUN(test_whole_cluster_write_reads_nothing);
	RUN(test_1mib_write_allocates_16_clusters_at_once);
	RUN(test_partial_cluster_write_is_one_request);
	RUN(test_unaligned_1mib_write);
	RUN(test_write_across_two_partial_clusters);
	RUN(test_in_place_4k_write_is_one_request);
	RUN(test_first_write_overlaps_need_check);
	RUN(test_depth_32_into_new_table);
	return check_report("test_qed_alloc");
}
