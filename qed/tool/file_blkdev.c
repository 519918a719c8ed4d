/*
 * file_blkdev: requests carried out by worker threads, completions delivered by the poll.
 * See file_blkdev.h.
 *
 * Submit (loop thread) appends to the todo queue and wakes a worker; a worker takes the
 * oldest request, carries it out without the lock, and appends (request, status) to the
 * done queue; poll (loop thread) takes the done entries and calls done(). Both queues
 * are guarded by one mutex. Submit keeps the done queue's room at least the number of
 * requests in flight, so a worker never has to allocate.
 */
#include "file_blkdev.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FB_WORKERS 16        /* QEMU's pool grows to 64; 16 keeps depth 32 busy */
#define FB_DIRECT_ALIGN 4096 /* buffer alignment for O_DIRECT (bounced otherwise) */
#define FB_DELIVER_BATCH 64

struct fb_done {
	struct blkdev_req *req;
	int status;
};

struct file_blkdev {
	struct blkdev dev;
	int fd;
	bool direct;

	pthread_mutex_t lock;
	pthread_cond_t work;           /* todo not empty, or stopping */
	pthread_cond_t completed;      /* done not empty */
	struct blkdev_req **todo;      /* [todo_head, todo_end) waiting */
	size_t todo_head, todo_end, todo_cap;
	struct fb_done *done;
	size_t done_n, done_cap;
	bool stopping;

	size_t in_flight;              /* loop thread only: submitted, not yet delivered */
	pthread_t workers[FB_WORKERS];
	int n_workers;
};

static void fb_submit(struct blkdev *dev, struct blkdev_req *req);
static const struct blkdev_ops file_blkdev_ops = { .submit = fb_submit };
static void *worker_main(void *arg);

static int start_workers(struct file_blkdev *fb)
{
	if (pthread_mutex_init(&fb->lock, NULL) || pthread_cond_init(&fb->work, NULL) ||
	    pthread_cond_init(&fb->completed, NULL))
		return -ENOMEM;
	for (; fb->n_workers < FB_WORKERS; fb->n_workers++)
		if (pthread_create(&fb->workers[fb->n_workers], NULL, worker_main, fb))
			break;
	return fb->n_workers ? 0 : -EAGAIN;
}

static void stop_workers(struct file_blkdev *fb)
{
	pthread_mutex_lock(&fb->lock);
	fb->stopping = true;
	pthread_cond_broadcast(&fb->work);
	pthread_mutex_unlock(&fb->lock);
	for (int i = 0; i < fb->n_workers; i++)
		pthread_join(fb->workers[i], NULL);
}

int file_blkdev_open(const char *path, unsigned flags, uint64_t capacity,
		     struct file_blkdev **out)
{
	int oflags = (flags & FILE_BLKDEV_READ_ONLY) ? O_RDONLY : O_RDWR;
	if (flags & FILE_BLKDEV_CREATE)
		oflags |= O_CREAT | O_TRUNC;
	if (flags & FILE_BLKDEV_DIRECT)
		oflags |= O_DIRECT;
	int fd = open(path, oflags | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	struct stat st;
	struct file_blkdev *fb = NULL;
	int rc = fstat(fd, &st) < 0 ? -errno : 0;
	if (!rc && !(fb = calloc(1, sizeof(*fb))))
		rc = -ENOMEM;
	if (!rc)
		rc = start_workers(fb);
	if (rc) {
		if (fb && fb->n_workers)
			stop_workers(fb);
		free(fb);
		close(fd);
		return rc;
	}
	fb->fd = fd;
	fb->direct = (flags & FILE_BLKDEV_DIRECT) != 0;
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
	while (file_blkdev_poll(fb)) /* a caller that broke the rule still gets its done() */
		;
	stop_workers(fb);
	pthread_cond_destroy(&fb->work);
	pthread_cond_destroy(&fb->completed);
	pthread_mutex_destroy(&fb->lock);
	close(fb->fd);
	free(fb->todo);
	free(fb->done);
	free(fb);
}

struct blkdev *file_blkdev_dev(struct file_blkdev *fb) { return &fb->dev; }

uint64_t file_blkdev_file_size(const struct file_blkdev *fb)
{
	struct stat st;
	return fstat(fb->fd, &st) < 0 ? 0 : (uint64_t)st.st_size;
}

/* ---- queues (callers hold the lock) --------------------------------------------------- */
static bool todo_push(struct file_blkdev *fb, struct blkdev_req *req)
{
	if (fb->todo_end == fb->todo_cap && fb->todo_head > 0) {
		memmove(fb->todo, fb->todo + fb->todo_head,
			(fb->todo_end - fb->todo_head) * sizeof(*fb->todo));
		fb->todo_end -= fb->todo_head;
		fb->todo_head = 0;
	}
	if (fb->todo_end == fb->todo_cap) {
		size_t ncap = fb->todo_cap ? fb->todo_cap * 2 : 64;
		void *p = realloc(fb->todo, ncap * sizeof(*fb->todo));
		if (!p)
			return false;
		fb->todo = p;
		fb->todo_cap = ncap;
	}
	fb->todo[fb->todo_end++] = req;
	return true;
}

static struct blkdev_req *todo_pop(struct file_blkdev *fb)
{
	struct blkdev_req *req = fb->todo[fb->todo_head++];
	if (fb->todo_head == fb->todo_end)
		fb->todo_head = fb->todo_end = 0;
	return req;
}

static bool done_reserve(struct file_blkdev *fb, size_t n)
{
	if (n <= fb->done_cap)
		return true;
	size_t ncap = fb->done_cap ? fb->done_cap * 2 : 64;
	while (ncap < n)
		ncap *= 2;
	void *p = realloc(fb->done, ncap * sizeof(*fb->done));
	if (!p)
		return false;
	fb->done = p;
	fb->done_cap = ncap;
	return true;
}

static void fb_submit(struct blkdev *dev, struct blkdev_req *req)
{
	struct file_blkdev *fb = dev->priv;
	pthread_mutex_lock(&fb->lock);
	bool ok = done_reserve(fb, fb->in_flight + 1) && todo_push(fb, req);
	if (ok) {
		fb->in_flight++;
		pthread_cond_signal(&fb->work);
	}
	pthread_mutex_unlock(&fb->lock);
	if (!ok)
		req->done(req, -ENOMEM); /* out of memory: the one completion inside submit */
}

bool file_blkdev_poll(void *ctx)
{
	struct file_blkdev *fb = ctx;
	if (!fb->in_flight)
		return false;
	struct fb_done batch[FB_DELIVER_BATCH];
	pthread_mutex_lock(&fb->lock);
	while (!fb->done_n)
		pthread_cond_wait(&fb->completed, &fb->lock);
	size_t n = fb->done_n < FB_DELIVER_BATCH ? fb->done_n : FB_DELIVER_BATCH;
	memcpy(batch, fb->done, n * sizeof(*batch));
	fb->done_n -= n;
	memmove(fb->done, fb->done + n, fb->done_n * sizeof(*batch));
	pthread_mutex_unlock(&fb->lock);
	/* Completions may submit more: they run after the lock is released. */
	fb->in_flight -= n;
	for (size_t i = 0; i < n; i++)
		batch[i].req->done(batch[i].req, batch[i].status);
	return true;
}

/* ---- carrying requests out (worker threads, no lock held) ------------------------------ */
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

/* O_DIRECT wants an aligned buffer: the caller's, or an aligned copy. */
static int read_write(const struct file_blkdev *fb, const struct blkdev_req *req)
{
	bool write = req->op != BLKDEV_READ;
	uint8_t *buf = req->buf, *bounce = NULL;
	if (fb->direct && (uintptr_t)buf % FB_DIRECT_ALIGN) {
		if (posix_memalign((void **)&bounce, FB_DIRECT_ALIGN, req->len))
			return -ENOMEM;
		if (write)
			memcpy(bounce, buf, req->len);
		buf = bounce;
	}
	int rc = write ? do_write(fb->fd, req->offset, buf, req->len)
		       : do_read(fb->fd, req->offset, buf, req->len);
	if (bounce && !write && !rc)
		memcpy(req->buf, bounce, req->len);
	free(bounce);
	return rc;
}

static int write_zeroes(const struct file_blkdev *fb, uint64_t off, uint64_t len)
{
	static uint8_t zeros[65536] __attribute__((aligned(FB_DIRECT_ALIGN)));
	while (len) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		int rc = do_write(fb->fd, off, zeros, n);
		if (rc)
			return rc;
		off += n;
		len -= n;
	}
	return 0;
}

static int carry_out(const struct file_blkdev *fb, const struct blkdev_req *req)
{
	switch (req->op) {
	case BLKDEV_READ:
	case BLKDEV_WRITE:
		return read_write(fb, req);
	case BLKDEV_FLUSH:
		return fdatasync(fb->fd) < 0 ? -errno : 0;
	case BLKDEV_WRITE_ZEROES:
		return write_zeroes(fb, req->offset, req->len);
	case BLKDEV_DISCARD:
		return 0;
	}
	return -EINVAL;
}

static void *worker_main(void *arg)
{
	struct file_blkdev *fb = arg;
	pthread_mutex_lock(&fb->lock);
	for (;;) {
		while (fb->todo_head == fb->todo_end && !fb->stopping)
			pthread_cond_wait(&fb->work, &fb->lock);
		if (fb->todo_head == fb->todo_end)
			break; /* stopping, nothing left */
		struct blkdev_req *req = todo_pop(fb);
		pthread_mutex_unlock(&fb->lock);
		int status = carry_out(fb, req);
		pthread_mutex_lock(&fb->lock);
		fb->done[fb->done_n++] = (struct fb_done){ req, status };
		pthread_cond_signal(&fb->completed);
	}
	pthread_mutex_unlock(&fb->lock);
	return NULL;
}
