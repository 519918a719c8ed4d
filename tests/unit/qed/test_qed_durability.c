/* Host tests of the durable end and need-check under concurrency (regressions found by
 * the crash enumeration): a flush must not stop the durable end below clusters of writes
 * acknowledged before it; a write over a zero cluster of a backed image must survive the
 * check; an allocating write must not ride on a need-check bit that a flush is clearing,
 * nor on one whose header is written but not yet flushed (found by the power-cut test).
 * The test disk holds chosen writes (or flushes) back so that others overtake them. */
#include "qed_jobs.h"
#include "qedtest_util.h"

#define MiB (1024ull * 1024)
#define GiB (1024ull * MiB)
#define CS (64u * 1024)

static struct testdisk *disk;
static struct qed_image *img;

static struct qed_open_opts opts;

static void open_clean_with_one_cluster(uint64_t image_size)
{
	struct qed_create_opts c = { .image_size = image_size,
				     .backing_file = opts.open_backing ? "base" : NULL };
	CHECK_EQ(0, qed_create(&disk->dev, &c));
	CHECK_EQ(0, qed_open(&disk->dev, &opts, &img));
	static uint8_t first[4096];
	CHECK_EQ(0, qed_write(img, 0, first, sizeof(first))); /* cluster 5, table 6..9 */
	CHECK_EQ(0, qed_flush(img));
	CHECK_EQ(0, qed_flush(img));
	CHECK(!disk_need_check(disk));
}

/* Power cut without a flush: the image is abandoned (its memory too) and reopened. */
static void crash_and_reopen(void)
{
	img = NULL;
	CHECK_EQ(0, qed_open(&disk->dev, &opts, &img));
}

static void case_flush_covers_writes_acked_before_it(void *arg)
{
	(void)arg;
	open_clean_with_one_cluster(64 * MiB);
	static uint8_t a[4096], b[4096], back[4096];
	fill_pattern(a, sizeof(a), 1);
	fill_pattern(b, sizeof(b), 2);
	/* A allocates cluster 10 first, but its data write is slow; B allocates cluster 11
	 * and is acknowledged; then the flush. */
	disk->hold_off = 10 * CS;
	disk->hold_len = CS;
	disk->hold_polls = 30;
	struct job jobs[3] = {
		{ .off = CS, .len = 4096, .buf = a },
		{ .off = 2 * CS, .len = 4096, .buf = b },
		{ .buf = NULL /* a flush */ },
	};
	jobs[2].after = &jobs[1].done;
	run_jobs(img, jobs, 3);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(0, jobs[i].rc);
	/* The durable end covers B's cluster, though A's was still being written. */
	CHECK(disk_durable_end(disk) >= 12 * CS);
	crash_and_reopen();
	CHECK_EQ(0, qed_read(img, 2 * CS, back, sizeof(back)));
	CHECK_MEM_EQ(b, back, sizeof(b));
	CHECK_EQ(0, qed_close(img));
}

/* The converse: a flush waiting for an older allocation (A) to be written must stop the
 * durable end below a newer one (B) that allocated meanwhile and is still being written
 * when the flush is sent: B's data may miss that flush while its L2 entry lands, and the
 * check trusts entries below the durable end. */
static void case_flush_stops_below_writes_still_in_flight(void *arg)
{
	(void)arg;
	open_clean_with_one_cluster(64 * MiB);
	static uint8_t a[4096], b[4096];
	CHECK_EQ(0, qed_write(img, 3 * CS, a, sizeof(a))); /* cluster 10 */
	CHECK_EQ(0, qed_flush(img));   /* need-check stays set: no header write for A, B */
	CHECK(disk_need_check(disk));
	CHECK_EQ(11 * CS, disk_durable_end(disk));
	fill_pattern(a, sizeof(a), 7);
	fill_pattern(b, sizeof(b), 8);
	/* A (cluster 11) is being written when the flush starts, which waits for it; B
	 * (cluster 12) allocates meanwhile and its data write is slow. */
	disk->hold_off = 12 * CS;
	disk->hold_len = CS;
	disk->hold_polls = 30;
	struct job jobs[3] = {
		{ .off = CS, .len = 4096, .buf = a },
		{ .buf = NULL /* a flush */ },
		{ .off = 2 * CS, .len = 4096, .buf = b },
	};
	run_jobs(img, jobs, 3);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(0, jobs[i].rc);
	CHECK_EQ(12 * CS, disk_durable_end(disk)); /* A's cluster, not B's */
	CHECK_EQ(0, qed_close(img));
}

static struct testdisk *base_disk;
static struct volume base_vol;

static void case_write_over_zero_cluster_of_backed_image(void *arg)
{
	(void)arg;
	base_disk = testdisk_new(16 * MiB, 512); /* unwritten: reads 0xdb */
	rawvol_init(&base_vol, base_disk, 16 * MiB);
	opts.open_backing = open_ctx_volume;
	opts.backing_ctx = &base_vol;
	open_clean_with_one_cluster(16 * MiB);
	CHECK_EQ(0, qed_zero(img, 3 * CS, CS));
	CHECK_EQ(0, qed_flush(img));
	static uint8_t data[4096], back[CS];
	fill_pattern(data, sizeof(data), 3);
	CHECK_EQ(0, qed_write(img, 3 * CS + 8192, data, sizeof(data)));
	crash_and_reopen(); /* no flush after the write */
	CHECK_EQ(0, qed_read(img, 3 * CS, back, CS));
	/* Zeros (the write lost) or zeros around the data, never the backing bytes. */
	CHECK(is_zero(back, 8192));
	CHECK(is_zero(back + 8192 + 4096, CS - 8192 - 4096));
	CHECK(is_zero(back + 8192, 4096) || memcmp(back + 8192, data, 4096) == 0);
	CHECK_EQ(0, qed_close(img));
	opts.open_backing = NULL;
	testdisk_free(base_disk);
}

static void case_allocation_during_need_check_clear(void *arg)
{
	(void)arg;
	open_clean_with_one_cluster(64 * MiB);
	static uint8_t a[4096], back[4096];
	CHECK_EQ(0, qed_write(img, CS, a, sizeof(a)));
	CHECK_EQ(0, qed_flush(img));   /* allocations since the last flush: bit kept */
	CHECK(disk_need_check(disk));
	/* The next flush clears the bit; its header write is slow, and an allocating write
	 * starts while it is on its way. */
	struct completion header_sent;
	completion_init(&header_sent);
	disk->hold_off = 0;
	disk->hold_len = 512;
	disk->hold_polls = 10;
	disk->hold_seen = &header_sent;
	fill_pattern(a, sizeof(a), 4);
	struct job jobs[2] = {
		{ .buf = NULL /* a flush */ },
		{ .off = 20 * CS, .len = 4096, .buf = a, .after = &header_sent },
	};
	run_jobs(img, jobs, 2);
	CHECK_EQ(0, jobs[0].rc);
	CHECK_EQ(0, jobs[1].rc);
	CHECK(disk_need_check(disk)); /* set again for the new allocation */
	crash_and_reopen();
	CHECK_EQ(0, qed_read(img, 20 * CS, back, sizeof(back)));
	CHECK(is_zero(back, sizeof(back)) || memcmp(back, a, sizeof(a)) == 0);
	CHECK_EQ(0, qed_close(img));
}

/* Need-check is cleared only when idle: a flush with nothing claimed since the last one
 * (F2) still finds X and W in flight. X links a new L2 table and holds l1_lock while its
 * L1 write is slow; W waits for the lock, and only then allocates its own table, past
 * anything a flush made durable. Had F2 cleared the bit, W's L1 entry would point past
 * the durable end of an image that opens without a check. */
static void case_need_check_kept_while_allocations_link(void *arg)
{
	(void)arg;
	open_clean_with_one_cluster(16 * GiB);
	static uint8_t x[4096], w[4096], back[4096];
	CHECK_EQ(0, qed_write(img, 3 * CS, x, sizeof(x)));
	CHECK_EQ(0, qed_flush(img)); /* need-check set, and kept: allocations since the last */
	CHECK(disk_need_check(disk));
	fill_pattern(x, sizeof(x), 9);
	fill_pattern(w, sizeof(w), 10);
	disk->hold_off = CS; /* the L1 table */
	disk->hold_len = 4 * CS;
	disk->hold_polls = 40;
	struct job jobs[4] = {
		{ .off = 2 * GiB, .len = 4096, .buf = x },  /* a new L2 table */
		{ .off = 4 * GiB, .len = 4096, .buf = w },  /* another, after X's */
		{ .buf = NULL /* F1: claims since the last flush, keeps the bit */ },
		{ .buf = NULL /* F2: nothing claimed since F1, but X and W in flight */ },
	};
	jobs[3].after = &jobs[2].done;
	run_jobs(img, jobs, 4);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(0, jobs[i].rc);
	CHECK(disk_need_check(disk));
	crash_and_reopen();
	struct qed_check_result r;
	CHECK_EQ(0, qed_check(img, false, &r));
	CHECK_EQ(0, r.corruptions);
	CHECK_EQ(0, qed_read(img, 4 * GiB, back, sizeof(back)));
	CHECK(is_zero(back, sizeof(back)) || memcmp(back, w, sizeof(w)) == 0);
	CHECK_EQ(0, qed_close(img));
}

/* A sets need-check: its header write completes, its flush is held back. B allocates
 * meanwhile. Until that flush has completed, the header saying "needs check" may still
 * be lost in a power cut while B's L2 entry survives: an entry past the durable end
 * under a clear bit, no check at the next open, and its cluster handed out again. So no
 * table may be written (B must wait for the bit to be durable to link); B's data may
 * go (a whole new cluster that nothing references yet). */
static void case_allocation_waits_for_durable_need_check(void *arg)
{
	(void)arg;
	open_clean_with_one_cluster(64 * MiB);
	static uint8_t a[4096], b[4096], back[4096];
	fill_pattern(a, sizeof(a), 5);
	fill_pattern(b, sizeof(b), 6);
	struct completion flush_sent;
	completion_init(&flush_sent);
	disk->hold_len = 0; /* no write held: only flushes */
	disk->hold_flushes = true;
	disk->hold_polls = 20;
	disk->hold_seen = &flush_sent;
	disk->writes_under_held_flush = 0;
	struct job jobs[2] = {
		{ .off = CS, .len = 4096, .buf = a },
		{ .off = 2 * CS, .len = 4096, .buf = b, .after = &flush_sent },
	};
	run_jobs(img, jobs, 2);
	CHECK_EQ(0, jobs[0].rc);
	CHECK_EQ(0, jobs[1].rc);
	CHECK(disk->writes_under_held_flush <= 1);
	for (unsigned i = 0; i < disk->writes_under_held_flush && i < 8; i++) {
		CHECK_EQ(11 * CS, disk->under_held_flush_off[i]); /* B's cluster (A took 10) */
		CHECK_EQ(CS, disk->under_held_flush_len[i]);
	}
	CHECK(disk_need_check(disk));
	disk->hold_flushes = false;
	crash_and_reopen(); /* the check runs: both writes read back whole or not at all */
	CHECK_EQ(0, qed_read(img, CS, back, sizeof(back)));
	CHECK(is_zero(back, sizeof(back)) || memcmp(back, a, sizeof(a)) == 0);
	CHECK_EQ(0, qed_read(img, 2 * CS, back, sizeof(back)));
	CHECK(is_zero(back, sizeof(back)) || memcmp(back, b, sizeof(b)) == 0);
	CHECK_EQ(0, qed_close(img));
}

#define RUN_TASK(fn) RUN_DISK_CASE(64 * MiB, opts = test_opts(), fn)

int main(void)
{
	RUN_TASK(case_flush_covers_writes_acked_before_it);
	RUN_TASK(case_flush_stops_below_writes_still_in_flight);
	RUN_TASK(case_write_over_zero_cluster_of_backed_image);
	RUN_TASK(case_allocation_during_need_check_clear);
	RUN_TASK(case_allocation_waits_for_durable_need_check);
	RUN_TASK(case_need_check_kept_while_allocations_link);
	return check_report("test_qed_durability");
}
