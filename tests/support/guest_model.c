/*
 * guest_model: tracks the writes a workload issued and decides, sector by sector, which
 * contents a recovered image may show. See guest_model.h.
 */
#include "guest_model.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BACKING_VERSION 0xffffffu
#define PATTERN_MAGIC 0x51ed000000000000ull

int guest_model_init(struct guest_model *g, uint64_t size, bool backing, struct memdisk *md)
{
	memset(g, 0, sizeof(*g));
	g->size = size;
	g->backing = backing;
	g->md = md;
	g->newest = calloc(size / GUEST_SECTOR, sizeof(*g->newest));
	return g->newest ? 0 : -ENOMEM;
}

void guest_model_free(struct guest_model *g)
{
	for (uint32_t i = 0; i < g->n_flushes; i++)
		free(g->flush_sets[i]);
	free(g->flush_sets);
	free(g->flush_set_len);
	free(g->ops);
	free(g->newest);
	free(g->node_op);
	free(g->node_next);
	memset(g, 0, sizeof(*g));
}

static void fill_words(uint8_t *out, uint32_t version, uint64_t sector)
{
	for (uint64_t i = 0; i < GUEST_SECTOR / 8; i++) {
		uint64_t w = PATTERN_MAGIC ^ ((uint64_t)version << 32) ^ (sector << 6) ^ i;
		memcpy(out + i * 8, &w, 8);
	}
}

void guest_backing_pattern(uint64_t sector, uint8_t *out)
{
	fill_words(out, BACKING_VERSION, sector);
}

/* ---- the backing file: a read-only volume with the backing pattern ------------------- */
static int backing_read(struct volume *v, uint64_t off, void *buf, size_t len)
{
	(void)v;
	for (size_t s = 0; s < len / GUEST_SECTOR; s++)
		guest_backing_pattern(off / GUEST_SECTOR + s, (uint8_t *)buf + s * GUEST_SECTOR);
	return 0;
}

static int backing_write(struct volume *v, uint64_t off, const void *buf, size_t len)
{
	(void)v; (void)off; (void)buf; (void)len;
	return -EROFS;
}

static int backing_flush(struct volume *v) { (void)v; return 0; }

static const struct volume_ops backing_ops = { .read = backing_read, .write = backing_write,
					       .flush = backing_flush };

struct volume guest_backing_volume(uint64_t size)
{
	return (struct volume){ .ops = &backing_ops, .size = size, .block_size = 512,
				.read_only = true };
}

void guest_pattern(const struct guest_model *g, uint32_t version, uint64_t sector,
		   uint8_t *out)
{
	if (version == 0) {
		if (g->backing)
			guest_backing_pattern(sector, out);
		else
			memset(out, 0, GUEST_SECTOR);
	} else if (g->ops[version - 1].zero) {
		memset(out, 0, GUEST_SECTOR);
	} else {
		fill_words(out, version, sector);
	}
}

static uint32_t add_op(struct guest_model *g, uint64_t off, uint64_t len, bool zero)
{
	if (g->n_ops == g->cap_ops) {
		g->cap_ops = g->cap_ops ? g->cap_ops * 2 : 256;
		g->ops = realloc(g->ops, g->cap_ops * sizeof(*g->ops));
		if (!g->ops)
			abort();
	}
	g->ops[g->n_ops] = (struct guest_op){ .offset = off, .len = len, .zero = zero };
	return (uint32_t)g->n_ops++;
}

static int issue(struct guest_model *g, struct qed_image *img, uint64_t off, uint64_t len,
		 bool zero)
{
	uint32_t id = add_op(g, off, len, zero);
	int rc;
	memdisk_mark(g->md, GUEST_WRITE_START, id);
	if (zero) {
		rc = qed_zero(img, off, len);
	} else {
		uint8_t *buf = malloc(len);
		if (!buf)
			return -ENOMEM;
		for (uint64_t s = 0; s < len / GUEST_SECTOR; s++)
			guest_pattern(g, id + 1, off / GUEST_SECTOR + s, buf + s * GUEST_SECTOR);
		rc = qed_write(img, off, buf, len);
		free(buf);
	}
	if (rc == 0)
		memdisk_mark(g->md, GUEST_WRITE_DONE, id);
	return rc;
}

int guest_write(struct guest_model *g, struct qed_image *img, uint64_t off, uint64_t len)
{
	return issue(g, img, off, len, false);
}

int guest_zero(struct guest_model *g, struct qed_image *img, uint64_t off, uint64_t len)
{
	return issue(g, img, off, len, true);
}

static int flush_or_close(struct guest_model *g, struct qed_image *img, bool close)
{
	uint32_t f = g->n_flushes++;
	g->flush_sets = realloc(g->flush_sets, g->n_flushes * sizeof(*g->flush_sets));
	g->flush_set_len = realloc(g->flush_set_len, g->n_flushes * sizeof(size_t));
	if (!g->flush_sets || !g->flush_set_len)
		abort();
	g->flush_sets[f] = NULL;
	g->flush_set_len[f] = 0;
	memdisk_mark(g->md, GUEST_FLUSH_START, f);
	int rc = close ? qed_close(img) : qed_flush(img);
	if (rc == 0)
		memdisk_mark(g->md, GUEST_FLUSH_DONE, f);
	return rc;
}

int guest_flush(struct guest_model *g, struct qed_image *img)
{
	return flush_or_close(g, img, false);
}

int guest_close(struct guest_model *g, struct qed_image *img)
{
	return flush_or_close(g, img, true);
}

void guest_model_reset(struct guest_model *g)
{
	memset(g->newest, 0, g->size / GUEST_SECTOR * sizeof(*g->newest));
	g->n_nodes = 0;
	for (size_t i = 0; i < g->n_ops; i++)
		g->ops[i].acked = g->ops[i].durable = false;
	for (uint32_t i = 0; i < g->n_flushes; i++) {
		free(g->flush_sets[i]);
		g->flush_sets[i] = NULL;
		g->flush_set_len[i] = 0;
	}
	g->epoch++;
}

static void start_op(struct guest_model *g, uint32_t id)
{
	const struct guest_op *op = &g->ops[id];
	for (uint64_t s = op->offset / GUEST_SECTOR; s < (op->offset + op->len) / GUEST_SECTOR; s++) {
		if (g->n_nodes == g->cap_nodes) {
			g->cap_nodes = g->cap_nodes ? g->cap_nodes * 2 : 4096;
			g->node_op = realloc(g->node_op, g->cap_nodes * sizeof(uint32_t));
			g->node_next = realloc(g->node_next, g->cap_nodes * sizeof(uint32_t));
			if (!g->node_op || !g->node_next)
				abort();
		}
		g->node_op[g->n_nodes] = id;
		g->node_next[g->n_nodes] = g->newest[s];
		g->newest[s] = (uint32_t)++g->n_nodes;
	}
}

/* A flush covers the writes acknowledged when it was issued. */
static void start_flush(struct guest_model *g, uint32_t f)
{
	size_t n = 0;
	uint32_t *set = malloc((g->n_ops + 1) * sizeof(*set));
	if (!set)
		abort();
	for (size_t i = 0; i < g->n_ops; i++)
		if (g->ops[i].acked && !g->ops[i].durable)
			set[n++] = (uint32_t)i;
	free(g->flush_sets[f]);
	g->flush_sets[f] = set;
	g->flush_set_len[f] = n;
}

void guest_model_apply(struct guest_model *g, const struct memdisk_event *ev)
{
	if (ev->kind != MEMDISK_EV_MARK)
		return;
	switch (ev->id) {
	case GUEST_WRITE_START: start_op(g, ev->arg); break;
	case GUEST_WRITE_DONE: g->ops[ev->arg].acked = true; break;
	case GUEST_FLUSH_START: start_flush(g, ev->arg); break;
	case GUEST_FLUSH_DONE:
		for (size_t i = 0; i < g->flush_set_len[ev->arg]; i++)
			g->ops[g->flush_sets[ev->arg][i]].durable = true;
		break;
	}
	g->epoch++;
}

bool guest_sector_ok(const struct guest_model *g, uint64_t sector, const uint8_t *data,
		     char *why, size_t why_len)
{
	uint8_t expect[GUEST_SECTOR];
	char allowed[96] = "";
	size_t used = 0;
	for (uint32_t node = g->newest[sector];; node = g->node_next[node - 1]) {
		uint32_t version = node ? g->node_op[node - 1] + 1 : 0;
		guest_pattern(g, version, sector, expect);
		if (memcmp(expect, data, GUEST_SECTOR) == 0)
			return true;
		if (used < sizeof(allowed) - 12)
			used += (size_t)snprintf(allowed + used, sizeof(allowed) - used, " %s%u",
						 version ? "w" : "initial", version ? version - 1 : 0);
		if (!node || g->ops[version - 1].durable)
			break;
	}
	uint64_t w0;
	memcpy(&w0, data, 8);
	const char *what = memdisk_is_garbage(data, GUEST_SECTOR) ? "stale disk content"
			   : (w0 & 0xffff000000000000ull) == PATTERN_MAGIC ? "another write's data"
			   : "unknown data";
	snprintf(why, why_len, "sector %" PRIu64 ": %s (first word 0x%016" PRIx64
		 "), allowed:%s", sector, what, w0, allowed);
	return false;
}

/* Whether an operation started so far in the replay (not merely one the workload issues
 * later) covers any sector of the cluster at off. */
static bool touched(const struct guest_model *g, uint64_t off, uint64_t len)
{
	for (uint64_t s = off / GUEST_SECTOR; s < (off + len) / GUEST_SECTOR; s++)
		if (g->newest[s])
			return true;
	return false;
}

static bool verify_map(const struct guest_model *g, struct qed_image *img, uint32_t cs,
		       char *why, size_t why_len)
{
	for (uint64_t off = 0; off < g->size;) {
		enum qed_extent_state st;
		uint64_t bytes, where;
		int rc = qed_map(img, off, g->size - off, &st, &bytes, &where);
		if (rc || !bytes) {
			snprintf(why, why_len, "qed_map at %" PRIu64 " failed: %d", off, rc);
			return false;
		}
		/* Allocated extents may only cover clusters of operations started before
		 * the cut. */
		for (uint64_t cl = off / cs; st != QED_EXTENT_UNALLOCATED && cl * cs < off + bytes;
		     cl++) {
			if (!touched(g, cl * cs, cs)) {
				snprintf(why, why_len, "cluster %" PRIu64 " is allocated (state %d) "
					 "but no operation started before the cut touched it",
					 cl, (int)st);
				return false;
			}
		}
		off += bytes;
	}
	return true;
}

bool guest_verify_image(const struct guest_model *g, struct qed_image *img,
			uint32_t cluster_size, char *why, size_t why_len)
{
	if (!verify_map(g, img, cluster_size, why, why_len))
		return false;
	uint8_t *buf = malloc(cluster_size);
	if (!buf) {
		snprintf(why, why_len, "out of memory");
		return false;
	}
	bool ok = true;
	for (uint64_t off = 0; ok && off < g->size; off += cluster_size) {
		if (!touched(g, off, cluster_size))
			continue;
		int rc = qed_read(img, off, buf, cluster_size);
		if (rc) {
			snprintf(why, why_len, "read at %" PRIu64 " failed: %d", off, rc);
			ok = false;
		}
		for (uint64_t s = 0; ok && s < cluster_size / GUEST_SECTOR; s++)
			ok = guest_sector_ok(g, off / GUEST_SECTOR + s, buf + s * GUEST_SECTOR, why,
					     why_len);
	}
	free(buf);
	return ok;
}

/* One line per event: guest operations and device requests, to stderr. */
void guest_print_trace(const struct guest_model *g, size_t events)
{
	static const char *const dev[] = { "write submit", "write done", "flush submit",
					   "flush done" };
	static const char *const guest[] = { "", "guest write start", "guest write ack",
					     "guest flush start", "guest flush done" };
	for (size_t e = 0; e < events; e++) {
		const struct memdisk_event *ev = memdisk_trace_event(g->md, e);
		if (ev->kind == MEMDISK_EV_MARK && ev->id <= GUEST_WRITE_DONE) {
			const struct guest_op *op = &g->ops[ev->arg];
			fprintf(stderr, "  %4zu %-17s w%u %s %llu+%llu\n", e, guest[ev->id], ev->arg,
				op->zero ? "zero" : "data", (unsigned long long)op->offset,
				(unsigned long long)op->len);
		} else if (ev->kind == MEMDISK_EV_MARK) {
			fprintf(stderr, "  %4zu %-17s f%u\n", e, guest[ev->id], ev->arg);
		} else if (ev->kind <= MEMDISK_EV_WRITE_DONE) {
			uint64_t off, len;
			memdisk_trace_write(g->md, ev->id, &off, &len);
			fprintf(stderr, "  %4zu   dev %-12s #%u %llu+%llu%s\n", e, dev[ev->kind], ev->id,
				(unsigned long long)off, (unsigned long long)len,
				ev->arg ? " (failed)" : "");
		} else {
			fprintf(stderr, "  %4zu   dev %-12s #%u%s\n", e, dev[ev->kind], ev->id,
				ev->arg ? " (failed)" : "");
		}
	}
}
