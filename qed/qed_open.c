/*
 * Opening and closing an image, and the facts about it.
 *
 * qed_open: read and validate the header (qed_header.c), find the backing volume, clear
 * autoclear bits we do not know (read-write only), read L1, run the check when the image
 * was not closed cleanly (check_on_open), and find the allocation end: the durable end
 * when our extension is valid, else the end of the highest cluster any table references.
 * A refused image is never written to.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qed_priv.h"

_Static_assert(sizeof(((struct qed_info *)0)->volume_name) == QED_VOLREC_NAME_MAX + 1,
	       "qed_info holds a volume record's name");

bool qed_probe(const void *sector0, size_t len)
{
	return len >= 4 && get_le32(sector0) == QED_MAGIC;
}

static void set_geometry(struct qed_image *img)
{
	const struct qed_header *h = &img->hdr;
	img->cluster_size = h->cluster_size;
	img->table_size = h->table_size;
	img->table_bytes = (uint64_t)h->table_size * h->cluster_size;
	img->table_entries = qed_table_entries(h->cluster_size, h->table_size);
	img->l2_shift = (unsigned)__builtin_ctz(h->cluster_size);
	img->l1_shift = img->l2_shift + (unsigned)__builtin_ctzll(img->table_entries);
	img->header_end = (uint64_t)h->header_size * h->cluster_size;
	img->dev_end = qed_start_of_cluster(img->dev->capacity, h->cluster_size);
	if (img->opts.file_size)
		img->file_end = qed_start_of_cluster(img->opts.file_size < img->dev_end
						     ? img->opts.file_size : img->dev_end,
						     h->cluster_size);
	img->block_size = img->dev->sector_size > QED_SECTOR_SIZE ? img->dev->sector_size
								  : QED_SECTOR_SIZE;
}

static int read_header(struct qed_image *img)
{
	uint32_t ss = img->dev->sector_size;
	if (ss < QED_SECTOR_SIZE || ss > QED_MIN_CLUSTER_SIZE || !qed_is_power_of_2(ss) ||
	    img->dev->capacity < ss) {
		qed_logf(img, 0, "qed: unusable device (sector size %u)", (unsigned)ss);
		return -EINVAL;
	}
	img->hdr_sector_len = ss;
	img->hdr_sector = malloc(ss);
	if (!img->hdr_sector)
		return -ENOMEM;
	int rc = blkdev_read(img->dev, 0, img->hdr_sector, ss);
	if (rc) {
		qed_logf(img, 0, "qed: cannot read the header (%d)", rc);
		return rc;
	}
	qed_header_decode(img->hdr_sector, &img->hdr);
	rc = qed_header_validate(img, &img->hdr);
	if (!rc)
		set_geometry(img);
	return rc;
}

static int read_backing_name(struct qed_image *img)
{
	const struct qed_header *h = &img->hdr;
	uint64_t ss = img->dev->sector_size;
	uint64_t start = h->backing_filename_offset / ss * ss;
	uint64_t end = ((uint64_t)h->backing_filename_offset + h->backing_filename_size + ss - 1)
		       / ss * ss;
	uint8_t *buf = malloc(end - start);
	if (!buf)
		return -ENOMEM;
	int rc = blkdev_read(img->dev, start, buf, end - start);
	if (!rc) {
		memcpy(img->backing_name, buf + (h->backing_filename_offset - start),
		       h->backing_filename_size);
		img->backing_name[h->backing_filename_size] = 0;
	}
	free(buf);
	return rc;
}

static int open_backing(struct qed_image *img)
{
	if (!(img->hdr.features & QED_F_BACKING_FILE))
		return 0;
	int rc = read_backing_name(img);
	if (rc)
		return rc;
	const char *fmt = NULL;
	if (img->hdr.features & QED_F_BACKING_FORMAT_NO_PROBE) {
		strcpy(img->backing_fmt, "raw");
		fmt = img->backing_fmt;
	}
	if (!img->opts.open_backing) {
		qed_logf(img, 0, "qed: refusing image: it has a backing file (%s) and no way to "
			 "open it was given", img->backing_name);
		return -ENOTSUP;
	}
	rc = img->opts.open_backing(img->opts.backing_ctx, img->backing_name, fmt, &img->backing);
	if (rc)
		qed_logf(img, 0, "qed: cannot open backing file %s (%d)", img->backing_name, rc);
	return rc;
}

/* The end of the header and L1 table: nothing is ever allocated below it. */
static uint64_t metadata_end(const struct qed_image *img)
{
	uint64_t l1_end = img->hdr.l1_table_offset + img->table_bytes;
	return l1_end > img->header_end ? l1_end : img->header_end;
}

static void read_extension(struct qed_image *img)
{
	uint64_t end;
	img->ext_usable = !img->read_only && qed_ext_offset(&img->hdr) != 0;
	img->ext_valid = qed_ext_decode(img, &end);
	if (img->ext_valid && (end < metadata_end(img) || end > img->dev_end ||
			       qed_offset_into_cluster(end, img->cluster_size))) {
		qed_logf(img, 1, "qed: ignoring a durable end out of range (%llu)",
			 (unsigned long long)end);
		img->ext_valid = false;
	}
	img->durable_end = img->ext_valid ? end : 0;
	if (!qed_volrec_decode(&img->hdr, img->hdr_sector, img->volume_name))
		img->volume_name[0] = 0;
}

/* Clears the autoclear bits that are not ours or whose extension is not valid. */
static int clear_unknown_autoclear(struct qed_image *img)
{
	uint64_t keep = (img->ext_valid ? QED_AF_QEDBOX_DURABLE_END : 0) |
			(img->volume_name[0] ? QED_AF_QEDBOX_VOLUME : 0);
	if (img->read_only || !(img->hdr.autoclear_features & ~keep))
		return 0;
	qed_logf(img, 1, "qed: clearing autoclear feature bits %llx",
		 (unsigned long long)(img->hdr.autoclear_features & ~keep));
	img->hdr.autoclear_features &= keep;
	int rc = qed_header_write(img, img->hdr.features, img->ext_valid, img->durable_end);
	return rc ? rc : blkdev_flush(img->dev);
}

static int find_alloc_end(struct qed_image *img)
{
	uint64_t end = metadata_end(img);
	if (img->opts.file_size && img->file_end < end) {
		qed_logf(img, 0, "qed: refusing image: the file ends (%llu) before its L1 table",
			 (unsigned long long)img->opts.file_size);
		return -EINVAL;
	}
	/* The check's end, and the limit of lookups until the real end is known. */
	img->alloc_end = img->ext_valid ? img->durable_end : img->dev_end;
	if (img->hdr.features & QED_F_NEED_CHECK) {
		if (!img->opts.check_on_open) {
			qed_logf(img, 0, "qed: refusing image: not closed cleanly, needs a check");
			return -EUCLEAN;
		}
		struct qed_check_result res;
		if (img->opts.on_check)
			img->opts.on_check(img->opts.log_ctx, NULL, 0);
		int rc = qed_check(img, !img->read_only, &res);
		if (img->opts.on_check)
			img->opts.on_check(img->opts.log_ctx, &res, rc);
		if (rc)
			return rc;
		if (res.image_end_offset > end)
			end = res.image_end_offset;
	} else if (!img->ext_valid) {
		uint64_t used;
		int rc = qed_scan_end(img, &used);
		if (rc)
			return rc;
		if (used > end)
			end = used;
	}
	if (img->ext_valid && img->durable_end > end)
		end = img->durable_end;
	img->alloc_end = end;
	return 0;
}

static void free_image(struct qed_image *img)
{
	qed_l2_cache_free(img);
	free(img->l1);
	free(img->hdr_sector);
	free(img);
}

static struct qed_image *image_new(struct blkdev *dev, const struct qed_open_opts *opts)
{
	struct qed_image *img = calloc(1, sizeof(*img));
	if (!img)
		return NULL;
	img->dev = dev;
	img->opts = *opts;
	return img;
}

int qed_peek(struct blkdev *dev, const struct qed_open_opts *opts, struct qed_info *info)
{
	struct qed_image *img = image_new(dev, opts);
	if (!img)
		return -ENOMEM;
	int rc = read_header(img);
	if (!rc && (img->hdr.features & QED_F_BACKING_FILE))
		rc = read_backing_name(img);
	if (!rc) {
		if (img->hdr.features & QED_F_BACKING_FORMAT_NO_PROBE)
			strcpy(img->backing_fmt, "raw");
		img->read_only = true;
		read_extension(img);
		qed_get_info(img, info);
	}
	free(img->hdr_sector);
	free(img);
	return rc;
}

int qed_open(struct blkdev *dev, const struct qed_open_opts *opts, struct qed_image **out)
{
	struct qed_image *img = image_new(dev, opts);
	if (!img)
		return -ENOMEM;
	img->read_only = opts->read_only || (dev->flags & BLKDEV_F_READ_ONLY);
	img->l1_lock = (struct task_lock)TASK_LOCK_INIT;
	img->hdr_lock = (struct task_lock)TASK_LOCK_INIT;
	img->alloc_progress = (struct waitq)WAITQ_INIT;

	int rc = read_header(img);
	if (!rc)
		rc = open_backing(img);
	if (!rc) {
		read_extension(img);
		rc = clear_unknown_autoclear(img);
	}
	if (!rc) {
		qed_l2_cache_init(img);
		rc = qed_l1_load(img);
	}
	if (!rc)
		rc = find_alloc_end(img);
	if (rc) {
		free_image(img);
		return rc;
	}
	*out = img;
	return 0;
}

int qed_freeze(struct qed_image *img)
{
	int rc = qed_flush_closing(img);
	if (rc)
		return rc;
	img->read_only = true;
	img->ext_usable = false;
	return 0;
}

int qed_close(struct qed_image *img)
{
	int rc = qed_flush_closing(img); /* clears need-check when nothing is pending */
	free_image(img);
	return rc;
}

void qed_get_info(const struct qed_image *img, struct qed_info *info)
{
	memset(info, 0, sizeof(*info));
	info->image_size = img->hdr.image_size;
	info->cluster_size = img->cluster_size;
	info->table_size = img->table_size;
	info->features = img->hdr.features;
	info->compat_features = img->hdr.compat_features;
	info->autoclear_features = img->hdr.autoclear_features;
	info->need_check = (img->hdr.features & QED_F_NEED_CHECK) != 0;
	strcpy(info->backing_file, img->backing_name);
	strcpy(info->backing_fmt, img->backing_fmt);
	info->durable_end = img->ext_valid ? img->durable_end : 0;
	strcpy(info->volume_name, img->volume_name);
	info->read_only = img->read_only;
	uint64_t meta = metadata_end(img);
	info->allocated_bytes = img->alloc_end > meta ? img->alloc_end - meta : 0;
}
