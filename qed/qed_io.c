/*
 * Several device requests in flight at once from one task: a request is submitted as
 * soon as it is added, and qed_batch_wait() blocks until all have completed, returning
 * the first error. A batch holds QED_BATCH_MAX requests; adding one more first waits for
 * those before it (so a long request list still overlaps 16 deep).
 *
 *     struct qed_batch b;
 *     qed_batch_init(&b);
 *     qed_batch_add(img, &b, BLKDEV_READ, off1, buf1, len1);
 *     qed_batch_add(img, &b, BLKDEV_READ, off2, buf2, len2);
 *     rc = qed_batch_wait(&b);
 *
 * The batch lives on the caller's stack: always wait before returning, even after an
 * error, since the device still holds the requests.
 */
#include "qed_priv.h"

void qed_batch_init(struct qed_batch *b)
{
	completion_init(&b->done);
	b->pending = 0;
	b->used = 0;
	b->err = 0;
}

static void batch_req_done(struct blkdev_req *req, int status)
{
	struct qed_batch *b = req->priv;
	if (status && !b->err)
		b->err = status;
	if (--b->pending == 0)
		completion_done(&b->done, 0);
}

int qed_batch_wait(struct qed_batch *b)
{
	while (b->pending) {
		completion_init(&b->done);
		completion_wait(&b->done);
	}
	b->used = 0;
	return b->err;
}

void qed_batch_add(struct qed_image *img, struct qed_batch *b, enum blkdev_op op,
		   uint64_t offset, const void *buf, size_t len)
{
	if (len == 0)
		return;
	if (b->used == QED_BATCH_MAX)
		qed_batch_wait(b);
	struct blkdev_req *r = &b->reqs[b->used++];
	*r = (struct blkdev_req){
		.op = op, .offset = offset, .buf = (void *)(uintptr_t)buf, .len = len,
		.done = batch_req_done, .priv = b,
	};
	b->pending++;
	blkdev_submit(img->dev, r);
}
