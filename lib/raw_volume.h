/*
 * raw_volume: a volume that is a blkdev as it is, block for block (no QED image), for
 * comparison and benchmarks (docs/DESIGN.md, "Layers").
 *
 *     struct raw_volume rv;
 *     raw_volume_init(&rv, dev);
 *     scsi_lun_init(&lun, &rv.vol, target_name);
 *
 * The geometry, the read-only flag, the volatile write cache and the serial come from the
 * device. The volume is thin (has unmap) only when the device offers WRITE ZEROES: unmapped
 * blocks must read back as zeros (volume.h), which DISCARD does not promise.
 */
#ifndef QEDBOX_RAW_VOLUME_H
#define QEDBOX_RAW_VOLUME_H

#include "blkdev.h"
#include "volume.h"

struct raw_volume {
	struct volume vol;
	struct blkdev *dev;
};

void raw_volume_init(struct raw_volume *rv, struct blkdev *dev);

#endif
