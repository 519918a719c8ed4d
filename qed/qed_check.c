/*
 * Check and repair (docs/DESIGN.md, "Crash safety": the boot-time check).
 *
 * The check's end is img->alloc_end. At open (qed_open.c) that is the durable end when
 * our extension is valid (clusters past it may never have been written: a crash between
 * an allocating write and the next flush), else the end of the device; on a live image
 * it is the allocation end. On a host file (qed_open_opts.file_size) the file's size is
 * the end, as in QEMU (an allocating write cut short leaves an entry past it); with a
 * valid durable end, the lower of the two. Pass 1 validates the L1 entries: a table that is misaligned,
 * overlaps the header, the L1 table or another table, or reaches past the end is
 * corruption. Pass 2 validates every L2 entry the same way, and a data cluster already
 * referenced (by a table or an earlier entry) is corruption too. Repair clears such an
 * entry (the cluster reads as unallocated again). Leaks are clusters below the end that
 * nothing references. Need-check is cleared only when everything found was repaired.
 *
 * Call with no other request in flight on the image (at open, or when idle).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qed_priv.h"

struct check {
	struct qed_image *img;
	bool repair, quiet;
	uint64_t end;           /* entries must end at or before it */
	uint8_t *used;          /* bitmap of clusters below end */
	struct qed_check_result *res;
};

static bool is_used(const struct check *c, uint64_t off)
{
	uint64_t n = off / c->img->cluster_size;
	return c->used[n / 8] & (1u << (n % 8));
}

static void mark(struct check *c, uint64_t off, uint64_t len)
{
	for (uint64_t o = off; o < off + len; o += c->img->cluster_size) {
		uint64_t n = o / c->img->cluster_size;
		c->used[n / 8] |= (uint8_t)(1u << (n % 8));
	}
	if (off + len > c->res->image_end_offset)
		c->res->image_end_offset = off + len;
}

static bool any_used(const struct check *c, uint64_t off, uint64_t len)
{
	for (uint64_t o = off; o < off + len; o += c->img->cluster_size)
		if (is_used(c, o))
			return true;
	return false;
}

static void finding(const struct check *c, const char *what, uint64_t index, uint64_t value)
{
	if (!c->quiet)
		qed_logf(c->img, 1, "qed check: %s %llu: bad offset %llu%s", what,
			 (unsigned long long)index, (unsigned long long)value,
			 c->repair ? ", cleared" : "");
}

static void check_l1(struct check *c)
{
	struct qed_image *img = c->img;
	for (uint64_t i = 0; i < img->table_entries; i++) {
		uint64_t off = qed_table_get(img->l1, i);
		if (off == 0)
			continue;
		if (qed_is_table_offset_valid(img, off, c->end) && !any_used(c, off, img->table_bytes)) {
			mark(c, off, img->table_bytes);
			continue;
		}
		c->res->corruptions++;
		finding(c, "L1 entry", i, off);
		if (!c->repair)
			continue;
		task_lock(&img->l1_lock);
		int rc = qed_l1_write_entry(img, i, 0);
		task_unlock(&img->l1_lock);
		if (rc)
			c->res->check_errors++;
		else
			c->res->corruptions_fixed++;
	}
}

static void check_l2(struct check *c, uint64_t l1_index, struct qed_l2 *l2)
{
	struct qed_image *img = c->img;
	uint64_t lo = UINT64_MAX, hi = 0, fixes = 0;

	for (uint64_t j = 0; j < img->table_entries; j++) {
		uint64_t e = qed_table_get(l2->table, j);
		if (e == QED_CLUSTER_UNALLOCATED || e == QED_CLUSTER_ZERO)
			continue;
		if (qed_is_data_offset_valid(img, e, c->end) && !is_used(c, e)) {
			mark(c, e, img->cluster_size);
			c->res->allocated_clusters++;
			continue;
		}
		c->res->corruptions++;
		finding(c, "L2 entry", l1_index * img->table_entries + j, e);
		if (!c->repair)
			continue;
		qed_table_set(l2->table, j, QED_CLUSTER_UNALLOCATED);
		fixes++;
		lo = j < lo ? j : lo;
		hi = j + 1;
	}
	if (fixes == 0)
		return;
	if (qed_l2_write_entries(img, l2, lo, hi - lo))
		c->res->check_errors++;
	else
		c->res->corruptions_fixed += fixes;
}

static void check_l2_tables(struct check *c)
{
	struct qed_image *img = c->img;
	uint64_t n = img->table_entries, step = n / 10 ? n / 10 : 1;

	for (uint64_t i = 0; i < n; i++) {
		if (!c->quiet && i % step == 0)
			qed_logf(img, 2, "qed check: %llu%% (L1 entry %llu of %llu)",
				 (unsigned long long)(i * 100 / n), (unsigned long long)i,
				 (unsigned long long)n);
		uint64_t off = qed_table_get(img->l1, i);
		if (off == 0 || !qed_is_table_offset_valid(img, off, c->end))
			continue; /* counted in pass 1 */
		struct qed_l2 *l2;
		if (qed_l2_get(img, off, &l2)) {
			c->res->check_errors++;
			continue;
		}
		check_l2(c, i, l2);
		qed_l2_put(img, l2);
	}
}

static uint64_t count_leaks(const struct check *c, uint64_t from, uint64_t to)
{
	uint64_t leaks = 0;
	for (uint64_t o = from; o < to; o += c->img->cluster_size)
		leaks += !is_used(c, o);
	return leaks;
}

/* After a repair that fixed everything: make it durable and clear need-check. */
static int mark_clean(struct check *c)
{
	struct qed_image *img = c->img;
	uint64_t end = c->res->image_end_offset;
	if (img->ext_valid && img->durable_end > end)
		end = img->durable_end;
	int rc = blkdev_flush(img->dev);
	if (rc)
		return rc;
	task_lock(&img->hdr_lock);
	rc = qed_header_write(img, img->hdr.features & ~QED_F_NEED_CHECK, img->ext_usable, end);
	if (!rc)
		rc = blkdev_flush(img->dev);
	task_unlock(&img->hdr_lock);
	return rc;
}

/* The end entries must stay below: see the top of the file. */
static uint64_t check_end(const struct qed_image *img)
{
	if (!img->file_end)
		return img->alloc_end;
	if (img->ext_valid && img->alloc_end < img->file_end)
		return img->alloc_end;
	return img->file_end;
}

static int run_check(struct qed_image *img, uint64_t end, bool repair, bool quiet,
		     struct qed_check_result *res)
{
	struct check c = {
		.img = img, .repair = repair && !img->read_only, .quiet = quiet, .res = res,
		.end = end,
	};
	memset(res, 0, sizeof(*res));
	c.used = calloc(1, c.end / img->cluster_size / 8 + 1);
	if (!c.used)
		return -ENOMEM;

	uint64_t meta_end = img->hdr.l1_table_offset + img->table_bytes;
	mark(&c, 0, img->header_end);
	mark(&c, img->hdr.l1_table_offset, img->table_bytes);
	check_l1(&c);
	check_l2_tables(&c);
	/* Without a durable end, at open, the device's end says nothing about use (a
	 * file's end does: leaks are counted up to it, as QEMU does). */
	bool whole_device = !img->ext_valid && !img->file_end && c.end == img->dev_end;
	uint64_t leak_end = whole_device ? res->image_end_offset : c.end;
	res->leaks = count_leaks(&c, meta_end < img->header_end ? img->header_end : meta_end,
				 leak_end);
	free(c.used);

	bool clean = res->corruptions == res->corruptions_fixed && res->check_errors == 0;
	if (!quiet)
		qed_logf(img, 1, "qed check: %llu corruptions (%llu fixed), %llu leaked clusters, "
			 "%llu errors", (unsigned long long)res->corruptions,
			 (unsigned long long)res->corruptions_fixed, (unsigned long long)res->leaks,
			 (unsigned long long)res->check_errors);
	img->corrupt = !clean;
	if (c.repair && clean && (img->hdr.features & QED_F_NEED_CHECK))
		return mark_clean(&c);
	if (!clean && !img->read_only) /* the next open must check again */
		return qed_need_check_set(img);
	return 0;
}

int qed_check(struct qed_image *img, bool repair, struct qed_check_result *res)
{
	return run_check(img, check_end(img), repair, false, res);
}

int qed_scan_end(struct qed_image *img, uint64_t *end)
{
	struct qed_check_result res;
	/* Every cluster any entry references, up to the device's end: allocation must
	 * start past them all, even those a later check will call corrupt. */
	int rc = run_check(img, img->alloc_end, false, true, &res);
	*end = res.image_end_offset;
	return rc;
}
