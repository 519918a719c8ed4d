/*
 * The appliance's volumes: every disk holding a QED image becomes an iSCSI target
 * <iqn_prefix>:<serial> with LUN 0 (docs/DESIGN.md, "Volumes and configuration").
 *
 * volumes_open() opens them (checking images whose need-check bit is set, resolving
 * backing files by disk serial, formatting blank disks that format= names), fills the
 * iSCSI configuration with one target per served volume, and starts the idle flush.
 * Run it from a task: opening reads and may repair the images.
 *
 * A *volume* is what a target serves, named by the serial of the disk it was created on
 * (its target name never changes, even after snapshots move it to other disks); an
 * *image* is one disk's QED image, named by the disk's serial. A *spare* is a blank disk
 * (first sector zeros) that format= does not name.
 */
#ifndef QEDBOX_VOLUMES_H
#define QEDBOX_VOLUMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "disks.h"
#include "iscsi.h"

/* cfg and probes outlive the volumes; the targets in *iscsi point into them. */
void volumes_open(const struct qedbox_config *cfg, const struct disk_probe *probes,
		  unsigned n_disks, struct iscsi_config *iscsi);

#define VOLUMES_CHAIN_MAX 8 /* backing images below a served one, at most */

struct scsi_lun;

struct volume_status {
	char name[BLKDEV_SERIAL_MAX + 1];   /* the volume: serial of the disk it was created on */
	char target[ISCSI_NAME_MAX];        /* <iqn_prefix>:<name> */
	char image[BLKDEV_SERIAL_MAX + 1];  /* serial of the disk it is served from now */
	uint64_t size, allocated_bytes;     /* guest bytes; data clusters of the served image */
	uint32_t cluster_size;
	bool need_check;
	char chain[VOLUMES_CHAIN_MAX][BLKDEV_SERIAL_MAX + 1]; /* backing serials, nearest first */
	unsigned chain_len;
	const struct scsi_lun *lun;         /* for its stats */
};

struct image_status {
	char serial[BLKDEV_SERIAL_MAX + 1];
	const char *role;                   /* "served", "backing", "spare", "none" */
	uint64_t disk_bytes;
	bool qed;                           /* the fields below are valid */
	uint64_t size, allocated_bytes;
	uint32_t cluster_size;
	bool read_only, need_check;
	char backing[BLKDEV_SERIAL_MAX + 1]; /* backing image's serial, or "" */
	char volume[BLKDEV_SERIAL_MAX + 1];  /* the volume it serves, or "" */
};

/* Fill out[] (at most max entries) and return how many there are in all (may be > max). */
unsigned volumes_list(struct volume_status *out, unsigned max);
unsigned volumes_images(struct image_status *out, unsigned max);

/* Both block: run them from a task. 0 and *out filled, or a negative errno with a reason
 * in why: -ENOENT no such volume/image/spare; -EBUSY spare not blank or in use; -EROFS
 * clone of a read-write image; -ENOSPC spare too small; others (-EIO, -ENOMEM, ...).
 *
 * volumes_snapshot: the volume goes on being served, from a new overlay on the spare
 * whose backing is the image it was served from; that image becomes read-only.
 * volumes_clone: a new volume (target <prefix>:SPARE) on the spare, backed by the
 * read-only image. */
int volumes_snapshot(const char *volume, const char *spare, struct volume_status *out,
		     char *why, size_t why_len);
int volumes_clone(const char *image, const char *spare, struct volume_status *out,
		  char *why, size_t why_len);

#endif
