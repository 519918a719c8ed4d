/* The raw passthrough volume of raw_volume.h: each operation is one blkdev request. */
#include "raw_volume.h"

#include <errno.h>
#include <string.h>

static struct blkdev *dev_of(struct volume *v)
{
	return ((struct raw_volume *)v->priv)->dev;
}

/* The volume contract's checks, so that the device never sees a bad request. */
static int check_range(const struct volume *v, uint64_t offset, uint64_t len)
{
	if (offset % v->block_size || len % v->block_size)
		return -EINVAL;
	if (offset > v->size || len > v->size - offset)
		return -EINVAL;
	return 0;
}

static int raw_read(struct volume *v, uint64_t offset, void *buf, size_t len)
{
	int rc = check_range(v, offset, len);
	if (rc || len == 0)
		return rc;
	return blkdev_read(dev_of(v), offset, buf, len);
}

static int raw_write(struct volume *v, uint64_t offset, const void *buf, size_t len)
{
	int rc = check_range(v, offset, len);
	if (rc || len == 0)
		return rc;
	if (v->read_only)
		return -EROFS;
	return blkdev_write(dev_of(v), offset, buf, len);
}

static int raw_flush(struct volume *v)
{
	/* Without a volatile cache completed writes are already durable. */
	if (!v->write_cache)
		return 0;
	return blkdev_flush(dev_of(v));
}

static int raw_unmap(struct volume *v, uint64_t offset, uint64_t len)
{
	int rc = check_range(v, offset, len);
	if (rc || len == 0)
		return rc;
	if (v->read_only)
		return -EROFS;
	return blkdev_write_zeroes(dev_of(v), offset, len);
}

static const struct volume_ops raw_thin_ops = {
	.read = raw_read, .write = raw_write, .flush = raw_flush, .unmap = raw_unmap,
};

static const struct volume_ops raw_thick_ops = {
	.read = raw_read, .write = raw_write, .flush = raw_flush,
};

void raw_volume_init(struct raw_volume *rv, struct blkdev *dev)
{
	memset(rv, 0, sizeof(*rv));
	rv->dev = dev;
	struct volume *v = &rv->vol;
	v->ops = (dev->flags & BLKDEV_F_WRITE_ZEROES) ? &raw_thin_ops : &raw_thick_ops;
	v->block_size = dev->sector_size;
	v->size = dev->capacity / dev->sector_size * dev->sector_size;
	v->unmap_granularity = dev->sector_size;
	v->write_cache = (dev->flags & BLKDEV_F_VOLATILE_CACHE) != 0;
	v->read_only = (dev->flags & BLKDEV_F_READ_ONLY) != 0;
	memcpy(v->serial, dev->serial, sizeof(v->serial) - 1);
	v->serial[sizeof(v->serial) - 1] = 0;
	v->priv = rv;
}
