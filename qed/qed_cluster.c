/*
 * Finding and allocating clusters.
 *
 * qed_lookup() maps a guest range to its first extent: a run of clusters in one L2 table
 * that share a state (unallocated, zero, or data contiguous on the device). A table or
 * entry that points somewhere it cannot (misaligned, into the header or the L1 table,
 * past the allocation end) is corruption: the request fails with -EIO, the image is
 * marked so that need-check stays set, and nothing is served from there.
 *
 * Allocation hands out clusters at img->alloc_end, which only grows; QED has no free
 * space map, so clusters that become unused are leaks that the check counts.
 * Claims serialize allocating changes of the same guest clusters (see qed_priv.h);
 * they also tell the flush how far the device holds completed first writes: a flush
 * first waits for the claims made before it to finish writing their new clusters (an
 * acknowledged write may own clusters above theirs), then its durable end stops at the
 * lowest cluster still being written by a later claim.
 */
#include <errno.h>

#include "qed_priv.h"

static int corrupt(struct qed_image *img, const char *what, uint64_t where, uint64_t value)
{
	qed_logf(img, 0, "qed: corrupt %s at guest offset %llu: %llu; failing the request",
		 what, (unsigned long long)where, (unsigned long long)value);
	img->corrupt = true;
	if (!img->read_only) /* the next open must check, even if we never allocate again */
		qed_need_check_set(img);
	return -EIO;
}

static enum qed_extent_state classify(uint64_t entry)
{
	if (entry == QED_CLUSTER_UNALLOCATED)
		return QED_EXTENT_UNALLOCATED;
	if (entry == QED_CLUSTER_ZERO)
		return QED_EXTENT_ZERO;
	return QED_EXTENT_DATA;
}

/* Length of the run of entries starting at index that continue the first one, capped so
 * that the run covers at most limit bytes from pos. */
static int run_length(struct qed_image *img, const struct qed_l2 *l2, uint64_t pos,
		      uint64_t index, uint64_t limit, struct qed_extent *ext)
{
	uint64_t cs = img->cluster_size;
	uint64_t first = qed_table_get(l2->table, index);
	uint64_t bytes = cs - qed_offset_into_cluster(pos, img->cluster_size);

	ext->state = classify(first);
	if (ext->state == QED_EXTENT_DATA && !qed_is_data_offset_valid(img, first, img->alloc_end))
		return corrupt(img, "L2 entry", pos, first);
	for (uint64_t i = index + 1; bytes < limit && i < img->table_entries; i++) {
		uint64_t e = qed_table_get(l2->table, i);
		if (classify(e) != ext->state)
			break;
		if (ext->state == QED_EXTENT_DATA) {
			if (e != first + (i - index) * cs)
				break;
			if (!qed_is_data_offset_valid(img, e, img->alloc_end))
				break; /* reported when the caller gets there */
		}
		bytes += cs;
	}
	ext->bytes = bytes < limit ? bytes : limit;
	ext->phys = ext->state == QED_EXTENT_DATA
		? first + qed_offset_into_cluster(pos, img->cluster_size) : 0;
	return 0;
}

int qed_lookup(struct qed_image *img, uint64_t pos, uint64_t len, struct qed_extent *ext)
{
	uint64_t l1_index = pos >> img->l1_shift;
	uint64_t table_span = 1ull << img->l1_shift; /* l1_shift <= 53 */
	uint64_t left_in_table = table_span - (pos & (table_span - 1));
	uint64_t limit = len < left_in_table ? len : left_in_table;
	uint64_t l2_offset = qed_table_get(img->l1, l1_index);

	ext->no_l2 = false;
	if (l2_offset == 0) {
		ext->state = QED_EXTENT_UNALLOCATED;
		ext->bytes = limit;
		ext->phys = 0;
		ext->no_l2 = true;
		return 0;
	}
	if (!qed_is_table_offset_valid(img, l2_offset, img->alloc_end))
		return corrupt(img, "L1 entry", pos, l2_offset);

	struct qed_l2 *l2;
	int rc = qed_l2_get(img, l2_offset, &l2);
	if (rc)
		return rc;
	uint64_t index = (pos >> img->l2_shift) & (img->table_entries - 1);
	rc = run_length(img, l2, pos, index, limit, ext);
	qed_l2_put(img, l2);
	return rc;
}

int qed_alloc_clusters(struct qed_image *img, uint64_t count, uint64_t *offset)
{
	uint64_t free_clusters = (img->dev_end - img->alloc_end) / img->cluster_size;
	if (count > free_clusters) {
		qed_logf(img, 1, "qed: device full: %llu clusters wanted, %llu free",
			 (unsigned long long)count, (unsigned long long)free_clusters);
		return -ENOSPC;
	}
	*offset = img->alloc_end;
	img->alloc_end += count * img->cluster_size;
	if (img->file_end && img->file_end < img->alloc_end)
		img->file_end = img->alloc_end; /* the writes to come extend the file */
	img->alloc_seq++;
	return 0;
}

static bool claims_overlap(const struct qed_claim *c, uint64_t first, uint64_t count)
{
	return c->first < first + count && first < c->first + c->count;
}

bool qed_claim(struct qed_image *img, struct qed_claim *c, uint64_t first, uint64_t count)
{
	for (struct qed_claim *other = img->claims; other; other = other->next) {
		if (claims_overlap(other, first, count)) {
			waitq_sleep(&other->waiters);
			return false;
		}
	}
	c->id = img->next_claim_id++;
	c->first = first;
	c->count = count;
	c->phys = UINT64_MAX;
	c->waiters = (struct waitq)WAITQ_INIT;
	c->next = img->claims;
	img->claims = c;
	img->allocs_in_flight++;
	img->alloc_seq++;
	return true;
}

void qed_claim_release(struct qed_image *img, struct qed_claim *c)
{
	struct qed_claim **pp = &img->claims;
	while (*pp != c)
		pp = &(*pp)->next;
	*pp = c->next;
	img->allocs_in_flight--;
	img->alloc_seq++;
	waitq_wake_all(&c->waiters);
	waitq_wake_all(&img->alloc_progress);
}

void qed_claim_written(struct qed_image *img, struct qed_claim *c)
{
	c->phys = UINT64_MAX;
	waitq_wake_all(&img->alloc_progress);
}

static bool older_claim_writing(const struct qed_image *img, uint64_t before)
{
	for (const struct qed_claim *c = img->claims; c; c = c->next)
		if (c->id < before && c->phys != UINT64_MAX)
			return true;
	return false;
}

void qed_wait_older_claims(struct qed_image *img)
{
	uint64_t before = img->next_claim_id;
	while (older_claim_writing(img, before))
		waitq_sleep(&img->alloc_progress);
}

uint64_t qed_durable_candidate(const struct qed_image *img)
{
	uint64_t end = img->alloc_end;
	for (const struct qed_claim *c = img->claims; c; c = c->next)
		if (c->phys < end)
			end = c->phys;
	return end;
}
