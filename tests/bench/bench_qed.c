/*
 * bench_qed: qemu-img bench's access pattern through qedbox's own stack, so the two can be
 * run side by side on the same file (tests/bench/bench_qed.sh).
 *
 *   bench_qed FMT OP FILE COUNT BUFSIZE STEP DEPTH [CACHE]
 *     FMT   qed (the QED core on a file blkdev) or raw (the file blkdev alone)
 *     OP    read or write
 *     CACHE none (O_DIRECT, as qemu-img bench -t none) or writeback (the page cache, as
 *           qemu-img bench's default); default writeback
 * COUNT requests of BUFSIZE bytes, DEPTH of them in flight (one task each); request i
 * goes to offset (i * STEP) mod the image size, as qemu-img bench does. Prints
 * "seconds requests" of the I/O phase (open and close excluded, as in qemu-img bench).
 *
 * The file blkdev carries requests out on a pool of worker threads (as QEMU's aio=threads
 * does), so DEPTH tasks keep up to DEPTH requests in flight at the host too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "file_blkdev.h"
#include "qed.h"
#include "task.h"

struct bench {
	struct file_blkdev *fb;
	struct qed_image *img;
	bool write;
	uint64_t count, bufsize, step, size;
	uint64_t next, offset;   /* requests handed out, next offset */
	int depth, rc;
	double seconds;
	struct waitq start;      /* workers wait here until the clock starts */
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int do_io(struct bench *b, uint64_t off, void *buf)
{
	if (b->img)
		return b->write ? qed_write(b->img, off, buf, b->bufsize)
				: qed_read(b->img, off, buf, b->bufsize);
	struct blkdev *dev = file_blkdev_dev(b->fb);
	return b->write ? blkdev_write(dev, off, buf, b->bufsize)
			: blkdev_read(dev, off, buf, b->bufsize);
}

static void worker(void *arg)
{
	struct bench *b = arg;
	void *buf = NULL; /* aligned as QEMU's buffers are: no O_DIRECT bounce */
	if (posix_memalign(&buf, 4096, b->bufsize))
		buf = NULL;
	if (!buf) {
		b->rc = -ENOMEM;
		return;
	}
	memset(buf, 0xa5, b->bufsize);
	waitq_sleep(&b->start);
	while (!b->rc && b->next < b->count) {
		uint64_t off = b->offset;
		b->next++;
		b->offset = (b->offset + b->step) % b->size;
		int rc = do_io(b, off, buf);
		if (rc && !b->rc)
			b->rc = rc;
	}
	free(buf);
}

static void run_task(void *arg)
{
	struct bench *b = arg;
	if (b->img == NULL && b->size == 0) {
		struct qed_open_opts o = { .check_on_open = true };
		b->rc = qed_open(file_blkdev_dev(b->fb), &o, &b->img);
		if (b->rc)
			return;
		struct qed_info in;
		qed_get_info(b->img, &in);
		b->size = in.image_size;
	}
}

static bool poll_file(void *ctx)
{
	return file_blkdev_poll(ctx);
}

static void close_task(void *arg)
{
	struct bench *b = arg;
	if (b->img)
		b->rc = qed_close(b->img);
}

int main(int argc, char **argv)
{
	if (argc != 8 && argc != 9) {
		fprintf(stderr, "usage: bench_qed qed|raw read|write FILE COUNT BUFSIZE STEP DEPTH"
			" [none|writeback]\n");
		return 1;
	}
	bool direct = argc == 9 && strcmp(argv[8], "none") == 0;
	struct bench b = { .write = strcmp(argv[2], "write") == 0 };
	bool qed = strcmp(argv[1], "qed") == 0;
	b.count = strtoull(argv[4], NULL, 0);
	b.bufsize = strtoull(argv[5], NULL, 0);
	b.step = strtoull(argv[6], NULL, 0);
	b.depth = atoi(argv[7]);
	/* A QED file grows: give the disk room (the benchmark images are far smaller). */
	int rc = file_blkdev_open(argv[3], direct ? FILE_BLKDEV_DIRECT : 0,
				  qed ? (4ull << 30) : 0, &b.fb);
	if (rc) {
		fprintf(stderr, "bench_qed: %s: %s\n", argv[3], strerror(-rc));
		return 1;
	}
	if (!qed)
		b.size = file_blkdev_dev(b.fb)->capacity;
	task_spawn(run_task, &b);
	task_run_all(poll_file, b.fb);
	if (b.rc || !b.size || b.depth < 1 || !b.bufsize || b.bufsize > b.size) {
		fprintf(stderr, "bench_qed: cannot start: %s\n", strerror(b.rc ? -b.rc : EINVAL));
		return 1;
	}
	b.start = (struct waitq)WAITQ_INIT;
	for (int i = 0; i < b.depth; i++)
		task_spawn(worker, &b);
	task_run_ready();
	double t0 = now();
	waitq_wake_all(&b.start);
	task_run_all(poll_file, b.fb);
	double t1 = now();
	task_spawn(close_task, &b);
	task_run_all(poll_file, b.fb);
	file_blkdev_close(b.fb);
	if (b.rc) {
		fprintf(stderr, "bench_qed: I/O failed: %s\n", strerror(-b.rc));
		return 1;
	}
	printf("%.3f %llu\n", t1 - t0, (unsigned long long)b.count);
	return 0;
}
