/*
 * The throughput history (status_rates.h). A rate is the difference of two samples'
 * counts over the time between them; a counter that went backwards (a volume that was
 * replaced) counts as a new start.
 */
#include "status_rates.h"

#include <string.h>

void status_rates_init(struct status_rates *r)
{
	memset(r, 0, sizeof(*r));
}

/* Bytes per second from two counts ns apart, in milliseconds so nothing overflows. */
static uint64_t per_second(uint64_t now, uint64_t before, uint64_t ns)
{
	uint64_t ms = ns / 1000000, diff = now - before;
	if (now < before || ms == 0)
		return 0;
	return diff / ms * 1000 + diff % ms * 1000 / ms;
}

static const struct status_rate_count *find(const struct status_rate_count *c, unsigned n,
					    const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(c[i].name, name) == 0)
			return &c[i];
	return NULL;
}

void status_rates_sample(struct status_rates *r, uint64_t now_ns,
			 const struct status_rate_count *counts, unsigned n)
{
	if (n > STATUS_RATE_VOLUMES)
		n = STATUS_RATE_VOLUMES;
	uint64_t ns = r->have_last && now_ns > r->last_ns ? now_ns - r->last_ns : 0;
	struct status_rate_point total = { now_ns, 0, 0 };
	for (unsigned i = 0; i < n; i++) {
		const struct status_rate_count *before = find(r->last, r->n_last, counts[i].name);
		struct status_rate_point *p = &r->volume_rate[i];
		*p = (struct status_rate_point){ now_ns, 0, 0 };
		if (ns) { /* a volume new since the last sample counted from zero */
			p->read_per_s = per_second(counts[i].read_bytes, before ? before->read_bytes : 0, ns);
			p->write_per_s = per_second(counts[i].written_bytes,
						    before ? before->written_bytes : 0, ns);
		}
		total.read_per_s += p->read_per_s;
		total.write_per_s += p->write_per_s;
	}
	if (ns) {
		r->points[r->next] = total;
		r->next = (r->next + 1) % STATUS_RATE_SAMPLES;
		if (r->count < STATUS_RATE_SAMPLES)
			r->count++;
	}
	memcpy(r->last, counts, n * sizeof(*counts));
	r->n_last = n;
	r->last_ns = now_ns;
	r->have_last = true;
}

unsigned status_rates_points(const struct status_rates *r)
{
	return r->count;
}

const struct status_rate_point *status_rates_point(const struct status_rates *r, unsigned i)
{
	unsigned oldest = (r->next + STATUS_RATE_SAMPLES - r->count) % STATUS_RATE_SAMPLES;
	return &r->points[(oldest + i) % STATUS_RATE_SAMPLES];
}

bool status_rates_volume(const struct status_rates *r, const char *name, uint64_t *read_per_s,
			 uint64_t *write_per_s)
{
	*read_per_s = *write_per_s = 0;
	for (unsigned i = 0; i < r->n_last; i++)
		if (strcmp(r->last[i].name, name) == 0) {
			*read_per_s = r->volume_rate[i].read_per_s;
			*write_per_s = r->volume_rate[i].write_per_s;
			return true;
		}
	return false;
}
