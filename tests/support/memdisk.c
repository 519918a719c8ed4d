/*
 * memdisk device: submission, out-of-order completion from memdisk_poll(), the volatile
 * write cache and its flushes, fault injection and the trace. See memdisk.h.
 */
#include "memdisk_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct blkdev_ops memdisk_ops;

bool memdisk_grow(void **arr, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return true;
	size_t ncap = *cap ? *cap * 2 : 64;
	void *p = realloc(*arr, ncap * sz);
	if (!p)
		return false;
	*arr = p;
	*cap = ncap;
	return true;
}

void memdisk_fill_garbage(void *buf, uint64_t disk_offset, size_t len)
{
	uint8_t *p = buf;
	for (size_t i = 0; i < len; i += 16) {
		/* "STALE!", then a plausible table entry: a 4 KiB-aligned offset in the first
		 * 256 KiB, so stale metadata looks valid and points at other clusters. */
		uint8_t word[16] = "STALE!";
		uint64_t ptr = ((disk_offset + i) & ~(uint64_t)4095) % (256 * 1024);
		memcpy(word + 8, &ptr, sizeof(ptr));
		memcpy(p + i, word, len - i < 16 ? len - i : 16);
	}
}

bool memdisk_is_garbage(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	for (size_t i = 0; i + 6 <= len; i += 16)
		if (memcmp(p + i, "STALE!", 6) == 0)
			return true;
	return false;
}

struct memdisk *memdisk_new(const struct memdisk_opts *opts)
{
	struct memdisk *md = calloc(1, sizeof(*md));
	if (!md)
		return NULL;
	md->opts = *opts;
	if (!md->opts.sector_size)
		md->opts.sector_size = 512;
	md->cur = malloc(opts->capacity);
	md->base = opts->trace ? malloc(opts->capacity) : NULL;
	if (!md->cur || (opts->trace && !md->base)) {
		memdisk_free(md);
		return NULL;
	}
	memdisk_fill_garbage(md->cur, 0, opts->capacity);
	md->dev.ops = &memdisk_ops;
	md->dev.capacity = opts->capacity;
	md->dev.sector_size = md->opts.sector_size;
	md->dev.flags = (opts->write_through ? 0 : BLKDEV_F_VOLATILE_CACHE) | opts->extra_flags;
	strcpy(md->dev.serial, "memdisk");
	md->dev.priv = md;
	memdisk_reset_state(md);
	return md;
}

static void free_writes(struct memdisk *md)
{
	for (size_t i = 0; i < md->n_writes; i++)
		free(md->writes[i].data);
	md->n_writes = 0;
}

void memdisk_free(struct memdisk *md)
{
	if (!md)
		return;
	free_writes(md);
	free(md->writes);
	free(md->events);
	free(md->pending);
	free(md->volatile_ids);
	free(md->volatile_seq);
	free(md->cur);
	free(md->base);
	free(md);
}

void memdisk_reset_state(struct memdisk *md)
{
	md->n_pending = 0;
	md->n_volatile = 0;
	md->done_seq = 0;
	free_writes(md);
	md->n_events = 0;
	md->flushes = 0;
	md->fail_at = md->submitted = 0;
	md->fail_err = 0;
	md->fail_sticky = false;
	md->fault_op = -1;
	md->space_limit = 0;
	md->rng = md->opts.seed ? md->opts.seed : 0x9e3779b97f4a7c15ull;
	if (md->base)
		memcpy(md->base, md->cur, md->opts.capacity);
}

void memdisk_trace_reset(struct memdisk *md)
{
	uint64_t limit = md->space_limit;
	memdisk_reset_state(md);
	md->space_limit = limit;
}

struct blkdev *memdisk_blkdev(struct memdisk *md) { return &md->dev; }
uint8_t *memdisk_data(struct memdisk *md) { return md->cur; }
unsigned memdisk_inflight(const struct memdisk *md) { return (unsigned)md->n_pending; }

void memdisk_get_stats(const struct memdisk *md, struct memdisk_stats *st)
{
	*st = md->stats;
}

void memdisk_fail_request(struct memdisk *md, uint64_t n, int err, bool sticky)
{
	md->fail_at = n ? md->submitted + n : 0;
	md->fault_op = -1;
	md->fail_err = err;
	md->fail_sticky = sticky;
}

int memdisk_fault_op(const struct memdisk *md)
{
	return md->fault_op;
}

void memdisk_set_space_limit(struct memdisk *md, uint64_t limit)
{
	md->space_limit = limit;
}

static void record(struct memdisk *md, enum memdisk_event_kind kind, uint32_t id,
		   uint32_t arg)
{
	if (!md->opts.trace)
		return;
	if (!memdisk_grow((void **)&md->events, &md->cap_events, md->n_events,
			  sizeof(*md->events)))
		abort(); /* a test disk out of memory cannot go on meaningfully */
	md->events[md->n_events++] = (struct memdisk_event){ kind, id, arg };
}

void memdisk_mark(struct memdisk *md, uint32_t kind, uint32_t arg)
{
	record(md, MEMDISK_EV_MARK, kind, arg);
}

size_t memdisk_trace_len(const struct memdisk *md) { return md->n_events; }

const struct memdisk_event *memdisk_trace_event(const struct memdisk *md, size_t i)
{
	return i < md->n_events ? &md->events[i] : NULL;
}

static bool is_write(enum blkdev_op op)
{
	return op == BLKDEV_WRITE || op == BLKDEV_WRITE_ZEROES;
}

static int injected_fault(struct memdisk *md, const struct blkdev_req *req)
{
	md->submitted++;
	if (md->fail_at && md->submitted == md->fail_at)
		md->fault_op = (int)req->op;
	if (md->fail_at && (md->submitted == md->fail_at ||
			    (md->fail_sticky && md->submitted > md->fail_at)))
		return md->fail_err;
	if (is_write(req->op) && md->space_limit && req->offset + req->len > md->space_limit)
		return -ENOSPC;
	return 0;
}

/* Remembers a traced write's payload at submission (the caller may reuse its buffer
 * once the request is done, and a power cut may land it any time after submission). */
static uint32_t trace_write(struct memdisk *md, const struct blkdev_req *req)
{
	if (!memdisk_grow((void **)&md->writes, &md->cap_writes, md->n_writes,
			  sizeof(*md->writes)))
		abort();
	uint32_t id = (uint32_t)md->n_writes++;
	struct memdisk_write *w = &md->writes[id];
	*w = (struct memdisk_write){ .offset = req->offset, .len = req->len,
		.submit_ev = (uint32_t)md->n_events, .done_ev = MEMDISK_NEVER,
		.durable_ev = MEMDISK_NEVER };
	if (req->op == BLKDEV_WRITE) {
		w->data = malloc(req->len);
		if (!w->data)
			abort();
		memcpy(w->data, req->buf, req->len);
	}
	record(md, MEMDISK_EV_WRITE_SUBMIT, id, 0);
	return id;
}

static void memdisk_submit(struct blkdev *dev, struct blkdev_req *req)
{
	struct memdisk *md = dev->priv;
	if (!memdisk_grow((void **)&md->pending, &md->cap_pending, md->n_pending,
			  sizeof(*md->pending)))
		abort();
	struct memdisk_pending p = { .req = req, .write_id = MEMDISK_NEVER };
	p.fail = injected_fault(md, req);
	if (md->opts.trace && is_write(req->op)) {
		p.write_id = trace_write(md, req);
		md->writes[p.write_id].failed = p.fail != 0; /* traced, never lands */
	}
	if (req->op == BLKDEV_FLUSH) {
		p.flush_seq = md->done_seq;
		p.flush_id = md->flushes++;
		record(md, MEMDISK_EV_FLUSH_SUBMIT, p.flush_id, 0);
	}
	md->pending[md->n_pending++] = p;
}

static uint64_t next_random(struct memdisk *md)
{
	md->rng ^= md->rng << 13;
	md->rng ^= md->rng >> 7;
	md->rng ^= md->rng << 17;
	return md->rng;
}

static void complete_write(struct memdisk *md, const struct memdisk_pending *p)
{
	const struct blkdev_req *req = p->req;
	if (req->op == BLKDEV_WRITE)
		memcpy(md->cur + req->offset, req->buf, req->len);
	else
		memset(md->cur + req->offset, 0, req->len);
	if (req->offset + req->len > md->written_end)
		md->written_end = req->offset + req->len;
	md->stats.writes++;
	md->stats.bytes_written += req->len;
	if (p->write_id == MEMDISK_NEVER)
		return;
	md->writes[p->write_id].done_ev = (uint32_t)md->n_events;
	record(md, MEMDISK_EV_WRITE_DONE, p->write_id, 0);
	if (md->opts.write_through) {
		md->writes[p->write_id].durable_ev = md->writes[p->write_id].done_ev;
		return;
	}
	if (!memdisk_grow((void **)&md->volatile_ids, &md->cap_volatile, md->n_volatile,
			  sizeof(*md->volatile_ids)) ||
	    !(md->volatile_seq = realloc(md->volatile_seq,
					 md->cap_volatile * sizeof(*md->volatile_seq))))
		abort();
	md->volatile_ids[md->n_volatile] = p->write_id;
	md->volatile_seq[md->n_volatile++] = md->done_seq;
	md->done_seq++;
}

/* A flush makes durable the writes that had completed when it was submitted. */
static void complete_flush(struct memdisk *md, const struct memdisk_pending *p)
{
	md->stats.flushes++;
	uint32_t ev = (uint32_t)md->n_events;
	record(md, MEMDISK_EV_FLUSH_DONE, p->flush_id, 0);
	size_t n = 0;
	while (n < md->n_volatile && md->volatile_seq[n] < p->flush_seq) {
		md->writes[md->volatile_ids[n]].durable_ev = ev;
		n++;
	}
	if (n == 0)
		return; /* the arrays may be NULL yet: memmove(NULL, ...) is undefined */
	memmove(md->volatile_ids, md->volatile_ids + n,
		(md->n_volatile - n) * sizeof(*md->volatile_ids));
	memmove(md->volatile_seq, md->volatile_seq + n,
		(md->n_volatile - n) * sizeof(*md->volatile_seq));
	md->n_volatile -= n;
}

static int complete(struct memdisk *md, const struct memdisk_pending *p)
{
	struct blkdev_req *req = p->req;
	switch (req->op) {
	case BLKDEV_READ:
		memcpy(req->buf, md->cur + req->offset, req->len);
		md->stats.reads++;
		md->stats.bytes_read += req->len;
		return 0;
	case BLKDEV_WRITE:
	case BLKDEV_WRITE_ZEROES:
		complete_write(md, p);
		return 0;
	case BLKDEV_FLUSH:
		complete_flush(md, p);
		return 0;
	case BLKDEV_DISCARD:
		return 0; /* contents afterwards unspecified: keeping them is allowed */
	}
	return -EINVAL;
}

bool memdisk_poll(void *ctx)
{
	struct memdisk *md = ctx;
	if (!md->n_pending)
		return false;
	size_t i = next_random(md) % md->n_pending;
	struct memdisk_pending p = md->pending[i];
	md->pending[i] = md->pending[--md->n_pending];
	int status = p.fail;
	if (!status)
		status = complete(md, &p);
	else if (p.req->op == BLKDEV_FLUSH)
		record(md, MEMDISK_EV_FLUSH_DONE, p.flush_id, 1); /* failed: covers nothing */
	else if (p.write_id != MEMDISK_NEVER)
		record(md, MEMDISK_EV_WRITE_DONE, p.write_id, 1); /* failed: never lands */
	p.req->done(p.req, status);
	return true;
}

static const struct blkdev_ops memdisk_ops = {
	.submit = memdisk_submit,
};
