/* The sampling profiler's histogram: see profile_priv.h. */
#include "profile_priv.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

size_t prof_hist_buckets_for(uint64_t code_start, uint64_t code_end)
{
	uint64_t start = code_start - code_start % PROF_BUCKET_BYTES;
	if (code_end <= start)
		return 0;
	return (size_t)((code_end - start + PROF_BUCKET_BYTES - 1) / PROF_BUCKET_BYTES);
}

void prof_hist_init(struct prof_hist *h, uint64_t code_start, uint64_t code_end,
		    uint64_t idle_start, uint64_t idle_end, uint32_t *buckets)
{
	*h = (struct prof_hist){
		.code_start = code_start - code_start % PROF_BUCKET_BYTES,
		.n_buckets = prof_hist_buckets_for(code_start, code_end),
		.idle_start = idle_start,
		.idle_end = idle_end,
		.buckets = buckets,
	};
	memset(buckets, 0, h->n_buckets * sizeof(*buckets));
}

size_t prof_hist_take(struct prof_hist *h, uint32_t *snapshot, struct prof_counts *counts)
{
	size_t used = 0;
	uint64_t busy = 0;
	for (size_t i = 0; i < h->n_buckets; i++) {
		snapshot[i] = __atomic_exchange_n(&h->buckets[i], 0, __ATOMIC_RELAXED);
		used += snapshot[i] != 0;
		busy += snapshot[i];
	}
	counts->idle = __atomic_exchange_n(&h->counts.idle, 0, __ATOMIC_RELAXED);
	counts->outside = __atomic_exchange_n(&h->counts.outside, 0, __ATOMIC_RELAXED);
	counts->total = busy + counts->idle + counts->outside;
	return used;
}

size_t prof_hist_format(const struct prof_hist *h, const uint32_t *snapshot, char *buf,
			size_t cap)
{
	size_t len = 0;
	if (cap)
		buf[0] = '\0';
	for (size_t i = 0; i < h->n_buckets; i++) {
		if (!snapshot[i])
			continue;
		char line[PROF_LINE_MAX + 1];
		int n = snprintf(line, sizeof(line), "sample 0x%016" PRIx64 " %" PRIu32 "\n",
				 h->code_start + (uint64_t)i * PROF_BUCKET_BYTES, snapshot[i]);
		if (n < 0 || (size_t)n >= sizeof(line) || len + (size_t)n >= cap)
			break; /* whole lines only */
		memcpy(buf + len, line, (size_t)n + 1);
		len += (size_t)n;
	}
	return len;
}
