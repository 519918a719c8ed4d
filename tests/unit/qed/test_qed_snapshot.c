/* Host tests of what snapshots and clones need from the QED core: an overlay created with
 * a volume record (qed_create_opts.volume_name), the record surviving header writes and
 * reopens, qed_peek, a create cut short never leaving an image that opens, qed_freeze,
 * and QEMU's tools accepting such images (qemu-img info --backing-chain and check; after
 * qemu-io writes the overlay the record is dropped and the image still opens). */
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qedtest_util.h"

#define MiB (1024ull * 1024)
#define CS (64u * 1024)
#define IMAGE (16 * MiB)

static struct testdisk *disk;          /* the base image */
static struct testdisk *ovl;           /* the overlay, on its own disk */
static struct qed_image *base_img;
static struct volume base_vol;

static int backing_is_base(void *ctx, const char *name, const char *fmt, struct volume **out)
{
	(void)ctx, (void)fmt;
	if (strcmp(name, "base") != 0)
		return -ENOENT;
	*out = &base_vol;
	return 0;
}

static struct qed_open_opts ovl_opts(void)
{
	struct qed_open_opts o = test_opts();
	o.open_backing = backing_is_base;
	return o;
}

static struct qed_create_opts ovl_create_opts(const char *volume)
{
	return (struct qed_create_opts){ .image_size = IMAGE, .cluster_size = CS,
					 .backing_file = "base", .backing_fmt = "qed",
					 .volume_name = volume };
}

/* A base image holding 0x11 in its first 1 MiB, frozen; ovl: a fresh disk. */
static void make_base(void)
{
	struct qed_create_opts c = { .image_size = IMAGE, .cluster_size = CS };
	CHECK_EQ(0, qed_create(&disk->dev, &c));
	struct qed_open_opts o = test_opts();
	CHECK_EQ(0, qed_open(&disk->dev, &o, &base_img));
	static uint8_t buf[MiB];
	memset(buf, 0x11, sizeof(buf));
	CHECK_EQ(0, qed_write(base_img, 0, buf, sizeof(buf)));
	qed_volume_init(base_img, &base_vol);
	ovl = testdisk_new(64 * MiB, 512);
}

static void drop_base(void)
{
	CHECK_EQ(0, qed_close(base_img));
	testdisk_free(ovl);
}

static void case_overlay_with_volume_record(void *arg)
{
	(void)arg;
	make_base();
	struct qed_create_opts c = ovl_create_opts("vol0");
	CHECK_EQ(0, qed_create(&ovl->dev, &c));
	struct qed_header h = disk_header(ovl);
	CHECK_EQ(QED_F_BACKING_FILE, h.features);
	CHECK_EQ(QED_AF_QEDBOX_VOLUME, h.autoclear_features);
	uint8_t sector[512];
	testdisk_peek(ovl, 0, sector, sizeof(sector));
	uint32_t off = qed_volrec_offset(&h);
	CHECK_EQ(72 + 32, off); /* after "base" (to 68, rounded to 72) and the extension */
	CHECK_EQ(QED_VOLREC_MAGIC, get_le32(sector + off));
	CHECK_MEM_EQ("vol0", sector + off + 8, 5);

	struct qed_info info;
	struct qed_open_opts o = ovl_opts();
	CHECK_EQ(0, qed_peek(&ovl->dev, &o, &info));
	CHECK_STR_EQ("vol0", info.volume_name);
	CHECK_STR_EQ("base", info.backing_file);
	CHECK_EQ(IMAGE, info.image_size);

	struct qed_image *img;
	CHECK_EQ(0, qed_open(&ovl->dev, &o, &img));
	qed_get_info(img, &info);
	CHECK_STR_EQ("vol0", info.volume_name);
	CHECK_EQ(0, info.allocated_bytes);
	static uint8_t buf[2 * CS];
	CHECK_EQ(0, qed_read(img, 0, buf, sizeof(buf))); /* the base's data through it */
	CHECK_EQ(0x11, buf[0]);
	CHECK_EQ(0x11, buf[sizeof(buf) - 1]);
	CHECK_EQ(0, qed_close(img));
	drop_base();
}

static void case_bad_volume_names_refused(void *arg)
{
	(void)arg;
	make_base();
	const char *bad[] = { "", "has space", "a-name-longer-than-23-bytes" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct qed_create_opts c = ovl_create_opts(bad[i]);
		CHECK_EQ(-EINVAL, qed_create(&ovl->dev, &c));
		CHECK_EQ(0, ovl->count[BLKDEV_WRITE]); /* refused before writing anything */
	}
	drop_base();
}

static void case_record_survives_writes_and_reopen(void *arg)
{
	(void)arg;
	make_base();
	struct qed_create_opts c = ovl_create_opts("vol0");
	CHECK_EQ(0, qed_create(&ovl->dev, &c));
	struct qed_open_opts o = ovl_opts();
	struct qed_image *img;
	CHECK_EQ(0, qed_open(&ovl->dev, &o, &img));
	static uint8_t buf[CS];
	memset(buf, 0x22, sizeof(buf));
	CHECK_EQ(0, qed_write(img, 4 * CS, buf, 4096)); /* need-check: a header write */
	CHECK(disk_need_check(ovl));
	CHECK_EQ(0, qed_flush(img));
	CHECK_EQ(0, qed_close(img));                    /* durable end: header writes */
	struct qed_header h = disk_header(ovl);
	CHECK_EQ(QED_AF_QEDBOX_VOLUME | QED_AF_QEDBOX_DURABLE_END, h.autoclear_features);
	CHECK_EQ(0, qed_open(&ovl->dev, &o, &img));
	struct qed_info info;
	qed_get_info(img, &info);
	CHECK_STR_EQ("vol0", info.volume_name);
	CHECK_EQ(5 * CS, info.allocated_bytes);        /* an L2 table (4 clusters), one data */
	CHECK_EQ(0, qed_read(img, 4 * CS, buf, CS));
	CHECK_EQ(0x22, buf[0]);
	CHECK_EQ(0x11, buf[4096]);                      /* the rest from the base */
	CHECK_EQ(0, qed_close(img));
	drop_base();
}

static void case_corrupt_record_ignored(void *arg)
{
	(void)arg;
	make_base();
	struct qed_create_opts c = ovl_create_opts("vol0");
	CHECK_EQ(0, qed_create(&ovl->dev, &c));
	struct qed_header h = disk_header(ovl);
	uint8_t x = 'X';
	testdisk_poke(ovl, qed_volrec_offset(&h) + 9, &x, 1); /* CRC no longer matches */
	struct qed_open_opts o = ovl_opts();
	struct qed_info info;
	CHECK_EQ(0, qed_peek(&ovl->dev, &o, &info));
	CHECK_STR_EQ("", info.volume_name);
	struct qed_image *img;
	CHECK_EQ(0, qed_open(&ovl->dev, &o, &img)); /* clears the bit it cannot vouch for */
	CHECK_EQ(0, disk_header(ovl).autoclear_features);
	CHECK_EQ(0, qed_close(img));
	drop_base();
}

/* Write n of the create fails: every earlier one landed, nothing later was sent. With
 * the header sector last, no such prefix is an image. */
static void case_torn_create_never_an_image(void *arg)
{
	(void)arg;
	make_base();
	struct qed_create_opts c = ovl_create_opts("vol0");
	CHECK_EQ(0, qed_create(&ovl->dev, &c));
	unsigned writes = ovl->count[BLKDEV_WRITE], flushes = ovl->count[BLKDEV_FLUSH];
	CHECK(writes >= 3);
	CHECK_EQ(2, flushes);
	for (unsigned n = 1; n <= writes; n++) {
		struct testdisk *d = testdisk_new(64 * MiB, 512);
		uint8_t zero[512] = { 0 };
		testdisk_poke(d, 0, zero, sizeof(zero)); /* a blank spare */
		d->fail_op = BLKDEV_WRITE;
		d->fail_nth = n;
		CHECK_EQ(-EIO, qed_create(&d->dev, &c));
		uint8_t sector[512];
		testdisk_peek(d, 0, sector, sizeof(sector));
		CHECK(!qed_probe(sector, sizeof(sector)));
		testdisk_free(d);
	}
	/* The first flush fails: the header is never written. */
	struct testdisk *d = testdisk_new(64 * MiB, 512);
	d->fail_op = BLKDEV_FLUSH;
	d->fail_nth = 1;
	CHECK_EQ(-EIO, qed_create(&d->dev, &c));
	CHECK_EQ(writes - 1, d->count[BLKDEV_WRITE]);
	testdisk_free(d);
	drop_base();
}

static void case_freeze(void *arg)
{
	(void)arg;
	make_base();
	CHECK(disk_need_check(disk));
	CHECK_EQ(0, qed_freeze(base_img));
	CHECK(!disk_need_check(disk)); /* clean on the disk: a backing image opens as is */
	struct qed_info info;
	qed_get_info(base_img, &info);
	CHECK(info.read_only);
	static uint8_t buf[CS];
	unsigned writes = disk->count[BLKDEV_WRITE];
	CHECK_EQ(-EROFS, qed_write(base_img, 0, buf, 512));
	CHECK_EQ(-EROFS, qed_zero(base_img, 0, CS));
	CHECK_EQ(0, qed_flush(base_img));
	CHECK_EQ(0, qed_read(base_img, 0, buf, CS));
	CHECK_EQ(0x11, buf[CS - 1]);
	CHECK_EQ(writes, disk->count[BLKDEV_WRITE]); /* nothing written after the freeze */
	struct qed_open_opts o = test_opts();
	o.read_only = true;
	o.check_on_open = false;
	struct qed_image *again;
	CHECK_EQ(0, qed_open(&disk->dev, &o, &again)); /* no check needed */
	CHECK_EQ(0, qed_close(again));
	drop_base();
}

/* ---- QEMU's tools ------------------------------------------------------------------- */
static char dir[] = "/tmp/qedbox-snapshot-XXXXXX";

static bool save(struct testdisk *d, const char *name, uint64_t len)
{
	char path[96];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	static uint8_t buf[MiB];
	bool ok = f != NULL;
	for (uint64_t off = 0; ok && off < len; off += sizeof(buf)) {
		size_t n = len - off < sizeof(buf) ? (size_t)(len - off) : sizeof(buf);
		testdisk_peek(d, off, buf, n);
		ok = fwrite(buf, 1, n, f) == n;
	}
	return f && fclose(f) == 0 && ok;
}

/* The file back into a fresh test disk; its size in *len. */
static struct testdisk *load(const char *name, uint64_t *len)
{
	char path[96];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	struct stat st;
	FILE *f = fopen(path, "rb");
	if (!f || stat(path, &st) != 0)
		return NULL;
	*len = (uint64_t)st.st_size;
	struct testdisk *d = testdisk_new(*len, 512);
	static uint8_t buf[MiB];
	size_t n;
	for (uint64_t off = 0; (n = fread(buf, 1, sizeof(buf), f)) > 0; off += n)
		testdisk_poke(d, off, buf, n);
	fclose(f);
	return d;
}

static int sh(const char *fmt, const char *arg)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), fmt, dir, arg);
	int st = system(cmd);
	return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void case_qemu_accepts_and_drops_record(void *arg)
{
	(void)arg;
	make_base();
	CHECK_EQ(0, qed_freeze(base_img));
	struct qed_create_opts c = ovl_create_opts("vol0");
	CHECK_EQ(0, qed_create(&ovl->dev, &c));
	CHECK(save(disk, "base", 32 * MiB));
	CHECK(save(ovl, "ovl", 5 * CS)); /* header and L1: a file ends at its image's end */
	CHECK_EQ(0, sh("cd %s && qemu-img info --backing-chain ovl > info.txt 2>&1 && "
		       "grep -q 'backing file: base' info.txt && grep -q 'image: base' info.txt%s",
		       ""));
	CHECK_EQ(0, sh("cd %s && qemu-img check -f qed ovl%s > /dev/null 2>&1", ""));
	CHECK_EQ(0, sh("cd %s && qemu-io -f qed -c 'write -P 0x33 64k 4k' ovl%s >/dev/null 2>&1",
		       ""));
	CHECK_EQ(0, sh("cd %s && qemu-img check -f qed ovl%s > /dev/null 2>&1", ""));
	uint64_t len;
	struct testdisk *back = load("ovl", &len);
	CHECK(back != NULL);
	if (back) {
		struct qed_header h = disk_header(back);
		CHECK_EQ(0, h.autoclear_features & QED_AF_QEDBOX_VOLUME); /* QEMU cleared it */
		struct qed_open_opts o = ovl_opts();
		o.file_size = len;
		struct qed_image *img;
		CHECK_EQ(0, qed_open(&back->dev, &o, &img));
		struct qed_info info;
		qed_get_info(img, &info);
		CHECK_STR_EQ("", info.volume_name);
		static uint8_t buf[8192];
		CHECK_EQ(0, qed_read(img, 64 * 1024 - 4096, buf, sizeof(buf)));
		CHECK_EQ(0x11, buf[0]);
		CHECK_EQ(0x33, buf[4096]);
		CHECK_EQ(0, qed_close(img));
		testdisk_free(back);
	}
	sh("rm -rf %s%s", "");
	drop_base();
}

#define RUN_TASK(fn) RUN_DISK_CASE(64 * MiB, strcpy(disk->dev.serial, "base"), fn)

int main(void)
{
	RUN_TASK(case_overlay_with_volume_record);
	RUN_TASK(case_bad_volume_names_refused);
	RUN_TASK(case_record_survives_writes_and_reopen);
	RUN_TASK(case_corrupt_record_ignored);
	RUN_TASK(case_torn_create_never_an_image);
	RUN_TASK(case_freeze);
	/* make test installs QEMU's tools: without them this test fails, it does not skip */
	CHECK(system("qemu-img --version >/dev/null 2>&1 && qemu-io --version >/dev/null 2>&1") ==
	      0);
	CHECK(mkdtemp(dir) != NULL);
	RUN_TASK(case_qemu_accepts_and_drops_record);
	return check_report("test_qed_snapshot");
}
