/* Host fuzz test of the QED core: a valid image with data, then random bytes of its
 * header, L1 and L2 tables overwritten; the image must be refused with an error, or open
 * (checked and repaired) and serve reads and writes, never crash or hang; after a repair
 * a second check finds nothing. Deterministic seeds; bounded. */
#include "qedtest_util.h"

#define MiB (1024ull * 1024)
#define CS 4096u
#define ROUNDS 1000

static struct testdisk *disk;
static uint64_t rng = 88172645463325252ull;
static uint8_t *golden;         /* the disk of the valid image */
static uint64_t golden_len;
static unsigned opened, refused;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void quiet_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	(void)msg;
}

static void make_golden(void *arg)
{
	(void)arg;
	struct qed_create_opts c = { .image_size = 16 * MiB, .cluster_size = CS, .table_size = 1 };
	CHECK_EQ(0, qed_create(&disk->dev, &c));
	struct qed_open_opts o = { .log = quiet_log };
	struct qed_image *img;
	CHECK_EQ(0, qed_open(&disk->dev, &o, &img));
	static uint8_t data[3 * CS];
	for (int i = 0; i < 24; i++) {
		fill_pattern(data, sizeof(data), (uint32_t)i);
		CHECK_EQ(0, qed_write(img, (rnd() % (16 * MiB / 512 - 24)) * 512, data, sizeof(data)));
	}
	CHECK_EQ(0, qed_zero(img, 5 * MiB, 64 * 1024));
	CHECK_EQ(0, qed_close(img));
}

static void corrupt_metadata(void)
{
	/* Header (first 64 bytes), L1 (cluster 1), and the tables and data after it. */
	int n = 1 + (int)(rnd() % 4);
	for (int i = 0; i < n; i++) {
		uint64_t where;
		switch (rnd() % 3) {
		case 0: where = rnd() % 64; break;
		case 1: where = CS + rnd() % CS; break;
		default: where = 2 * CS + rnd() % (golden_len - 2 * CS); break;
		}
		uint8_t b[8];
		unsigned w = rnd() % 2 ? 1 : 8;
		uint64_t v = rnd();
		if (w == 8 && rnd() % 2) /* plausible offsets: aligned, near the data */
			v = (rnd() % 64) * CS + (rnd() % 4 == 0 ? 512 : 0);
		put_le64(b, v);
		if (where + w <= golden_len)
			testdisk_poke(disk, where, b, w);
	}
	if (rnd() % 2) { /* as if not closed cleanly */
		uint8_t f[8];
		testdisk_peek(disk, 16, f, 8);
		f[0] |= QED_F_NEED_CHECK;
		testdisk_poke(disk, 16, f, 8);
	}
}

static void use_image(void *arg)
{
	(void)arg;
	struct qed_open_opts o = { .log = quiet_log, .check_on_open = true };
	struct qed_image *img;
	if (qed_open(&disk->dev, &o, &img) != 0) {
		refused++;
		return;
	}
	opened++;
	struct qed_info info;
	qed_get_info(img, &info);
	static uint8_t buf[64 * 1024];
	uint64_t size = info.image_size < 16 * MiB ? info.image_size : 16 * MiB;
	for (uint64_t off = 0; off + sizeof(buf) <= size; off += sizeof(buf))
		(void)qed_read(img, off, buf, sizeof(buf)); /* errors allowed, not crashes */
	fill_pattern(buf, 8192, 5);
	if (size >= 8192)
		(void)qed_write(img, (rnd() % (size / 512 - 16)) * 512, buf, 8192);
	struct qed_check_result r1, r2;
	if (qed_check(img, true, &r1) == 0 && r1.corruptions == r1.corruptions_fixed &&
	    r1.check_errors == 0) {
		CHECK_EQ(0, qed_check(img, false, &r2));
		CHECK_EQ(0, r2.corruptions);
	}
	qed_close(img);
}

int main(void)
{
	check_case_name = "fuzz";
	check_cases++;
	disk = testdisk_new(32 * MiB, 512);
	CHECK(run_in_task(make_golden, NULL));
	golden_len = 1024 * 1024; /* header, L1, tables and data all lie below */
	golden = malloc(golden_len);
	testdisk_peek(disk, 0, golden, golden_len);
	for (int i = 0; i < ROUNDS; i++) {
		testdisk_poke(disk, 0, golden, golden_len);
		corrupt_metadata();
		CHECK(run_in_task(use_image, NULL)); /* returns: no hang */
	}
	printf("# fuzz: %d corrupted images, %u opened, %u refused\n", ROUNDS, opened, refused);
	CHECK(opened > 0 && refused > 0);
	free(golden);
	testdisk_free(disk);
	return check_report("test_qed_fuzz");
}
