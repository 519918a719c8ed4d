/*
 * What the web server shows, taken at once into one snapshot: the volumes (with their
 * LUNs' statistics), the images and spares, the sessions and login counters, memory,
 * uptime, the recent events and the throughput history. The renderers (the HTML page,
 * /metrics, the JSON API: app/http_*.c) read only the snapshot, so they are portable and
 * host-tested on made-up snapshots; status_collect() (firmware) fills it.
 *
 *     struct status_snapshot *s = malloc(sizeof(*s));
 *     status_collect(s, rates);
 *     status_html(&body, s);          // or status_metrics(), status_json_volumes(), ...
 */
#ifndef QEDBOX_STATUS_H
#define QEDBOX_STATUS_H

#include <stdint.h>

#include "disks.h"
#include "event_log.h"
#include "iscsi.h"
#include "scsi.h"
#include "status_rates.h"
#include "strbuf.h"
#include "volumes.h"

#define STATUS_VOLUMES_MAX  DISKS_MAX
#define STATUS_IMAGES_MAX   DISKS_MAX
#define STATUS_SESSIONS_MAX 64 /* the target's connection slots (iscsi.h) */
#define STATUS_EVENTS_MAX   20 /* the latest events the page lists */

struct status_snapshot {
	uint64_t uptime_ns;
	uint64_t heap_in_use, heap_high_water, heap_size;
	struct volume_status volumes[STATUS_VOLUMES_MAX];
	struct scsi_lun_stats lun_stats[STATUS_VOLUMES_MAX]; /* copied: volumes[i].lun's */
	unsigned lun_in_flight[STATUS_VOLUMES_MAX];
	unsigned n_volumes;
	struct image_status images[STATUS_IMAGES_MAX];
	unsigned n_images;
	struct iscsi_session_info sessions[STATUS_SESSIONS_MAX];
	unsigned n_sessions;
	uint64_t logins, login_failures, session_drops;
	uint64_t login_failures_by_reason[ISCSI_LOGIN_FAIL_REASONS];
	struct event_record events[STATUS_EVENTS_MAX]; /* oldest first */
	unsigned n_events;
	struct status_rates rates;
};

/* Firmware: fills s from the running appliance; rates is the sampler's history. */
void status_collect(struct status_snapshot *s, const struct status_rates *rates);

/* The renderers (portable). Each appends to b; b->truncated says the cap was hit. */
void status_html(struct strbuf *b, const struct status_snapshot *s);
void status_metrics(struct strbuf *b, const struct status_snapshot *s);
void status_json_volumes(struct strbuf *b, const struct status_snapshot *s);
void status_json_images(struct strbuf *b, const struct status_snapshot *s);
void status_json_sessions(struct strbuf *b, const struct status_snapshot *s);
/* One volume as the actions answer it; stats NULL when there are none yet. */
void status_json_volume(struct strbuf *b, const struct volume_status *v,
			const struct scsi_lun_stats *stats, const struct status_rates *rates);

#endif
