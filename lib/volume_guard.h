/*
 * volume_guard: a served volume stops at its first device error on a write (docs/DESIGN.md,
 * "Crash safety"). Once a write, flush or unmap of the volume fails with a device error
 * (-EIO), every later operation of the volume fails with -ENODEV and nothing more
 * reaches the disk: not a data write, not a table or header write of the image below.
 * Why: after a failed write the image's on-disk order is no longer known, and on shared
 * storage (Ceph RBD) the error usually means another appliance took the disk over and
 * fenced this one; the new owner's boot-time check repairs what was left.
 *
 * Two layers, one guard: the image is opened on the guard's gate (a blkdev that passes
 * requests to the disk until the guard stops), and the guard's volume wraps the image's
 * volume and watches what its operations return.
 *
 *     struct volume_guard g;
 *     volume_guard_init(&g, disk, on_stop, ctx);
 *     qed_open(&g.gate, ...); qed_volume_init(img, &qvol);
 *     volume_guard_wrap(&g, &qvol);
 *     scsi_lun_init(&lun, &g.vol, name);
 *
 * on_stop(ctx, "write" | "flush" | "unmap", rc) is called once, when the guard stops.
 */
#ifndef QEDBOX_VOLUME_GUARD_H
#define QEDBOX_VOLUME_GUARD_H

#include <stdbool.h>

#include "blkdev.h"
#include "volume.h"

typedef void volume_guard_stop_fn(void *ctx, const char *op, int rc);

struct volume_guard {
	struct volume vol;      /* what is served: the inner volume, guarded */
	struct blkdev gate;     /* what the image below is opened on */
	struct volume *inner;
	struct volume_ops ops;  /* vol's: the inner volume's shape, guarded */
	struct blkdev *disk;
	bool stopped;
	volume_guard_stop_fn *on_stop;
	void *ctx;
};

/* The gate takes the disk's geometry, flags and serial. */
void volume_guard_init(struct volume_guard *g, struct blkdev *disk,
		       volume_guard_stop_fn *on_stop, void *ctx);
/* The guarded volume: the inner volume's geometry and operations. */
void volume_guard_wrap(struct volume_guard *g, struct volume *inner);
/* Stops the guard (as a device error would): on_stop is called once. */
void volume_guard_stop(struct volume_guard *g, const char *op, int rc);

#endif
