/* Host tests of device errors: each write and flush of an allocating write fails in turn;
 * the request reports -EIO, the image keeps working, and after a reopen the image is
 * consistent and the data of every successful write is there. Read errors too. */
#include "qedtest_util.h"

#define MiB (1024ull * 1024)
#define CS (64u * 1024)

static struct testdisk *disk;
static int fail_op;
static unsigned fail_nth;

static struct qed_image *open_image(void)
{
	struct qed_open_opts o = test_opts();
	struct qed_image *img = NULL;
	CHECK_EQ(0, qed_open(&disk->dev, &o, &img));
	return img;
}

static void arm(int op, unsigned nth)
{
	disk->fail_op = op;
	disk->fail_nth = disk->count[op] + nth;
}

static void disarm(void)
{
	disk->fail_op = -1;
}

static void verify_after_reopen(struct qed_image *img, uint64_t off, const uint8_t *data)
{
	static uint8_t back[4096];
	CHECK_EQ(0, qed_close(img));
	img = open_image();
	CHECK_EQ(0, qed_read(img, off, back, sizeof(back)));
	CHECK_MEM_EQ(data, back, sizeof(back));
	struct qed_check_result r;
	CHECK_EQ(0, qed_check(img, false, &r));
	CHECK_EQ(0, r.corruptions);
	CHECK_EQ(0, qed_close(img));
	CHECK(!disk_need_check(disk));
}

/* An allocating write (new L2 table when existing is false) with the chosen request
 * failing: -EIO, then the same write succeeds. */
static void case_allocating_write_fails(void *arg)
{
	bool existing = arg != NULL;
	struct qed_create_opts c = { .image_size = 64 * MiB };
	CHECK_EQ(0, qed_create(&disk->dev, &c));
	struct qed_image *img = open_image();
	static uint8_t data[4096], back[4096];
	uint64_t off = existing ? 3 * CS + 8192 : 8192;
	if (existing) {
		CHECK_EQ(0, qed_write(img, 0, data, sizeof(data)));
		CHECK_EQ(0, qed_flush(img));
		CHECK_EQ(0, qed_flush(img)); /* idle: need-check cleared */
		CHECK(!disk_need_check(disk));
	}
	fill_pattern(data, sizeof(data), fail_nth);
	arm(fail_op, fail_nth);
	int rc = qed_write(img, off, data, sizeof(data));
	bool triggered = disk->count[fail_op] >= disk->fail_nth;
	disarm();
	CHECK(triggered);
	CHECK_EQ(-EIO, rc);
	/* What a failed write leaves is unallocated or whole, never stale data. */
	CHECK_EQ(0, qed_read(img, off, back, sizeof(back)));
	CHECK(is_zero(back, sizeof(back)) || memcmp(back, data, sizeof(back)) == 0);
	CHECK_EQ(0, qed_write(img, off, data, sizeof(data)));
	verify_after_reopen(img, off, data);
}

static void case_flush_fails_keeps_need_check(void *arg)
{
	unsigned nth = (unsigned)(uintptr_t)arg;
	struct qed_create_opts c = { .image_size = 64 * MiB };
	CHECK_EQ(0, qed_create(&disk->dev, &c));
	struct qed_image *img = open_image();
	static uint8_t data[4096];
	fill_pattern(data, sizeof(data), 1);
	CHECK_EQ(0, qed_write(img, 0, data, sizeof(data)));
	uint64_t end_before = disk_durable_end(disk);
	if (nth == 0)
		arm(BLKDEV_FLUSH, 1);  /* the device flush */
	else
		arm(BLKDEV_WRITE, 1);  /* the header with the new durable end */
	CHECK_EQ(-EIO, qed_flush(img));
	disarm();
	CHECK(disk_need_check(disk));
	CHECK_EQ(end_before, disk_durable_end(disk));
	/* A new allocation after the failure sets need-check again before relying on it. */
	unsigned writes = disk->count[BLKDEV_WRITE];
	CHECK_EQ(0, qed_write(img, 5 * CS, data, sizeof(data)));
	if (nth == 1)
		CHECK(disk->count[BLKDEV_WRITE] >= writes + 3); /* data, header, L2 entry */
	CHECK(disk_need_check(disk));
	verify_after_reopen(img, 5 * CS, data);
}

static void case_read_errors(void *arg)
{
	(void)arg;
	struct qed_create_opts c = { .image_size = 64 * MiB };
	CHECK_EQ(0, qed_create(&disk->dev, &c));
	struct qed_image *img = open_image();
	static uint8_t data[4096], back[4096];
	fill_pattern(data, sizeof(data), 2);
	CHECK_EQ(0, qed_write(img, 0, data, sizeof(data)));
	arm(BLKDEV_READ, 1);
	CHECK_EQ(-EIO, qed_read(img, 0, back, sizeof(back)));
	disarm();
	CHECK_EQ(0, qed_close(img));

	img = open_image();
	arm(BLKDEV_READ, 1); /* loading the L2 table */
	CHECK_EQ(-EIO, qed_read(img, 0, back, sizeof(back)));
	disarm();
	CHECK_EQ(0, qed_read(img, 0, back, sizeof(back))); /* the failed load is forgotten */
	CHECK_MEM_EQ(data, back, sizeof(back));
	CHECK_EQ(0, qed_close(img));

	arm(BLKDEV_READ, 1); /* the header */
	struct qed_open_opts o = test_opts();
	CHECK_EQ(-EIO, qed_open(&disk->dev, &o, &img));
	arm(BLKDEV_READ, 2); /* the L1 table */
	CHECK_EQ(-EIO, qed_open(&disk->dev, &o, &img));
	disarm();
}

static void run(const char *name, task_fn fn, void *arg)
{
	disk = testdisk_new(64 * MiB, 512);
	check_case_name = name;
	check_cases++;
	CHECK(run_in_task(fn, arg));
	testdisk_free(disk);
}

int main(void)
{
	/* New L2 table: the data cluster with its fill (sent while need-check is being
	 * set), the need-check header, the L2 table, the L1 entry. */
	fail_op = BLKDEV_WRITE;
	for (fail_nth = 1; fail_nth <= 4; fail_nth++)
		run("allocating write, new table, write fails", case_allocating_write_fails, NULL);
	/* Need-check flush, table flush. */
	fail_op = BLKDEV_FLUSH;
	for (fail_nth = 1; fail_nth <= 2; fail_nth++)
		run("allocating write, new table, flush fails", case_allocating_write_fails, NULL);
	/* Existing L2 table: the data cluster with its fill, need-check header, L2 entry. */
	fail_op = BLKDEV_WRITE;
	for (fail_nth = 1; fail_nth <= 3; fail_nth++)
		run("allocating write, existing table, write fails", case_allocating_write_fails,
		    (void *)1);
	fail_op = BLKDEV_FLUSH;
	fail_nth = 1;
	run("allocating write, existing table, flush fails", case_allocating_write_fails,
	    (void *)1);
	run("flush: device flush fails", case_flush_fails_keeps_need_check, (void *)0);
	run("flush: header write fails", case_flush_fails_keeps_need_check, (void *)1);
	run("read errors", case_read_errors, NULL);
	return check_report("test_qed_errors");
}
