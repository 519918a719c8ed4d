/* memdisk's state, shared by the device (memdisk.c) and the replay (memdisk_replay.c). */
#ifndef QEDBOX_MEMDISK_PRIV_H
#define QEDBOX_MEMDISK_PRIV_H

#include "memdisk.h"

#define MEMDISK_NEVER UINT32_MAX

/* One write (or write-zeroes) as submitted; data NULL means zeros. */
struct memdisk_write {
	uint64_t offset, len;
	uint8_t *data;
	uint32_t submit_ev, done_ev, durable_ev; /* trace indices, MEMDISK_NEVER if not */
	bool failed;
};

struct memdisk_pending {
	struct blkdev_req *req;
	uint32_t write_id;      /* for writes when tracing */
	uint64_t flush_seq;     /* for flushes: writes completed before it are covered */
	uint32_t flush_id;
	int fail;               /* injected status, 0 if none */
};

struct memdisk {
	struct blkdev dev;
	struct memdisk_opts opts;
	uint8_t *cur;           /* contents as reads see them */
	uint8_t *base;          /* durable contents when the trace started */
	uint64_t written_end;   /* one past the highest byte ever written
				 * (beyond it: the initial garbage) */
	uint64_t rng;

	struct memdisk_pending *pending;
	size_t n_pending, cap_pending;

	/* Completed writes not yet durable, in completion order, with their sequence. */
	uint32_t *volatile_ids;
	uint64_t *volatile_seq;
	size_t n_volatile, cap_volatile;
	uint64_t done_seq;      /* writes completed so far */

	struct memdisk_write *writes;
	size_t n_writes, cap_writes;
	struct memdisk_event *events;
	size_t n_events, cap_events;
	uint32_t flushes;

	uint64_t fail_at, submitted;
	int fail_err;
	bool fail_sticky;
	int fault_op;           /* op of the request the fault hit first, -1 none yet */
	uint64_t space_limit;
	struct memdisk_stats stats;
};

/* Grows *arr (of *cap elements of size sz) to hold n+1; false when out of memory. */
bool memdisk_grow(void **arr, size_t *cap, size_t n, size_t sz);
/* Clears queue, faults and trace, keeping the contents. */
void memdisk_reset_state(struct memdisk *md);

#endif
