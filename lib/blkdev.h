/*
 * blkdev: an asynchronous block device addressed in bytes (docs/DESIGN.md, "Layers").
 *
 * Implemented by the virtio-blk driver in the firmware, and on the host by image files
 * and by a crash-simulating memory disk. The QED core and the raw volume sit on top.
 *
 * A request is submitted with blkdev_submit() and completes later, from the event loop,
 * by calling req->done(req, status) with 0 or a negative errno (-EIO for a device error,
 * -EOPNOTSUPP for an operation the device lacks, -EINVAL for a malformed request).
 * Offsets and lengths are multiples of sector_size and within capacity. submit never
 * refuses for lack of room: a driver queues what its ring cannot take. The request
 * memory belongs to the caller until done() is called.
 *
 * In a task, the blocking helpers below submit and wait:
 *     rc = blkdev_write(dev, off, buf, len);
 *
 * Durability: with BLKDEV_F_VOLATILE_CACHE, a completed write may still be lost at a
 * power cut until a later FLUSH completes; without it, completed writes are durable and
 * FLUSH is a no-op success.
 */
#ifndef QEDBOX_BLKDEV_H
#define QEDBOX_BLKDEV_H

#include <stddef.h>
#include <stdint.h>

enum blkdev_op {
	BLKDEV_READ,
	BLKDEV_WRITE,
	BLKDEV_FLUSH,
	BLKDEV_DISCARD,      /* contents afterwards unspecified */
	BLKDEV_WRITE_ZEROES, /* reads back zeros afterwards */
};

struct blkdev_req {
	enum blkdev_op op;
	uint64_t offset;     /* bytes */
	void *buf;           /* READ, WRITE */
	size_t len;          /* bytes; 0 for FLUSH */
	void (*done)(struct blkdev_req *req, int status);
	void *priv;          /* the submitter's */
};

#define BLKDEV_F_VOLATILE_CACHE (1u << 0) /* writes need FLUSH to be durable */
#define BLKDEV_F_DISCARD        (1u << 1)
#define BLKDEV_F_WRITE_ZEROES   (1u << 2)
#define BLKDEV_F_READ_ONLY      (1u << 3)

#define BLKDEV_SERIAL_MAX 20 /* virtio-blk GET_ID returns up to 20 bytes */

struct blkdev;

struct blkdev_ops {
	void (*submit)(struct blkdev *dev, struct blkdev_req *req);
};

struct blkdev {
	const struct blkdev_ops *ops;
	uint64_t capacity;     /* bytes */
	uint32_t sector_size;  /* logical block size, bytes */
	uint32_t flags;        /* BLKDEV_F_* */
	char serial[BLKDEV_SERIAL_MAX + 1];
	void *priv;            /* the implementation's */
};

/* Checks alignment and bounds, then hands the request to the driver; a bad request
 * completes at once with -EINVAL. */
void blkdev_submit(struct blkdev *dev, struct blkdev_req *req);

/* Blocking helpers: only inside a task. Return 0 or a negative errno. */
int blkdev_read(struct blkdev *dev, uint64_t offset, void *buf, size_t len);
int blkdev_write(struct blkdev *dev, uint64_t offset, const void *buf, size_t len);
int blkdev_flush(struct blkdev *dev);
int blkdev_discard(struct blkdev *dev, uint64_t offset, uint64_t len);
int blkdev_write_zeroes(struct blkdev *dev, uint64_t offset, uint64_t len);

#endif
