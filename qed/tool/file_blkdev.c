/*
 * file_blkdev: queue of requests carried out synchronously from the poll function with
 * pread/pwrite/fdatasync. See file_blkdev.h.
 */
#include "file_blkdev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct file_blkdev {
	struct blkdev dev;
	int fd;
	struct blkdev_req **queue;
	size_t n_queue, cap_queue;
};

static void fb_submit(struct blkdev *dev, struct blkdev_req *req);
static const struct blkdev_ops file_blkdev_ops = { .submit = fb_submit };

int file_blkdev_open(const char *path, unsigned flags, uint64_t capacity,
		     struct file_blkdev **out)
{
	int oflags = (flags & FILE_BLKDEV_READ_ONLY) ? O_RDONLY : O_RDWR;
	if (flags & FILE_BLKDEV_CREATE)
		oflags |= O_CREAT | O_TRUNC;
	int fd = open(path, oflags | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	struct file_blkdev *fb = calloc(1, sizeof(*fb));
	if (!fb) {
		close(fd);
		return -ENOMEM;
	}
	fb->fd = fd;
	fb->dev.ops = &file_blkdev_ops;
	fb->dev.sector_size = 512;
	uint64_t size = (uint64_t)st.st_size;
	if (!capacity)
		capacity = size;
	/* A file's last partial sector still belongs to the disk: round up. */
	fb->dev.capacity = (capacity + 511) & ~(uint64_t)511;
	fb->dev.flags = BLKDEV_F_VOLATILE_CACHE |
			((flags & FILE_BLKDEV_READ_ONLY) ? BLKDEV_F_READ_ONLY : 0);
	strncpy(fb->dev.serial, "file", sizeof(fb->dev.serial) - 1);
	fb->dev.priv = fb;
	*out = fb;
	return 0;
}

void file_blkdev_close(struct file_blkdev *fb)
{
	if (!fb)
		return;
	close(fb->fd);
	free(fb->queue);
	free(fb);
}

struct blkdev *file_blkdev_dev(struct file_blkdev *fb) { return &fb->dev; }

uint64_t file_blkdev_file_size(const struct file_blkdev *fb)
{
	struct stat st;
	return fstat(fb->fd, &st) < 0 ? 0 : (uint64_t)st.st_size;
}

static void fb_submit(struct blkdev *dev, struct blkdev_req *req)
{
	struct file_blkdev *fb = dev->priv;
	if (fb->n_queue == fb->cap_queue) {
		size_t ncap = fb->cap_queue ? fb->cap_queue * 2 : 64;
		void *p = realloc(fb->queue, ncap * sizeof(*fb->queue));
		if (!p) {
			req->done(req, -ENOMEM);
			return;
		}
		fb->queue = p;
		fb->cap_queue = ncap;
	}
	fb->queue[fb->n_queue++] = req;
}

static int do_read(int fd, uint64_t off, uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = pread(fd, buf, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) { /* past the end of the file: a sparse disk reads zeros */
			memset(buf, 0, len);
			return 0;
		}
		buf += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int do_write(int fd, uint64_t off, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_zeroes(int fd, uint64_t off, uint64_t len)
{
	static const uint8_t zeros[65536];
	while (len) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		int rc = do_write(fd, off, zeros, n);
		if (rc)
			return rc;
		off += n;
		len -= n;
	}
	return 0;
}

static int carry_out(struct file_blkdev *fb, const struct blkdev_req *req)
{
	switch (req->op) {
	case BLKDEV_READ:
		return do_read(fb->fd, req->offset, req->buf, req->len);
	case BLKDEV_WRITE:
		return do_write(fb->fd, req->offset, req->buf, req->len);
	case BLKDEV_FLUSH:
		return fdatasync(fb->fd) < 0 ? -errno : 0;
	case BLKDEV_WRITE_ZEROES:
		return write_zeroes(fb->fd, req->offset, req->len);
	case BLKDEV_DISCARD:
		return 0;
	}
	return -EINVAL;
}

bool file_blkdev_poll(void *ctx)
{
	struct file_blkdev *fb = ctx;
	if (!fb->n_queue)
		return false;
	/* Completions may submit more; take the current batch first. */
	size_t n = fb->n_queue;
	struct blkdev_req *batch[64];
	while (n) {
		size_t take = n < 64 ? n : 64;
		memcpy(batch, fb->queue, take * sizeof(*batch));
		memmove(fb->queue, fb->queue + take, (fb->n_queue - take) * sizeof(*batch));
		fb->n_queue -= take;
		n -= take;
		for (size_t i = 0; i < take; i++) {
			int rc = carry_out(fb, batch[i]);
			batch[i]->done(batch[i], rc);
		}
	}
	return true;
}
