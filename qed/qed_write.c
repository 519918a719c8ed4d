/*
 * Writes (docs/DESIGN.md, "Crash safety").
 *
 *  - In-place write (cluster allocated): the data, nothing else.
 *  - Allocating write: claim the guest clusters (all those of one extent: a 1 MiB write
 *    takes its 16 clusters at once), take as many new clusters at the allocation end,
 *    write them whole (the data plus zeros, or plus the backing volume's bytes around it:
 *    a raw disk holds stale data, which must never be served) while need-check is set,
 *    then link them with one entry update: into an existing L2 table with no flush in
 *    between (the durable end makes that safe: the check clears entries past it), or
 *    into a new L2 table that is written, flushed, and only then linked into L1.
 *  - The new clusters go to the device in at most three requests, nothing read from the
 *    image: the data straight from the caller's buffer with a fill request before and
 *    after where needed, or, when the write covers no cluster whole (one or two
 *    clusters), each cluster assembled with its fill in one buffer (a 4 KiB write costs
 *    one 1-cluster write, not head fill, data and tail fill apart).
 *  - Need-check must be durable before the link, not before the data: the new clusters
 *    are unreachable until linked, so their writes are sent first and the header write
 *    and flush that set the bit (once after open or a clean flush) overlap them.
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
 * other (claims), only the creation of an L2 table holds l1_lock (those that waited for
 * it link into the new table after releasing it), and the entry updates of one table
 * are written together (qed_l2_set_entries).
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

/* A new run being written: its fill buffers live until the batch has completed. */
struct new_run {
	struct qed_batch batch;
	uint8_t *buf[2];
};

/* Assembles the new cluster at guest position cpos, which the write [pos, pos+len) covers
 * only in part, as one buffer: the fill, then the guest's bytes over it. A cluster with
 * a gap on both sides (a small write) is filled by one backing read. */
static int assemble_cluster(struct qed_image *img, uint64_t cpos, uint64_t pos,
			    const uint8_t *data, uint64_t len, bool from_backing, uint8_t **out)
{
	uint64_t cs = img->cluster_size, cend = cpos + cs;
	uint64_t from = pos > cpos ? pos : cpos, to = pos + len < cend ? pos + len : cend;
	uint8_t *buf = malloc(cs);
	if (!buf)
		return -ENOMEM;
	int rc;
	if (from > cpos && to < cend) {
		rc = fill(img, cpos, buf, cs, from_backing);
	} else {
		rc = fill(img, cpos, buf, from - cpos, from_backing);
		if (!rc)
			rc = fill(img, to, buf + (to - cpos), cend - to, from_backing);
	}
	if (rc) {
		free(buf);
		return rc;
	}
	memcpy(buf + (from - cpos), data + (from - pos), to - from);
	*out = buf;
	return 0;
}

/* A fill of len bytes from guest position at, in a buffer of its own. */
static int make_fill(struct qed_image *img, uint64_t at, uint64_t len, bool from_backing,
		     uint8_t **out)
{
	if (len == 0)
		return 0;
	*out = malloc(len);
	if (!*out)
		return -ENOMEM;
	return fill(img, at, *out, len, from_backing);
}

/* Submits the writes of the whole new run [run_pos, run_pos+run_len) at device offset
 * phys, holding the guest bytes [pos, pos+len) and the fill around them; nothing is read
 * from the image. When the write covers a whole cluster of the run, its bytes go in one
 * request straight from data, with a fill request before and after where needed (the
 * same count as assembling the end clusters, without copying the data). Otherwise (one
 * or two clusters, each covered in part) each cluster is assembled with its fill and
 * sent as one request: a 4 KiB write costs one request, not head fill, data and tail
 * fill. The caller waits for run->batch and frees run->buf, whatever this returns. */
static int submit_run(struct qed_image *img, struct new_run *run, uint64_t phys,
		      uint64_t run_pos, uint64_t run_len, uint64_t pos, const uint8_t *data,
		      uint64_t len, bool from_backing)
{
	uint64_t cs = img->cluster_size, run_end = run_pos + run_len, end = pos + len;
	uint64_t head = pos - run_pos, tail = run_end - end;
	uint64_t whole_lo = head ? run_pos + cs : run_pos;
	uint64_t whole_hi = tail ? run_end - cs : run_end;
	int rc;

	if (whole_hi > whole_lo) {
		rc = make_fill(img, run_pos, head, from_backing, &run->buf[0]);
		if (!rc)
			rc = make_fill(img, end, tail, from_backing, &run->buf[1]);
		if (rc)
			return rc;
		qed_batch_add(img, &run->batch, BLKDEV_WRITE, phys, run->buf[0], head);
		qed_batch_add(img, &run->batch, BLKDEV_WRITE, phys + head, data, len);
		qed_batch_add(img, &run->batch, BLKDEV_WRITE, phys + head + len, run->buf[1], tail);
		return 0;
	}
	rc = assemble_cluster(img, run_pos, pos, data, len, from_backing, &run->buf[0]);
	if (!rc && run_len > cs)
		rc = assemble_cluster(img, run_pos + cs, pos, data, len, from_backing,
				      &run->buf[1]);
	if (rc)
		return rc;
	qed_batch_add(img, &run->batch, BLKDEV_WRITE, phys, run->buf[0], cs);
	if (run_len > cs)
		qed_batch_add(img, &run->batch, BLKDEV_WRITE, phys + cs, run->buf[1], cs);
	return 0;
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
	if (!l2_offset) {
		task_lock(&img->l1_lock);
		l2_offset = qed_table_get(img->l1, r->l1_index); /* made while we waited? */
		if (!l2_offset) {
			int rc = link_into_new_table(img, claim, r);
			task_unlock(&img->l1_lock);
			return rc;
		}
		task_unlock(&img->l1_lock);
	}
	/* Not under l1_lock: the writers that waited for the new table link into it
	 * together (one L2 write for all of them), not one L2 write each in turn. */
	return link_into_table(img, l2_offset, r);
}

static void run_of(const struct qed_image *img, uint64_t pos, uint64_t count,
		   struct entry_run *r)
{
	r->l1_index = pos >> img->l1_shift;
	r->index = (pos >> img->l2_shift) & (img->table_entries - 1);
	r->count = count;
}

/* ---- allocating write ------------------------------------------------------------------ */
/* Writes the new clusters and sets need-check meanwhile: the clusters are unreachable
 * until linked, so only the link has to wait for need-check to be durable, not the data
 * (the first allocating write after open or a clean flush does not pay a header write
 * and a flush before its data leaves). */
static int write_new_clusters(struct qed_image *img, struct qed_claim *claim, uint64_t phys,
			      uint64_t run_pos, uint64_t pos, const void *data,
			      const struct qed_extent *ext)
{
	struct new_run run = { .buf = { NULL, NULL } };
	qed_batch_init(&run.batch);
	int rc = submit_run(img, &run, phys, run_pos, claim->count * img->cluster_size, pos,
			    data, ext->bytes, ext->state == QED_EXTENT_UNALLOCATED);
	int need_rc = qed_need_check_set(img);
	int write_rc = qed_batch_wait(&run.batch);
	free(run.buf[0]);
	free(run.buf[1]);
	rc = rc ? rc : write_rc ? write_rc : need_rc;
	if (!rc)
		qed_claim_written(img, claim);
	return rc;
}

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
	int rc = qed_alloc_clusters(img, count, &phys);
	if (rc)
		goto out;
	claim.phys = phys;
	rc = write_new_clusters(img, &claim, phys, run_pos, pos, data, ext);
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
