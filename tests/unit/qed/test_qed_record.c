/* Host tests of the record area (qed/qed_record.c): store, reopen, load; the two slots in
 * turn; a torn slot and a bad CRC leave the previous record; autoclear bit 62 set only
 * after the slot is durable, and a record QEMU made stale (the bit cleared) never comes
 * back; no room on small header clusters; 4 KiB sectors; a failing device; and QEMU's
 * tools on an image with records (qemu-img check and info clean; after qemu-io wrote it,
 * the records are ignored). Each case runs as a task over a fresh test disk. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qedtest_util.h"

#define MiB (1024ull * 1024)
#define CS (64u * 1024)

static struct testdisk *disk;

static struct qed_image *create_and_open(uint32_t cluster_size)
{
	struct qed_create_opts c = { .image_size = 16 * MiB, .cluster_size = cluster_size };
	CHECK_EQ(0, qed_create(&disk->dev, &c));
	struct qed_open_opts o = test_opts();
	struct qed_image *img = NULL;
	CHECK_EQ(0, qed_open(&disk->dev, &o, &img));
	return img;
}

static struct qed_image *reopen(struct qed_image *img, bool read_only)
{
	CHECK_EQ(0, qed_close(img));
	struct qed_open_opts o = test_opts();
	o.read_only = read_only;
	CHECK_EQ(0, qed_open(&disk->dev, &o, &img));
	return img;
}

static int load_str(struct qed_image *img, char *out, size_t cap)
{
	size_t len = 0;
	memset(out, 0, cap);
	int rc = qed_record_load(img, out, cap - 1, &len);
	if (!rc)
		out[len] = 0;
	return rc;
}

static int store_str(struct qed_image *img, const char *s)
{
	return qed_record_store(img, s, strlen(s));
}

static uint64_t slot_seq(unsigned slot)
{
	uint8_t h[QED_RECORD_HEADER_SIZE];
	testdisk_peek(disk, qed_record_slot_offset(slot), h, sizeof(h));
	return get_le32(h) == QED_RECORD_MAGIC ? get_le64(h + 8) : 0;
}

static void case_store_reopen_load(void *arg)
{
	(void)arg;
	struct qed_image *img = create_and_open(0);
	char got[64];
	CHECK(qed_record_room(img));
	CHECK_EQ(-ENOENT, load_str(img, got, sizeof(got))); /* none yet */
	unsigned writes = disk->count[BLKDEV_WRITE], flushes = disk->count[BLKDEV_FLUSH];
	CHECK_EQ(0, store_str(img, "first record"));
	/* the slot, flushed; then the header with bit 62, flushed */
	CHECK_EQ(writes + 2, disk->count[BLKDEV_WRITE]);
	CHECK_EQ(flushes + 2, disk->count[BLKDEV_FLUSH]);
	CHECK(disk_header(disk).autoclear_features & QED_AF_QEDBOX_RECORDS);
	CHECK_EQ(1, slot_seq(0));
	writes = disk->count[BLKDEV_WRITE];
	flushes = disk->count[BLKDEV_FLUSH];
	CHECK_EQ(0, store_str(img, "second"));
	CHECK_EQ(writes + 1, disk->count[BLKDEV_WRITE]); /* the bit is set already */
	CHECK_EQ(flushes + 1, disk->count[BLKDEV_FLUSH]); /* durable before it returns */
	CHECK_EQ(2, slot_seq(1));                         /* the other slot */
	CHECK_EQ(1, slot_seq(0));                         /* the previous record stays */
	img = reopen(img, false);
	CHECK_EQ(0, load_str(img, got, sizeof(got)));
	CHECK_STR_EQ("second", got);
	CHECK_EQ(0, store_str(img, "third"));
	CHECK_EQ(3, slot_seq(0));
	CHECK_EQ(0, load_str(img, got, sizeof(got)));
	CHECK_STR_EQ("third", got);
	img = reopen(img, true); /* read-only: loads, does not store */
	CHECK_EQ(0, load_str(img, got, sizeof(got)));
	CHECK_STR_EQ("third", got);
	CHECK_EQ(-EROFS, store_str(img, "no"));
	char small[4];
	size_t len;
	CHECK_EQ(-EMSGSIZE, qed_record_load(img, small, sizeof(small), &len));
	CHECK_EQ(0, qed_close(img));
}

static void case_header_sector_and_geometry_untouched(void *arg)
{
	(void)arg;
	struct qed_image *img = create_and_open(0);
	static uint8_t before[QED_RECORD_AREA_OFFSET], after[QED_RECORD_AREA_OFFSET];
	CHECK_EQ(0, store_str(img, "x"));
	testdisk_peek(disk, 0, before, sizeof(before));
	CHECK_EQ(0, store_str(img, "y"));
	CHECK_EQ(0, store_str(img, "z"));
	testdisk_peek(disk, 0, after, sizeof(after));
	CHECK_MEM_EQ(before, after, sizeof(before)); /* records never write the first 4 KiB */
	static uint8_t big[QED_RECORD_PAYLOAD_MAX + 1];
	memset(big, 0x77, sizeof(big));
	CHECK_EQ(-EMSGSIZE, qed_record_store(img, big, sizeof(big)));
	CHECK_EQ(0, qed_record_store(img, big, QED_RECORD_PAYLOAD_MAX)); /* a full slot */
	img = reopen(img, false);
	static uint8_t back[QED_RECORD_PAYLOAD_MAX];
	size_t len = 0;
	CHECK_EQ(0, qed_record_load(img, back, sizeof(back), &len));
	CHECK_EQ(QED_RECORD_PAYLOAD_MAX, len);
	CHECK_MEM_EQ(big, back, len);
	struct qed_check_result res;
	CHECK_EQ(0, qed_check(img, false, &res));
	CHECK_EQ(0, res.corruptions);
	CHECK_EQ(0, res.leaks);
	CHECK_EQ(0, qed_close(img));
}

static void case_torn_slot_keeps_previous(void *arg)
{
	(void)arg;
	struct qed_image *img = create_and_open(0);
	char got[64];
	CHECK_EQ(0, store_str(img, "old state"));
	CHECK_EQ(0, store_str(img, "new state"));
	CHECK_EQ(0, qed_close(img));
	/* A power cut tore the second slot's write: its first sector landed, the rest is
	 * what was there before (0xdb: never written). */
	static uint8_t stale[QED_RECORD_SLOT_SIZE];
	memset(stale, 0xdb, sizeof(stale));
	uint8_t head[512];
	testdisk_peek(disk, qed_record_slot_offset(1), head, sizeof(head));
	head[40] ^= 0x01; /* the payload differs in the torn part */
	testdisk_poke(disk, qed_record_slot_offset(1), stale, sizeof(stale));
	testdisk_poke(disk, qed_record_slot_offset(1), head, sizeof(head));
	struct qed_open_opts o = test_opts();
	CHECK_EQ(0, qed_open(&disk->dev, &o, &img));
	CHECK_EQ(0, load_str(img, got, sizeof(got)));
	CHECK_STR_EQ("old state", got);
	/* the next store goes to the torn slot again, numbered above the valid one */
	CHECK_EQ(0, store_str(img, "newer"));
	CHECK_EQ(2, slot_seq(1));
	CHECK_EQ(1, slot_seq(0));
	CHECK_EQ(0, load_str(img, got, sizeof(got)));
	CHECK_STR_EQ("newer", got);
	CHECK_EQ(0, qed_close(img));
}

static void case_bad_crc_in_both_slots(void *arg)
{
	(void)arg;
	struct qed_image *img = create_and_open(0);
	char got[64];
	CHECK_EQ(0, store_str(img, "one"));
	CHECK_EQ(0, store_str(img, "two"));
	CHECK_EQ(0, qed_close(img));
	uint8_t b;
	testdisk_peek(disk, qed_record_slot_offset(1) + 28, &b, 1);
	b ^= 0x80; /* slot 1: its CRC */
	testdisk_poke(disk, qed_record_slot_offset(1) + 28, &b, 1);
	struct qed_open_opts o = test_opts();
	CHECK_EQ(0, qed_open(&disk->dev, &o, &img));
	CHECK_EQ(0, load_str(img, got, sizeof(got)));
	CHECK_STR_EQ("one", got);
	testdisk_peek(disk, qed_record_slot_offset(0) + QED_RECORD_HEADER_SIZE, &b, 1);
	b ^= 0x01; /* slot 0: its payload */
	testdisk_poke(disk, qed_record_slot_offset(0) + QED_RECORD_HEADER_SIZE, &b, 1);
	unsigned notices = (unsigned)log_count[1];
	CHECK_EQ(-ENOENT, load_str(img, got, sizeof(got)));
	CHECK_EQ(notices + 1, (unsigned)log_count[1]); /* reported */
	uint32_t len = 0xffff; /* a length past the slot is refused before the CRC */
	testdisk_poke(disk, qed_record_slot_offset(0) + 16, &len, 4);
	CHECK_EQ(-ENOENT, load_str(img, got, sizeof(got)));
	CHECK_EQ(0, store_str(img, "fresh")); /* numbered above anything seen */
	CHECK_EQ(0, load_str(img, got, sizeof(got)));
	CHECK_STR_EQ("fresh", got);
	CHECK_EQ(0, qed_close(img));
}

/* QEMU clears bit 62: the records are stale, and a later store must not let the stale
 * slot (with a higher sequence than the new one would have had) come back. */
static void case_cleared_bit_makes_records_stale(void *arg)
{
	(void)arg;
	struct qed_image *img = create_and_open(0);
	char got[64];
	CHECK_EQ(0, store_str(img, "stale 1"));
	CHECK_EQ(0, store_str(img, "stale 2"));
	CHECK_EQ(0, qed_close(img));
	uint8_t h[64];
	testdisk_peek(disk, 0, h, sizeof(h));
	put_le64(h + 32, get_le64(h + 32) & ~QED_AF_QEDBOX_RECORDS); /* as QEMU would */
	testdisk_poke(disk, 0, h, sizeof(h));
	struct qed_open_opts o = test_opts();
	CHECK_EQ(0, qed_open(&disk->dev, &o, &img));
	CHECK_EQ(-ENOENT, load_str(img, got, sizeof(got)));
	disk->fail_op = BLKDEV_WRITE; /* the header write setting the bit fails */
	disk->fail_nth = disk->count[BLKDEV_WRITE] + 2;
	CHECK_EQ(-EIO, store_str(img, "lost"));
	disk->fail_op = -1;
	CHECK(!(disk_header(disk).autoclear_features & QED_AF_QEDBOX_RECORDS));
	CHECK_EQ(-ENOENT, load_str(img, got, sizeof(got)));
	CHECK_EQ(0, store_str(img, "current"));
	img = reopen(img, false);
	CHECK_EQ(0, load_str(img, got, sizeof(got)));
	CHECK_STR_EQ("current", got);
	CHECK_EQ(0, qed_close(img));
}

static void case_failed_slot_write_keeps_previous(void *arg)
{
	(void)arg;
	struct qed_image *img = create_and_open(0);
	char got[64];
	CHECK_EQ(0, store_str(img, "kept"));
	disk->fail_op = BLKDEV_WRITE;
	disk->fail_nth = disk->count[BLKDEV_WRITE] + 1;
	CHECK_EQ(-EIO, store_str(img, "failed"));
	CHECK_EQ(0, load_str(img, got, sizeof(got)));
	CHECK_STR_EQ("kept", got);
	/* the slot was written but its flush failed: it may or may not have landed, and
	 * the next store must win over it whatever it holds */
	disk->fail_op = BLKDEV_FLUSH;
	disk->fail_nth = disk->count[BLKDEV_FLUSH] + 1;
	CHECK_EQ(-EIO, store_str(img, "not durable"));
	disk->fail_op = -1;
	CHECK_EQ(0, store_str(img, "after"));
	img = reopen(img, false);
	CHECK_EQ(0, load_str(img, got, sizeof(got)));
	CHECK_STR_EQ("after", got);
	CHECK_EQ(0, qed_close(img));
}

static void case_no_room(void *arg)
{
	(void)arg;
	uint32_t sizes[] = { 4096, 8192, 16384 }; /* one-cluster headers below 20 KiB */
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct qed_image *img = create_and_open(sizes[i]);
		CHECK(!qed_record_room(img));
		CHECK_EQ(-ENOSPC, store_str(img, "x"));
		char got[8];
		CHECK_EQ(-ENOENT, load_str(img, got, sizeof(got)));
		struct volume v;
		qed_volume_init(img, &v);
		CHECK(v.ops->save_reservations == NULL); /* the LUN refuses APTPL */
		CHECK(v.ops->load_reservations == NULL);
		CHECK_EQ(0, qed_close(img));
	}
	struct qed_image *img = create_and_open(32768);
	CHECK(qed_record_room(img));
	struct volume v;
	qed_volume_init(img, &v);
	CHECK(v.ops->save_reservations != NULL);
	CHECK_EQ(0, v.ops->save_reservations(&v, "vol", 3));
	char got[8] = { 0 };
	size_t len;
	CHECK_EQ(0, v.ops->load_reservations(&v, got, sizeof(got), &len));
	CHECK_EQ(3, len);
	CHECK_EQ(0, qed_close(img));
}

static void case_4k_sectors(void *arg)
{
	(void)arg;
	struct qed_image *img = create_and_open(0);
	char got[64];
	CHECK_EQ(0, store_str(img, "on 4 KiB sectors"));
	img = reopen(img, false);
	CHECK_EQ(0, load_str(img, got, sizeof(got)));
	CHECK_STR_EQ("on 4 KiB sectors", got);
	CHECK_EQ(0, qed_close(img));
}

/* ---- QEMU's tools on an image with records ---- */

static char image_path[] = "/tmp/qedbox-record-XXXXXX";
#define IMAGE_FILE_BYTES (5 * CS) /* header cluster and L1 table: nothing allocated */

static bool dump_to_file(void)
{
	static uint8_t bytes[IMAGE_FILE_BYTES];
	testdisk_peek(disk, 0, bytes, sizeof(bytes));
	FILE *f = fopen(image_path, "wb");
	bool ok = f && fwrite(bytes, 1, sizeof(bytes), f) == sizeof(bytes);
	return f && fclose(f) == 0 && ok;
}

static bool load_from_file(void)
{
	static uint8_t bytes[4 * MiB];
	FILE *f = fopen(image_path, "rb");
	if (!f)
		return false;
	size_t n = fread(bytes, 1, sizeof(bytes), f);
	fclose(f);
	testdisk_poke(disk, 0, bytes, n);
	return n >= IMAGE_FILE_BYTES;
}

static int run(const char *fmt)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), fmt, image_path);
	int st = system(cmd);
	return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void case_qemu_tools(void *arg)
{
	(void)arg;
	struct qed_image *img = create_and_open(0);
	char got[64];
	CHECK_EQ(0, store_str(img, "reservations"));
	CHECK_EQ(0, qed_close(img));
	CHECK(dump_to_file());
	CHECK_EQ(0, run("qemu-img check -f qed %s >/dev/null"));
	CHECK_EQ(0, run("qemu-img info -f qed %s | grep -q 'file format: qed'"));
	CHECK(load_from_file()); /* check and info opened it read-only: still current */
	struct qed_open_opts o = test_opts();
	CHECK_EQ(0, qed_open(&disk->dev, &o, &img));
	CHECK_EQ(0, load_str(img, got, sizeof(got)));
	CHECK_STR_EQ("reservations", got);
	CHECK_EQ(0, qed_close(img));

	/* QEMU writes the image: it clears bit 62, the records are stale */
	CHECK(dump_to_file());
	CHECK_EQ(0, run("qemu-io -f qed -c 'write -P 0x5a 0 4k' %s >/dev/null"));
	CHECK_EQ(0, run("qemu-img check -f qed %s >/dev/null"));
	CHECK(load_from_file());
	CHECK(!(disk_header(disk).autoclear_features & QED_AF_QEDBOX_RECORDS));
	CHECK_EQ(0, qed_open(&disk->dev, &o, &img));
	CHECK_EQ(-ENOENT, load_str(img, got, sizeof(got)));
	uint8_t data[4096];
	CHECK_EQ(0, qed_read(img, 0, data, sizeof(data)));
	CHECK_EQ(0x5a, data[4095]);
	CHECK_EQ(0, qed_close(img));
}

#define RUN_TASK(fn) RUN_DISK_CASE(64 * MiB, (void)0, fn)

int main(void)
{
	RUN_TASK(case_store_reopen_load);
	RUN_TASK(case_header_sector_and_geometry_untouched);
	RUN_TASK(case_torn_slot_keeps_previous);
	RUN_TASK(case_bad_crc_in_both_slots);
	RUN_TASK(case_cleared_bit_makes_records_stale);
	RUN_TASK(case_failed_slot_write_keeps_previous);
	RUN_TASK(case_no_room);
	disk = testdisk_new(64 * MiB, 4096);
	check_case_name = "case_4k_sectors";
	check_cases++;
	CHECK(run_in_task(case_4k_sectors, NULL));
	testdisk_free(disk);
	int fd = mkstemp(image_path);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK(system("qemu-img --version >/dev/null 2>&1") == 0); /* required, as test_crash */
	RUN_TASK(case_qemu_tools);
	unlink(image_path);
	return check_report("test_qed_record");
}
