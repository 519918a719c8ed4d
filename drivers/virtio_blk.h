/*
 * virtio-blk: every virtio block device becomes a struct blkdev (lib/blkdev.h).
 * Firmware only. The driver knows no image format and no policy: what a disk holds
 * and what to do with it is the appliance's business (app/disks.c).
 *
 * Use, after pci_scan():
 *     unsigned n = virtio_blk_probe_all();  // init every disk, register the pollers
 *     struct blkdev *d = virtio_blk_disk(i);         // i < n, PCI order
 *     blkdev_submit(d, &req) / blkdev_read(d, ...)   // see lib/blkdev.h
 * When it returns, each disk's capacity, sector size, flags and serial are filled and
 * the device is live; completions are delivered by the event loop (loop_run()).
 */
#ifndef QEDBOX_VIRTIO_BLK_H
#define QEDBOX_VIRTIO_BLK_H

#include <stddef.h>
#include <stdint.h>

#include "blkdev.h"
#include "virtqueue.h"

#define VIRTIO_BLK_MAX_DISKS 16

/* Initialises every virtio-blk function pci_scan() found; returns how many work. */
unsigned virtio_blk_probe_all(void);

unsigned virtio_blk_count(void);
/* The i-th disk (PCI order), or NULL. */
struct blkdev *virtio_blk_disk(unsigned i);
/* The disk whose serial is `serial`, or NULL. */
struct blkdev *virtio_blk_find(const char *serial);

/* The driver's view of disk b for the disk table: "queue=256 indirect discard ...". */
void virtio_blk_describe(const struct blkdev *b, char *buf, size_t len);

struct virtio_blk_stats {
	uint64_t requests;      /* device requests completed */
	uint64_t flushes;       /* of which FLUSH */
	unsigned max_in_flight; /* the most requests on the ring at once */
	uint64_t errors;        /* requests the device failed */
	/* kicks, kicks suppressed, interrupts, used buffers (virtqueue.h) */
	struct virtqueue_stats queue;
};
void virtio_blk_get_stats(const struct blkdev *b, struct virtio_blk_stats *stats);

#endif
