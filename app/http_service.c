/*
 * The web server's routes (http_service.h). Every request first passes the address check
 * (http_allow=); then
 *
 *   GET|HEAD /                  the status page (HTML)
 *   GET|HEAD /metrics           Prometheus text format
 *   GET|HEAD /api/v1/volumes    JSON; also /api/v1/images and /api/v1/sessions
 *   POST /api/v1/volumes/NAME/snapshot   {"onto": "SPARE"}   needs the admin token
 *   POST /api/v1/images/SERIAL/clone     {"onto": "SPARE"}   needs the admin token
 *
 * Handlers run in a task of their own (net/http_server.h): the actions block on disk I/O.
 * The token is only compared, never written anywhere.
 */
#include "http_service.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_access.h"
#include "http_server.h"
#include "platform.h"
#include "status.h"

#define JSON_TYPE "application/json"
#define TEXT_TYPE "text/plain; charset=utf-8"

static struct {
	const struct qedbox_config *cfg;
	struct status_rates rates;
	uint64_t next_sample_ns;
	struct volume_status volumes[STATUS_VOLUMES_MAX]; /* the sampler's, off the stack */
	struct status_rate_count counts[STATUS_VOLUMES_MAX];
} svc;

typedef void (*render_fn)(struct strbuf *b, const struct status_snapshot *s);

static const struct page {
	const char *path, *type;
	render_fn render;
} pages[] = {
	{ "/", "text/html; charset=utf-8", status_html },
	{ "/metrics", "text/plain; version=0.0.4; charset=utf-8", status_metrics },
	{ "/api/v1/volumes", JSON_TYPE, status_json_volumes },
	{ "/api/v1/images", JSON_TYPE, status_json_images },
	{ "/api/v1/sessions", JSON_TYPE, status_json_sessions },
};

static void answer_text(struct http_exchange *x, int status, const char *text)
{
	x->status = status;
	x->content_type = TEXT_TYPE;
	strbuf_puts(&x->body, text);
}

static void answer_error(struct http_exchange *x, int status, const char *why)
{
	x->status = status;
	x->content_type = JSON_TYPE;
	strbuf_puts(&x->body, "{\"error\":");
	strbuf_json(&x->body, why);
	strbuf_puts(&x->body, "}\n");
}

static const struct page *page_at(const char *path)
{
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
		if (strcmp(pages[i].path, path) == 0)
			return &pages[i];
	return NULL;
}

static void serve_page(struct http_exchange *x, const struct page *page)
{
	struct status_snapshot *s = malloc(sizeof(*s));
	if (!s) {
		answer_text(x, 503, "out of memory\n");
		return;
	}
	status_collect(s, &svc.rates);
	x->content_type = page->type;
	page->render(&x->body, s);
	free(s);
}

/* An action's path: PREFIX NAME SUFFIX, NAME a serial. */
static bool action_path(const char *path, const char *prefix, const char *suffix, char *name)
{
	size_t p = strlen(prefix), s = strlen(suffix), n = strlen(path);
	if (n <= p + s || strncmp(path, prefix, p) != 0 || strcmp(path + n - s, suffix) != 0)
		return false;
	size_t len = n - p - s;
	if (len > BLKDEV_SERIAL_MAX || memchr(path + p, '/', len))
		return false;
	memcpy(name, path + p, len);
	name[len] = '\0';
	return true;
}

/* 0 when the request may act; else the answer is written. */
static int authorize(struct http_exchange *x)
{
	switch (http_check_token(svc.cfg, x->req->authorization)) {
	case HTTP_TOKEN_OK:
		return 0;
	case HTTP_TOKEN_NONE_CONFIGURED:
		answer_error(x, 403, "no admin_token configured");
		break;
	case HTTP_TOKEN_MISSING:
		x->headers = "WWW-Authenticate: Bearer realm=\"qedbox\"\r\n";
		answer_error(x, 401, "Authorization: Bearer TOKEN required");
		break;
	case HTTP_TOKEN_WRONG:
		answer_error(x, 403, "wrong token");
		break;
	}
	return -EACCES;
}

static int action_status(int rc)
{
	switch (rc) {
	case -ENOENT: return 404;
	case -EBUSY:
	case -EROFS:
	case -EPERM:
	case -ENOSPC: return 409;
	default: return 500;
	}
}

static void run_action(struct http_exchange *x, bool snapshot, const char *name)
{
	char spare[BLKDEV_SERIAL_MAX + 1], why[160] = "";
	if (authorize(x) < 0)
		return;
	if (http_body_string(x->req->body, "onto", spare, sizeof(spare)) < 0 || !spare[0]) {
		answer_error(x, 400, "expected a JSON body {\"onto\": \"SPARE-SERIAL\"}");
		return;
	}
	struct volume_status v;
	int rc = snapshot ? volumes_snapshot(name, spare, &v, why, sizeof(why))
			  : volumes_clone(name, spare, &v, why, sizeof(why));
	if (rc < 0) {
		answer_error(x, action_status(rc), why[0] ? why : strerror(-rc));
		return;
	}
	x->content_type = JSON_TYPE;
	status_json_volume(&x->body, &v, v.lun ? &v.lun->stats : NULL, NULL);
	strbuf_puts(&x->body, "\n");
}

static void handle(void *ctx, struct http_exchange *x)
{
	(void)ctx;
	const char *path = x->req->path;
	char name[BLKDEV_SERIAL_MAX + 1];
	bool snapshot = action_path(path, "/api/v1/volumes/", "/snapshot", name);
	bool clone = !snapshot && action_path(path, "/api/v1/images/", "/clone", name);
	const struct page *page = page_at(path);
	if (!http_peer_allowed(svc.cfg, x->peer)) {
		answer_text(x, 403, "forbidden: your address is not in http_allow\n");
	} else if (snapshot || clone) {
		if (x->req->method == HTTP_POST) {
			run_action(x, snapshot, name);
		} else {
			x->headers = "Allow: POST\r\n";
			answer_text(x, 405, "use POST\n");
		}
	} else if (page) {
		if (x->req->method != HTTP_POST) {
			serve_page(x, page);
		} else {
			x->headers = "Allow: GET, HEAD\r\n";
			answer_text(x, 405, "use GET\n");
		}
	} else {
		answer_text(x, 404, "not found\n");
	}
}

/* Every STATUS_RATE_PERIOD_S, the bytes each volume read and wrote so far. */
static bool sample_poll(void *ctx)
{
	(void)ctx;
	uint64_t now = clock_ns();
	if (now < svc.next_sample_ns) {
		loop_wake_at(svc.next_sample_ns);
		return false;
	}
	unsigned n = volumes_list(svc.volumes, STATUS_VOLUMES_MAX);
	if (n > STATUS_VOLUMES_MAX)
		n = STATUS_VOLUMES_MAX;
	for (unsigned i = 0; i < n; i++) {
		const struct scsi_lun *lun = svc.volumes[i].lun;
		struct status_rate_count *c = &svc.counts[i];
		snprintf(c->name, sizeof(c->name), "%s", svc.volumes[i].name);
		c->read_bytes = lun ? lun->stats.cls[SCSI_STAT_READ].bytes : 0;
		c->written_bytes = lun ? lun->stats.cls[SCSI_STAT_WRITE].bytes : 0;
	}
	status_rates_sample(&svc.rates, now, svc.counts, n);
	svc.next_sample_ns = now + STATUS_RATE_PERIOD_S * 1000000000ull;
	loop_wake_at(svc.next_sample_ns);
	return false; /* a sample is no progress: the loop may halt */
}

int http_service_start(const struct qedbox_config *cfg)
{
	svc.cfg = cfg;
	status_rates_init(&svc.rates);
	int rc = http_server_start(cfg->http_port, handle, NULL);
	if (rc < 0)
		return rc;
	loop_add_poller(sample_poll, NULL);
	printf("http: listening on port %u (%s%s)\n", cfg->http_port,
	       cfg->n_http_allow ? "pages for http_allow only" : "pages for anyone",
	       cfg->admin_token[0] ? ", actions with the admin token" : ", no actions: no admin_token");
	return 0;
}
