/*
 * The snapshot of the running appliance (status.h: status_collect), for the web server.
 * Reads memory only, from the loop or a task: the volumes and images (app/volumes.h),
 * each LUN's statistics, the iSCSI target's sessions and counters, the heap, the event
 * ring and the throughput history. Never blocks.
 */
#include "status.h"

#include <string.h>

#include "iscsi_lwip.h"
#include "platform.h"

static void collect_volumes(struct status_snapshot *s)
{
	unsigned n = volumes_list(s->volumes, STATUS_VOLUMES_MAX);
	s->n_volumes = n < STATUS_VOLUMES_MAX ? n : STATUS_VOLUMES_MAX;
	for (unsigned i = 0; i < s->n_volumes; i++) {
		const struct scsi_lun *lun = s->volumes[i].lun;
		if (lun) {
			s->lun_stats[i] = lun->stats;
			s->lun_in_flight[i] = lun->in_flight;
		}
	}
	n = volumes_images(s->images, STATUS_IMAGES_MAX);
	s->n_images = n < STATUS_IMAGES_MAX ? n : STATUS_IMAGES_MAX;
}

static void collect_sessions(struct status_snapshot *s)
{
	const struct iscsi_server *srv = iscsi_lwip_server();
	if (!srv)
		return;
	s->n_sessions = iscsi_server_sessions(srv, s->sessions, STATUS_SESSIONS_MAX);
	s->logins = srv->logins;
	s->login_failures = srv->login_failures;
	s->session_drops = srv->session_drops;
	memcpy(s->login_failures_by_reason, srv->login_failures_by_reason,
	       sizeof(s->login_failures_by_reason));
}

void status_collect(struct status_snapshot *s, const struct status_rates *rates)
{
	memset(s, 0, sizeof(*s));
	s->uptime_ns = clock_ns();
	heap_usage(&s->heap_in_use, &s->heap_high_water, &s->heap_size);
	collect_volumes(s);
	collect_sessions(s);
	s->n_events = event_log_recent(s->events, STATUS_EVENTS_MAX);
	s->rates = *rates;
}
