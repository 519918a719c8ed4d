/*
 * Reads and mapping: guest bytes come from the data clusters, from the backing volume
 * (unallocated clusters, within the backing volume's size; zeros past it), or are zeros
 * (zero clusters, unallocated clusters without a backing volume). Reads never change
 * anything and never wait for allocating writes: a read racing an allocating write of the
 * same cluster returns the old or the new data, as a disk would.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qed_priv.h"

int qed_check_request(const struct qed_image *img, uint64_t offset, uint64_t len)
{
	uint64_t bs = img->block_size;
	uint64_t size = img->hdr.image_size / bs * bs;
	if (size != img->hdr.image_size && size <= UINT64_MAX - bs)
		size += bs; /* the last, partial block is served whole */
	if (offset % bs || len % bs)
		return -EINVAL;
	if (offset > size || len > size - offset)
		return -EINVAL;
	return 0;
}

/* Reads [pos, pos+len) of the backing volume, whose block size need not divide pos. */
static int backing_read_aligned(struct volume *v, uint64_t pos, void *buf, size_t len)
{
	uint64_t bs = v->block_size ? v->block_size : 512;
	if (pos % bs == 0 && len % bs == 0)
		return v->ops->read(v, pos, buf, len);
	uint64_t start = pos / bs * bs;
	uint64_t end = (pos + len + bs - 1) / bs * bs;
	if (end > v->size)
		end = v->size;
	uint8_t *bounce = malloc(end - start);
	if (!bounce)
		return -ENOMEM;
	int rc = v->ops->read(v, start, bounce, end - start);
	if (!rc)
		memcpy(buf, bounce + (pos - start), len);
	free(bounce);
	return rc;
}

int qed_read_backing(struct qed_image *img, uint64_t pos, void *buf, size_t len)
{
	struct volume *v = img->backing;
	uint64_t avail = v && pos < v->size ? v->size - pos : 0;
	size_t n = avail < len ? (size_t)avail : len;

	if (len == 0)
		return 0;
	memset((uint8_t *)buf + n, 0, len - n);
	if (n == 0)
		return 0;
	return backing_read_aligned(v, pos, buf, n);
}

int qed_read(struct qed_image *img, uint64_t offset, void *buf, size_t len)
{
	int rc = qed_check_request(img, offset, len);
	uint8_t *p = buf;
	struct qed_batch reads; /* data extents are read all at once */
	qed_batch_init(&reads);

	while (!rc && len > 0) {
		struct qed_extent ext;
		rc = qed_lookup(img, offset, len, &ext);
		if (rc)
			break;
		switch (ext.state) {
		case QED_EXTENT_DATA:
			qed_batch_add(img, &reads, BLKDEV_READ, ext.phys, p, ext.bytes);
			break;
		case QED_EXTENT_ZERO:
			memset(p, 0, ext.bytes);
			break;
		case QED_EXTENT_UNALLOCATED:
			rc = qed_read_backing(img, offset, p, ext.bytes);
			break;
		}
		offset += ext.bytes;
		p += ext.bytes;
		len -= ext.bytes;
	}
	int rrc = qed_batch_wait(&reads);
	return rc ? rc : rrc;
}

int qed_map(struct qed_image *img, uint64_t offset, uint64_t len,
	    enum qed_extent_state *state, uint64_t *bytes, uint64_t *image_offset)
{
	if (offset >= img->hdr.image_size || len == 0)
		return -EINVAL;
	if (len > img->hdr.image_size - offset)
		len = img->hdr.image_size - offset;
	struct qed_extent ext;
	int rc = qed_lookup(img, offset, len, &ext);
	if (rc)
		return rc;
	*state = ext.state;
	*bytes = ext.bytes;
	*image_offset = ext.phys;
	return 0;
}
