/* Host tests of check and repair (qed/qed_check.c): crash debris past the durable end,
 * deliberately corrupted tables, corruption met at run time, read-only checks, and the
 * need-check bit's value on the disk after each. */
#include "memdisk.h"
#include "qedtest_util.h"

#define MiB (1024ull * 1024)
#define CS (64u * 1024)
#define L1_OFF CS

static struct testdisk *disk;

static struct qed_image *open_image(bool read_only)
{
	struct qed_open_opts o = test_opts();
	o.read_only = read_only;
	struct qed_image *img = NULL;
	CHECK_EQ(0, qed_open(&disk->dev, &o, &img));
	return img;
}

static uint64_t disk_u64(uint64_t off)
{
	uint8_t b[8];
	testdisk_peek(disk, off, b, 8);
	return get_le64(b);
}

static void poke_u64(uint64_t off, uint64_t v)
{
	uint8_t b[8];
	put_le64(b, v);
	testdisk_poke(disk, off, b, 8);
}

/* Device offset of the L2 entry of guest cluster n (in the first L2 table). */
static uint64_t l2_entry_addr(uint64_t n)
{
	return disk_u64(L1_OFF) + n * 8;
}

static void set_need_check_on_disk(void)
{
	poke_u64(16, disk_header(disk).features | QED_F_NEED_CHECK);
}

/* A clean image with guest clusters 0..n-1 written with patterns. */
static void make_image(int n)
{
	struct qed_create_opts c = { .image_size = 4096 * MiB };
	CHECK_EQ(0, qed_create(&disk->dev, &c));
	struct qed_image *img = open_image(false);
	static uint8_t data[CS];
	for (int i = 0; i < n; i++) {
		fill_pattern(data, CS, (uint32_t)i);
		CHECK_EQ(0, qed_write(img, (uint64_t)i * CS, data, CS));
	}
	CHECK_EQ(0, qed_close(img));
}

static void expect_cluster(struct qed_image *img, uint64_t n, int pattern)
{
	static uint8_t data[CS], back[CS];
	if (pattern < 0)
		memset(data, 0, CS);
	else
		fill_pattern(data, CS, (uint32_t)pattern);
	CHECK_EQ(0, qed_read(img, n * CS, back, CS));
	CHECK_MEM_EQ(data, back, CS);
}

static void case_crash_debris_past_durable_end_cleared(void *arg)
{
	(void)arg;
	make_image(1);
	struct qed_image *img = open_image(false);
	uint64_t durable = disk_durable_end(disk);
	static uint8_t data[CS];
	fill_pattern(data, CS, 50);
	CHECK_EQ(0, qed_write(img, 5 * CS, data, CS));      /* existing table */
	CHECK_EQ(0, qed_write(img, 3072 * MiB, data, CS));  /* new table: L1 entry 1 */
	CHECK(disk_u64(L1_OFF + 8) != 0);
	CHECK(disk_need_check(disk));
	CHECK_EQ(durable, disk_durable_end(disk));
	/* Power cut here: no flush; the entries reached the disk, say, the data did not.
	 * (The image is abandoned, as the machine would.) */
	log_count[1] = log_count[2] = 0;
	img = open_image(false);
	CHECK(log_count[1] >= 2);                 /* both findings reported */
	CHECK(log_count[2] >= 1);                 /* progress */
	CHECK(!disk_need_check(disk));            /* all repaired */
	CHECK_EQ(0, disk_u64(L1_OFF + 8));        /* the new table's link cleared */
	expect_cluster(img, 0, 0);
	expect_cluster(img, 5, -1);
	static uint8_t back[CS];
	CHECK_EQ(0, qed_read(img, 3072 * MiB, back, CS));
	CHECK(is_zero(back, CS));
	struct qed_check_result r;
	CHECK_EQ(0, qed_check(img, false, &r));
	CHECK_EQ(0, r.corruptions);
	/* The next allocation reuses the space past the durable end. */
	CHECK_EQ(0, qed_write(img, 9 * CS, data, CS));
	enum qed_extent_state st;
	uint64_t bytes, phys;
	CHECK_EQ(0, qed_map(img, 9 * CS, CS, &st, &bytes, &phys));
	CHECK_EQ(durable, phys);
	CHECK_EQ(0, qed_close(img));
}

static void case_corrupt_entries_repaired_at_open(void *arg)
{
	(void)arg;
	make_image(4);
	uint64_t c0 = disk_u64(l2_entry_addr(0));
	poke_u64(l2_entry_addr(1), disk_u64(l2_entry_addr(1)) + 512); /* misaligned */
	poke_u64(l2_entry_addr(2), L1_OFF);                            /* into L1 */
	poke_u64(l2_entry_addr(3), c0);                                /* twice */
	poke_u64(l2_entry_addr(4), disk_u64(L1_OFF));                  /* into its table */
	poke_u64(L1_OFF + 8 * 3, 1ull << 40);                          /* past the device */
	set_need_check_on_disk();

	struct qed_image *img = open_image(false);
	CHECK(!disk_need_check(disk));
	CHECK_EQ(0, disk_u64(l2_entry_addr(1)));
	CHECK_EQ(0, disk_u64(l2_entry_addr(2)));
	CHECK_EQ(0, disk_u64(l2_entry_addr(3)));
	CHECK_EQ(0, disk_u64(l2_entry_addr(4)));
	CHECK_EQ(c0, disk_u64(l2_entry_addr(0)));
	CHECK_EQ(0, disk_u64(L1_OFF + 8 * 3));
	expect_cluster(img, 0, 0);
	expect_cluster(img, 1, -1);
	expect_cluster(img, 3, -1);
	struct qed_check_result r;
	CHECK_EQ(0, qed_check(img, false, &r));
	CHECK_EQ(0, r.corruptions);
	CHECK_EQ(3, r.leaks); /* clusters 1..3 lost their references */
	CHECK_EQ(1, r.allocated_clusters);
	CHECK_EQ(0, qed_close(img));
}

static void case_check_counts_what_it_fixes(void *arg)
{
	(void)arg;
	make_image(3);
	poke_u64(l2_entry_addr(1), 12345);
	poke_u64(l2_entry_addr(2), disk_u64(l2_entry_addr(0)));
	struct qed_image *img = open_image(false); /* need-check clear: no check at open */
	struct qed_check_result r;
	CHECK_EQ(0, qed_check(img, false, &r));
	CHECK_EQ(2, r.corruptions);
	CHECK_EQ(0, r.corruptions_fixed);
	CHECK(disk_need_check(disk)); /* unrepaired: the next open must check */
	CHECK_EQ(0, qed_check(img, true, &r));
	CHECK_EQ(2, r.corruptions);
	CHECK_EQ(2, r.corruptions_fixed);
	CHECK(!disk_need_check(disk));
	CHECK_EQ(0, qed_close(img));
	CHECK(!disk_need_check(disk));
}

static void case_corruption_at_run_time(void *arg)
{
	(void)arg;
	make_image(2);
	poke_u64(l2_entry_addr(1), 7 * CS + 4096);
	struct qed_image *img = open_image(false);
	static uint8_t back[CS];
	last_error[0] = 0;
	CHECK_EQ(-EIO, qed_read(img, CS, back, CS));   /* never served */
	CHECK(strstr(last_error, "corrupt") != NULL);
	CHECK(disk_need_check(disk));
	expect_cluster(img, 0, 0);                       /* the rest still is */
	CHECK_EQ(0, qed_flush(img));
	CHECK(disk_need_check(disk));                    /* not while unrepaired */
	CHECK_EQ(0, qed_close(img));
	CHECK(disk_need_check(disk));
	img = open_image(false);                         /* checked and repaired */
	CHECK(!disk_need_check(disk));
	expect_cluster(img, 1, -1);
	CHECK_EQ(0, qed_close(img));
}

static void case_read_only_check_does_not_write(void *arg)
{
	(void)arg;
	make_image(2);
	poke_u64(l2_entry_addr(1), 3);
	set_need_check_on_disk();
	unsigned writes = disk->count[BLKDEV_WRITE];
	struct qed_image *img = open_image(true);
	static uint8_t back[CS];
	CHECK_EQ(-EIO, qed_read(img, CS, back, CS));
	CHECK_EQ(-EROFS, qed_write(img, 0, back, 512));
	struct qed_check_result r;
	CHECK_EQ(0, qed_check(img, true, &r)); /* repair is not possible read-only */
	CHECK_EQ(1, r.corruptions);
	CHECK_EQ(0, r.corruptions_fixed);
	CHECK_EQ(0, qed_close(img));
	CHECK_EQ(writes, disk->count[BLKDEV_WRITE]);
	CHECK(disk_need_check(disk));
}

static void case_check_error_keeps_need_check(void *arg)
{
	(void)arg;
	make_image(1);
	set_need_check_on_disk();
	disk->fail_op = BLKDEV_READ;
	disk->fail_nth = disk->count[BLKDEV_READ] + 3; /* header, L1, then the L2 table */
	struct qed_image *img = open_image(false);
	disk->fail_op = -1;
	CHECK(disk_need_check(disk));
	CHECK_EQ(0, qed_close(img));
	CHECK(disk_need_check(disk)); /* the check did not finish: keep it */
}

/* On a host file (qed_open_opts.file_size) the file's size is the end, as in QEMU: an
 * image QEMU left with need-check set and an entry past the end of the file (an
 * allocating write cut short) is corrupt there, while on a raw disk without the durable
 * end the same entry is inside the device and left alone. */
static struct qed_image *open_file_image(bool read_only, uint64_t file_size, int *rc)
{
	struct qed_open_opts o = test_opts();
	o.read_only = read_only;
	o.file_size = file_size;
	struct qed_image *img = NULL;
	*rc = qed_open(&disk->dev, &o, &img);
	return img;
}

static void case_file_size_is_the_end(void *arg)
{
	(void)arg;
	make_image(4);
	poke_u64(32, 0); /* QEMU's image: no durable end (autoclear bits cleared) */
	uint64_t c3 = disk_u64(l2_entry_addr(3));
	uint64_t file_size = c3 + 100; /* cut inside cluster 3: its entry is past the end */
	CHECK(c3 > disk_u64(l2_entry_addr(2)));
	set_need_check_on_disk();
	int rc;
	struct qed_check_result r;

	/* A raw disk: the device's end is the end; nothing to report. */
	struct qed_image *img = open_file_image(true, 0, &rc);
	CHECK_EQ(0, rc);
	CHECK_EQ(0, qed_check(img, false, &r));
	CHECK_EQ(0, r.corruptions);
	CHECK_EQ(0, qed_close(img));

	/* The file: corruption, counted by a read-only check and not repaired. */
	img = open_file_image(true, file_size, &rc);
	CHECK_EQ(0, rc);
	CHECK_EQ(0, qed_check(img, false, &r));
	CHECK_EQ(1, r.corruptions);
	CHECK_EQ(c3, r.image_end_offset);
	static uint8_t back[CS];
	CHECK_EQ(-EIO, qed_read(img, 3 * CS, back, CS));
	CHECK_EQ(0, qed_close(img));
	CHECK(disk_need_check(disk));

	/* Read-write: the boot-time check clears the entry and need-check. */
	img = open_file_image(false, file_size, &rc);
	CHECK_EQ(0, rc);
	CHECK(!disk_need_check(disk));
	CHECK_EQ(0, disk_u64(l2_entry_addr(3)));
	expect_cluster(img, 2, 2);
	expect_cluster(img, 3, -1);
	CHECK_EQ(0, qed_check(img, false, &r));
	CHECK_EQ(0, r.corruptions);
	/* Allocations extend the file: their clusters are inside the end. */
	static uint8_t data[CS];
	fill_pattern(data, CS, 77);
	CHECK_EQ(0, qed_write(img, 7 * CS, data, CS));
	CHECK_EQ(0, qed_write(img, 8 * CS, data, CS));
	CHECK_EQ(0, qed_check(img, false, &r));
	CHECK_EQ(0, r.corruptions);
	CHECK_EQ(0, qed_close(img));
	CHECK(!disk_need_check(disk));

	/* Need-check clear, the file cut inside cluster 8: an explicit check still holds
	 * entries to the file's end. */
	uint64_t c8 = disk_u64(l2_entry_addr(8));
	CHECK(c8 > disk_u64(l2_entry_addr(7)));
	poke_u64(32, 0);
	img = open_file_image(false, c8 + 512, &rc);
	CHECK_EQ(0, rc);
	CHECK_EQ(0, qed_check(img, true, &r));
	CHECK_EQ(1, r.corruptions);
	CHECK_EQ(1, r.corruptions_fixed);
	CHECK_EQ(0, disk_u64(l2_entry_addr(8)));
	expect_cluster(img, 7, 77);
	CHECK_EQ(0, qed_close(img));

	/* A file that ends before its L1 table is refused, without a write. */
	unsigned writes = disk->count[BLKDEV_WRITE];
	img = open_file_image(false, L1_OFF + 512, &rc);
	CHECK_EQ(-EINVAL, rc);
	CHECK(img == NULL);
	CHECK_EQ(writes, disk->count[BLKDEV_WRITE]);
}

/* ---- a power cut during the repair --------------------------------------------------- */
#define MD_CAPACITY (64 * MiB)

struct md_job {
	struct memdisk *md;
	bool make;              /* make the image (else open it: check and repair) */
	int rc;
	uint64_t corruptions;   /* what a read-only check finds after the open */
};

static void md_task(void *arg)
{
	struct md_job *j = arg;
	struct blkdev *dev = memdisk_blkdev(j->md);
	struct qed_open_opts o = { .check_on_open = true };
	struct qed_image *img = NULL;
	static uint8_t data[CS];
	if (j->make) {
		struct qed_create_opts c = { .image_size = 256 * MiB };
		j->rc = qed_create(dev, &c);
		if (!j->rc)
			j->rc = qed_open(dev, &o, &img);
		for (int i = 0; i < 3 && !j->rc; i++) {
			fill_pattern(data, CS, (uint32_t)i);
			j->rc = qed_write(img, (uint64_t)i * CS, data, CS);
		}
		if (img && !j->rc)
			j->rc = qed_close(img);
		return;
	}
	j->rc = qed_open(dev, &o, &img);
	if (j->rc)
		return;
	struct qed_check_result r;
	j->rc = qed_check(img, false, &r);
	j->corruptions = r.corruptions;
	qed_close(img);
}

static int md_run(struct memdisk *md, bool make, uint64_t *corruptions)
{
	struct md_job j = { .md = md, .make = make, .rc = -EDEADLK };
	task_spawn(md_task, &j);
	if (!task_run_all(memdisk_poll, md))
		task_reset();
	if (corruptions)
		*corruptions = j.corruptions;
	return j.rc;
}

/* The boot-time repair cut short at any instant, with any subset of its unflushed
 * writes landed: the next open still finds every corruption (need-check never reads
 * clear on the disk while a repair is not yet durable), and repairs it. */
static void test_power_cut_during_repair(void)
{
	struct memdisk_opts mo = { .capacity = MD_CAPACITY, .trace = true };
	struct memdisk_opts co = { .capacity = MD_CAPACITY };
	struct memdisk *md = memdisk_new(&mo), *crashed = memdisk_new(&co);
	CHECK(md && crashed);
	CHECK_EQ(0, md_run(md, true, NULL));
	/* Guest cluster 1's entry points past the end; need-check is set. */
	uint8_t *d = memdisk_data(md);
	uint64_t l2 = get_le64(d + L1_OFF);
	put_le64(d + l2 + 8, 900ull * CS);
	put_le64(d + 16, get_le64(d + 16) | QED_F_NEED_CHECK);
	memdisk_trace_reset(md);
	CHECK_EQ(0, md_run(md, false, NULL)); /* repairs, then closes */

	struct memdisk_replay r;
	unsigned states = 0, failures = 0;
	CHECK_EQ(0, memdisk_replay_init(&r, md));
	do {
		size_t n = r.n_unflushed < 12 ? r.n_unflushed : 12;
		for (uint64_t keep = 0; keep < (1ull << n); keep++) {
			struct memdisk_cut cut = { keep, -1, 0 };
			memdisk_power_cut(&r, &cut, crashed);
			uint64_t corruptions = 0;
			int rc = md_run(crashed, false, &corruptions);
			states++;
			if ((rc || corruptions) && failures++ == 0)
				fprintf(stderr, "power cut after event %zu, keep 0x%llx: rc %d, "
					"%llu corruptions\n", r.events, (unsigned long long)keep,
					rc, (unsigned long long)corruptions);
		}
	} while (memdisk_replay_step(&r));
	memdisk_replay_free(&r);
	CHECK(states > 10);
	CHECK_EQ(0, failures);
	memdisk_free(md);
	memdisk_free(crashed);
}

#define RUN_TASK(fn) RUN_DISK_CASE(256 * MiB, (void)0, fn)

int main(void)
{
	RUN_TASK(case_crash_debris_past_durable_end_cleared);
	RUN_TASK(case_corrupt_entries_repaired_at_open);
	RUN_TASK(case_check_counts_what_it_fixes);
	RUN_TASK(case_corruption_at_run_time);
	RUN_TASK(case_read_only_check_does_not_write);
	RUN_TASK(case_check_error_keeps_need_check);
	RUN_TASK(case_file_size_is_the_end);
	RUN(test_power_cut_during_repair);
	return check_report("test_qed_check");
}
