/*
 * libFuzzer target: the QED core (qed/) on corrupted images. A valid image is made once
 * with qed_create() and a few writes on a memory disk (tests/unit/qed/testdisk.h); each
 * input starts from a fresh copy of it, overwrites bytes of its header, L1 and L2 tables
 * and data, and then opens it (with the open-time check and repair), checks it, maps and
 * reads it, writes, repairs and closes it.
 *
 * Input: [flags] then patches, each [offset, 2 bytes big-endian][len][len bytes], written
 * over the first 64 KiB of the disk (the image's header cluster, L1, L2 tables and data
 * all lie there). flags: bit 0 the need-check bit set (the boot-time check runs), bit 1
 * open read-only, bit 2 open without check_on_open, bit 3 a write and a flush, bit 4 the
 * image with a backing file (served from a raw volume), bit 5 an L2 cache of one table,
 * bit 6 skip the reads.
 *
 * Invariants: no crash, leak or hang (every task returns); an image refused at open is
 * refused with an error code; after a repair that fixed everything, a second check finds
 * nothing.
 */
#include "fuzz.h"
#include "qed.h"
#include "qed_format.h"
#include "testdisk.h"

#include <string.h>

#define MiB (1024ull * 1024)
#define CS 4096u
#define IMAGE_SIZE (16 * MiB)
#define DISK_SIZE (32 * MiB)
#define PATCH_AREA (64 * 1024u)

static uint8_t golden[2][PATCH_AREA]; /* [1]: with a backing file */
static struct testdisk *backing_disk;
static struct volume backing;

struct run {
	struct testdisk *disk;
	uint8_t flags;
	int open_rc;
};

static void quiet_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	(void)msg;
}

static void fill(uint8_t *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 9));
}

static void make_golden(void *arg)
{
	struct run *r = arg;
	static uint8_t data[CS];
	struct qed_create_opts c = { .image_size = IMAGE_SIZE, .cluster_size = CS, .table_size = 1 };
	if (r->flags & 0x10) {
		c.backing_file = "base.raw";
		c.backing_fmt = "raw";
	}
	struct qed_open_opts o = { .log = quiet_log, .open_backing = open_ctx_volume,
				   .backing_ctx = &backing };
	struct qed_image *img;
	FUZZ_ASSERT(qed_create(&r->disk->dev, &c) == 0);
	FUZZ_ASSERT(qed_open(&r->disk->dev, &o, &img) == 0);
	/* data in three L2 ranges (2 MiB each), one write across a table boundary, a partial
	 * cluster, and zero clusters */
	static const uint64_t at[] = { 0, 3 * CS + 512, 2 * MiB - CS, 9 * MiB + 1024, 15 * MiB };
	for (unsigned i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		fill(data, sizeof(data), i);
		FUZZ_ASSERT(qed_write(img, at[i], data, sizeof(data)) == 0);
	}
	FUZZ_ASSERT(qed_zero(img, 4 * MiB, 4 * CS) == 0);
	FUZZ_ASSERT(qed_zero(img, 9 * MiB + 8 * CS, 2 * CS) == 0);
	struct qed_check_result res;
	FUZZ_ASSERT(qed_check(img, false, &res) == 0 && res.corruptions == 0);
	FUZZ_ASSERT(res.image_end_offset <= PATCH_AREA);
	FUZZ_ASSERT(qed_close(img) == 0);
}

static void setup(void)
{
	backing_disk = testdisk_new(IMAGE_SIZE, 512);
	rawvol_init(&backing, backing_disk, IMAGE_SIZE);
	for (int g = 0; g < 2; g++) {
		struct run r = { .disk = testdisk_new(DISK_SIZE, 512), .flags = g ? 0x10 : 0 };
		FUZZ_ASSERT(run_in_task(make_golden, &r));
		testdisk_peek(r.disk, 0, golden[g], PATCH_AREA);
		testdisk_free(r.disk);
	}
}

static void use_image(void *arg)
{
	struct run *r = arg;
	struct qed_open_opts o = {
		.read_only = r->flags & 2,
		.check_on_open = !(r->flags & 4),
		.open_backing = open_ctx_volume,
		.backing_ctx = &backing,
		.log = quiet_log,
		.l2_cache_tables = r->flags & 0x20 ? 1 : 0,
	};
	struct qed_image *img;
	static uint8_t buf[64 * 1024];

	r->open_rc = qed_open(&r->disk->dev, &o, &img);
	if (r->open_rc != 0) {
		FUZZ_ASSERT(r->open_rc < 0);
		return;
	}
	struct qed_info info;
	qed_get_info(img, &info);
	struct qed_check_result r1, r2;
	(void)qed_check(img, false, &r1);

	/* walk the map of the first 16 MiB, reading a piece of every extent */
	uint64_t size = info.image_size < IMAGE_SIZE ? info.image_size : IMAGE_SIZE;
	for (uint64_t off = 0, steps = 0; off < size && steps < 256; steps++) {
		enum qed_extent_state st;
		uint64_t bytes = 0, where = 0;
		if (qed_map(img, off, size - off, &st, &bytes, &where) != 0 || bytes == 0)
			break;
		FUZZ_ASSERT(bytes <= size - off);
		if (!(r->flags & 0x40)) {
			size_t n = bytes < sizeof(buf) ? (size_t)bytes : sizeof(buf);
			(void)qed_read(img, off, buf, n & ~(size_t)511); /* errors allowed */
		}
		off += bytes;
	}
	/* the image's last bytes, wherever its (maybe corrupted) size puts them */
	if (info.image_size >= 4096)
		(void)qed_read(img, (info.image_size - 4096) & ~511ull, buf, 4096);
	if ((r->flags & 8) && size >= 2 * MiB + 8192) {
		fill(buf, 8192, 9);
		(void)qed_write(img, 2 * MiB - 4096 + 512, buf, 8192);
		(void)qed_write(img, 6 * MiB, buf, 4096);
		(void)qed_flush(img);
	}
	if (!(r->flags & 2) && qed_check(img, true, &r1) == 0 &&
	    r1.corruptions == r1.corruptions_fixed && r1.check_errors == 0) {
		FUZZ_ASSERT(qed_check(img, false, &r2) == 0);
		FUZZ_ASSERT(r2.corruptions == 0);
	}
	(void)qed_close(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		setup();
		ready = true;
	}
	struct fuzz_in in = { data, size };
	struct run r = { .flags = fuzz_u8(&in) };
	r.disk = testdisk_new(DISK_SIZE, 512);
	FUZZ_ASSERT(r.disk);
	testdisk_poke(r.disk, 0, golden[r.flags & 0x10 ? 1 : 0], PATCH_AREA);
	while (in.left >= 3) {
		uint32_t off = fuzz_u16(&in) % PATCH_AREA;
		size_t len = fuzz_u8(&in);
		if (len > in.left)
			len = in.left;
		if (len > PATCH_AREA - off)
			len = PATCH_AREA - off;
		testdisk_poke(r.disk, off, in.p, len);
		in.p += len;
		in.left -= len;
	}
	if (r.flags & 1) { /* as if not closed cleanly */
		uint8_t f[8];
		testdisk_peek(r.disk, 16, f, 8);
		f[0] |= QED_F_NEED_CHECK;
		testdisk_poke(r.disk, 16, f, 8);
	}
	FUZZ_ASSERT(run_in_task(use_image, &r)); /* returns: no hang, no task left waiting */
	FUZZ_ASSERT(task_count() == 0);
	testdisk_free(r.disk);
	return 0;
}
