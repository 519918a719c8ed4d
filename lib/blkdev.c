/* blkdev request checks and the blocking helpers for tasks. */
#include "blkdev.h"

#include <errno.h>

#include "task.h"

static int check_request(const struct blkdev *dev, const struct blkdev_req *req)
{
	if (req->op == BLKDEV_FLUSH)
		return 0;
	uint64_t ss = dev->sector_size;
	if (req->offset % ss || req->len % ss)
		return -EINVAL;
	if (req->offset > dev->capacity || req->len > dev->capacity - req->offset)
		return -EINVAL;
	if (req->op != BLKDEV_READ && (dev->flags & BLKDEV_F_READ_ONLY))
		return -EROFS;
	if (req->op == BLKDEV_DISCARD && !(dev->flags & BLKDEV_F_DISCARD))
		return -EOPNOTSUPP;
	if (req->op == BLKDEV_WRITE_ZEROES && !(dev->flags & BLKDEV_F_WRITE_ZEROES))
		return -EOPNOTSUPP;
	return 0;
}

void blkdev_submit(struct blkdev *dev, struct blkdev_req *req)
{
	int rc = check_request(dev, req);
	if (rc)
		req->done(req, rc);
	else
		dev->ops->submit(dev, req);
}

static void wake_submitter(struct blkdev_req *req, int status)
{
	completion_done(req->priv, status);
}

static int submit_and_wait(struct blkdev *dev, enum blkdev_op op, uint64_t offset,
			   void *buf, size_t len)
{
	struct completion c;
	struct blkdev_req req = {
		.op = op, .offset = offset, .buf = buf, .len = len,
		.done = wake_submitter, .priv = &c,
	};
	completion_init(&c);
	blkdev_submit(dev, &req);
	return completion_wait(&c);
}

int blkdev_read(struct blkdev *dev, uint64_t offset, void *buf, size_t len)
{
	return submit_and_wait(dev, BLKDEV_READ, offset, buf, len);
}

int blkdev_write(struct blkdev *dev, uint64_t offset, const void *buf, size_t len)
{
	/* The device only reads from buf on a write. */
	return submit_and_wait(dev, BLKDEV_WRITE, offset, (void *)(uintptr_t)buf, len);
}

int blkdev_flush(struct blkdev *dev)
{
	return submit_and_wait(dev, BLKDEV_FLUSH, 0, NULL, 0);
}

int blkdev_discard(struct blkdev *dev, uint64_t offset, uint64_t len)
{
	return submit_and_wait(dev, BLKDEV_DISCARD, offset, NULL, len);
}

int blkdev_write_zeroes(struct blkdev *dev, uint64_t offset, uint64_t len)
{
	return submit_and_wait(dev, BLKDEV_WRITE_ZEROES, offset, NULL, len);
}
