/* Host tests of the threaded file blkdev (qed/tool/file_blkdev.c): many requests in
 * flight from many tasks land where they should; every completion is delivered on the
 * loop's thread from the poll, never inside submit; the poll reports idleness; reads past
 * the end of the file are zeros; O_DIRECT works with buffers of any alignment. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "file_blkdev.h"
#include "task.h"

#define TASKS 48
#define BLOCK 4096u
#define ROUNDS 4

static struct file_blkdev *fb;
static pthread_t loop_thread;
static bool in_submit;
static int done_off_loop, done_in_submit;

struct lane {
	unsigned id;
	int rc;
};

static void fill(uint8_t *p, unsigned id, unsigned round)
{
	for (unsigned i = 0; i < BLOCK; i++)
		p[i] = (uint8_t)(id * 31 + round * 7 + i / 512);
}

static void watch_done(struct blkdev_req *req, int status)
{
	done_off_loop += !pthread_equal(pthread_self(), loop_thread);
	done_in_submit += in_submit;
	completion_done(req->priv, status);
}

/* blkdev_write/read, but with a done() that records where it ran. */
static int io(enum blkdev_op op, uint64_t off, void *buf, size_t len)
{
	struct completion c;
	completion_init(&c);
	struct blkdev_req r = { .op = op, .offset = off, .buf = buf, .len = len,
				.done = watch_done, .priv = &c };
	in_submit = true;
	blkdev_submit(file_blkdev_dev(fb), &r);
	in_submit = false;
	return completion_wait(&c);
}

static void lane_task(void *arg)
{
	struct lane *l = arg;
	uint8_t *out = malloc(BLOCK + 1), *back = malloc(BLOCK);
	for (unsigned round = 0; round < ROUNDS && !l->rc; round++) {
		uint8_t *p = out + (round & 1); /* odd addresses too: bounced under O_DIRECT */
		fill(p, l->id, round);
		uint64_t off = (uint64_t)(round * TASKS + l->id) * BLOCK;
		l->rc = io(BLKDEV_WRITE, off, p, BLOCK);
		if (!l->rc)
			l->rc = io(BLKDEV_READ, off, back, BLOCK);
		if (!l->rc && memcmp(p, back, BLOCK) != 0)
			l->rc = -EBADMSG;
		if (!l->rc && l->id == 0)
			l->rc = io(BLKDEV_FLUSH, 0, NULL, 0);
	}
	free(out);
	free(back);
}

static void tail_task(void *arg)
{
	uint8_t *buf = arg;
	memset(buf, 0xee, BLOCK);
	CHECK_EQ(0, io(BLKDEV_READ, (uint64_t)ROUNDS * TASKS * BLOCK + 8 * BLOCK, buf, BLOCK));
}

static void run(unsigned flags)
{
	char path[] = "/tmp/test_file_blkdev.XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	close(fd);
	loop_thread = pthread_self();
	done_off_loop = done_in_submit = 0;
	int rc = file_blkdev_open(path, flags, 64ull << 20, &fb);
	unlink(path);
	if (rc == -EINVAL && (flags & FILE_BLKDEV_DIRECT)) {
		printf("# file blkdev: no O_DIRECT on /tmp's filesystem, direct case not run\n");
		return;
	}
	CHECK_EQ(0, rc);
	if (rc)
		return;
	CHECK(!file_blkdev_poll(fb)); /* nothing in flight */
	struct lane lanes[TASKS];
	for (unsigned i = 0; i < TASKS; i++) {
		lanes[i] = (struct lane){ i, 0 };
		task_spawn(lane_task, &lanes[i]);
	}
	CHECK(task_run_all(file_blkdev_poll, fb));
	for (unsigned i = 0; i < TASKS; i++)
		CHECK_EQ(0, lanes[i].rc);
	CHECK_EQ((uint64_t)ROUNDS * TASKS * BLOCK, file_blkdev_file_size(fb));
	static uint8_t tail[BLOCK] __attribute__((aligned(BLOCK)));
	task_spawn(tail_task, tail);
	CHECK(task_run_all(file_blkdev_poll, fb));
	uint8_t zeros[BLOCK] = { 0 };
	CHECK_MEM_EQ(zeros, tail, BLOCK); /* past the end of the file: zeros */
	CHECK_EQ(0, done_off_loop);
	CHECK_EQ(0, done_in_submit);
	CHECK(!file_blkdev_poll(fb));
	file_blkdev_close(fb);
}

static void test_page_cache(void) { run(FILE_BLKDEV_CREATE); }
static void test_direct(void) { run(FILE_BLKDEV_CREATE | FILE_BLKDEV_DIRECT); }

int main(void)
{
	RUN(test_page_cache);
	RUN(test_direct);
	return check_report("test_file_blkdev");
}
