/*
 * Writes (docs/DESIGN.md, "Crash safety").
 *
 *  - In-place write (cluster allocated): the data, nothing else.
 *  - Allocating write: claim the guest clusters, set need-check, take new clusters at the
 *    allocation end, write them whole (the data plus zeros, or plus the backing volume's
 *    bytes around it: a raw disk holds stale data, which must never be served), then link
 *    them: into an existing L2 table with no flush in between (the durable end makes that
 *    safe: the check clears entries past it), or into a new L2 table that is written,
 *    flushed, and only then linked into L1.
 *  - Without the durable-end extension (a long backing file name leaves no room), data is
 *    flushed before any entry points at it, as QEMU does with backing files.
 *  - Over a zero cluster of an image with a backing file, the durable end is moved past
 *    the new clusters (qed_flush) before they are linked: the check resets entries past
 *    the durable end to 0, which there would expose the backing file, not zeros.
 *
 * Entries change in memory only once the L2 sector carrying them is written (and the data
 * they point at before it), so nobody acts on an entry that a failed write takes back or
 * that a flush sent meanwhile does not cover: a read or an in-place write of the same
 * cluster finds it unallocated until then, and a writer waits for the claim. Many
 * allocating writes run at once; only those of the same guest clusters wait for each
 * other (claims), only those creating an L2 table take l1_lock, and the entry updates
 * of one table are written together (qed_l2_set_entries).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qed_priv.h"

/* Fills the bytes of a new cluster run that the write does not cover. */
static int fill(struct qed_image *img, uint64_t pos, uint8_t *buf, size_t len, bool backing)
{
	if (len == 0)
		return 0;
	if (backing)
		return qed_read_backing(img, pos, buf, len);
	memset(buf, 0, len);
	return 0;
}

/* Writes the whole run [run_pos, run_pos+run_len) of guest bytes at device offset phys:
 * data for [pos, pos+len), the fill around it. */
static int write_run(struct qed_image *img, uint64_t phys, uint64_t run_pos, uint64_t run_len,
		     uint64_t pos, const void *data, uint64_t len, bool from_backing)
{
	uint64_t head = pos - run_pos, tail = run_pos + run_len - (pos + len);
	uint8_t *hbuf = head ? malloc(head) : NULL, *tbuf = tail ? malloc(tail) : NULL;
	int rc = -ENOMEM;

	if ((head && !hbuf) || (tail && !tbuf))
		goto out;
	rc = fill(img, run_pos, hbuf, head, from_backing);
	if (!rc)
		rc = fill(img, pos + len, tbuf, tail, from_backing);
	if (rc)
		goto out;

	struct qed_batch b;
	qed_batch_init(&b);
	qed_batch_add(img, &b, BLKDEV_WRITE, phys, hbuf, head);
	qed_batch_add(img, &b, BLKDEV_WRITE, phys + head, data, len);
	qed_batch_add(img, &b, BLKDEV_WRITE, phys + head + len, tbuf, tail);
	rc = qed_batch_wait(&b);
out:
	free(hbuf);
	free(tbuf);
	return rc;
}

/* ---- linking entries -------------------------------------------------------------------- */
struct entry_run {
	uint64_t l1_index, index, count; /* entries [index, index+count) of table l1_index */
	uint64_t value, step;            /* entry k := value + k * step */
};

static void set_run(uint8_t *table, const struct entry_run *r)
{
	for (uint64_t k = 0; k < r->count; k++)
		qed_table_set(table, r->index + k, r->value + k * r->step);
}

static int link_into_table(struct qed_image *img, uint64_t l2_offset, const struct entry_run *r)
{
	if (!qed_is_table_offset_valid(img, l2_offset, img->alloc_end))
		return -EIO; /* qed_lookup reported it */
	struct qed_l2 *l2;
	int rc = qed_l2_get(img, l2_offset, &l2);
	if (rc)
		return rc;
	/* Visible only once written: a writer of another sector of the cluster must not
	 * find it allocated (and be acknowledged) before then; until then it finds the
	 * cluster unallocated and waits for our claim. */
	rc = qed_l2_set_entries(img, l2, r->index, r->count, r->value, r->step);
	qed_l2_put(img, l2);
	return rc;
}

/* Caller holds l1_lock and the L1 entry is 0. */
static int link_into_new_table(struct qed_image *img, struct qed_claim *claim,
			       const struct entry_run *r)
{
	uint64_t table_off;
	int rc = qed_alloc_clusters(img, img->table_size, &table_off);
	if (rc)
		return rc;
	if (table_off < claim->phys)
		claim->phys = table_off;
	struct qed_l2 *l2 = qed_l2_new(img, table_off);
	if (!l2)
		return -ENOMEM;
	set_run(l2->table, r); /* unreachable until L1 points at it */
	rc = qed_l2_write_all(img, l2);
	if (!rc)
		qed_claim_written(img, claim);
	if (!rc) /* L1 never points at a table that is not durable */
		rc = blkdev_flush(img->dev);
	if (!rc)
		rc = qed_l1_write_entry(img, r->l1_index, table_off);
	if (rc)
		qed_l2_drop(img, l2);
	else
		qed_l2_put(img, l2);
	return rc;
}

static int link(struct qed_image *img, struct qed_claim *claim, const struct entry_run *r)
{
	uint64_t l2_offset = qed_table_get(img->l1, r->l1_index);
	if (l2_offset)
		return link_into_table(img, l2_offset, r);
	task_lock(&img->l1_lock);
	l2_offset = qed_table_get(img->l1, r->l1_index); /* made while we waited? */
	int rc = l2_offset ? link_into_table(img, l2_offset, r)
			   : link_into_new_table(img, claim, r);
	task_unlock(&img->l1_lock);
	return rc;
}

static void run_of(const struct qed_image *img, uint64_t pos, uint64_t count,
		   struct entry_run *r)
{
	r->l1_index = pos >> img->l1_shift;
	r->index = (pos >> img->l2_shift) & (img->table_entries - 1);
	r->count = count;
}

/* ---- allocating write ------------------------------------------------------------------ */
/* Returns bytes written (> 0), 0 when the caller must look up again, or an error. */
static int64_t write_allocating(struct qed_image *img, uint64_t pos, const void *data,
				const struct qed_extent *ext)
{
	uint64_t first = pos >> img->l2_shift;
	uint64_t count = ((pos + ext->bytes - 1) >> img->l2_shift) - first + 1;
	uint64_t run_pos = first << img->l2_shift, phys;
	struct qed_claim claim;

	if (!qed_claim(img, &claim, first, count))
		return 0;
	int rc = qed_need_check_set(img);
	if (!rc)
		rc = qed_alloc_clusters(img, count, &phys);
	if (rc)
		goto out;
	claim.phys = phys;
	rc = write_run(img, phys, run_pos, count * img->cluster_size, pos, data, ext->bytes,
		       ext->state == QED_EXTENT_UNALLOCATED);
	if (!rc)
		qed_claim_written(img, &claim);
	if (!rc && !img->ext_valid)
		rc = blkdev_flush(img->dev);
	else if (!rc && ext->state == QED_EXTENT_ZERO && img->backing)
		/* The check would clear an entry past the durable end to 0, which here
		 * would show the backing file where the guest had zeros: move the end
		 * past the new clusters before linking them. */
		rc = qed_flush(img);
	if (rc)
		goto out;

	struct entry_run r;
	run_of(img, run_pos, count, &r);
	r.value = phys;
	r.step = img->cluster_size;
	rc = link(img, &claim, &r);
out:
	qed_claim_release(img, &claim);
	return rc ? rc : (int64_t)ext->bytes;
}

int qed_write(struct qed_image *img, uint64_t offset, const void *buf, size_t len)
{
	if (img->read_only)
		return -EROFS;
	int rc = qed_check_request(img, offset, len);
	const uint8_t *p = buf;
	struct qed_batch in_place; /* in-place extents overlap with what follows */
	qed_batch_init(&in_place);

	while (!rc && len > 0) {
		struct qed_extent ext;
		rc = qed_lookup(img, offset, len, &ext);
		if (rc)
			break;
		int64_t done;
		if (ext.state == QED_EXTENT_DATA) {
			qed_batch_add(img, &in_place, BLKDEV_WRITE, ext.phys, p, ext.bytes);
			done = (int64_t)ext.bytes;
		} else {
			done = write_allocating(img, offset, p, &ext);
			if (done < 0)
				rc = (int)done;
		}
		if (rc || done == 0)
			continue;
		offset += (uint64_t)done;
		p += done;
		len -= (size_t)done;
	}
	int wrc = qed_batch_wait(&in_place);
	return rc ? rc : wrc;
}

/* ---- entries without data (zero clusters) ------------------------------------------- */
int64_t qed_write_entries(struct qed_image *img, uint64_t pos, const struct qed_extent *ext,
			  uint64_t value)
{
	uint64_t count = ext->bytes >> img->l2_shift;
	struct qed_claim claim;

	if (!qed_claim(img, &claim, pos >> img->l2_shift, count))
		return 0;
	int rc = qed_need_check_set(img);
	if (!rc) {
		struct entry_run r;
		run_of(img, pos, count, &r);
		r.value = value;
		r.step = 0;
		rc = link(img, &claim, &r);
	}
	qed_claim_release(img, &claim);
	return rc ? rc : (int64_t)ext->bytes;
}
