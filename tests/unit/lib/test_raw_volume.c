/* Host tests of the raw passthrough volume (lib/raw_volume.c) over a fake blkdev that
 * completes every request at once and records it. */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "raw_volume.h"

#define SECTOR 512
#define SECTORS 64

struct fake_dev {
	struct blkdev dev;
	uint8_t data[SECTORS * SECTOR];
	unsigned count[5];
	enum blkdev_op last_op;
	uint64_t last_offset, last_len;
	int fail; /* returned by the next request when non-zero */
};

static void fake_submit(struct blkdev *dev, struct blkdev_req *req)
{
	struct fake_dev *f = dev->priv;
	f->count[req->op]++;
	f->last_op = req->op;
	f->last_offset = req->offset;
	f->last_len = req->len;
	if (f->fail) {
		req->done(req, f->fail);
		return;
	}
	if (req->op == BLKDEV_READ)
		memcpy(req->buf, f->data + req->offset, req->len);
	else if (req->op == BLKDEV_WRITE)
		memcpy(f->data + req->offset, req->buf, req->len);
	else if (req->op == BLKDEV_WRITE_ZEROES)
		memset(f->data + req->offset, 0, req->len);
	req->done(req, 0);
}

static const struct blkdev_ops fake_ops = { .submit = fake_submit };

static struct fake_dev fd;
static struct raw_volume rv;

static void setup(uint32_t flags)
{
	memset(&fd, 0, sizeof(fd));
	fd.dev = (struct blkdev){ .ops = &fake_ops, .capacity = SECTORS * SECTOR + 100,
				  .sector_size = SECTOR, .flags = flags, .priv = &fd };
	strcpy(fd.dev.serial, "DISK-SERIAL-01234567");
	memset(fd.data, 0x5a, sizeof(fd.data));
	raw_volume_init(&rv, &fd.dev);
}

static void test_geometry_and_identity(void)
{
	setup(BLKDEV_F_VOLATILE_CACHE);
	CHECK_EQ(SECTORS * SECTOR, rv.vol.size); /* a partial last sector is not served */
	CHECK_EQ(SECTOR, rv.vol.block_size);
	CHECK(rv.vol.write_cache);
	CHECK(!rv.vol.read_only);
	CHECK_STR_EQ("DISK-SERIAL-01234567", rv.vol.serial);
}

static void test_read_write_pass_through(void)
{
	setup(0);
	uint8_t buf[2 * SECTOR];
	memset(buf, 0x33, sizeof(buf));
	CHECK_EQ(0, rv.vol.ops->write(&rv.vol, 3 * SECTOR, buf, sizeof(buf)));
	CHECK_EQ(1, fd.count[BLKDEV_WRITE]);
	CHECK_EQ(3 * SECTOR, fd.last_offset);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(0, rv.vol.ops->read(&rv.vol, 3 * SECTOR, buf, sizeof(buf)));
	CHECK_EQ(0x33, buf[0]);
	CHECK_EQ(0x33, buf[2 * SECTOR - 1]);
}

static void test_out_of_range_is_einval(void)
{
	setup(0);
	uint8_t buf[SECTOR];
	CHECK_EQ(-EINVAL, rv.vol.ops->read(&rv.vol, SECTORS * SECTOR, buf, SECTOR));
	CHECK_EQ(-EINVAL, rv.vol.ops->write(&rv.vol, 1, buf, SECTOR));
	CHECK_EQ(0, fd.count[BLKDEV_READ] + fd.count[BLKDEV_WRITE]);
	CHECK_EQ(0, rv.vol.ops->read(&rv.vol, (SECTORS - 1) * SECTOR, buf, SECTOR));
}

static void test_device_error_passes_up(void)
{
	setup(0);
	uint8_t buf[SECTOR];
	fd.fail = -EIO;
	CHECK_EQ(-EIO, rv.vol.ops->read(&rv.vol, 0, buf, SECTOR));
}

static void test_flush_only_with_volatile_cache(void)
{
	setup(0);
	CHECK_EQ(0, rv.vol.ops->flush(&rv.vol));
	CHECK_EQ(0, fd.count[BLKDEV_FLUSH]);
	setup(BLKDEV_F_VOLATILE_CACHE);
	CHECK_EQ(0, rv.vol.ops->flush(&rv.vol));
	CHECK_EQ(1, fd.count[BLKDEV_FLUSH]);
}

static void test_read_only_device(void)
{
	setup(BLKDEV_F_READ_ONLY | BLKDEV_F_WRITE_ZEROES);
	uint8_t buf[SECTOR] = { 0 };
	CHECK(rv.vol.read_only);
	CHECK_EQ(-EROFS, rv.vol.ops->write(&rv.vol, 0, buf, SECTOR));
	CHECK_EQ(-EROFS, rv.vol.ops->unmap(&rv.vol, 0, SECTOR));
	CHECK_EQ(0, fd.count[BLKDEV_WRITE] + fd.count[BLKDEV_WRITE_ZEROES]);
}

static void test_unmap_uses_write_zeroes(void)
{
	setup(BLKDEV_F_WRITE_ZEROES | BLKDEV_F_DISCARD);
	CHECK(rv.vol.ops->unmap != NULL);
	CHECK_EQ(0, rv.vol.ops->unmap(&rv.vol, 2 * SECTOR, 4 * SECTOR));
	CHECK_EQ(BLKDEV_WRITE_ZEROES, fd.last_op);
	CHECK_EQ(4 * SECTOR, fd.last_len);
	CHECK_EQ(0, fd.data[2 * SECTOR]);
	CHECK_EQ(0x5a, fd.data[6 * SECTOR]);
	CHECK_EQ(-EINVAL, rv.vol.ops->unmap(&rv.vol, 0, (SECTORS + 1) * SECTOR));
}

static void test_discard_only_device_is_not_thin(void)
{
	setup(BLKDEV_F_DISCARD);
	CHECK(rv.vol.ops->unmap == NULL);
	setup(0);
	CHECK(rv.vol.ops->unmap == NULL);
}

int main(void)
{
	RUN(test_geometry_and_identity);
	RUN(test_read_write_pass_through);
	RUN(test_out_of_range_is_einval);
	RUN(test_device_error_passes_up);
	RUN(test_flush_only_with_volatile_cache);
	RUN(test_read_only_device);
	RUN(test_unmap_uses_write_zeroes);
	RUN(test_discard_only_device_is_not_thin);
	return check_report("test_raw_volume");
}
