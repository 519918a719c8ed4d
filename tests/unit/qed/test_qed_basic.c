/* Host tests of the QED core's main paths: create, open, read, write, flush, close, and
 * the need-check and durable-end lifecycle as seen on the disk. Each case runs as a task
 * over a fresh test disk. */
#include "qedtest_util.h"

#define MiB (1024ull * 1024)
#define CS (64u * 1024) /* default cluster size */

static struct testdisk *disk;

static struct qed_image *create_and_open(uint64_t image_size)
{
	struct qed_create_opts c = { .image_size = image_size };
	CHECK_EQ(0, qed_create(&disk->dev, &c));
	struct qed_open_opts o = test_opts();
	struct qed_image *img = NULL;
	CHECK_EQ(0, qed_open(&disk->dev, &o, &img));
	return img;
}

static void case_create_matches_qemu_layout(void *arg)
{
	(void)arg;
	struct qed_create_opts c = { .image_size = 1 << 30 };
	CHECK_EQ(0, qed_create(&disk->dev, &c));
	struct qed_header h = disk_header(disk);
	CHECK_EQ(QED_MAGIC, h.magic);
	CHECK_EQ(CS, h.cluster_size);
	CHECK_EQ(4, h.table_size);
	CHECK_EQ(1, h.header_size);
	CHECK_EQ(0, h.features);
	CHECK_EQ(0, h.autoclear_features);
	CHECK_EQ(CS, h.l1_table_offset);
	CHECK_EQ(1 << 30, h.image_size);
	static uint8_t buf[5 * CS];
	testdisk_peek(disk, 0, buf, sizeof(buf));
	CHECK(is_zero(buf + 64, sizeof(buf) - 64)); /* header rest and L1: zeros, not stale */
}

static void case_unallocated_reads_zeros(void *arg)
{
	(void)arg;
	struct qed_image *img = create_and_open(16 * MiB);
	unsigned writes = disk->count[BLKDEV_WRITE];
	static uint8_t buf[3 * CS];
	memset(buf, 0x55, sizeof(buf));
	CHECK_EQ(0, qed_read(img, CS / 2, buf, sizeof(buf)));
	CHECK(is_zero(buf, sizeof(buf)));
	CHECK_EQ(0, qed_close(img));
	CHECK_EQ(writes, disk->count[BLKDEV_WRITE]); /* reads and a clean close write nothing */
}

static void case_write_read_back_across_reopen(void *arg)
{
	(void)arg;
	struct qed_image *img = create_and_open(64 * MiB);
	static uint8_t data[200 * 1024], back[200 * 1024];
	fill_pattern(data, sizeof(data), 1);
	uint64_t off = 3 * CS - 4096; /* spans four clusters, starts mid-cluster */
	CHECK_EQ(0, qed_write(img, off, data, sizeof(data)));
	CHECK_EQ(0, qed_read(img, off, back, sizeof(back)));
	CHECK_MEM_EQ(data, back, sizeof(data));
	CHECK_EQ(0, qed_close(img));

	struct qed_open_opts o = test_opts();
	CHECK_EQ(0, qed_open(&disk->dev, &o, &img));
	memset(back, 0, sizeof(back));
	CHECK_EQ(0, qed_read(img, off, back, sizeof(back)));
	CHECK_MEM_EQ(data, back, sizeof(data));
	/* Around the write: zeros, never the disk's stale 0xdb. */
	CHECK_EQ(0, qed_read(img, 2 * CS, back, CS - 4096));
	CHECK(is_zero(back, CS - 4096));
	CHECK_EQ(0, qed_read(img, off + sizeof(data), back, 4096));
	CHECK(is_zero(back, 4096));
	CHECK_EQ(0, qed_close(img));
}

static void case_in_place_write_writes_data_only(void *arg)
{
	(void)arg;
	struct qed_image *img = create_and_open(16 * MiB);
	static uint8_t data[8192], back[8192];
	fill_pattern(data, sizeof(data), 2);
	CHECK_EQ(0, qed_write(img, 0, data, sizeof(data)));
	CHECK_EQ(0, qed_flush(img));
	unsigned writes = disk->count[BLKDEV_WRITE], flushes = disk->count[BLKDEV_FLUSH];
	fill_pattern(data, sizeof(data), 3);
	CHECK_EQ(0, qed_write(img, 4096, data, sizeof(data)));
	CHECK_EQ(writes + 1, disk->count[BLKDEV_WRITE]);
	CHECK_EQ(flushes, disk->count[BLKDEV_FLUSH]);
	CHECK_EQ(0, qed_read(img, 4096, back, sizeof(back)));
	CHECK_MEM_EQ(data, back, sizeof(data));
	CHECK_EQ(0, qed_close(img));
}

static void case_need_check_lifecycle(void *arg)
{
	(void)arg;
	struct qed_image *img = create_and_open(16 * MiB);
	static uint8_t data[4096];
	fill_pattern(data, sizeof(data), 4);
	CHECK(!disk_need_check(disk));                  /* opened clean */
	CHECK_EQ(0, qed_write(img, 0, data, sizeof(data)));
	CHECK(disk_need_check(disk));                   /* set before allocating */
	CHECK_EQ(0, qed_flush(img));
	CHECK(disk_need_check(disk));                   /* allocations since the last flush */
	CHECK_EQ(0, qed_flush(img));
	CHECK(!disk_need_check(disk));                  /* cleared when idle after flush */
	CHECK_EQ(0, qed_write(img, 512, data, 512));
	CHECK(!disk_need_check(disk));                  /* in-place: not needed */
	CHECK_EQ(0, qed_write(img, 5 * CS, data, sizeof(data)));
	CHECK(disk_need_check(disk));                   /* set again */
	CHECK_EQ(0, qed_close(img));
	CHECK(!disk_need_check(disk));                  /* clean close */
}

static void case_durable_end_advances_after_flush(void *arg)
{
	(void)arg;
	struct qed_image *img = create_and_open(64 * MiB);
	uint64_t meta_end = 5 * CS; /* header + 4-cluster L1 */
	static uint8_t data[4096];
	CHECK_EQ(0, disk_durable_end(disk));            /* as qemu-img made it */
	CHECK_EQ(0, qed_write(img, 0, data, sizeof(data)));
	/* The header that set need-check carries the extension, still at the old end. */
	CHECK_EQ(meta_end, disk_durable_end(disk));
	CHECK_EQ(0, qed_flush(img));
	/* One data cluster and one L2 table (4 clusters) were allocated. */
	CHECK_EQ(meta_end + 5 * CS, disk_durable_end(disk));
	struct qed_info info;
	qed_get_info(img, &info);
	CHECK_EQ(meta_end + 5 * CS, info.durable_end);
	CHECK_EQ(0, qed_write(img, CS, data, sizeof(data)));
	CHECK_EQ(meta_end + 5 * CS, disk_durable_end(disk)); /* not before the flush */
	CHECK_EQ(0, qed_close(img));
	CHECK_EQ(meta_end + 6 * CS, disk_durable_end(disk));
}

static void case_reopen_allocates_after_durable_end(void *arg)
{
	(void)arg;
	struct qed_image *img = create_and_open(64 * MiB);
	static uint8_t a[4096], b[4096], back[4096];
	fill_pattern(a, sizeof(a), 5);
	fill_pattern(b, sizeof(b), 6);
	CHECK_EQ(0, qed_write(img, 0, a, sizeof(a)));
	CHECK_EQ(0, qed_close(img));
	struct qed_open_opts o = test_opts();
	CHECK_EQ(0, qed_open(&disk->dev, &o, &img));
	CHECK_EQ(0, qed_write(img, 10 * CS, b, sizeof(b)));
	CHECK_EQ(0, qed_read(img, 0, back, sizeof(back)));
	CHECK_MEM_EQ(a, back, sizeof(a));
	CHECK_EQ(0, qed_read(img, 10 * CS, back, sizeof(back)));
	CHECK_MEM_EQ(b, back, sizeof(b));
	enum qed_extent_state st;
	uint64_t bytes, pa, pb;
	CHECK_EQ(0, qed_map(img, 0, CS, &st, &bytes, &pa));
	CHECK_EQ(QED_EXTENT_DATA, st);
	CHECK_EQ(0, qed_map(img, 10 * CS, CS, &st, &bytes, &pb));
	CHECK_EQ(QED_EXTENT_DATA, st);
	/* a's cluster, then its new L2 table, then b's cluster: right after the durable
	 * end, not at the end of the disk. */
	CHECK_EQ(5 * CS, pa);
	CHECK_EQ(10 * CS, pb);
	CHECK_EQ(0, qed_close(img));
}

static void case_requests_outside_image_refused(void *arg)
{
	(void)arg;
	struct qed_image *img = create_and_open(1 * MiB);
	static uint8_t buf[4096];
	CHECK_EQ(-EINVAL, qed_read(img, 1 * MiB, buf, 512));
	CHECK_EQ(-EINVAL, qed_write(img, 1 * MiB - 512, buf, 1024));
	CHECK_EQ(-EINVAL, qed_write(img, 100, buf, 512));
	CHECK_EQ(-EINVAL, qed_read(img, 0, buf, 100));
	CHECK_EQ(0, qed_write(img, 1 * MiB - 512, buf, 512));
	CHECK_EQ(0, qed_close(img));
}

static void case_4k_sector_device(void *arg)
{
	(void)arg;
	struct testdisk *d4 = testdisk_new(64 * MiB, 4096);
	struct qed_create_opts c = { .image_size = 32 * MiB };
	CHECK_EQ(0, qed_create(&d4->dev, &c));
	struct qed_open_opts o = test_opts();
	struct qed_image *img;
	CHECK_EQ(0, qed_open(&d4->dev, &o, &img));
	static uint8_t data[8192], back[8192];
	fill_pattern(data, sizeof(data), 8);
	CHECK_EQ(-EINVAL, qed_write(img, 512, data, 4096)); /* below the device's sector */
	CHECK_EQ(0, qed_write(img, 4096, data, sizeof(data)));
	CHECK_EQ(0, qed_close(img));
	CHECK_EQ(0, qed_open(&d4->dev, &o, &img));
	CHECK_EQ(0, qed_read(img, 4096, back, sizeof(back)));
	CHECK_MEM_EQ(data, back, sizeof(data));
	struct volume v;
	qed_volume_init(img, &v);
	CHECK_EQ(4096, v.block_size);
	CHECK_EQ(0, qed_close(img));
	testdisk_free(d4);
}

static void case_volume_and_info(void *arg)
{
	(void)arg;
	struct qed_image *img = create_and_open(64 * MiB + 512);
	struct volume v;
	qed_volume_init(img, &v);
	CHECK_EQ(64 * MiB + 512, v.size);
	CHECK_EQ(512, v.block_size);
	CHECK_EQ(CS, v.unmap_granularity);
	CHECK(v.write_cache);
	CHECK(!v.read_only);
	CHECK_STR_EQ("testdisk", v.serial);
	CHECK(v.priv == img);
	static uint8_t data[CS], back[CS];
	fill_pattern(data, sizeof(data), 11);
	CHECK_EQ(0, v.ops->write(&v, 64 * MiB - CS / 2, data, CS / 2 + 512));
	CHECK_EQ(0, v.ops->read(&v, 64 * MiB - CS / 2, back, CS / 2 + 512));
	CHECK_MEM_EQ(data, back, CS / 2 + 512);
	CHECK_EQ(0, v.ops->flush(&v));
	CHECK_EQ(0, v.ops->unmap(&v, 64 * MiB - CS, CS));
	CHECK_EQ(0, v.ops->read(&v, 64 * MiB - CS, back, CS));
	CHECK(is_zero(back, CS));
	enum qed_extent_state st;
	uint64_t bytes, phys;
	CHECK_EQ(0, qed_map(img, 64 * MiB - CS, CS, &st, &bytes, &phys));
	CHECK_EQ(QED_EXTENT_ZERO, st);
	CHECK_EQ(0, qed_map(img, 64 * MiB, 512, &st, &bytes, &phys)); /* data, in place */
	CHECK_EQ(QED_EXTENT_DATA, st);
	CHECK_EQ(512, bytes);
	CHECK_EQ(-EINVAL, qed_map(img, 64 * MiB + 512, 512, &st, &bytes, &phys));

	struct qed_info info;
	qed_get_info(img, &info);
	CHECK_EQ(64 * MiB + 512, info.image_size);
	CHECK_EQ(CS, info.cluster_size);
	CHECK_EQ(4, info.table_size);
	CHECK(info.need_check); /* allocations since the last flush */
	CHECK_EQ(QED_AF_QEDBOX_DURABLE_END, info.autoclear_features);
	CHECK_STR_EQ("", info.backing_file);
	CHECK_EQ(0, qed_close(img));

	struct qed_open_opts o = test_opts();
	o.read_only = true;
	CHECK_EQ(0, qed_open(&disk->dev, &o, &img));
	qed_volume_init(img, &v);
	CHECK(v.read_only);
	CHECK_EQ(-EROFS, v.ops->write(&v, 0, data, 512));
	CHECK_EQ(-EROFS, v.ops->unmap(&v, 0, CS));
	qed_get_info(img, &info);
	CHECK(!info.need_check);
	CHECK(info.durable_end > 0);
	CHECK_EQ(0, qed_close(img));
}

/* The volume's block_status op (qed_volume.c): data clusters are mapped,
 * unallocated (no backing image) and zeroed clusters are not. */
static void case_volume_block_status(void *arg)
{
	(void)arg;
	struct qed_image *img = create_and_open(16 * MiB);
	struct volume v;
	qed_volume_init(img, &v);
	static uint8_t data[2 * CS];
	fill_pattern(data, sizeof(data), 3);
	CHECK_EQ(0, v.ops->write(&v, CS, data, 2 * CS));
	CHECK_EQ(0, v.ops->unmap(&v, 2 * CS, CS));
	bool mapped = true;
	uint64_t bytes = 0;
	CHECK_EQ(0, v.ops->block_status(&v, 0, 16 * MiB, &mapped, &bytes));
	CHECK(!mapped);
	CHECK_EQ(CS, bytes);
	CHECK_EQ(0, v.ops->block_status(&v, CS + 512, 16 * MiB - CS - 512, &mapped, &bytes));
	CHECK(mapped);
	CHECK_EQ(CS - 512, bytes);
	CHECK_EQ(0, v.ops->block_status(&v, 2 * CS, CS, &mapped, &bytes));
	CHECK(!mapped);
	CHECK_EQ(-EINVAL, v.ops->block_status(&v, 16 * MiB, 512, &mapped, &bytes));
	CHECK_EQ(0, qed_close(img));
}

static void case_image_without_extension_scanned_at_open(void *arg)
{
	(void)arg;
	struct qed_image *img = create_and_open(4096 * MiB);
	static uint8_t data[4096];
	CHECK_EQ(0, qed_write(img, 0, data, sizeof(data)));          /* cluster 5, table 6-9 */
	CHECK_EQ(0, qed_write(img, 3072 * MiB, data, sizeof(data)));  /* cluster 10, table 11-14 */
	CHECK_EQ(0, qed_close(img));
	/* As QEMU leaves it after a read-write open: our autoclear bit cleared. */
	uint8_t zero[8] = { 0 };
	testdisk_poke(disk, 32, zero, 8);
	struct qed_open_opts o = test_opts();
	CHECK_EQ(0, qed_open(&disk->dev, &o, &img));
	struct qed_info info;
	qed_get_info(img, &info);
	CHECK_EQ(0, info.durable_end);
	CHECK_EQ(0, qed_write(img, 7 * CS, data, sizeof(data)));
	enum qed_extent_state st;
	uint64_t bytes, phys;
	CHECK_EQ(0, qed_map(img, 7 * CS, CS, &st, &bytes, &phys));
	CHECK_EQ(15 * CS, phys); /* after the highest referenced cluster */
	CHECK_EQ(15 * CS, disk_durable_end(disk)); /* the extension is back */
	CHECK_EQ(0, qed_close(img));
}

static void case_no_room_for_extension_flushes_before_linking(void *arg)
{
	(void)arg;
	static char name[460];
	memset(name, 'b', sizeof(name) - 1); /* ends past byte 480: no room */
	struct qed_create_opts c = { .image_size = 64 * MiB, .backing_file = name };
	CHECK_EQ(0, qed_create(&disk->dev, &c));
	struct qed_open_opts o = test_opts();
	static struct volume empty; /* a backing file without data */
	o.open_backing = open_ctx_volume;
	o.backing_ctx = &empty;
	struct qed_image *img;
	CHECK_EQ(0, qed_open(&disk->dev, &o, &img));
	static uint8_t data[4096], back[4096];
	fill_pattern(data, sizeof(data), 12);
	CHECK_EQ(0, qed_write(img, 0, data, sizeof(data)));
	CHECK_EQ(0, qed_flush(img));
	unsigned flushes = disk->count[BLKDEV_FLUSH];
	CHECK_EQ(0, qed_write(img, CS, data, sizeof(data))); /* existing table */
	CHECK_EQ(flushes + 1, disk->count[BLKDEV_FLUSH]);    /* data flushed before the entry */
	CHECK_EQ(0, disk_durable_end(disk));
	CHECK_EQ(0, qed_close(img));
	CHECK_EQ(0, qed_open(&disk->dev, &o, &img));
	CHECK_EQ(0, qed_read(img, CS, back, sizeof(back)));
	CHECK_MEM_EQ(data, back, sizeof(data));
	char stored[460] = { 0 };
	testdisk_peek(disk, 64, stored, sizeof(name) - 1);
	CHECK_STR_EQ(name, stored); /* header writes kept the name */
	CHECK_EQ(0, qed_close(img));
}

#define RUN_TASK(fn) RUN_DISK_CASE(256 * MiB, (void)0, fn)

int main(void)
{
	RUN_TASK(case_create_matches_qemu_layout);
	RUN_TASK(case_unallocated_reads_zeros);
	RUN_TASK(case_write_read_back_across_reopen);
	RUN_TASK(case_in_place_write_writes_data_only);
	RUN_TASK(case_need_check_lifecycle);
	RUN_TASK(case_durable_end_advances_after_flush);
	RUN_TASK(case_reopen_allocates_after_durable_end);
	RUN_TASK(case_requests_outside_image_refused);
	RUN_TASK(case_4k_sector_device);
	RUN_TASK(case_volume_and_info);
	RUN_TASK(case_volume_block_status);
	RUN_TASK(case_image_without_extension_scanned_at_open);
	RUN_TASK(case_no_room_for_extension_flushes_before_linking);
	return check_report("test_qed_basic");
}
