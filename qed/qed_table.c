/*
 * L1 and L2 tables: loading, writing single entries, and the L2 cache.
 *
 * The L1 table is read whole at open and kept in memory. L2 tables are read on demand
 * into a bounded cache (least recently used first out). A user takes a table with
 * qed_l2_get() and gives it back with qed_l2_put(); a table in use is never evicted, so
 * pointers into it stay valid while the user blocks. Tables stay in their on-disk byte
 * order in memory (qed_table_get/set), so writing entries back is a plain write of the
 * sectors around them. Entries are validated where they are used (qed_cluster.c), not
 * here: a table with a bad entry still serves its good ones.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qed_priv.h"

/* Cache budget: tables in the cache never use more than this, but at least 4 tables. */
#define QED_L2_CACHE_BYTES (64u * 1024 * 1024)
#define QED_L2_CACHE_MAX_TABLES 512u

bool qed_is_table_offset_valid(const struct qed_image *img, uint64_t off, uint64_t limit)
{
	return qed_is_extent_valid(off, img->table_bytes, img->header_end, limit,
				   img->cluster_size) &&
	       !qed_ranges_overlap(off, img->table_bytes, img->hdr.l1_table_offset,
				   img->table_bytes);
}

bool qed_is_data_offset_valid(const struct qed_image *img, uint64_t off, uint64_t limit)
{
	return qed_is_extent_valid(off, img->cluster_size, img->header_end, limit,
				   img->cluster_size) &&
	       !qed_ranges_overlap(off, img->cluster_size, img->hdr.l1_table_offset,
				   img->table_bytes);
}

int qed_l1_load(struct qed_image *img)
{
	img->l1 = malloc(img->table_bytes);
	if (!img->l1)
		return -ENOMEM;
	int rc = blkdev_read(img->dev, img->hdr.l1_table_offset, img->l1, img->table_bytes);
	if (rc)
		qed_logf(img, 0, "qed: cannot read the L1 table (%d)", rc);
	return rc;
}

/* The device sectors holding table bytes [from, to): [*start, *start + *len). */
static void sectors_around(const struct qed_image *img, uint64_t from, uint64_t to,
			   uint64_t *start, uint64_t *len)
{
	uint64_t ss = img->dev->sector_size;
	*start = from / ss * ss;
	*len = (to + ss - 1) / ss * ss - *start;
}

/* Caller holds l1_lock. The entry changes in memory only once it is on disk. */
int qed_l1_write_entry(struct qed_image *img, uint64_t index, uint64_t value)
{
	uint64_t start, len;
	sectors_around(img, index * 8, index * 8 + 8, &start, &len);
	uint8_t *buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, img->l1 + start, len);
	qed_table_set(buf, index - start / 8, value);
	int rc = blkdev_write(img->dev, img->hdr.l1_table_offset + start, buf, len);
	if (!rc)
		qed_table_set(img->l1, index, value);
	free(buf);
	return rc;
}

/* ---- the L2 cache --------------------------------------------------------------------- */
void qed_l2_cache_init(struct qed_image *img)
{
	uint64_t n = QED_L2_CACHE_BYTES / img->table_bytes;
	if (n < 4)
		n = 4;
	if (n > QED_L2_CACHE_MAX_TABLES)
		n = QED_L2_CACHE_MAX_TABLES;
	if (img->opts.l2_cache_tables)
		n = img->opts.l2_cache_tables;
	img->l2_max = (unsigned)n;
	img->l2_head = img->l2_tail = NULL;
	img->l2_count = 0;
}

static void unlink_l2(struct qed_image *img, struct qed_l2 *l2)
{
	if (l2->prev)
		l2->prev->next = l2->next;
	else
		img->l2_head = l2->next;
	if (l2->next)
		l2->next->prev = l2->prev;
	else
		img->l2_tail = l2->prev;
	l2->prev = l2->next = NULL;
}

static void push_front(struct qed_image *img, struct qed_l2 *l2)
{
	l2->prev = NULL;
	l2->next = img->l2_head;
	if (img->l2_head)
		img->l2_head->prev = l2;
	else
		img->l2_tail = l2;
	img->l2_head = l2;
}

static void free_l2(struct qed_image *img, struct qed_l2 *l2)
{
	unlink_l2(img, l2);
	img->l2_count--;
	free(l2->table);
	free(l2);
}

static void evict(struct qed_image *img)
{
	struct qed_l2 *l2 = img->l2_tail;
	while (img->l2_count > img->l2_max && l2) {
		struct qed_l2 *prev = l2->prev;
		if (l2->ref == 0)
			free_l2(img, l2);
		l2 = prev;
	}
}

void qed_l2_cache_free(struct qed_image *img)
{
	while (img->l2_head)
		free_l2(img, img->l2_head);
}

static struct qed_l2 *add_l2(struct qed_image *img, uint64_t offset)
{
	struct qed_l2 *l2 = calloc(1, sizeof(*l2));
	if (!l2)
		return NULL;
	l2->table = malloc(img->table_bytes);
	if (!l2->table) {
		free(l2);
		return NULL;
	}
	l2->offset = offset;
	l2->ref = 1;
	l2->loaded = (struct waitq)WAITQ_INIT;
	l2->write_lock = (struct task_lock)TASK_LOCK_INIT;
	push_front(img, l2);
	img->l2_count++;
	evict(img);
	return l2;
}

static struct qed_l2 *find_l2(struct qed_image *img, uint64_t offset)
{
	for (struct qed_l2 *l2 = img->l2_head; l2; l2 = l2->next)
		if (l2->offset == offset && !l2->dead)
			return l2;
	return NULL;
}

int qed_l2_get(struct qed_image *img, uint64_t offset, struct qed_l2 **out)
{
	struct qed_l2 *l2 = find_l2(img, offset);
	if (l2) {
		l2->ref++;
		unlink_l2(img, l2);
		push_front(img, l2);
		while (l2->loading)
			waitq_sleep(&l2->loaded);
		if (l2->dead) {
			int err = l2->load_err;
			qed_l2_put(img, l2);
			return err;
		}
		*out = l2;
		return 0;
	}

	l2 = add_l2(img, offset);
	if (!l2)
		return -ENOMEM;
	l2->loading = true;
	int rc = blkdev_read(img->dev, offset, l2->table, img->table_bytes);
	l2->loading = false;
	if (rc) {
		qed_logf(img, 0, "qed: cannot read the L2 table at %llu (%d)",
			 (unsigned long long)offset, rc);
		l2->dead = true;
		l2->load_err = rc;
		waitq_wake_all(&l2->loaded);
		qed_l2_put(img, l2);
		return rc;
	}
	waitq_wake_all(&l2->loaded);
	*out = l2;
	return 0;
}

struct qed_l2 *qed_l2_new(struct qed_image *img, uint64_t offset)
{
	struct qed_l2 *l2 = add_l2(img, offset);
	if (l2)
		memset(l2->table, 0, img->table_bytes);
	return l2;
}

void qed_l2_put(struct qed_image *img, struct qed_l2 *l2)
{
	if (--l2->ref == 0) {
		if (l2->dead)
			free_l2(img, l2);
		else
			evict(img);
	}
}

void qed_l2_drop(struct qed_image *img, struct qed_l2 *l2)
{
	l2->dead = true;
	l2->load_err = -EIO;
	qed_l2_put(img, l2);
}

int qed_l2_write_entries(struct qed_image *img, struct qed_l2 *l2, uint64_t first,
			 uint64_t count)
{
	uint64_t start, len;
	sectors_around(img, first * 8, (first + count) * 8, &start, &len);
	task_lock(&l2->write_lock);
	int rc = blkdev_write(img->dev, l2->offset + start, l2->table + start, len);
	task_unlock(&l2->write_lock);
	return rc;
}

/* ---- entry updates: visible once written, written in groups ----------------------------
 * An update's entries become visible only once the sector write carrying them has
 * succeeded: a lookup that finds them may act on them (an in-place write of the same
 * cluster, acknowledged, then a flush) and must never have done so on an entry that a
 * failed write takes back, nor on one that a flush sent meanwhile does not cover.
 * Updates wait on the table's write_lock; the one that gets it writes every update
 * pending by then (group commit: many allocating writes into one table cost one L2 write
 * per round, not one each), from a copy of the table with all of them applied, and the
 * table takes them once it is written. The others find theirs done. Pending updates
 * touch different entries (each holds a claim on its guest clusters). */
struct qed_l2_update {
	uint64_t first, count, value, step;
	int status;
	bool done;
	struct qed_l2_update *next;
};

/* Writes the sectors the group touches, from buf (table bytes [lo, lo + len)). */
static int write_touched(struct qed_image *img, struct qed_l2 *l2,
			 const struct qed_l2_update *group, const uint8_t *buf, uint64_t lo,
			 uint64_t len)
{
	uint64_t ss = img->dev->sector_size, nsec = len / ss;
	bool *touched = calloc(nsec, sizeof(*touched));
	if (!touched)
		return -ENOMEM;
	for (const struct qed_l2_update *u = group; u; u = u->next) {
		uint64_t start, n;
		sectors_around(img, u->first * 8, (u->first + u->count) * 8, &start, &n);
		for (uint64_t i = (start - lo) / ss; i < (start - lo + n) / ss; i++)
			touched[i] = true;
	}
	struct qed_batch b;
	qed_batch_init(&b);
	for (uint64_t i = 0, j; i < nsec; i = j) {
		for (j = i + 1; j < nsec && touched[j] == touched[i]; j++)
			;
		if (touched[i]) /* disjoint runs: they may be in flight at once */
			qed_batch_add(img, &b, BLKDEV_WRITE, l2->offset + lo + i * ss,
				      buf + i * ss, (j - i) * ss);
	}
	free(touched);
	return qed_batch_wait(&b);
}

/* Caller holds write_lock. */
static int write_group(struct qed_image *img, struct qed_l2 *l2,
		       const struct qed_l2_update *group)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	for (const struct qed_l2_update *u = group; u; u = u->next) {
		uint64_t start, len;
		sectors_around(img, u->first * 8, (u->first + u->count) * 8, &start, &len);
		lo = start < lo ? start : lo;
		hi = start + len > hi ? start + len : hi;
	}
	uint8_t *buf = malloc(hi - lo);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, l2->table + lo, hi - lo);
	for (const struct qed_l2_update *u = group; u; u = u->next)
		for (uint64_t k = 0; k < u->count; k++)
			qed_table_set(buf, u->first + k - lo / 8, u->value + k * u->step);
	int rc = write_touched(img, l2, group, buf, lo, hi - lo);
	if (!rc) /* the rest of [lo, hi) is what the table holds already */
		memcpy(l2->table + lo, buf, hi - lo);
	free(buf);
	return rc;
}

int qed_l2_set_entries(struct qed_image *img, struct qed_l2 *l2, uint64_t first,
		       uint64_t count, uint64_t value, uint64_t step)
{
	struct qed_l2_update u = { first, count, value, step, 0, false, l2->pending };
	l2->pending = &u;
	task_lock(&l2->write_lock);
	if (!u.done) {
		struct qed_l2_update *group = l2->pending;
		l2->pending = NULL;
		int rc = write_group(img, l2, group);
		/* The others wait for write_lock, so their updates outlive this loop. */
		for (struct qed_l2_update *g = group; g; g = g->next) {
			g->status = rc;
			g->done = true;
		}
	}
	task_unlock(&l2->write_lock);
	return u.status;
}

int qed_l2_write_all(struct qed_image *img, struct qed_l2 *l2)
{
	return qed_l2_write_entries(img, l2, 0, img->table_entries);
}
