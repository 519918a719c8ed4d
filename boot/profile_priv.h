/*
 * The sampling profiler's histogram (boot/profile_hist.c, portable: host-tested in
 * tests/unit/boot/test_profile_hist.c). boot/profile.c owns the one histogram of the
 * firmware and feeds it from its NMI handler; the rest of the firmware sees only the
 * profiler_* functions of platform.h.
 *
 * Fixed memory: one 32-bit count per PROF_BUCKET_BYTES of the firmware's code, allocated
 * once when profiling starts. A sample in the loop's halt counts as idle, a sample
 * outside the code (none is expected) as outside; neither takes a bucket, so nothing a
 * sample says can grow the histogram.
 *
 * Concurrency: the sampler runs in an NMI, which can land between any two instructions
 * of the loop, including inside prof_hist_take(). A sample therefore changes exactly one
 * count (its bucket, idle or outside; the total is their sum, computed when taking), by
 * one read-modify-write instruction (a locked add), and taking empties each count by one
 * exchange with zero: a sample lands in exactly one window, never lost or counted twice,
 * and a window's total always equals its parts.
 */
#ifndef QEDBOX_PROFILE_PRIV_H
#define QEDBOX_PROFILE_PRIV_H

#include <stddef.h>
#include <stdint.h>

/* 16 bytes: gcc aligns functions to 16 on x86-64 at -O2, so a bucket never straddles
 * two functions' starts and the host symbolises each bucket to one function. */
#define PROF_BUCKET_BYTES 16
/* "sample 0x" 16 hex digits, a blank, up to 10 digits, newline. */
#define PROF_LINE_MAX 40

struct prof_counts {
	uint64_t total;	  /* every sample (of a window taken: computed by prof_hist_take) */
	uint64_t idle;	  /* in the loop's halt */
	uint64_t outside; /* outside [code_start, code_start + buckets * PROF_BUCKET_BYTES) */
};

struct prof_hist {
	uint64_t code_start;	     /* PROF_BUCKET_BYTES-aligned */
	size_t n_buckets;
	uint64_t idle_start, idle_end; /* [start, end): the halt instruction and its resume */
	uint32_t *buckets;	     /* n_buckets, the caller's memory */
	struct prof_counts counts; /* idle and outside; total unused */
};

/* Buckets for the code in [code_start, code_end). */
size_t prof_hist_buckets_for(uint64_t code_start, uint64_t code_end);
/* Sets h up over [code_start, code_end) with buckets (prof_hist_buckets_for() of them,
 * zeroed here); samples in [idle_start, idle_end) count as idle. */
void prof_hist_init(struct prof_hist *h, uint64_t code_start, uint64_t code_end,
		    uint64_t idle_start, uint64_t idle_end, uint32_t *buckets);

/* One sample at rip: one locked add. Inline: the NMI handler calls it. */
static inline void prof_hist_record(struct prof_hist *h, uint64_t rip)
{
	if (rip >= h->idle_start && rip < h->idle_end) {
		__atomic_fetch_add(&h->counts.idle, 1, __ATOMIC_RELAXED);
		return;
	}
	uint64_t bucket = (rip - h->code_start) / PROF_BUCKET_BYTES; /* wraps below start */
	if (rip < h->code_start || bucket >= h->n_buckets) {
		__atomic_fetch_add(&h->counts.outside, 1, __ATOMIC_RELAXED);
		return;
	}
	__atomic_fetch_add(&h->buckets[bucket], 1, __ATOMIC_RELAXED);
}

/* Ends the window: moves every count into snapshot (n_buckets) and *counts, leaving
 * zeros behind for the next window. Returns how many buckets of snapshot are non-zero. */
size_t prof_hist_take(struct prof_hist *h, uint32_t *snapshot, struct prof_counts *counts);

/* Writes "sample 0xADDRESS COUNT\n" for each non-zero bucket of snapshot, in address
 * order (ADDRESS: the bucket's first byte), as many whole lines as fit in cap bytes
 * (NUL included). Returns the length written (without the NUL). */
size_t prof_hist_format(const struct prof_hist *h, const uint32_t *snapshot, char *buf,
			size_t cap);

#endif
