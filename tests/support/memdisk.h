/*
 * memdisk: a crash-simulating memory blkdev for host tests (docs/DESIGN.md, "Testing layers").
 *
 * It behaves like a disk with a volatile write cache: a write completes into the cache,
 * and only a FLUSH makes the writes that completed before the flush was submitted
 * durable. Requests complete out of order, one per memdisk_poll() call, in a
 * pseudo-random order fixed by the seed, so a test drives them with
 *     task_run_all(memdisk_poll, md);
 * and concurrent requests really overlap.
 *
 * Every write, flush and test marker is recorded in a trace. A power cut is simulated
 * afterwards by replaying the trace up to any event (struct memdisk_replay): the durable
 * image at that instant, plus any chosen subset of the writes that were not yet durable,
 * with one write optionally torn at sector granularity (some sectors new, some old).
 *
 * Faults: the Nth request from now fails with a chosen errno (once or from then on), and
 * writes that reach past a space limit fail with -ENOSPC (a full thin-provisioned disk).
 */
#ifndef QEDBOX_MEMDISK_H
#define QEDBOX_MEMDISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blkdev.h"

struct memdisk;

struct memdisk_opts {
	uint64_t capacity;      /* bytes, a multiple of sector_size */
	uint32_t sector_size;   /* 0: 512 */
	bool write_through;     /* no volatile cache: completed writes are durable */
	bool trace;             /* record writes and flushes for replay */
	uint64_t seed;          /* completion order; 0 picks a fixed default */
	uint32_t extra_flags;   /* BLKDEV_F_WRITE_ZEROES, BLKDEV_F_DISCARD, ... */
};

/* The disk starts filled with memdisk_fill_garbage(). NULL when out of memory. */
struct memdisk *memdisk_new(const struct memdisk_opts *opts);
void memdisk_free(struct memdisk *md);
struct blkdev *memdisk_blkdev(struct memdisk *md);

/* Completes one outstanding request, chosen pseudo-randomly. Returns false when none
 * was outstanding. The signature fits task_run_all(). */
bool memdisk_poll(void *md);
unsigned memdisk_inflight(const struct memdisk *md);

/* Every byte of the disk as reads see it now (completed writes applied). */
uint8_t *memdisk_data(struct memdisk *md);

/* A recognizable pattern for never-written sectors: "STALE!" and, in every second 8-byte
 * word, a cluster-aligned offset that a stale table entry would follow.
 * memdisk_is_garbage() tells whether a 512-byte block holds any of it. */
void memdisk_fill_garbage(void *buf, uint64_t disk_offset, size_t len);
bool memdisk_is_garbage(const void *buf, size_t len);

/* Starts a new trace from the current contents, which become the durable baseline.
 * Only with no request outstanding. */
void memdisk_trace_reset(struct memdisk *md);
/* Adds a test marker (e.g. "guest write 7 acknowledged") to the trace. */
void memdisk_mark(struct memdisk *md, uint32_t kind, uint32_t arg);

/* ---- faults ---------------------------------------------------------------------- */
/* The nth request submitted from now (1: the next) fails with err (negative errno)
 * without touching the disk; with sticky, every request after it fails too. n = 0 clears. */
void memdisk_fail_request(struct memdisk *md, uint64_t n, int err, bool sticky);
/* The op (enum blkdev_op) of the request the armed fault hit, or -1 while none has. */
int memdisk_fault_op(const struct memdisk *md);
/* Writes ending past limit bytes fail with -ENOSPC. limit = 0 clears. */
void memdisk_set_space_limit(struct memdisk *md, uint64_t limit);

struct memdisk_stats {
	uint64_t reads, writes, flushes, bytes_read, bytes_written;
};
void memdisk_get_stats(const struct memdisk *md, struct memdisk_stats *st);

/* ---- trace and power cuts -------------------------------------------------------- */
enum memdisk_event_kind {
	MEMDISK_EV_WRITE_SUBMIT,
	MEMDISK_EV_WRITE_DONE,
	MEMDISK_EV_FLUSH_SUBMIT,
	MEMDISK_EV_FLUSH_DONE,
	MEMDISK_EV_MARK,
};

struct memdisk_event {
	enum memdisk_event_kind kind;
	uint32_t id;      /* write index for WRITE_*, flush number, or the marker kind */
	uint32_t arg;     /* the marker's argument; 1 on a *_DONE that failed (injected) */
};

size_t memdisk_trace_len(const struct memdisk *md);
/* Where traced write id went (for printing a trace). */
void memdisk_trace_write(const struct memdisk *md, uint32_t id, uint64_t *offset,
			 uint64_t *len);
const struct memdisk_event *memdisk_trace_event(const struct memdisk *md, size_t i);

/* The state of the disk right after a prefix of the trace. */
struct memdisk_replay {
	const struct memdisk *md;
	size_t events;          /* trace events applied */
	uint8_t *durable;       /* capacity bytes: what survives any power cut now */
	uint32_t *unflushed;    /* write ids that may or may not have landed, in the */
	size_t n_unflushed;     /* order they would land (completion, then submission) */
};

/* Which unflushed writes land at the cut: bit i of keep for unflushed[i] (i < 64;
 * later ones are lost), and optionally one torn write: sector j of unflushed[torn]
 * lands iff bit (j % 64) of tear_bits is set. */
struct memdisk_cut {
	uint64_t keep;
	int torn;               /* -1: none */
	uint64_t tear_bits;
};

int memdisk_replay_init(struct memdisk_replay *r, const struct memdisk *md);
void memdisk_replay_free(struct memdisk_replay *r);
/* Applies the next trace event. Returns false at the end of the trace. */
bool memdisk_replay_step(struct memdisk_replay *r);
/* The write behind unflushed[i]: its offset and length in bytes. */
void memdisk_replay_write(const struct memdisk_replay *r, size_t i, uint64_t *offset,
			  uint64_t *len);
/* Loads the power-cut image (durable + chosen writes) into target, a disk of the same
 * geometry, and resets target's queue, faults and trace: the machine booted again. */
void memdisk_power_cut(const struct memdisk_replay *r, const struct memdisk_cut *cut,
		       struct memdisk *target);

#endif
