/*
 * volume: what the SCSI layer serves (docs/DESIGN.md, "Layers"). A QED image implements
 * it (qed/), and so does a raw passthrough of a blkdev (lib/raw_volume.c), for
 * comparison and benchmarks. The SCSI layer never knows which is below.
 *
 * Every operation blocks the calling task (never call from outside a task) and returns 0
 * or a negative errno: -EIO for a device error, -ENOSPC when the disk below is full,
 * -EINVAL for a request outside the volume, -EROFS on a read-only volume, -ENODEV once
 * the volume stopped serving after a device error (volume_guard.h). Offsets and
 * lengths are multiples of block_size. A write is durable once a later flush returns 0.
 */
#ifndef QEDBOX_VOLUME_H
#define QEDBOX_VOLUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blkdev.h" /* BLKDEV_SERIAL_MAX: a volume is named by its disk's serial */

struct volume;

struct volume_ops {
	int (*read)(struct volume *v, uint64_t offset, void *buf, size_t len);
	int (*write)(struct volume *v, uint64_t offset, const void *buf, size_t len);
	int (*flush)(struct volume *v);
	/* Deallocates the range; it reads back as zeros afterwards. NULL when not thin. */
	int (*unmap)(struct volume *v, uint64_t offset, uint64_t len);
	/* Whether the bytes at offset are mapped (hold data, or read what a backing image
	 * holds) or deallocated (read back as zeros), and for how many bytes from offset,
	 * at most len, that stays so (*bytes > 0). NULL: everything is mapped. */
	int (*block_status)(struct volume *v, uint64_t offset, uint64_t len, bool *mapped,
			    uint64_t *bytes);
	/* Persistent reservations that persist through power loss (SCSI APTPL): the LUN's
	 * encoded state (net/scsi_pr_store.c), stored durably before it returns 0; loaded
	 * at start-up (-ENOENT: none). NULL both when the volume cannot keep them. */
	int (*save_reservations)(struct volume *v, const void *blob, size_t len);
	int (*load_reservations)(struct volume *v, void *buf, size_t cap, size_t *len);
};

struct volume {
	const struct volume_ops *ops;
	uint64_t size;          /* bytes */
	uint32_t block_size;    /* bytes per logical block */
	uint32_t unmap_granularity; /* bytes; the allocation unit (a QED cluster) */
	bool write_cache;       /* writes are volatile until flush */
	bool read_only;
	char serial[BLKDEV_SERIAL_MAX + 1];
	void *priv;
};

#endif
