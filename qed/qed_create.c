/*
 * Creating an image.
 *
 * qed_create lays the image out as `qemu-img create -f qed` does: one header cluster
 * (header, then the backing file name at byte 64), the L1 table right after it, features
 * only for the backing file. Unlike a new file, a disk holds old data, so the rest of
 * the header cluster and the L1 table are written as zeros. Everything but the first
 * sector (the L1 table, the rest of the header cluster) is written and flushed before
 * that sector, which holds the header: a crash leaves either no image or a whole one,
 * even when the write of a whole header cluster would tear. A volume record
 * (opts->volume_name) goes into the first sector with the header.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qed_priv.h"

#define ZERO_CHUNK (1024u * 1024)

static int write_zeros(struct blkdev *dev, uint64_t off, uint64_t len)
{
	if (dev->flags & BLKDEV_F_WRITE_ZEROES)
		return blkdev_write_zeroes(dev, off, len);
	size_t chunk = len < ZERO_CHUNK ? (size_t)len : ZERO_CHUNK;
	void *zeros = calloc(1, chunk);
	if (!zeros)
		return -ENOMEM;
	int rc = 0;
	for (uint64_t done = 0; !rc && done < len; done += chunk) {
		size_t n = len - done < chunk ? (size_t)(len - done) : chunk;
		rc = blkdev_write(dev, off + done, zeros, n);
	}
	free(zeros);
	return rc;
}

static int header_of(const struct qed_create_opts *opts, struct qed_header *h)
{
	uint32_t cs = opts->cluster_size ? opts->cluster_size : QED_DEFAULT_CLUSTER_SIZE;
	uint32_t ts = opts->table_size ? opts->table_size : QED_DEFAULT_TABLE_SIZE;
	uint64_t size = opts->image_size;

	if (size > UINT64_MAX - (QED_SECTOR_SIZE - 1))
		return -EINVAL;
	size = (size + QED_SECTOR_SIZE - 1) / QED_SECTOR_SIZE * QED_SECTOR_SIZE;
	if (!qed_is_cluster_size_valid(cs) || !qed_is_table_size_valid(ts) ||
	    !qed_is_image_size_valid(size, cs, ts))
		return -EINVAL;

	memset(h, 0, sizeof(*h));
	h->magic = QED_MAGIC;
	h->cluster_size = cs;
	h->table_size = ts;
	h->header_size = 1;
	h->l1_table_offset = cs;
	h->image_size = size;
	if (opts->backing_file) {
		size_t n = strlen(opts->backing_file);
		if (n == 0 || n > QED_BACKING_NAME_MAX || QED_HEADER_DISK_SIZE + n > cs)
			return -EINVAL;
		h->features |= QED_F_BACKING_FILE;
		h->backing_filename_offset = QED_HEADER_DISK_SIZE;
		h->backing_filename_size = (uint32_t)n;
		if (opts->backing_fmt && strcmp(opts->backing_fmt, "raw") == 0)
			h->features |= QED_F_BACKING_FORMAT_NO_PROBE;
	}
	return 0;
}

/* The header cluster: header, backing file name, volume record. */
static int header_cluster(const struct qed_create_opts *opts, struct qed_header *h,
			  uint8_t *cluster)
{
	if (opts->backing_file)
		memcpy(cluster + QED_HEADER_DISK_SIZE, opts->backing_file, h->backing_filename_size);
	int rc = opts->volume_name ? qed_volrec_encode(h, cluster, opts->volume_name) : 0;
	qed_header_encode(h, cluster);
	return rc;
}

int qed_create(struct blkdev *dev, const struct qed_create_opts *opts)
{
	struct qed_header h;
	int rc = header_of(opts, &h);
	if (rc)
		return rc;
	uint64_t table_bytes = (uint64_t)h.table_size * h.cluster_size;
	uint32_t first = dev->sector_size > QED_SECTOR_SIZE ? dev->sector_size : QED_SECTOR_SIZE;
	if (dev->capacity < h.l1_table_offset + table_bytes || first > h.cluster_size)
		return -ENOSPC;
	uint8_t *cluster = calloc(1, h.cluster_size);
	if (!cluster)
		return -ENOMEM;
	rc = header_cluster(opts, &h, cluster);
	if (!rc)
		rc = write_zeros(dev, h.l1_table_offset, table_bytes);
	if (!rc)
		rc = blkdev_write(dev, first, cluster + first, h.cluster_size - first);
	if (!rc)
		rc = blkdev_flush(dev);
	if (!rc)
		rc = blkdev_write(dev, 0, cluster, first);
	free(cluster);
	return rc ? rc : blkdev_flush(dev);
}
