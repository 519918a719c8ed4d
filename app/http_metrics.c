/*
 * /metrics (status.h: status_metrics): the Prometheus text exposition format 0.0.4. One
 * HELP and TYPE line per family, then its samples; label values escaped (\\, \", \n);
 * latency histograms as cumulative _bucket{le=...} lines with _sum and _count, in
 * seconds. Counters end in _total. Nothing here is a secret: names, sizes and counts.
 */
#include "status.h"

#include <stdio.h>

static void family(struct strbuf *b, const char *name, const char *type, const char *help)
{
	strbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static void label_value(struct strbuf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			strbuf_puts(b, "\\\\");
		else if (*s == '"')
			strbuf_puts(b, "\\\"");
		else if (*s == '\n')
			strbuf_puts(b, "\\n");
		else
			strbuf_append(b, s, 1);
	}
}

static void volume_sample(struct strbuf *b, const char *name, const char *volume, uint64_t v)
{
	strbuf_printf(b, "%s{volume=\"", name);
	label_value(b, volume);
	strbuf_printf(b, "\"} %llu\n", (unsigned long long)v);
}

static void gauge(struct strbuf *b, const char *name, const char *help, uint64_t v)
{
	family(b, name, "gauge", help);
	strbuf_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

static const char *const class_word[SCSI_STAT_CLASSES] = { "read", "write", "flush", "other" };

/* Per volume: size, allocation, state. */
static void volume_facts(struct strbuf *b, const struct status_snapshot *s)
{
	static const struct {
		const char *name, *help;
	} facts[] = {
		{ "qedbox_volume_size_bytes", "Size of the volume as initiators see it." },
		{ "qedbox_volume_allocated_bytes", "Bytes of data clusters allocated in the served image." },
		{ "qedbox_volume_allocated_clusters", "Data clusters allocated in the served image." },
		{ "qedbox_volume_cluster_size_bytes", "Cluster size of the served image." },
		{ "qedbox_volume_need_check", "1 while the image's need-check bit is set." },
		{ "qedbox_volume_in_flight", "SCSI commands executing on the volume now." },
	};
	for (unsigned f = 0; f < sizeof(facts) / sizeof(facts[0]); f++) {
		family(b, facts[f].name, "gauge", facts[f].help);
		for (unsigned i = 0; i < s->n_volumes; i++) {
			const struct volume_status *v = &s->volumes[i];
			uint64_t values[] = { v->size, v->allocated_bytes,
					      v->cluster_size ? v->allocated_bytes / v->cluster_size : 0,
					      v->cluster_size, v->need_check, s->lun_in_flight[i] };
			volume_sample(b, facts[f].name, v->name, values[f]);
		}
	}
}

/* Per volume and class: ops, bytes, errors. */
static void volume_counters(struct strbuf *b, const struct status_snapshot *s)
{
	char name[64], help[128];
	static const char *const what[] = { "ops", "bytes", "errors" };
	static const char *const says[] = { "commands ended", "bytes moved by commands",
					    "commands ended with a status other than GOOD" };
	for (unsigned c = 0; c < SCSI_STAT_FLUSH + 1; c++)
		for (unsigned w = 0; w < 3; w++) {
			if (c == SCSI_STAT_FLUSH && w == 1)
				continue; /* a flush moves no bytes */
			snprintf(name, sizeof(name), "qedbox_volume_%s_%s_total", class_word[c], what[w]);
			snprintf(help, sizeof(help), "%s: %s.", class_word[c], says[w]);
			family(b, name, "counter", help);
			for (unsigned i = 0; i < s->n_volumes; i++) {
				const struct scsi_class_stats *st = &s->lun_stats[i].cls[c];
				uint64_t v = w == 0 ? st->ops : w == 1 ? st->bytes : st->errors;
				volume_sample(b, name, s->volumes[i].name, v);
			}
		}
	family(b, "qedbox_volume_device_errors_total", "counter",
	       "Commands the volume's device failed with an I/O error.");
	for (unsigned i = 0; i < s->n_volumes; i++)
		volume_sample(b, "qedbox_volume_device_errors_total", s->volumes[i].name,
			      s->lun_stats[i].device_errors);
	family(b, "qedbox_volume_space_errors_total", "counter",
	       "Writes refused for lack of space on the volume's disk.");
	for (unsigned i = 0; i < s->n_volumes; i++)
		volume_sample(b, "qedbox_volume_space_errors_total", s->volumes[i].name,
			      s->lun_stats[i].space_errors);
}

static void histogram_series(struct strbuf *b, const char *name, const char *volume,
			     const struct scsi_class_stats *st)
{
	uint64_t cumulative = 0;
	for (unsigned k = 0; k < SCSI_LATENCY_BUCKETS; k++) {
		cumulative += st->latency[k];
		strbuf_printf(b, "%s_bucket{volume=\"", name);
		label_value(b, volume);
		if (k < SCSI_LATENCY_BOUNDS)
			strbuf_printf(b, "\",le=\"%u.%06u\"} %llu\n", scsi_latency_bounds_us[k] / 1000000,
				      scsi_latency_bounds_us[k] % 1000000, (unsigned long long)cumulative);
		else
			strbuf_printf(b, "\",le=\"+Inf\"} %llu\n", (unsigned long long)cumulative);
	}
	strbuf_printf(b, "%s_sum{volume=\"", name);
	label_value(b, volume);
	strbuf_printf(b, "\"} %llu.%09llu\n", (unsigned long long)(st->latency_ns_sum / 1000000000ull),
		      (unsigned long long)(st->latency_ns_sum % 1000000000ull));
	strbuf_printf(b, "%s_count{volume=\"", name);
	label_value(b, volume);
	strbuf_printf(b, "\"} %llu\n", (unsigned long long)cumulative);
}

static void volume_latencies(struct strbuf *b, const struct status_snapshot *s)
{
	char name[64], help[128];
	for (unsigned c = 0; c < SCSI_STAT_FLUSH + 1; c++) {
		snprintf(name, sizeof(name), "qedbox_volume_%s_latency_seconds", class_word[c]);
		snprintf(help, sizeof(help), "Time from the start to the end of %s commands.",
			 class_word[c]);
		family(b, name, "histogram", help);
		for (unsigned i = 0; i < s->n_volumes; i++)
			histogram_series(b, name, s->volumes[i].name, &s->lun_stats[i].cls[c]);
	}
}

static void sessions(struct strbuf *b, const struct status_snapshot *s)
{
	gauge(b, "qedbox_sessions", "iSCSI sessions logged in now, discovery ones included.",
	      s->n_sessions);
	family(b, "qedbox_logins_total", "counter", "Logins that reached the full feature phase.");
	strbuf_printf(b, "qedbox_logins_total %llu\n", (unsigned long long)s->logins);
	family(b, "qedbox_login_failures_total", "counter", "Logins refused, by reason.");
	for (unsigned r = 0; r < ISCSI_LOGIN_FAIL_REASONS; r++) {
		strbuf_puts(b, "qedbox_login_failures_total{reason=\"");
		label_value(b, iscsi_login_failure_name(r));
		strbuf_printf(b, "\"} %llu\n", (unsigned long long)s->login_failures_by_reason[r]);
	}
	family(b, "qedbox_session_drops_total", "counter", "Sessions that ended without a Logout.");
	strbuf_printf(b, "qedbox_session_drops_total %llu\n", (unsigned long long)s->session_drops);
}

void status_metrics(struct strbuf *b, const struct status_snapshot *s)
{
	gauge(b, "qedbox_uptime_seconds", "Seconds since boot.", s->uptime_ns / 1000000000ull);
	gauge(b, "qedbox_memory_in_use_bytes", "Heap bytes allocated now.", s->heap_in_use);
	gauge(b, "qedbox_memory_high_water_bytes", "The most heap the allocator ever took.",
	      s->heap_high_water);
	gauge(b, "qedbox_memory_heap_bytes", "Size of the heap.", s->heap_size);
	gauge(b, "qedbox_volumes", "Volumes served.", s->n_volumes);
	volume_facts(b, s);
	volume_counters(b, s);
	volume_latencies(b, s);
	sessions(b, s);
}
