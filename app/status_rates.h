/*
 * The throughput history of the status page: every STATUS_RATE_PERIOD_S seconds a sample
 * of the bytes read and written so far, all volumes together and per volume, in a ring of
 * the last STATUS_RATE_SAMPLES (5 minutes). Portable; the firmware samples from a loop
 * poller (app/http_service.c), the host tests with made-up clocks.
 *
 *     struct status_rates r;
 *     status_rates_init(&r);
 *     status_rates_sample(&r, now_ns, counts, n);   // once per period
 *     status_rates_volume(&r, "vol0", &rd, &wr);   // bytes/s over the last period
 */
#ifndef QEDBOX_STATUS_RATES_H
#define QEDBOX_STATUS_RATES_H

#include <stdbool.h>
#include <stdint.h>

#include "blkdev.h"

#define STATUS_RATE_PERIOD_S 5
#define STATUS_RATE_SAMPLES  60 /* 5 minutes */
#define STATUS_RATE_VOLUMES  16

/* Bytes one volume moved since start. */
struct status_rate_count {
	char name[BLKDEV_SERIAL_MAX + 1];
	uint64_t read_bytes, written_bytes;
};

/* The rate over one period, bytes per second, all volumes together. */
struct status_rate_point {
	uint64_t time_ns; /* end of the period */
	uint64_t read_per_s, write_per_s;
};

struct status_rates {
	struct status_rate_point points[STATUS_RATE_SAMPLES]; /* a ring */
	unsigned next, count;
	bool have_last;
	uint64_t last_ns;
	struct status_rate_count last[STATUS_RATE_VOLUMES];   /* the previous sample's */
	unsigned n_last;
	struct status_rate_point volume_rate[STATUS_RATE_VOLUMES]; /* per last[i] */
};

void status_rates_init(struct status_rates *r);
/* Records counts (at most STATUS_RATE_VOLUMES are kept) at now_ns. The first call only
 * sets the baseline. A volume new since the last sample counts from zero (its LUN's
 * counters start with it). */
void status_rates_sample(struct status_rates *r, uint64_t now_ns,
			 const struct status_rate_count *counts, unsigned n);
/* The i-th point, oldest first, of status_rates_points(r). */
unsigned status_rates_points(const struct status_rates *r);
const struct status_rate_point *status_rates_point(const struct status_rates *r, unsigned i);
/* The named volume's rate over the last period; false (and zeros) when unknown. */
bool status_rates_volume(const struct status_rates *r, const char *name, uint64_t *read_per_s,
			 uint64_t *write_per_s);

#endif
