/*
 * The status page (status.h: status_html): one HTML document with inline CSS and an
 * inline SVG chart, no script and no external asset, refreshed by the browser every 5 s.
 * Every text that comes from a disk, a client or the configuration is escaped
 * (strbuf_html); nothing secret is in the snapshot to begin with.
 */
#include "status.h"

#include <stdio.h>

#define CHART_W 600
#define CHART_H 160

static const char style[] =
	"body{font-family:sans-serif;margin:1.5em;color:#222;background:#fafafa}"
	"h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.1em;margin:1.4em 0 .4em}"
	"table{border-collapse:collapse;background:#fff}"
	"th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;font-size:.9em}"
	"th{background:#eee}td.n{text-align:right;font-variant-numeric:tabular-nums}"
	".warn{color:#b00;font-weight:bold}.ok{color:#070}.muted{color:#888}"
	"ul.events{font-family:monospace;font-size:.85em;padding-left:1.2em}"
	"svg{background:#fff;border:1px solid #ccc}";

/* 1536 -> "1.5 KiB" */
static void put_bytes(struct strbuf *b, uint64_t v)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	unsigned u = 0;
	uint64_t whole = v, tenths = 0;
	while (whole >= 1024 && u < 5) {
		tenths = (whole % 1024) * 10 / 1024;
		whole /= 1024;
		u++;
	}
	if (u == 0)
		strbuf_printf(b, "%llu B", (unsigned long long)v);
	else
		strbuf_printf(b, "%llu.%llu %s", (unsigned long long)whole,
			      (unsigned long long)tenths, unit[u]);
}

static void put_rate(struct strbuf *b, uint64_t per_s)
{
	put_bytes(b, per_s);
	strbuf_puts(b, "/s");
}

static void put_duration(struct strbuf *b, uint64_t ns)
{
	uint64_t s = ns / 1000000000ull;
	strbuf_printf(b, "%llud %02lluh %02llum %02llus", (unsigned long long)(s / 86400),
		      (unsigned long long)(s / 3600 % 24), (unsigned long long)(s / 60 % 60),
		      (unsigned long long)(s % 60));
}

static void put_cell(struct strbuf *b, const char *text)
{
	strbuf_puts(b, "<td>");
	strbuf_html(b, text);
	strbuf_puts(b, "</td>");
}

static void put_bytes_cell(struct strbuf *b, uint64_t v)
{
	strbuf_puts(b, "<td class=\"n\">");
	put_bytes(b, v);
	strbuf_puts(b, "</td>");
}

static void put_summary(struct strbuf *b, const struct status_snapshot *s)
{
	strbuf_puts(b, "<h1>qedbox</h1><p id=\"summary\">up ");
	put_duration(b, s->uptime_ns);
	strbuf_puts(b, " &middot; memory ");
	put_bytes(b, s->heap_in_use);
	strbuf_puts(b, " in use, high-water ");
	put_bytes(b, s->heap_high_water);
	strbuf_puts(b, " of ");
	put_bytes(b, s->heap_size);
	strbuf_printf(b, " &middot; %u volumes, %u sessions &middot; %llu logins, "
			 "%llu failed</p>\n",
		      s->n_volumes, s->n_sessions, (unsigned long long)s->logins,
		      (unsigned long long)s->login_failures);
}

static void put_chain(struct strbuf *b, const struct volume_status *v)
{
	strbuf_puts(b, "<td>");
	strbuf_html(b, v->image);
	for (unsigned i = 0; i < v->chain_len && i < VOLUMES_CHAIN_MAX; i++) {
		strbuf_puts(b, " &rarr; ");
		strbuf_html(b, v->chain[i]);
	}
	strbuf_puts(b, "</td>");
}

static void put_volume_row(struct strbuf *b, const struct status_snapshot *s, unsigned i)
{
	const struct volume_status *v = &s->volumes[i];
	const struct scsi_lun_stats *st = &s->lun_stats[i];
	uint64_t rd = 0, wr = 0;
	status_rates_volume(&s->rates, v->name, &rd, &wr);
	strbuf_puts(b, "<tr class=\"volume\">");
	put_cell(b, v->name);
	put_cell(b, v->target);
	put_bytes_cell(b, v->size);
	put_bytes_cell(b, v->allocated_bytes);
	put_bytes_cell(b, v->size > v->allocated_bytes ? v->size - v->allocated_bytes : 0);
	put_bytes_cell(b, v->cluster_size);
	put_chain(b, v);
	strbuf_printf(b, "<td class=\"%s\">%s</td>", v->need_check ? "warn" : "ok",
		      v->need_check ? "set" : "clean");
	strbuf_puts(b, "<td class=\"n\">");
	put_rate(b, rd);
	strbuf_puts(b, "</td><td class=\"n\">");
	put_rate(b, wr);
	strbuf_printf(b, "</td><td class=\"n\">%u</td><td class=\"n\">%llu</td></tr>\n",
		      s->lun_in_flight[i],
		      (unsigned long long)(st->device_errors + st->space_errors));
}

static void put_volumes(struct strbuf *b, const struct status_snapshot *s)
{
	strbuf_puts(b, "<h2>Volumes</h2><table id=\"volumes\"><tr><th>volume</th><th>target</th>"
		       "<th>size</th><th>allocated</th><th>thin (unallocated)</th>"
		       "<th>cluster</th><th>backing chain</th><th>need-check</th><th>read</th>"
		       "<th>write</th><th>in flight</th><th>errors</th></tr>\n");
	for (unsigned i = 0; i < s->n_volumes; i++)
		put_volume_row(b, s, i);
	if (s->n_volumes == 0)
		strbuf_puts(b, "<tr><td colspan=\"12\" class=\"muted\">no volume served</td></tr>");
	strbuf_puts(b, "</table>\n");
}

/* The y of a rate on the chart, the top being max. */
static unsigned chart_y(uint64_t v, uint64_t max)
{
	return CHART_H - 20 - (unsigned)(v * (CHART_H - 40) / max);
}

/* Where the i-th of n points goes on the chart: the newest at the right edge. */
static unsigned chart_x(unsigned i, unsigned n)
{
	return 40 + (STATUS_RATE_SAMPLES - n + i) * (CHART_W - 50) / (STATUS_RATE_SAMPLES - 1);
}

/* One series as a line, and a dot per sample so that a lone sample shows too. */
static void put_series(struct strbuf *b, const struct status_rates *r, uint64_t max,
		       bool write, const char *color)
{
	unsigned n = status_rates_points(r);
	strbuf_printf(b, "<polyline class=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
			 "points=\"",
		      write ? "write" : "read", color);
	for (unsigned i = 0; i < n; i++) {
		const struct status_rate_point *p = status_rates_point(r, i);
		strbuf_printf(b, "%u,%u ", chart_x(i, n),
			      chart_y(write ? p->write_per_s : p->read_per_s, max));
	}
	strbuf_puts(b, "\"/>");
	for (unsigned i = 0; i < n; i++) {
		const struct status_rate_point *p = status_rates_point(r, i);
		strbuf_printf(b, "<circle cx=\"%u\" cy=\"%u\" r=\"2\" fill=\"%s\"/>", chart_x(i, n),
			      chart_y(write ? p->write_per_s : p->read_per_s, max), color);
	}
}

static void put_chart(struct strbuf *b, const struct status_rates *r)
{
	uint64_t max = 1024;
	for (unsigned i = 0; i < status_rates_points(r); i++) {
		const struct status_rate_point *p = status_rates_point(r, i);
		if (p->read_per_s > max)
			max = p->read_per_s;
		if (p->write_per_s > max)
			max = p->write_per_s;
	}
	strbuf_printf(b, "<h2>Throughput, last %u minutes</h2>\n"
			 "<svg id=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%u\" "
			 "height=\"%u\" viewBox=\"0 0 %u %u\" role=\"img\">",
		      STATUS_RATE_SAMPLES * STATUS_RATE_PERIOD_S / 60, CHART_W, CHART_H, CHART_W,
		      CHART_H);
	strbuf_printf(b, "<line x1=\"40\" y1=\"%u\" x2=\"%u\" y2=\"%u\" stroke=\"#999\"/>",
		      CHART_H - 20, CHART_W - 10, CHART_H - 20);
	strbuf_printf(b, "<text x=\"2\" y=\"16\" font-size=\"11\">");
	put_rate(b, max);
	strbuf_printf(b, "</text><text x=\"2\" y=\"%u\" font-size=\"11\">0</text>", CHART_H - 22);
	strbuf_printf(b, "<text x=\"40\" y=\"%u\" font-size=\"11\" fill=\"#1565c0\">read</text>"
			 "<text x=\"90\" y=\"%u\" font-size=\"11\" fill=\"#c62828\">write</text>",
		      CHART_H - 4, CHART_H - 4);
	put_series(b, r, max, false, "#1565c0");
	put_series(b, r, max, true, "#c62828");
	strbuf_puts(b, "</svg>\n");
}

static void put_sessions(struct strbuf *b, const struct status_snapshot *s)
{
	strbuf_puts(b, "<h2>Sessions</h2><table id=\"sessions\"><tr><th>initiator</th>"
		       "<th>address</th><th>target</th><th>auth</th><th>in flight</th>"
		       "<th>commands</th><th>bytes in</th><th>bytes out</th></tr>\n");
	for (unsigned i = 0; i < s->n_sessions; i++) {
		const struct iscsi_session_info *x = &s->sessions[i];
		strbuf_puts(b, "<tr class=\"session\">");
		put_cell(b, x->initiator);
		put_cell(b, x->address);
		put_cell(b, x->discovery ? "(discovery)" : x->target);
		put_cell(b, x->auth ? x->auth : "");
		strbuf_printf(b, "<td class=\"n\">%u</td><td class=\"n\">%llu</td>",
			      x->cmds_in_flight, (unsigned long long)x->cmds);
		put_bytes_cell(b, x->bytes_in);
		put_bytes_cell(b, x->bytes_out);
		strbuf_puts(b, "</tr>\n");
	}
	if (s->n_sessions == 0)
		strbuf_puts(b, "<tr><td colspan=\"8\" class=\"muted\">no session</td></tr>");
	strbuf_puts(b, "</table>\n");
}

static void put_images(struct strbuf *b, const struct status_snapshot *s)
{
	strbuf_puts(b, "<h2>Disks</h2><table id=\"images\"><tr><th>serial</th><th>role</th>"
		       "<th>disk</th><th>image size</th><th>allocated</th><th>backing</th>"
		       "<th>state</th></tr>\n");
	for (unsigned i = 0; i < s->n_images; i++) {
		const struct image_status *m = &s->images[i];
		strbuf_printf(b, "<tr class=\"image %s\">", m->role ? m->role : "none");
		put_cell(b, m->serial);
		put_cell(b, m->role ? m->role : "");
		put_bytes_cell(b, m->disk_bytes);
		if (m->qed) {
			put_bytes_cell(b, m->size);
			put_bytes_cell(b, m->allocated_bytes);
			put_cell(b, m->backing);
			strbuf_printf(b, "<td>%s%s</td>", m->read_only ? "read-only" : "read-write",
				      m->need_check ? ", need-check" : "");
		} else {
			strbuf_puts(b, "<td></td><td></td><td></td><td class=\"muted\">no image</td>");
		}
		strbuf_puts(b, "</tr>\n");
	}
	strbuf_puts(b, "</table>\n");
}

static void put_events(struct strbuf *b, const struct status_snapshot *s)
{
	strbuf_puts(b, "<h2>Recent events</h2><ul id=\"events\" class=\"events\">\n");
	for (unsigned i = s->n_events; i-- > 0;) { /* newest first */
		const struct event_record *e = &s->events[i];
		strbuf_printf(b, "<li class=\"event\">[%llu.%03llu] %s ",
			      (unsigned long long)(e->time_ns / 1000000000ull),
			      (unsigned long long)(e->time_ns / 1000000 % 1000),
			      event_kind_name(e->kind));
		strbuf_html(b, e->text);
		strbuf_puts(b, "</li>\n");
	}
	if (s->n_events == 0)
		strbuf_puts(b, "<li class=\"muted\">none yet</li>\n");
	strbuf_puts(b, "</ul>\n");
}

void status_html(struct strbuf *b, const struct status_snapshot *s)
{
	strbuf_printf(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			 "<meta http-equiv=\"refresh\" content=\"5\"><title>qedbox status</title>"
			 "<style>%s</style></head><body>\n",
		      style);
	put_summary(b, s);
	put_volumes(b, s);
	put_chart(b, &s->rates);
	put_sessions(b, s);
	put_images(b, s);
	put_events(b, s);
	strbuf_puts(b, "<p class=\"muted\">Also: <a href=\"/metrics\">/metrics</a>, "
		       "<a href=\"/api/v1/volumes\">/api/v1/volumes</a>, "
		       "<a href=\"/api/v1/images\">/api/v1/images</a>, "
		       "<a href=\"/api/v1/sessions\">/api/v1/sessions</a></p>\n</body></html>\n");
}
