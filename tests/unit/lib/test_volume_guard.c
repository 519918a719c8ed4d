/* Host tests of the volume guard (lib/volume_guard.c): a raw volume opened on the guard's
 * gate over a fake disk that completes every request at once and counts it. After the
 * first device error of a write, flush or unmap, every operation fails with -ENODEV,
 * nothing more reaches the disk, and the stop is reported once. */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "raw_volume.h"
#include "volume_guard.h"

#define SECTOR 512
#define SECTORS 64

struct fake_disk {
	struct blkdev dev;
	uint8_t data[SECTORS * SECTOR];
	unsigned requests;
	int fail; /* returned by every request while non-zero */
};

static void fake_submit(struct blkdev *dev, struct blkdev_req *req)
{
	struct fake_disk *f = dev->priv;
	f->requests++;
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

static struct fake_disk disk;
static struct raw_volume raw;
static struct volume_guard guard;
static struct volume *vol;
static unsigned stops;
static const char *stop_op;
static int stop_rc;
static uint8_t buf[4 * SECTOR];

static void on_stop(void *ctx, const char *op, int rc)
{
	CHECK(ctx == &disk);
	stops++;
	stop_op = op;
	stop_rc = rc;
}

static void setup(void)
{
	memset(&disk, 0, sizeof(disk));
	disk.dev = (struct blkdev){ .ops = &fake_ops, .capacity = sizeof(disk.data),
				    .sector_size = SECTOR,
				    .flags = BLKDEV_F_VOLATILE_CACHE | BLKDEV_F_WRITE_ZEROES,
				    .priv = &disk };
	strcpy(disk.dev.serial, "vol0");
	stops = 0;
	stop_op = NULL;
	stop_rc = 0;
	volume_guard_init(&guard, &disk.dev, on_stop, &disk);
	raw_volume_init(&raw, &guard.gate);
	volume_guard_wrap(&guard, &raw.vol);
	vol = &guard.vol;
}

/* Every operation of a stopped volume fails with -ENODEV without reaching the disk. */
static void check_stopped(void)
{
	unsigned before = disk.requests;
	disk.fail = 0; /* the disk would work again: the volume must not use it */
	CHECK_EQ(-ENODEV, vol->ops->read(vol, 0, buf, sizeof(buf)));
	CHECK_EQ(-ENODEV, vol->ops->write(vol, 0, buf, sizeof(buf)));
	CHECK_EQ(-ENODEV, vol->ops->flush(vol));
	CHECK_EQ(-ENODEV, vol->ops->unmap(vol, 0, SECTOR));
	CHECK_EQ(before, disk.requests);
	/* The image's own writes (a header, a table) go through the gate: refused too. */
	CHECK_EQ(-ENODEV, blkdev_write(&guard.gate, 0, buf, SECTOR));
	CHECK_EQ(-ENODEV, blkdev_flush(&guard.gate));
	CHECK_EQ(before, disk.requests);
	CHECK_EQ(1, stops);
}

static void test_healthy_volume_passes_through(void)
{
	setup();
	CHECK_EQ(raw.vol.size, vol->size);
	CHECK_EQ(SECTOR, vol->block_size);
	CHECK(vol->write_cache);
	CHECK_STR_EQ("vol0", vol->serial);
	memset(buf, 0xab, sizeof(buf));
	CHECK_EQ(0, vol->ops->write(vol, SECTOR, buf, sizeof(buf)));
	CHECK_EQ(0, vol->ops->flush(vol));
	CHECK_EQ(0xab, disk.data[SECTOR]);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(0, vol->ops->read(vol, SECTOR, buf, sizeof(buf)));
	CHECK_EQ(0xab, buf[sizeof(buf) - 1]);
	CHECK_EQ(0, vol->ops->unmap(vol, SECTOR, SECTOR));
	CHECK_EQ(0, disk.data[SECTOR]);
	CHECK_EQ(0, stops);
}

static void test_failed_write_stops(void)
{
	setup();
	disk.fail = -EIO;
	CHECK_EQ(-EIO, vol->ops->write(vol, 0, buf, sizeof(buf)));
	CHECK_EQ(1, stops);
	CHECK_STR_EQ("write", stop_op);
	CHECK_EQ(-EIO, stop_rc);
	check_stopped();
}

static void test_failed_flush_stops(void)
{
	setup();
	CHECK_EQ(0, vol->ops->write(vol, 0, buf, sizeof(buf)));
	disk.fail = -EIO;
	CHECK_EQ(-EIO, vol->ops->flush(vol));
	CHECK_STR_EQ("flush", stop_op);
	check_stopped();
}

static void test_failed_unmap_stops(void)
{
	setup();
	disk.fail = -EIO;
	CHECK_EQ(-EIO, vol->ops->unmap(vol, 0, SECTOR));
	CHECK_STR_EQ("unmap", stop_op);
	check_stopped();
}

/* A read error, a request out of range, an operation the disk lacks: the initiator
 * gets its error and the volume goes on serving. */
static void test_other_errors_do_not_stop(void)
{
	setup();
	disk.fail = -EIO;
	CHECK_EQ(-EIO, vol->ops->read(vol, 0, buf, sizeof(buf)));
	disk.fail = 0;
	CHECK_EQ(-EINVAL, vol->ops->write(vol, vol->size, buf, sizeof(buf)));
	disk.fail = -EOPNOTSUPP;
	CHECK_EQ(-EOPNOTSUPP, vol->ops->flush(vol));
	disk.fail = 0;
	CHECK_EQ(0, stops);
	CHECK_EQ(0, vol->ops->write(vol, 0, buf, sizeof(buf)));
	CHECK_EQ(0, vol->ops->read(vol, 0, buf, sizeof(buf)));
}

static void test_stop_is_reported_once(void)
{
	setup();
	volume_guard_stop(&guard, "flush", -EIO);
	volume_guard_stop(&guard, "write", -EIO);
	CHECK_EQ(1, stops);
	CHECK_STR_EQ("flush", stop_op);
	check_stopped();
}

/* No unmap below, no unmap above (volume.h: NULL when not thin). */
static void test_shape_follows_inner_volume(void)
{
	setup();
	disk.dev.flags = BLKDEV_F_VOLATILE_CACHE; /* no write zeroes: the raw volume is not thin */
	volume_guard_init(&guard, &disk.dev, on_stop, &disk);
	raw_volume_init(&raw, &guard.gate);
	volume_guard_wrap(&guard, &raw.vol);
	CHECK(guard.vol.ops->unmap == NULL);
	CHECK(guard.vol.ops->block_status == NULL);
}

int main(void)
{
	RUN(test_healthy_volume_passes_through);
	RUN(test_failed_write_stops);
	RUN(test_failed_flush_stops);
	RUN(test_failed_unmap_stops);
	RUN(test_other_errors_do_not_stop);
	RUN(test_stop_is_reported_once);
	RUN(test_shape_follows_inner_volume);
	return check_report("test_volume_guard");
}
