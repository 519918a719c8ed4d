/*
 * A QED image served as a volume (lib/volume.h): what the SCSI layer sees of it. Each op
 * is the image's own call; the volume's geometry comes from the header.
 */
#include <errno.h>
#include <string.h>

#include "qed_priv.h"

static int vol_read(struct volume *v, uint64_t offset, void *buf, size_t len)
{
	return qed_read(v->priv, offset, buf, len);
}

static int vol_write(struct volume *v, uint64_t offset, const void *buf, size_t len)
{
	return qed_write(v->priv, offset, buf, len);
}

static int vol_flush(struct volume *v)
{
	return qed_flush(v->priv);
}

static int vol_unmap(struct volume *v, uint64_t offset, uint64_t len)
{
	return qed_zero(v->priv, offset, len);
}

/* A cluster that holds data is mapped; a zero cluster is deallocated (it reads zeros); an
 * unallocated cluster is deallocated too unless a backing image supplies its bytes, in
 * which case it is mapped (what the initiator reads there is not zeros). For SCSI GET
 * LBA STATUS. */
static int vol_block_status(struct volume *v, uint64_t offset, uint64_t len, bool *mapped,
			    uint64_t *bytes)
{
	struct qed_image *img = v->priv;
	enum qed_extent_state state;
	uint64_t image_offset;
	int rc = qed_map(img, offset, len, &state, bytes, &image_offset);
	if (rc)
		return rc;
	*mapped = state == QED_EXTENT_DATA ||
		  (state == QED_EXTENT_UNALLOCATED && img->backing != NULL);
	return 0;
}

static int vol_save_reservations(struct volume *v, const void *blob, size_t len)
{
	return qed_record_store(v->priv, blob, len);
}

static int vol_load_reservations(struct volume *v, void *buf, size_t cap, size_t *len)
{
	return qed_record_load(v->priv, buf, cap, len);
}

#define QED_VOLUME_DATA_OPS \
	.read = vol_read, .write = vol_write, .flush = vol_flush, .unmap = vol_unmap, \
	.block_status = vol_block_status

static const struct volume_ops qed_volume_ops = { QED_VOLUME_DATA_OPS };

/* An image with a record area keeps the reservations there (APTPL). */
static const struct volume_ops qed_volume_ops_records = {
	QED_VOLUME_DATA_OPS,
	.save_reservations = vol_save_reservations,
	.load_reservations = vol_load_reservations,
};

void qed_volume_init(struct qed_image *img, struct volume *v)
{
	memset(v, 0, sizeof(*v));
	bool records = qed_record_room(img) && !img->read_only;
	v->ops = records ? &qed_volume_ops_records : &qed_volume_ops;
	v->block_size = img->block_size;
	v->size = img->hdr.image_size / img->block_size * img->block_size;
	v->unmap_granularity = img->cluster_size;
	v->write_cache = (img->dev->flags & BLKDEV_F_VOLATILE_CACHE) != 0;
	v->read_only = img->read_only;
	memcpy(v->serial, img->dev->serial, BLKDEV_SERIAL_MAX);
	v->serial[BLKDEV_SERIAL_MAX] = 0;
	v->priv = img;
}
