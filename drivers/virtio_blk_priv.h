/*
 * Internals of the virtio-blk driver, shared by virtio_blk.c (device setup, probing,
 * disk table) and virtio_blk_io.c (the request engine). Not for other users.
 *
 * A blkdev request becomes a job; a job is issued as one or more virtio requests
 * ("pieces", each a slot: header + data segments + status byte chained on the ring)
 * when it is larger than the device takes at once. Jobs wait in a FIFO until the ring
 * has room; the poller drains the used ring, completes pieces, finishes jobs and
 * issues more. Ownership: a job belongs to the driver from submit to done().
 */
#ifndef QEDBOX_VIRTIO_BLK_PRIV_H
#define QEDBOX_VIRTIO_BLK_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "blkdev.h"
#include "virtio_pci.h"

/* Data segments per virtio request we ever chain (the device's seg_max may be less). */
#define VBLK_MAX_DATA_SEGS 16
/* Largest data segment when the device sets no size_max: keeps len within 32 bits. */
#define VBLK_DEFAULT_SEG_BYTES (1u << 30)

struct vblk_job {
	struct blkdev_req *req;
	uint64_t issued;        /* bytes of req handed to the device so far */
	bool all_issued;
	unsigned pieces_in_flight;
	int status;             /* first error of any piece */
	struct vblk_job *next;  /* FIFO or free-list link */
};

struct vblk_slot {
	struct virtio_blk_outhdr hdr;                 /* device reads */
	struct virtio_blk_discard_write_zeroes range; /* device reads (DISCARD/WRITE_ZEROES) */
	uint8_t status;                               /* device writes */
	struct vblk_job *job;
	struct vblk_slot *next_free;
};

struct vblk {
	struct blkdev blk;
	struct virtio_dev vdev;
	struct virtqueue vq;
	unsigned index;                 /* disk number, PCI order */
	struct vblk_slot *slots;        /* vq.size of them */
	struct vblk_slot *free_slots;
	struct vblk_job *fifo_head, *fifo_tail;
	struct vblk_job *free_jobs;
	uint32_t data_segs;             /* data descriptors per request */
	uint32_t seg_bytes;             /* bytes per data descriptor */
	uint32_t max_discard_sectors;   /* per request, 512-byte units */
	uint32_t max_write_zeroes_sectors;
	uint64_t completed_pieces;
	uint64_t flushes;               /* FLUSH requests completed (among the pieces) */
	unsigned max_in_flight;         /* most virtio requests on the ring at once */
	uint64_t errors;
};

/* virtio_blk_io.c */
int vblk_io_init(struct vblk *v);          /* after the queue exists */
void vblk_submit(struct blkdev *dev, struct blkdev_req *req);
bool vblk_poll(void *ctx);                  /* the loop poller; ctx = struct vblk * */
/* The halt hook's work: kicks what is unannounced, asks for an interrupt when requests
 * are in flight; true when one completed meanwhile (do not halt). */
bool vblk_before_halt(struct vblk *v);
int vblk_status_to_errno(uint8_t status);   /* VIRTIO_BLK_S_* -> 0, -EIO, -EOPNOTSUPP */

#endif
