/*
 * The JSON API's answers (status.h: status_json_*): arrays of objects, every string
 * through strbuf_json (escaped, always valid UTF-8), numbers as integers. The same facts
 * as the status page, nothing secret.
 */
#include "status.h"

static void key(struct strbuf *b, const char *name, bool first)
{
	if (!first)
		strbuf_puts(b, ",");
	strbuf_json(b, name);
	strbuf_puts(b, ":");
}

static void num(struct strbuf *b, const char *name, uint64_t v)
{
	key(b, name, false);
	strbuf_printf(b, "%llu", (unsigned long long)v);
}

static void str(struct strbuf *b, const char *name, const char *v)
{
	key(b, name, false);
	strbuf_json(b, v ? v : "");
}

static void boolean(struct strbuf *b, const char *name, bool v)
{
	key(b, name, false);
	strbuf_puts(b, v ? "true" : "false");
}

static void class_stats(struct strbuf *b, const char *name, const struct scsi_class_stats *st)
{
	key(b, name, false);
	strbuf_printf(b, "{\"ops\":%llu,\"bytes\":%llu,\"errors\":%llu,\"latency_ns_sum\":%llu}",
		      (unsigned long long)st->ops, (unsigned long long)st->bytes,
		      (unsigned long long)st->errors, (unsigned long long)st->latency_ns_sum);
}

void status_json_volume(struct strbuf *b, const struct volume_status *v,
			const struct scsi_lun_stats *stats, const struct status_rates *rates)
{
	strbuf_puts(b, "{");
	key(b, "name", true);
	strbuf_json(b, v->name);
	str(b, "target", v->target);
	str(b, "image", v->image);
	num(b, "size", v->size);
	num(b, "allocated_bytes", v->allocated_bytes);
	num(b, "thin_bytes", v->size > v->allocated_bytes ? v->size - v->allocated_bytes : 0);
	num(b, "cluster_size", v->cluster_size);
	boolean(b, "need_check", v->need_check);
	key(b, "backing_chain", false);
	strbuf_puts(b, "[");
	for (unsigned i = 0; i < v->chain_len && i < VOLUMES_CHAIN_MAX; i++) {
		if (i)
			strbuf_puts(b, ",");
		strbuf_json(b, v->chain[i]);
	}
	strbuf_puts(b, "]");
	if (rates) {
		uint64_t rd, wr;
		status_rates_volume(rates, v->name, &rd, &wr);
		num(b, "read_bytes_per_s", rd);
		num(b, "write_bytes_per_s", wr);
	}
	if (stats) {
		class_stats(b, "read", &stats->cls[SCSI_STAT_READ]);
		class_stats(b, "write", &stats->cls[SCSI_STAT_WRITE]);
		class_stats(b, "flush", &stats->cls[SCSI_STAT_FLUSH]);
		num(b, "device_errors", stats->device_errors);
		num(b, "space_errors", stats->space_errors);
	}
	strbuf_puts(b, "}");
}

void status_json_volumes(struct strbuf *b, const struct status_snapshot *s)
{
	strbuf_puts(b, "{\"volumes\":[");
	for (unsigned i = 0; i < s->n_volumes; i++) {
		if (i)
			strbuf_puts(b, ",");
		status_json_volume(b, &s->volumes[i], &s->lun_stats[i], &s->rates);
	}
	strbuf_puts(b, "]}\n");
}

static void image(struct strbuf *b, const struct image_status *m)
{
	strbuf_puts(b, "{");
	key(b, "serial", true);
	strbuf_json(b, m->serial);
	str(b, "role", m->role);
	num(b, "disk_bytes", m->disk_bytes);
	boolean(b, "qed", m->qed);
	if (m->qed) {
		num(b, "size", m->size);
		num(b, "allocated_bytes", m->allocated_bytes);
		num(b, "cluster_size", m->cluster_size);
		boolean(b, "read_only", m->read_only);
		boolean(b, "need_check", m->need_check);
		str(b, "backing", m->backing);
		str(b, "volume", m->volume);
	}
	strbuf_puts(b, "}");
}

void status_json_images(struct strbuf *b, const struct status_snapshot *s)
{
	strbuf_puts(b, "{\"images\":[");
	for (unsigned i = 0; i < s->n_images; i++) {
		if (i)
			strbuf_puts(b, ",");
		image(b, &s->images[i]);
	}
	strbuf_puts(b, "]}\n");
}

static void session(struct strbuf *b, const struct iscsi_session_info *x)
{
	strbuf_puts(b, "{");
	key(b, "initiator", true);
	strbuf_json(b, x->initiator);
	str(b, "isid", x->isid);
	str(b, "target", x->target);
	str(b, "address", x->address);
	str(b, "auth", x->auth);
	boolean(b, "discovery", x->discovery);
	num(b, "connections", x->connections);
	num(b, "cmds_in_flight", x->cmds_in_flight);
	num(b, "cmds", x->cmds);
	num(b, "bytes_in", x->bytes_in);
	num(b, "bytes_out", x->bytes_out);
	strbuf_puts(b, "}");
}

void status_json_sessions(struct strbuf *b, const struct status_snapshot *s)
{
	strbuf_printf(b, "{\"logins\":%llu,\"login_failures\":%llu,\"session_drops\":%llu,"
			 "\"sessions\":[",
		      (unsigned long long)s->logins, (unsigned long long)s->login_failures,
		      (unsigned long long)s->session_drops);
	for (unsigned i = 0; i < s->n_sessions; i++) {
		if (i)
			strbuf_puts(b, ",");
		session(b, &s->sessions[i]);
	}
	strbuf_puts(b, "]}\n");
}
