/* Host tests of header parsing and validation (qed/qed_header.c, qed_open.c): every
 * invalid field is refused with its own message and nothing is written; feature bits;
 * qed_create's options; qed_probe. */
#include "qedtest_util.h"

#define MiB (1024ull * 1024)
#define CS (64u * 1024)

static struct testdisk *disk;

/* A valid image (64 KiB clusters, 4-cluster tables) on a 64 MiB disk, then one field
 * changed at byte offset field_off (width 4 or 8). */
struct mutation {
	const char *name;
	unsigned field_off, width;
	uint64_t value;
	int expect;
};

static void poke_field(unsigned off, unsigned width, uint64_t value)
{
	uint8_t b[8];
	put_le64(b, value);
	testdisk_poke(disk, off, b, width);
}

static int open_rc(struct qed_open_opts *o)
{
	struct qed_image *img = NULL;
	int rc = qed_open(&disk->dev, o, &img);
	if (!rc)
		qed_close(img);
	return rc;
}

static const struct mutation mutations[] = {
	{ "magic", 0, 4, 0x00444552, -EINVAL },
	{ "unknown feature", 16, 8, 0x08, -ENOTSUP },
	{ "feature bit 63", 16, 8, 1ull << 63, -ENOTSUP },
	{ "cluster size 2 KiB", 4, 4, 2048, -EINVAL },
	{ "cluster size not power of 2", 4, 4, 3 * 4096, -EINVAL },
	{ "cluster size 128 MiB", 4, 4, 128u << 20, -EINVAL },
	{ "cluster size 0", 4, 4, 0, -EINVAL },
	{ "table size 0", 8, 4, 0, -EINVAL },
	{ "table size 3", 8, 4, 3, -EINVAL },
	{ "table size 32", 8, 4, 32, -EINVAL },
	{ "header size 0", 12, 4, 0, -EINVAL },
	{ "header size overflows", 12, 4, UINT32_MAX / CS + 1, -EINVAL },
	{ "header past the device", 12, 4, 2000, -EINVAL },
	{ "image size not a multiple of 512", 48, 8, 1000 * 1000, -EINVAL },
	{ "image size beyond the tables", 48, 8, 1ull << 62, -EINVAL },
	{ "L1 offset misaligned", 40, 8, CS + 512, -EINVAL },
	{ "L1 offset in the header", 40, 8, 0, -EINVAL },
	{ "L1 offset past the device", 40, 8, 64 * MiB, -EINVAL },
	{ "L1 table crosses the device end", 40, 8, 64 * MiB - CS, -EINVAL },
	{ "L1 offset overflows", 40, 8, UINT64_MAX - CS + 1, -EINVAL },
};

static int mutation_index;

static void case_invalid_field(void *arg)
{
	(void)arg;
	const struct mutation *m = &mutations[mutation_index];
	struct qed_create_opts c = { .image_size = 32 * MiB };
	CHECK_EQ(0, qed_create(&disk->dev, &c));
	poke_field(m->field_off, m->width, m->value);
	unsigned writes = disk->count[BLKDEV_WRITE];
	last_error[0] = 0;
	struct qed_open_opts o = test_opts();
	int rc = open_rc(&o);
	if (rc != m->expect)
		fprintf(stderr, "mutation: %s\n", m->name);
	CHECK_EQ(m->expect, rc);
	CHECK(last_error[0] != 0); /* a message says why */
	CHECK_EQ(writes, disk->count[BLKDEV_WRITE]); /* a refused image is never written */
}

static void make_backed(const char *name, uint32_t name_off, uint32_t name_size)
{
	struct qed_create_opts c = { .image_size = 32 * MiB, .backing_file = name };
	CHECK_EQ(0, qed_create(&disk->dev, &c));
	poke_field(56, 4, name_off);
	poke_field(60, 4, name_size);
}

static int fake_backing(void *ctx, const char *name, const char *fmt, struct volume **out)
{
	(void)fmt;
	static struct volume none;
	CHECK_STR_EQ("base.img", name);
	*(int *)ctx += 1;
	none.size = 0;
	*out = &none;
	return 0;
}

static void case_backing_name_checks(void *arg)
{
	(void)arg;
	int opened = 0;
	struct qed_open_opts o = test_opts();
	o.open_backing = fake_backing;
	o.backing_ctx = &opened;

	make_backed("base.img", 64, 8);
	CHECK_EQ(0, open_rc(&o));
	CHECK_EQ(1, opened);
	make_backed("base.img", 32, 8); /* over the header */
	CHECK_EQ(-EINVAL, open_rc(&o));
	make_backed("base.img", CS - 4, 8); /* past the header cluster */
	CHECK_EQ(-EINVAL, open_rc(&o));
	make_backed("base.img", 64, 0);
	CHECK_EQ(-EINVAL, open_rc(&o));
	make_backed("base.img", 64, 1024); /* longer than QED_BACKING_NAME_MAX */
	CHECK_EQ(-EINVAL, open_rc(&o));
	CHECK_EQ(1, opened);
	make_backed("base.img", 64, 8);
	o.open_backing = NULL;
	CHECK_EQ(-ENOTSUP, open_rc(&o)); /* no way to open it: refused */
}

/* What on_check heard: calls, and the last result's corruptions and return code. */
static struct {
	unsigned begun, ended;
	uint64_t corruptions;
	int rc;
} heard;

static void note_check(void *ctx, const struct qed_check_result *result, int rc)
{
	(void)ctx;
	if (!result) {
		heard.begun++;
		return;
	}
	heard.ended++;
	heard.corruptions = result->corruptions;
	heard.rc = rc;
}

static void case_need_check_without_check_refused(void *arg)
{
	(void)arg;
	struct qed_create_opts c = { .image_size = 32 * MiB };
	CHECK_EQ(0, qed_create(&disk->dev, &c));
	poke_field(16, 8, QED_F_NEED_CHECK);
	struct qed_open_opts o = test_opts();
	o.check_on_open = false;
	o.on_check = note_check;
	memset(&heard, 0, sizeof(heard));
	CHECK_EQ(-EUCLEAN, open_rc(&o));
	CHECK(disk_need_check(disk));
	CHECK_EQ(0, heard.begun); /* refused: no check ran */
	o.check_on_open = true;
	heard.rc = -1;
	CHECK_EQ(0, open_rc(&o));
	CHECK(!disk_need_check(disk)); /* checked, nothing wrong, cleared */
	CHECK_EQ(1, heard.begun);
	CHECK_EQ(1, heard.ended);
	CHECK_EQ(0, heard.corruptions);
	CHECK_EQ(0, heard.rc);
	CHECK_EQ(0, open_rc(&o)); /* clean now: no check, nothing heard */
	CHECK_EQ(1, heard.begun);
}

static void case_unknown_autoclear_cleared_on_rw_open(void *arg)
{
	(void)arg;
	struct qed_create_opts c = { .image_size = 32 * MiB };
	CHECK_EQ(0, qed_create(&disk->dev, &c));
	poke_field(32, 8, 0x5);
	poke_field(24, 8, 0x30); /* unknown compat bits are fine */
	struct qed_open_opts o = test_opts();
	o.read_only = true;
	CHECK_EQ(0, open_rc(&o));
	CHECK_EQ(0x5, disk_header(disk).autoclear_features); /* read-only: untouched */
	o.read_only = false;
	CHECK_EQ(0, open_rc(&o));
	CHECK_EQ(0, disk_header(disk).autoclear_features);
	CHECK_EQ(0x30, disk_header(disk).compat_features);
}

static void case_our_autoclear_bit_without_extension_cleared(void *arg)
{
	(void)arg;
	struct qed_create_opts c = { .image_size = 32 * MiB };
	CHECK_EQ(0, qed_create(&disk->dev, &c));
	poke_field(32, 8, QED_AF_QEDBOX_DURABLE_END); /* bit set, no valid extension */
	struct qed_open_opts o = test_opts();
	CHECK_EQ(0, open_rc(&o));
	CHECK_EQ(0, disk_header(disk).autoclear_features);
	CHECK_EQ(0, disk_durable_end(disk));
}

static void case_create_options(void *arg)
{
	(void)arg;
	struct qed_create_opts c = { .image_size = 32 * MiB, .cluster_size = 3000 };
	CHECK_EQ(-EINVAL, qed_create(&disk->dev, &c));
	c.cluster_size = 0;
	c.table_size = 3;
	CHECK_EQ(-EINVAL, qed_create(&disk->dev, &c));
	c.table_size = 0;
	c.image_size = 1ull << 50; /* more than 64 KiB clusters, 4-cluster tables address */
	CHECK_EQ(-EINVAL, qed_create(&disk->dev, &c));
	static char long_name[1100];
	memset(long_name, 'a', sizeof(long_name) - 1);
	c.image_size = 32 * MiB;
	c.backing_file = long_name;
	CHECK_EQ(-EINVAL, qed_create(&disk->dev, &c));
	c.backing_file = "base.raw";
	c.backing_fmt = "raw";
	c.image_size = 1000; /* rounded up to 512 */
	CHECK_EQ(0, qed_create(&disk->dev, &c));
	struct qed_header h = disk_header(disk);
	CHECK_EQ(1024, h.image_size);
	CHECK_EQ(QED_F_BACKING_FILE | QED_F_BACKING_FORMAT_NO_PROBE, h.features);
	CHECK_EQ(64, h.backing_filename_offset);
	CHECK_EQ(8, h.backing_filename_size);
	char name[9] = { 0 };
	testdisk_peek(disk, 64, name, 8);
	CHECK_STR_EQ("base.raw", name);

	struct testdisk *small = testdisk_new(CS * 4, 512); /* no room for header + L1 */
	c.backing_file = NULL;
	CHECK_EQ(-ENOSPC, qed_create(&small->dev, &c));
	testdisk_free(small);
}

static void case_probe(void *arg)
{
	(void)arg;
	uint8_t s[512] = { 'Q', 'E', 'D', 0 };
	CHECK(qed_probe(s, sizeof(s)));
	CHECK(!qed_probe(s, 3));
	s[0] = 'q';
	CHECK(!qed_probe(s, sizeof(s)));
}

static void case_unusable_sector_size(void *arg)
{
	(void)arg;
	struct testdisk *odd = testdisk_new(64 * MiB, 8192);
	struct qed_open_opts o = test_opts();
	struct qed_image *img;
	CHECK_EQ(-EINVAL, qed_open(&odd->dev, &o, &img));
	testdisk_free(odd);
}

#define RUN_TASK(fn) RUN_DISK_CASE(64 * MiB, (void)0, fn)

int main(void)
{
	for (mutation_index = 0; mutation_index < (int)(sizeof(mutations) / sizeof(mutations[0]));
	     mutation_index++)
		RUN_TASK(case_invalid_field);
	RUN_TASK(case_backing_name_checks);
	RUN_TASK(case_need_check_without_check_refused);
	RUN_TASK(case_unknown_autoclear_cleared_on_rw_open);
	RUN_TASK(case_our_autoclear_bit_without_extension_cleared);
	RUN_TASK(case_create_options);
	RUN_TASK(case_probe);
	RUN_TASK(case_unusable_sector_size);
	return check_report("test_qed_header");
}
