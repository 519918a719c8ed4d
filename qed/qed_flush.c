/*
 * Flush, zeroing, and the need-check / durable-end lifecycle.
 *
 * qed_flush() makes every write completed before it durable: a device flush, then, when
 * clusters were allocated past the durable end on disk (or need-check can be cleared), a
 * header write carrying the new durable end, and a second flush. The new durable end is
 * taken BEFORE the first flush, once the allocations begun before the flush have
 * written their clusters: the allocation end, lowered to the first cluster of any later
 * allocation still being written (its data may not reach the device before the flush is
 * sent). Need-check is cleared only when no allocating change was in flight or began
 * between the start of the flush and the header write, and no corruption is pending;
 * and, except at close, only by a flush with no allocating change since the previous
 * flush: a workload that allocates and syncs in turn keeps the bit set instead of paying
 * a header write and a flush to set it again at every allocation.
 */
#include <errno.h>
#include <stdlib.h>

#include "qed_priv.h"

static int flush(struct qed_image *img, bool closing)
{
	if (img->read_only)
		return 0;
	/* Writes acknowledged before this flush may own clusters above those of older
	 * allocations still being written: let those finish, or the durable end would
	 * have to stop below the acknowledged ones. */
	qed_wait_older_claims(img);
	uint64_t seq = img->alloc_seq;
	bool idle = img->allocs_in_flight == 0;
	bool quiet = closing || seq == img->flushed_seq; /* nothing since the last flush */
	uint64_t candidate = qed_durable_candidate(img);

	int rc = blkdev_flush(img->dev);
	if (rc)
		return rc;

	task_lock(&img->hdr_lock);
	uint64_t features = img->hdr.features;
	bool clear = (features & QED_F_NEED_CHECK) && idle && quiet && seq == img->alloc_seq &&
		     !img->corrupt;
	bool advance = img->ext_valid && candidate > img->durable_end;
	if (clear || advance) {
		uint64_t end = img->ext_valid && img->durable_end > candidate
			? img->durable_end : candidate;
		if (clear)
			features &= ~QED_F_NEED_CHECK;
		rc = qed_header_write(img, features, img->ext_usable, end);
		if (!rc)
			rc = blkdev_flush(img->dev);
	}
	if (!rc)
		img->flushed_seq = seq;
	task_unlock(&img->hdr_lock);
	return rc;
}

int qed_flush(struct qed_image *img)
{
	return flush(img, false);
}

int qed_flush_closing(struct qed_image *img)
{
	return flush(img, true);
}

/* Zeros part of one cluster: a write of zeros, unless it already reads as zeros. */
static int zero_partial(struct qed_image *img, uint64_t offset, uint64_t len)
{
	struct qed_extent ext;
	int rc = qed_lookup(img, offset, len, &ext);
	if (rc)
		return rc;
	if (ext.state == QED_EXTENT_ZERO || (ext.state == QED_EXTENT_UNALLOCATED && !img->backing))
		return 0;
	void *zeros = calloc(1, len);
	if (!zeros)
		return -ENOMEM;
	rc = qed_write(img, offset, zeros, len);
	free(zeros);
	return rc;
}

/* Zeros whole clusters from offset: returns the bytes done, 0 to look again, or an error. */
static int64_t zero_clusters(struct qed_image *img, uint64_t offset, uint64_t len)
{
	struct qed_extent ext;
	int rc = qed_lookup(img, offset, len, &ext);
	if (rc)
		return rc;
	if (ext.state == QED_EXTENT_ZERO || (ext.state == QED_EXTENT_UNALLOCATED && !img->backing))
		return (int64_t)ext.bytes;
	if (ext.state == QED_EXTENT_DATA && (img->dev->flags & BLKDEV_F_WRITE_ZEROES)) {
		/* Zeroed in place: cheap on such a device, and the clusters stay in use
		 * instead of leaking (QED has no free list to give them back to). */
		rc = blkdev_write_zeroes(img->dev, ext.phys, ext.bytes);
		return rc ? rc : (int64_t)ext.bytes;
	}
	return qed_write_entries(img, offset, &ext, QED_CLUSTER_ZERO);
}

int qed_zero(struct qed_image *img, uint64_t offset, uint64_t len)
{
	if (img->read_only)
		return -EROFS;
	int rc = qed_check_request(img, offset, len);
	uint64_t cs = img->cluster_size;

	while (!rc && len > 0) {
		uint64_t in = qed_offset_into_cluster(offset, img->cluster_size);
		int64_t done;
		if (in != 0 || len < cs) {
			done = (int64_t)(len < cs - in ? len : cs - in);
			rc = zero_partial(img, offset, (uint64_t)done);
		} else {
			done = zero_clusters(img, offset, len / cs * cs);
			if (done < 0)
				rc = (int)done;
		}
		if (rc || done == 0)
			continue;
		offset += (uint64_t)done;
		len -= (uint64_t)done;
	}
	return rc;
}
