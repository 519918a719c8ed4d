/* Host tests of the QED I/O paths: images at the format's limits, backing images
 * (read-through, copy-on-write), zero clusters, and -ENOSPC on a full device. */
#include "qedtest_util.h"
#include "qed_priv.h" /* the L2 cache's size */

#define MiB (1024ull * 1024)
#define GiB (1024ull * MiB)

static struct testdisk *disk;

static struct qed_image *make(uint64_t size, uint32_t cs, uint32_t ts, const char *backing,
			      struct qed_open_opts *o)
{
	struct qed_create_opts c = { .image_size = size, .cluster_size = cs, .table_size = ts,
				     .backing_file = backing, .backing_fmt = "raw" };
	CHECK_EQ(0, qed_create(&disk->dev, &c));
	struct qed_image *img = NULL;
	CHECK_EQ(0, qed_open(&disk->dev, o, &img));
	return img;
}

static struct qed_image *reopen(struct qed_image *img, struct qed_open_opts *o)
{
	CHECK_EQ(0, qed_close(img));
	img = NULL;
	CHECK_EQ(0, qed_open(&disk->dev, o, &img));
	return img;
}

/* Writes a pattern at each offset, reopens, reads each back, and checks the image. */
static void write_reopen_verify(uint64_t size, uint32_t cs, uint32_t ts, const uint64_t *offs,
				int n, size_t len)
{
	struct qed_open_opts o = test_opts();
	struct qed_image *img = make(size, cs, ts, NULL, &o);
	uint8_t *data = malloc(len), *back = malloc(len);
	for (int i = 0; i < n; i++) {
		fill_pattern(data, len, (uint32_t)i + 10);
		CHECK_EQ(0, qed_write(img, offs[i], data, len));
	}
	img = reopen(img, &o);
	for (int i = 0; i < n; i++) {
		fill_pattern(data, len, (uint32_t)i + 10);
		CHECK_EQ(0, qed_read(img, offs[i], back, len));
		CHECK_MEM_EQ(data, back, len);
	}
	struct qed_check_result r;
	CHECK_EQ(0, qed_check(img, false, &r));
	CHECK_EQ(0, r.corruptions);
	CHECK_EQ(0, r.leaks);
	CHECK_EQ(0, qed_close(img));
	free(data);
	free(back);
}

static void case_4k_clusters_table_size_16(void *arg)
{
	(void)arg;
	/* 8192 entries per table: 8192 * 8192 * 4 KiB = 256 GiB, the largest image. */
	uint64_t size = 256 * GiB;
	const uint64_t offs[] = { 0, 4096 * 8190, 64 * MiB - 512, size - 8192, 129 * GiB };
	write_reopen_verify(size, 4096, 16, offs, 5, 8192);
	struct qed_create_opts c = { .image_size = size + 512, .cluster_size = 4096, .table_size = 16 };
	CHECK_EQ(-EINVAL, qed_create(&disk->dev, &c));
}

static void case_4k_clusters_table_size_1(void *arg)
{
	(void)arg;
	/* QEMU refuses to open what it creates with table_size=1; we must not. 512 entries:
	 * each L2 table covers 2 MiB, the image at most 1 GiB. Writes of 3 MiB cross two
	 * table boundaries. */
	const uint64_t offs[] = { 1 * MiB + 512, 100 * MiB, 1 * GiB - 3 * MiB };
	write_reopen_verify(1 * GiB, 4096, 1, offs, 3, 3 * MiB);
}

static void case_64m_clusters(void *arg)
{
	(void)arg;
	/* The largest clusters: every allocating write fills 64 MiB around 8 KiB. */
	const uint64_t offs[] = { 64 * MiB - 4096, 5 * GiB + 512 };
	write_reopen_verify(8 * GiB, 64u << 20, 1, offs, 2, 8192);
}

/* ---- backing images ------------------------------------------------------------------ */
static struct testdisk *base_disk;
static struct volume base_vol;

static int open_base(void *ctx, const char *name, const char *fmt, struct volume **out)
{
	(void)ctx;
	CHECK_STR_EQ("base.raw", name);
	CHECK_STR_EQ("raw", fmt ? fmt : "(null)");
	*out = &base_vol;
	return 0;
}

static struct qed_image *make_backed(uint64_t base_size, uint32_t base_sector)
{
	base_disk = testdisk_new(base_size, base_sector);
	uint8_t *pat = malloc(base_size);
	fill_pattern(pat, base_size, 77);
	testdisk_poke(base_disk, 0, pat, base_size);
	free(pat);
	rawvol_init(&base_vol, base_disk, base_size);
	struct qed_open_opts o = test_opts();
	o.open_backing = open_base;
	return make(16 * MiB, 0, 0, "base.raw", &o);
}

static void case_backing_read_through(void *arg)
{
	(void)arg;
	struct qed_image *img = make_backed(6 * MiB, 4096);
	static uint8_t back[1 * MiB], expect[1 * MiB];
	/* Straddles the end of the backing volume: its bytes, then zeros. A 512-byte
	 * aligned start over a 4 KiB-sector backing disk goes through a bounce buffer. */
	uint64_t off = 6 * MiB - 512 * 1001;
	CHECK_EQ(0, qed_read(img, off, back, sizeof(back)));
	memset(expect, 0, sizeof(expect));
	testdisk_peek(base_disk, off, expect, 512 * 1001);
	CHECK_MEM_EQ(expect, back, sizeof(back));
	CHECK_EQ(0, qed_close(img));
	testdisk_free(base_disk);
}

static void case_backing_copy_on_write(void *arg)
{
	(void)arg;
	struct qed_image *img = make_backed(16 * MiB, 512);
	uint32_t cs = 64 * 1024;
	static uint8_t data[4096], back[64 * 1024], expect[64 * 1024];
	fill_pattern(data, sizeof(data), 5);
	uint64_t cluster = 3 * (uint64_t)cs, off = cluster + 8192;
	CHECK_EQ(0, qed_write(img, off, data, sizeof(data)));
	testdisk_peek(base_disk, cluster, expect, cs);
	memcpy(expect + 8192, data, sizeof(data));
	CHECK_EQ(0, qed_read(img, cluster, back, cs));
	CHECK_MEM_EQ(expect, back, cs);
	/* The whole new cluster is on the disk: the backing bytes were copied. */
	enum qed_extent_state st;
	uint64_t bytes, phys;
	CHECK_EQ(0, qed_map(img, cluster, cs, &st, &bytes, &phys));
	CHECK_EQ(QED_EXTENT_DATA, st);
	testdisk_peek(disk, phys, back, cs);
	CHECK_MEM_EQ(expect, back, cs);
	/* Untouched clusters still come from the backing volume. */
	CHECK_EQ(0, qed_read(img, 0, back, cs));
	testdisk_peek(base_disk, 0, expect, cs);
	CHECK_MEM_EQ(expect, back, cs);
	CHECK_EQ(0, base_disk->count[BLKDEV_WRITE]); /* never written */
	CHECK_EQ(0, qed_close(img));
	testdisk_free(base_disk);
}

/* ---- zero clusters ------------------------------------------------------------------- */
static void case_zero_whole_and_partial_clusters(void *arg)
{
	(void)arg;
	struct qed_image *img = make_backed(16 * MiB, 512);
	uint32_t cs = 64 * 1024;
	static uint8_t data[4 * 64 * 1024], back[4 * 64 * 1024];
	fill_pattern(data, sizeof(data), 9);
	CHECK_EQ(0, qed_write(img, 0, data, sizeof(data)));
	/* Half of cluster 0, clusters 1-2 whole, nothing of 3; then cluster 6 (never written,
	 * backed) and 3 GiB away (no L2 table yet: one is made for the zero entry). */
	CHECK_EQ(0, qed_zero(img, cs / 2, cs / 2 + 2 * cs));
	CHECK_EQ(0, qed_zero(img, 6 * (uint64_t)cs, cs));
	CHECK_EQ(0, qed_read(img, 0, back, sizeof(back)));
	memset(data + cs / 2, 0, cs / 2 + 2 * cs);
	CHECK_MEM_EQ(data, back, sizeof(back));
	enum qed_extent_state st;
	uint64_t bytes, phys;
	CHECK_EQ(0, qed_map(img, cs, 4 * cs, &st, &bytes, &phys));
	CHECK_EQ(QED_EXTENT_ZERO, st);
	CHECK_EQ(2 * cs, bytes);
	CHECK_EQ(0, qed_map(img, 0, cs, &st, &bytes, &phys));
	CHECK_EQ(QED_EXTENT_DATA, st); /* partial: zeros written into the cluster */
	CHECK_EQ(0, qed_map(img, 6 * (uint64_t)cs, cs, &st, &bytes, &phys));
	CHECK_EQ(QED_EXTENT_ZERO, st); /* reads zeros, not the backing data */
	CHECK_EQ(0, qed_read(img, 6 * (uint64_t)cs, back, cs));
	CHECK(is_zero(back, cs));

	/* Writing into a zero cluster fills the rest with zeros, not backing data. */
	fill_pattern(data, 512, 10);
	CHECK_EQ(0, qed_write(img, cs + 512, data, 512));
	CHECK_EQ(0, qed_read(img, cs, back, cs));
	CHECK(is_zero(back, 512));
	CHECK_MEM_EQ(data, back + 512, 512);
	CHECK(is_zero(back + 1024, cs - 1024));
	img = reopen(img, &(struct qed_open_opts){ .check_on_open = true, .log = test_log,
						    .open_backing = open_base });
	CHECK_EQ(0, qed_map(img, 2 * cs, cs, &st, &bytes, &phys));
	CHECK_EQ(QED_EXTENT_ZERO, st);
	struct qed_check_result r;
	CHECK_EQ(0, qed_check(img, false, &r));
	CHECK_EQ(0, r.corruptions);
	CHECK_EQ(2, r.leaks); /* the zeroed data clusters 1 and 2: QED has no free list */
	CHECK_EQ(0, qed_close(img));
	testdisk_free(base_disk);
}

static void case_zero_without_backing_allocates_nothing(void *arg)
{
	(void)arg;
	struct qed_open_opts o = test_opts();
	struct qed_image *img = make(1 * GiB, 0, 0, NULL, &o);
	unsigned writes = disk->count[BLKDEV_WRITE];
	CHECK_EQ(0, qed_zero(img, 512, 100 * MiB));
	CHECK_EQ(writes, disk->count[BLKDEV_WRITE]); /* already reads as zeros */
	CHECK_EQ(-EINVAL, qed_zero(img, 1 * GiB - 512, 1024));
	CHECK_EQ(0, qed_close(img));
}

/* ---- a full device ---------------------------------------------------------------------- */
static void case_enospc_on_full_device(void *arg)
{
	(void)arg;
	testdisk_free(disk);
	/* header + L1 (4) + one L2 table (4) + 6 data clusters */
	disk = testdisk_new(15 * 64 * 1024, 512);
	struct qed_open_opts o = test_opts();
	struct qed_image *img = make(1 * GiB, 0, 0, NULL, &o);
	static uint8_t data[4096], back[4096];
	int rc = 0, written = 0;
	for (int i = 0; i < 10 && !rc; i++) {
		fill_pattern(data, sizeof(data), (uint32_t)i);
		rc = qed_write(img, (uint64_t)i * 64 * 1024, data, sizeof(data));
		if (!rc)
			written++;
	}
	CHECK_EQ(-ENOSPC, rc);
	CHECK_EQ(6, written);
	CHECK_EQ(0, qed_write(img, 4096, data, sizeof(data))); /* in place still works */
	img = reopen(img, &o);
	for (int i = 0; i < written; i++) {
		fill_pattern(data, sizeof(data), (uint32_t)i);
		CHECK_EQ(0, qed_read(img, (uint64_t)i * 64 * 1024, back, sizeof(back)));
		CHECK_MEM_EQ(data, back, sizeof(back));
	}
	struct qed_check_result r;
	CHECK_EQ(0, qed_check(img, false, &r));
	CHECK_EQ(0, r.corruptions);
	CHECK_EQ(0, qed_close(img));
}

/* ---- the L2 cache ----------------------------------------------------------------------- */
static struct qed_image *cache_img;
static unsigned cache_running;
static struct completion cache_done;

static void touch_table(void *arg)
{
	uint64_t t = (uint64_t)(uintptr_t)arg;
	uint8_t data[4096], back[4096];
	fill_pattern(data, sizeof(data), (uint32_t)t);
	CHECK_EQ(0, qed_write(cache_img, t * 2 * MiB + 4096 * (t % 7), data, sizeof(data)));
	CHECK_EQ(0, qed_read(cache_img, t * 2 * MiB + 4096 * (t % 7), back, sizeof(back)));
	CHECK_MEM_EQ(data, back, sizeof(back));
	if (--cache_running == 0)
		completion_done(&cache_done, 0);
}

static void case_l2_cache_bounded(void *arg)
{
	(void)arg;
	/* 4 KiB clusters, 1-cluster tables: one L2 table per 2 MiB; 60 of them through a
	 * cache of 4, 12 writers at a time. */
	struct qed_open_opts o = test_opts();
	o.l2_cache_tables = 4;
	cache_img = make(128 * MiB, 4096, 1, NULL, &o);
	for (uint64_t round = 0; round < 5; round++) {
		cache_running = 12;
		completion_init(&cache_done);
		for (uint64_t i = 0; i < 12; i++)
			task_spawn(touch_table, (void *)(uintptr_t)(round * 12 + i));
		completion_wait(&cache_done);
		CHECK(cache_img->l2_count <= 4);
	}
	cache_img = reopen(cache_img, &o);
	uint8_t data[4096], back[4096];
	for (uint64_t t = 0; t < 60; t++) {
		fill_pattern(data, sizeof(data), (uint32_t)t);
		CHECK_EQ(0, qed_read(cache_img, t * 2 * MiB + 4096 * (t % 7), back, sizeof(back)));
		CHECK_MEM_EQ(data, back, sizeof(back));
	}
	CHECK(cache_img->l2_count <= 4);
	struct qed_check_result r;
	CHECK_EQ(0, qed_check(cache_img, false, &r));
	CHECK_EQ(0, r.corruptions);
	CHECK_EQ(0, r.leaks);
	CHECK_EQ(60, r.allocated_clusters);
	CHECK_EQ(0, qed_close(cache_img));
}

#define RUN_TASK(fn) RUN_DISK_CASE(1 * GiB, (void)0, fn)

int main(void)
{
	RUN_TASK(case_4k_clusters_table_size_16);
	RUN_TASK(case_4k_clusters_table_size_1);
	RUN_TASK(case_64m_clusters);
	RUN_TASK(case_backing_read_through);
	RUN_TASK(case_backing_copy_on_write);
	RUN_TASK(case_zero_whole_and_partial_clusters);
	RUN_TASK(case_zero_without_backing_allocates_nothing);
	RUN_TASK(case_enospc_on_full_device);
	RUN_TASK(case_l2_cache_bounded);
	return check_report("test_qed_io");
}
