/*
 * Internals shared by the volume files: volumes.c (opening the disks at start-up, the
 * targets, the idle flush), volumes_snap.c (snapshots and clones) and volumes_status.c
 * (what the status page lists).
 *
 * A disk is in one role: served (the image a volume is served from now), backing (a
 * read-only image below one), or none (spares among them). A served volume is a target
 * slot: its LUN serves a volume gate (lib/volume_gate.h) in front of the image, so a
 * snapshot can move the volume to another disk without the sessions noticing.
 */
#ifndef QEDBOX_VOLUMES_PRIV_H
#define QEDBOX_VOLUMES_PRIV_H

#include "qed.h"
#include "raw_volume.h"
#include "scsi.h"
#include "volume_gate.h"
#include "volume_guard.h"
#include "volumes.h"

enum disk_role { ROLE_NONE, ROLE_SERVED, ROLE_BACKING };

struct disk {
	struct blkdev *dev;
	enum disk_content content;  /* what sector 0 held at start-up (or since: QED) */
	enum disk_role role;
	bool named_as_backing;      /* some image's backing file names it (start-up) */
	char volume[BLKDEV_SERIAL_MAX + 1]; /* the volume record's name, or "" */
	struct qed_image *img;      /* QED image (served or backing) */
	struct raw_volume raw;      /* raw backing disk */
	struct volume qed_vol;      /* the image as a volume */
	struct volume_guard guard;  /* a written image: opened on guard.gate, used as guard.vol */
	struct volume *vol;         /* what is served or read through: guard.vol, qed_vol
				     * (a backing image) or raw.vol */
};

/* A served volume: one iSCSI target. */
struct served {
	char name[BLKDEV_SERIAL_MAX + 1]; /* the volume's name: never changes */
	struct disk *disk;          /* the image it is served from now */
	struct volume_gate gate;
	struct scsi_lun lun;
	char target_name[ISCSI_NAME_MAX];
	struct iscsi_acl_entry acl[CONFIG_MAX_LIST];
};

struct volumes_state {
	const struct qedbox_config *cfg;
	struct iscsi_config *iscsi;
	struct disk disks[DISKS_MAX];
	unsigned n_disks;
	struct served served[DISKS_MAX];  /* [0, iscsi->n_targets) in use */
	struct iscsi_target_config targets[DISKS_MAX];
	uint64_t next_idle_flush;   /* clock_ns() of the next idle flush */
	bool flush_running;
	struct waitq flush_done;    /* woken when the idle flush task ends */
	bool action_running;        /* a snapshot or clone: one at a time */
};

extern struct volumes_state vols;

struct disk *volumes_disk_by_serial(const char *name);
struct served *volumes_served_by_name(const char *name);
struct served *volumes_served_from(const struct disk *d);
/* The open_backing callback of qed_open: ctx is the child disk. */
int volumes_open_backing(void *ctx, const char *name, const char *fmt, struct volume **out);
void volumes_qed_log(void *ctx, int level, const char *msg);
/* Opens d's image for writing on a volume guard: its first device error on a write
 * stops it (volume_guard.h). d->img and d->vol are set on success. */
int volumes_open_guarded(struct disk *d, const struct qed_open_opts *o);
/* Serves d (role served, image open) as volume name: a new target, visible at once. */
struct served *volumes_add_target(struct disk *d, const char *name);
/* Status of a served volume (volumes_status.c). */
void volumes_status_of(const struct served *s, struct volume_status *out);

#endif
