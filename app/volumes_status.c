/*
 * What the status page lists (volumes.h): the served volumes with their backing chains,
 * and every disk with its role and its image's facts. Reads memory only; never blocks.
 */
#include "volumes_priv.h"

#include <stdio.h>
#include <string.h>

static void copy_serial(char *dst, const char *src)
{
	snprintf(dst, BLKDEV_SERIAL_MAX + 1, "%s", src);
}

static const char *role_name(const struct disk *d)
{
	switch (d->role) {
	case ROLE_SERVED:
		return "served";
	case ROLE_BACKING:
		return "backing";
	case ROLE_NONE:
		break;
	}
	bool spare = d->content == DISK_BLANK &&
		     !config_formats(vols.cfg, d->dev->serial);
	return spare ? "spare" : "none";
}

/* The disk an open image's backing file names, or NULL (none, or raw below). */
static const struct disk *backing_of(const struct disk *d)
{
	if (!d->img)
		return NULL;
	struct qed_info info;
	qed_get_info(d->img, &info);
	return info.backing_file[0] ? volumes_disk_by_serial(info.backing_file) : NULL;
}

void volumes_status_of(const struct served *s, struct volume_status *out)
{
	const struct disk *d = s->disk;
	struct qed_info info;
	qed_get_info(d->img, &info);
	*out = (struct volume_status){
		.size = info.image_size, .allocated_bytes = info.allocated_bytes,
		.cluster_size = info.cluster_size, .need_check = info.need_check, .lun = &s->lun,
	};
	copy_serial(out->name, s->name);
	copy_serial(out->image, d->dev->serial);
	snprintf(out->target, sizeof(out->target), "%s", s->target_name);
	for (const struct disk *b = backing_of(d); b && out->chain_len < VOLUMES_CHAIN_MAX;
	     b = backing_of(b))
		copy_serial(out->chain[out->chain_len++], b->dev->serial);
}

unsigned volumes_list(struct volume_status *out, unsigned max)
{
	unsigned n = vols.iscsi ? vols.iscsi->n_targets : 0;
	for (unsigned i = 0; i < n && i < max; i++)
		volumes_status_of(&vols.served[i], &out[i]);
	return n;
}

static void image_status_of(const struct disk *d, struct image_status *s)
{
	*s = (struct image_status){ .role = role_name(d), .disk_bytes = d->dev->capacity };
	copy_serial(s->serial, d->dev->serial);
	if (!d->img)
		return;
	struct qed_info info;
	qed_get_info(d->img, &info);
	s->qed = true;
	s->size = info.image_size;
	s->allocated_bytes = info.allocated_bytes;
	s->cluster_size = info.cluster_size;
	s->read_only = info.read_only;
	s->need_check = info.need_check;
	if (info.backing_file[0]) {
		const struct disk *b = volumes_disk_by_serial(info.backing_file);
		copy_serial(s->backing, b ? b->dev->serial : info.backing_file);
	}
	const struct served *v = volumes_served_from(d);
	if (v)
		copy_serial(s->volume, v->name);
}

unsigned volumes_images(struct image_status *out, unsigned max)
{
	for (unsigned i = 0; i < vols.n_disks && i < max; i++)
		image_status_of(&vols.disks[i], &out[i]);
	return vols.n_disks;
}
