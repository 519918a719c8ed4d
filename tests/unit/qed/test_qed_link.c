/* Host tests of when a new L2 entry becomes visible (regressions found by qedtest's
 * fault injection): an allocating write links its cluster into an existing L2 table with
 * a sector write; until that write has succeeded, nobody may act on the entry. A second
 * writer of the same cluster that found it early would write in place and be
 * acknowledged, yet its data would be lost when the L2 write fails (the entry taken
 * back), or after a power cut when a flush sent meanwhile did not cover the L2 write.
 * The test disk holds the L2 sector write back (and fails it) while the second writer
 * and a flush run. Also: concurrent entry updates of one table are written together. */
#include "qed_jobs.h"
#include "qedtest_util.h"

#define MiB (1024ull * 1024)
#define CS (64u * 1024)
#define GUEST_CLUSTER 3u

static struct testdisk *disk;
static struct qed_image *img;
static const struct qed_open_opts *opts;

/* A clean image whose first L2 table exists (guest cluster 0 written and flushed). */
static void open_with_l2_table(void)
{
	struct qed_create_opts c = { .image_size = 64 * MiB };
	CHECK_EQ(0, qed_create(&disk->dev, &c));
	CHECK_EQ(0, qed_open(&disk->dev, opts, &img));
	static uint8_t first[4096];
	CHECK_EQ(0, qed_write(img, 0, first, sizeof(first)));
	CHECK_EQ(0, qed_flush(img));
	CHECK_EQ(0, qed_flush(img));
	CHECK(!disk_need_check(disk));
}

/* The on-disk L2 entry of GUEST_CLUSTER, and the offset of the sector holding it. */
static uint64_t disk_l2_entry(uint64_t *sector)
{
	uint8_t e[8];
	struct qed_header h = disk_header(disk);
	testdisk_peek(disk, h.l1_table_offset, e, sizeof(e));
	uint64_t l2 = get_le64(e);
	if (sector)
		*sector = l2 + GUEST_CLUSTER * 8 / 512 * 512;
	testdisk_peek(disk, l2 + GUEST_CLUSTER * 8, e, sizeof(e));
	return get_le64(e);
}

/* Writer A allocates the cluster (first 4 KiB); its L2 sector write is held back. Once
 * it is on its way, writer B writes the next 4 KiB of the same cluster, then a flush. */
static void race_two_writers(struct job jobs[3], const uint8_t *a, const uint8_t *b,
			     int l2_write_status, void (*after_flush)(void))
{
	uint64_t l2_sector;
	CHECK_EQ(QED_CLUSTER_UNALLOCATED, disk_l2_entry(&l2_sector));
	struct completion l2_sent;
	completion_init(&l2_sent);
	disk->hold_off = l2_sector;
	disk->hold_len = 512;
	disk->hold_polls = 40;
	disk->hold_seen = &l2_sent;
	disk->hold_fail = l2_write_status;
	uint64_t base = GUEST_CLUSTER * CS;
	jobs[0] = (struct job){ .off = base, .len = 4096, .buf = a };
	jobs[1] = (struct job){ .off = base + 4096, .len = 4096, .buf = b, .after = &l2_sent };
	jobs[2] = (struct job){ .after = &jobs[1].done, .then = after_flush };
	run_jobs(img, jobs, 3);
}

static void case_failed_l2_write_loses_no_acknowledged_write(void *arg)
{
	(void)arg;
	open_with_l2_table();
	static uint8_t a[4096], b[4096], back[4096];
	fill_pattern(a, sizeof(a), 1);
	fill_pattern(b, sizeof(b), 2);
	struct job jobs[3];
	race_two_writers(jobs, a, b, -EIO, NULL);
	CHECK_EQ(-EIO, jobs[0].rc); /* A's link failed */
	CHECK_EQ(0, jobs[1].rc);
	CHECK_EQ(0, jobs[2].rc);
	uint64_t base = GUEST_CLUSTER * CS;
	CHECK_EQ(0, qed_read(img, base + 4096, back, sizeof(back)));
	CHECK_MEM_EQ(b, back, sizeof(b));

	/* Power cut after the flush: B was acknowledged before it, so it is there. */
	img = NULL;
	CHECK_EQ(0, qed_open(&disk->dev, opts, &img));
	CHECK_EQ(0, qed_read(img, base + 4096, back, sizeof(back)));
	CHECK_MEM_EQ(b, back, sizeof(b));
	CHECK_EQ(0, qed_read(img, base, back, sizeof(back)));
	CHECK(is_zero(back, sizeof(back)) || memcmp(back, a, sizeof(a)) == 0);
	struct qed_check_result r;
	CHECK_EQ(0, qed_check(img, false, &r));
	CHECK_EQ(0, r.corruptions);
	CHECK_EQ(0, qed_close(img));
}

/* Called by the flush job the moment the flush returned, before anything else runs. */
static const uint8_t *expected_b;
static void flushed_has_b_linked(void)
{
	uint64_t entry = disk_l2_entry(NULL);
	uint8_t back[4096];
	CHECK(entry != QED_CLUSTER_UNALLOCATED);
	if (entry == QED_CLUSTER_UNALLOCATED)
		return;
	CHECK(disk_durable_end(disk) >= entry + CS);
	testdisk_peek(disk, entry + 4096, back, sizeof(back));
	CHECK_MEM_EQ(expected_b, back, sizeof(back));
}

static void case_flush_covers_entry_an_in_place_write_used(void *arg)
{
	(void)arg;
	open_with_l2_table();
	static uint8_t a[4096], b[4096], back[4096];
	fill_pattern(a, sizeof(a), 3);
	fill_pattern(b, sizeof(b), 4);
	expected_b = b;
	struct job jobs[3];
	race_two_writers(jobs, a, b, 0, flushed_has_b_linked);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(0, jobs[i].rc);
	uint64_t base = GUEST_CLUSTER * CS;
	CHECK_EQ(0, qed_read(img, base, back, sizeof(back)));
	CHECK_MEM_EQ(a, back, sizeof(a));
	CHECK_EQ(0, qed_read(img, base + 4096, back, sizeof(back)));
	CHECK_MEM_EQ(b, back, sizeof(b));
	CHECK_EQ(0, qed_close(img));
}

/* Many allocating writes into one table at once: their entries are written together
 * (one L2 write for those that waited behind the first), wherever they lie in the table,
 * and all of them are there after a flush and a power cut. */
static void case_concurrent_links_written_together(void *arg)
{
	(void)arg;
	open_with_l2_table();
	enum { NEAR = 16, FAR = 7 };
	static uint8_t bufs[NEAR + FAR][CS], back[CS];
	uint64_t cluster[NEAR + FAR];
	struct job jobs[NEAR + FAR];
	for (int i = 0; i < NEAR + FAR; i++) {
		/* NEAR entries share the table's first sector; FAR ones lie in every
		 * other sector (2, 4, ...), so one group writes separate runs. */
		cluster[i] = i < NEAR ? 1u + (unsigned)i : 128u * (unsigned)(i - NEAR + 1) + 5;
		fill_pattern(bufs[i], CS, (uint32_t)(i + 10));
		jobs[i] = (struct job){ .off = cluster[i] * CS, .len = CS, .buf = bufs[i] };
	}
	unsigned writes = disk->count[BLKDEV_WRITE];
	run_jobs(img, jobs, NEAR);
	for (int i = 0; i < NEAR; i++)
		CHECK_EQ(0, jobs[i].rc);
	/* NEAR data writes, the need-check header, and the L2 writes: the first writer's,
	 * then one for all the others (one each would be NEAR). */
	unsigned l2_writes = disk->count[BLKDEV_WRITE] - writes - NEAR - 1;
	if (l2_writes > 2)
		fprintf(stderr, "  %u L2 writes for %d allocating writes, expected at most 2\n",
			l2_writes, NEAR);
	CHECK(l2_writes <= 2);
	run_jobs(img, jobs + NEAR, FAR);
	for (int i = NEAR; i < NEAR + FAR; i++)
		CHECK_EQ(0, jobs[i].rc);
	CHECK_EQ(0, qed_flush(img));

	img = NULL; /* power cut after the flush */
	CHECK_EQ(0, qed_open(&disk->dev, opts, &img));
	for (int i = 0; i < NEAR + FAR; i++) {
		CHECK_EQ(0, qed_read(img, cluster[i] * CS, back, CS));
		CHECK_MEM_EQ(bufs[i], back, CS);
	}
	struct qed_check_result r;
	CHECK_EQ(0, qed_check(img, false, &r));
	CHECK_EQ(0, r.corruptions);
	CHECK_EQ(0, r.leaks);
	CHECK_EQ(1 + NEAR + FAR, r.allocated_clusters);
	CHECK_EQ(0, qed_close(img));
}

#define RUN_TASK(fn) RUN_DISK_CASE(64 * MiB, struct qed_open_opts o = test_opts(); opts = &o, fn)

int main(void)
{
	RUN_TASK(case_failed_l2_write_loses_no_acknowledged_write);
	RUN_TASK(case_flush_covers_entry_an_in_place_write_used);
	RUN_TASK(case_concurrent_links_written_together);
	return check_report("test_qed_link");
}
