/*
 * The virtio-blk request engine (see virtio_blk_priv.h for the model).
 *
 * submit: a job joins the FIFO, then as many pieces as the ring takes are issued, in
 * FIFO order. poll: each used chain completes its piece; a job whose pieces are all
 * issued and all back calls req->done(); then more waiting pieces are issued, and the
 * device is notified of everything new. The loop runs the pollers after the tasks and
 * once more before it halts, so requests submitted anywhere reach the device in the
 * same loop round, batched. done() may submit again: the engine's state is consistent
 * whenever it calls out.
 * The device interrupts only when asked, just before the loop halts with requests in
 * flight (vblk_before_halt): while the loop runs, the poller looks anyway. Ordering is
 * untouched: a FLUSH is issued only after the writes it covers completed (the caller's
 * rule), and the ring keeps submission order for the device.
 *
 * Portable (no platform.h): the host test drives it against a fake device.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "virtio_blk_priv.h"

int vblk_io_init(struct vblk *v)
{
	v->slots = calloc(v->vq.size, sizeof(*v->slots));
	if (!v->slots)
		return -ENOMEM;
	for (unsigned i = 0; i < v->vq.size; i++) {
		v->slots[i].next_free = v->free_slots;
		v->free_slots = &v->slots[i];
	}
	return 0;
}

static struct vblk_job *job_alloc(struct vblk *v)
{
	struct vblk_job *j = v->free_jobs;
	if (j)
		v->free_jobs = j->next;
	else
		j = malloc(sizeof(*j));
	return j;
}

static void job_free(struct vblk *v, struct vblk_job *j)
{
	j->next = v->free_jobs;
	v->free_jobs = j;
}

int vblk_status_to_errno(uint8_t status)
{
	switch (status) {
	case VIRTIO_BLK_S_OK: return 0;
	case VIRTIO_BLK_S_UNSUPP: return -EOPNOTSUPP;
	default: return -EIO;
	}
}

/* Bytes the next piece of a read or write job carries. */
static uint64_t rw_piece_bytes(const struct vblk *v, uint64_t remaining)
{
	uint64_t max = (uint64_t)v->data_segs * v->seg_bytes;
	if (remaining <= max)
		return remaining;
	uint64_t piece = max - max % v->blk.sector_size;
	return piece ? piece : v->blk.sector_size;
}

/* Builds the chain of the next piece of j into bufs; returns its length and sets
 * *bytes to the part of the request it covers. */
static unsigned build_piece(struct vblk *v, struct vblk_job *j, struct vblk_slot *s,
			    struct virtq_buf *bufs, uint64_t *bytes)
{
	struct blkdev_req *req = j->req;
	uint64_t remaining = req->len - j->issued;
	unsigned n = 0;
	s->hdr = (struct virtio_blk_outhdr){
		.sector = (req->offset + j->issued) / VIRTIO_BLK_SECTOR_SIZE };
	bufs[n++] = (struct virtq_buf){ &s->hdr, sizeof(s->hdr), false };
	*bytes = 0;
	switch (req->op) {
	case BLKDEV_READ:
	case BLKDEV_WRITE: {
		s->hdr.type = req->op == BLKDEV_READ ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT;
		*bytes = rw_piece_bytes(v, remaining);
		char *p = (char *)req->buf + j->issued;
		for (uint64_t left = *bytes; left;) {
			uint32_t seg = left < v->seg_bytes ? (uint32_t)left : v->seg_bytes;
			bufs[n++] = (struct virtq_buf){ p, seg, req->op == BLKDEV_READ };
			p += seg;
			left -= seg;
		}
		break;
	}
	case BLKDEV_DISCARD:
	case BLKDEV_WRITE_ZEROES: {
		bool zeroes = req->op == BLKDEV_WRITE_ZEROES;
		uint64_t max = (uint64_t)(zeroes ? v->max_write_zeroes_sectors
					         : v->max_discard_sectors) * VIRTIO_BLK_SECTOR_SIZE;
		max -= max % v->blk.sector_size;
		if (max == 0)
			max = v->blk.sector_size;
		*bytes = remaining < max ? remaining : max;
		s->hdr.type = zeroes ? VIRTIO_BLK_T_WRITE_ZEROES : VIRTIO_BLK_T_DISCARD;
		s->range = (struct virtio_blk_discard_write_zeroes){
			.sector = s->hdr.sector,
			.num_sectors = (uint32_t)(*bytes / VIRTIO_BLK_SECTOR_SIZE) };
		s->hdr.sector = 0; /* the range carries it */
		bufs[n++] = (struct virtq_buf){ &s->range, sizeof(s->range), false };
		break;
	}
	case BLKDEV_FLUSH:
		s->hdr.type = VIRTIO_BLK_T_FLUSH;
		break;
	}
	s->status = 0xff; /* not a valid status: a device that writes nothing fails it */
	bufs[n++] = (struct virtq_buf){ &s->status, 1, true };
	return n;
}

/* Issues the next piece of j; false when the ring has no room for it now. */
static bool issue_piece(struct vblk *v, struct vblk_job *j)
{
	struct virtq_buf bufs[VBLK_MAX_DATA_SEGS + 2];
	struct vblk_slot *s = v->free_slots;
	if (!s)
		return false;
	uint64_t bytes;
	unsigned n = build_piece(v, j, s, bufs, &bytes); /* the slot is free: no harm if */
	if (virtqueue_add(&v->vq, bufs, n, s) != 0)       /* the ring is full (-ENOSPC) */
		return false;
	v->free_slots = s->next_free;
	s->job = j;
	j->pieces_in_flight++;
	if (v->vq.in_flight > v->max_in_flight)
		v->max_in_flight = v->vq.in_flight;
	j->issued += bytes;
	j->all_issued = j->issued == j->req->len;
	return true;
}

static void issue_waiting(struct vblk *v)
{
	while (v->fifo_head) {
		struct vblk_job *j = v->fifo_head;
		if (!issue_piece(v, j))
			break;
		if (j->all_issued) {
			v->fifo_head = j->next;
			if (!v->fifo_head)
				v->fifo_tail = NULL;
		}
	}
}

void vblk_submit(struct blkdev *dev, struct blkdev_req *req)
{
	struct vblk *v = dev->priv;
	if (req->op == BLKDEV_FLUSH && !(dev->flags & BLKDEV_F_VOLATILE_CACHE)) {
		req->done(req, 0); /* write-through: completed writes are already durable */
		return;
	}
	if (req->op != BLKDEV_FLUSH && req->len == 0) {
		req->done(req, 0);
		return;
	}
	struct vblk_job *j = job_alloc(v);
	if (!j) {
		req->done(req, -ENOMEM);
		return;
	}
	*j = (struct vblk_job){ .req = req };
	if (v->fifo_tail)
		v->fifo_tail->next = j;
	else
		v->fifo_head = j;
	v->fifo_tail = j;
	issue_waiting(v);
}

/* Completes one piece; finishes its job when it was the last. */
static void complete_piece(struct vblk *v, struct vblk_slot *s)
{
	struct vblk_job *j = s->job;
	int rc = vblk_status_to_errno(s->status);
	s->job = NULL;
	s->next_free = v->free_slots;
	v->free_slots = s;
	v->completed_pieces++;
	v->flushes += s->hdr.type == VIRTIO_BLK_T_FLUSH;
	if (rc) {
		v->errors++;
		if (!j->status)
			j->status = rc;
	}
	if (--j->pieces_in_flight == 0 && j->all_issued) {
		struct blkdev_req *req = j->req;
		int status = j->status;
		job_free(v, j);
		req->done(req, status);
	}
}

bool vblk_poll(void *ctx)
{
	struct vblk *v = ctx;
	bool progress = false;
	struct vblk_slot *s;
	virtqueue_disable_interrupts(&v->vq); /* we are looking: the device need not tell */
	while ((s = virtqueue_get_used(&v->vq, NULL)) != NULL) {
		progress = true;
		complete_piece(v, s);
	}
	if (progress)
		issue_waiting(v);
	/* The one place the device is notified: everything the tasks and callbacks of this
	 * loop round submitted goes with one notification. */
	virtqueue_kick(&v->vq);
	return progress;
}

bool vblk_before_halt(struct vblk *v)
{
	virtqueue_kick(&v->vq); /* a request queued after the last poll must not wait */
	return v->vq.in_flight > 0 && virtqueue_enable_interrupts(&v->vq);
}
