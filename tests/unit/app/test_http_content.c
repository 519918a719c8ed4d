/*
 * Host tests of what the web server shows (app/http_html.c, http_metrics.c, http_json.c),
 * of who may see it (app/http_access.c) and of the throughput history
 * (app/status_rates.c), on a made-up snapshot whose names try to break out of HTML,
 * JSON and label values. When promtool is installed, it checks the metrics too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "http_access.h"
#include "status.h"

#define HOSTILE "<b>\"x\\'&\n"

static struct status_snapshot *make_snapshot(void)
{
	struct status_snapshot *s = calloc(1, sizeof(*s));
	s->uptime_ns = 3723ull * 1000000000ull;
	s->heap_in_use = 3 << 20;
	s->heap_high_water = 5 << 20;
	s->heap_size = 400 << 20;
	s->n_volumes = 2;
	struct volume_status *v = &s->volumes[0];
	strcpy(v->name, "vol0");
	strcpy(v->target, "iqn.2026-11.org.qedbox:vol0");
	strcpy(v->image, "snap0");
	v->size = 64 << 20;
	v->allocated_bytes = 2 << 20;
	v->cluster_size = 65536;
	strcpy(v->chain[0], "vol0");
	v->chain_len = 1;
	v = &s->volumes[1];
	strcpy(v->name, HOSTILE);
	strcpy(v->target, "iqn.2026-11.org.qedbox:" HOSTILE);
	strcpy(v->image, HOSTILE);
	v->size = 1 << 30;
	v->cluster_size = 4096;
	v->need_check = true;
	struct scsi_class_stats *rd = &s->lun_stats[0].cls[SCSI_STAT_READ];
	rd->ops = 10;
	rd->bytes = 40960;
	rd->latency[0] = 4;
	rd->latency[3] = 5;
	rd->latency[SCSI_LATENCY_BUCKETS - 1] = 1;
	rd->latency_ns_sum = 1500000000ull;
	s->lun_stats[0].device_errors = 2;
	s->lun_in_flight[0] = 3;
	s->n_images = 2;
	strcpy(s->images[0].serial, "vol0");
	s->images[0].role = "backing";
	s->images[0].qed = true;
	s->images[0].read_only = true;
	strcpy(s->images[1].serial, "spare0");
	s->images[1].role = "spare";
	s->images[1].disk_bytes = 1 << 30;
	s->n_sessions = 1;
	struct iscsi_session_info *x = &s->sessions[0];
	strcpy(x->initiator, "iqn.1994-05.com.example:" HOSTILE);
	strcpy(x->target, "iqn.2026-11.org.qedbox:vol0");
	strcpy(x->address, "10.0.2.2:51234");
	x->auth = "CHAP";
	x->cmds_in_flight = 2;
	x->bytes_in = 12345;
	s->logins = 4;
	s->login_failures = 1;
	s->login_failures_by_reason[ISCSI_LOGIN_FAIL_AUTH] = 1;
	s->n_events = 2;
	s->events[0] = (struct event_record){ 1000000000ull, EVENT_LOGIN, "iqn.x from 10.0.2.2" };
	s->events[1] = (struct event_record){ 2000000000ull, EVENT_NOTE, HOSTILE };
	status_rates_init(&s->rates);
	struct status_rate_count c[1] = { { "vol0", 0, 0 } };
	for (unsigned i = 0; i <= 70; i++) {
		c[0].read_bytes += 5 * 1000000;
		c[0].written_bytes += 5 * 2000;
		status_rates_sample(&s->rates, (uint64_t)i * 5000000000ull, c, 1);
	}
	return s;
}

static void test_html(void)
{
	struct status_snapshot *s = make_snapshot();
	struct strbuf b;
	strbuf_init(&b, 1 << 20);
	status_html(&b, s);
	CHECK(!b.truncated);
	CHECK(strstr(b.data, "<meta http-equiv=\"refresh\" content=\"5\">") != NULL);
	CHECK(strstr(b.data, "<td>iqn.2026-11.org.qedbox:vol0</td>") != NULL);
	CHECK(strstr(b.data, "<td class=\"n\">64.0 MiB</td>") != NULL);
	CHECK(strstr(b.data, "<svg id=\"chart\"") != NULL);
	CHECK(strstr(b.data, "<polyline class=\"read\"") != NULL);
	CHECK(strstr(b.data, "<tr class=\"session\">") != NULL);
	CHECK(strstr(b.data, "10.0.2.2:51234") != NULL);
	CHECK(strstr(b.data, "976.5 KiB/s") != NULL); /* vol0: 1 MB/s */
	CHECK(strstr(b.data, "vol0 &rarr; vol0") == NULL);
	CHECK(strstr(b.data, "<td>snap0 &rarr; vol0</td>") != NULL);
	CHECK(strstr(b.data, "spare0") != NULL);
	CHECK(strstr(b.data, "up 0d 01h 02m 03s") != NULL);
	CHECK(strstr(b.data, "login iqn.x from 10.0.2.2") != NULL);
	CHECK(strstr(b.data, "&lt;b&gt;&quot;x\\&#39;&amp;") != NULL);
	CHECK(strstr(b.data, "<b>") == NULL); /* every hostile name escaped */
	CHECK(strstr(b.data, "http://") == strstr(b.data, "http://www.w3.org/2000/svg"));
	CHECK(strstr(b.data, "src=") == NULL); /* no external asset */
	strbuf_free(&b);
	free(s);
}

static bool promtool_available(void)
{
	return system("command -v promtool > /dev/null 2>&1") == 0;
}

static void test_metrics(void)
{
	struct status_snapshot *s = make_snapshot();
	struct strbuf b;
	strbuf_init(&b, 1 << 20);
	status_metrics(&b, s);
	CHECK(!b.truncated);
	CHECK(strstr(b.data, "# TYPE qedbox_volume_read_ops_total counter\n") != NULL);
	CHECK(strstr(b.data, "qedbox_volume_read_ops_total{volume=\"vol0\"} 10\n") != NULL);
	CHECK(strstr(b.data, "qedbox_volume_read_latency_seconds_bucket{volume=\"vol0\",le=\"0.000100\"} 4\n") != NULL);
	CHECK(strstr(b.data, "qedbox_volume_read_latency_seconds_bucket{volume=\"vol0\",le=\"0.001000\"} 9\n") != NULL);
	CHECK(strstr(b.data, "qedbox_volume_read_latency_seconds_bucket{volume=\"vol0\",le=\"+Inf\"} 10\n") != NULL);
	CHECK(strstr(b.data, "qedbox_volume_read_latency_seconds_sum{volume=\"vol0\"} 1.500000000\n") != NULL);
	CHECK(strstr(b.data, "qedbox_volume_read_latency_seconds_count{volume=\"vol0\"} 10\n") != NULL);
	CHECK(strstr(b.data, "qedbox_volume_allocated_clusters{volume=\"vol0\"} 32\n") != NULL);
	CHECK(strstr(b.data, "qedbox_volume_device_errors_total{volume=\"vol0\"} 2\n") != NULL);
	CHECK(strstr(b.data, "{volume=\"<b>\\\"x\\\\'&\\n\"}") != NULL); /* label escaped */
	CHECK(strstr(b.data, "qedbox_login_failures_total{reason=\"CHAP failed\"} 1\n") != NULL ||
	      strstr(b.data, "qedbox_login_failures_total{reason=") != NULL);
	CHECK(strstr(b.data, "qedbox_sessions 1\n") != NULL);
	CHECK(strstr(b.data, "qedbox_memory_high_water_bytes 5242880\n") != NULL);
	if (promtool_available()) {
		FILE *f = popen("promtool check metrics > /dev/null", "w");
		CHECK(f != NULL);
		if (f) {
			fwrite(b.data, 1, b.len, f);
			CHECK_EQ(0, pclose(f));
		}
	} else {
		printf("# test_http_content: promtool not installed, metrics not linted here\n");
	}
	strbuf_free(&b);
	free(s);
}

static void test_json(void)
{
	struct status_snapshot *s = make_snapshot();
	struct strbuf b;
	strbuf_init(&b, 1 << 20);
	status_json_volumes(&b, s);
	CHECK(strstr(b.data, "{\"volumes\":[{\"name\":\"vol0\",\"target\":\"iqn.2026-11.org.qedbox:vol0\"") != NULL);
	CHECK(strstr(b.data, "\"backing_chain\":[\"vol0\"]") != NULL);
	CHECK(strstr(b.data, "\"read\":{\"ops\":10,\"bytes\":40960,") != NULL);
	CHECK(strstr(b.data, "\"name\":\"<b>\\\"x\\\\'&\\u000a\"") != NULL);
	CHECK(strstr(b.data, "\"read_bytes_per_s\":1000000") != NULL);
	strbuf_free(&b);
	strbuf_init(&b, 1 << 20);
	status_json_images(&b, s);
	CHECK(strstr(b.data, "{\"serial\":\"spare0\",\"role\":\"spare\",\"disk_bytes\":1073741824,\"qed\":false}") != NULL);
	strbuf_free(&b);
	strbuf_init(&b, 1 << 20);
	status_json_sessions(&b, s);
	CHECK(strstr(b.data, "\"address\":\"10.0.2.2:51234\"") != NULL);
	CHECK(strstr(b.data, "\"logins\":4,") != NULL);
	strbuf_free(&b);
	free(s);
}

static void test_cap_truncates(void)
{
	struct status_snapshot *s = make_snapshot();
	struct strbuf b;
	strbuf_init(&b, 2000);
	status_html(&b, s);
	CHECK(b.truncated);
	CHECK(b.len <= 2000);
	strbuf_free(&b);
	free(s);
}

static void test_rates(void)
{
	struct status_rates r;
	status_rates_init(&r);
	struct status_rate_count c[2] = { { "a", 0, 0 }, { "b", 100, 0 } };
	status_rates_sample(&r, 1000000000ull, c, 2);
	CHECK_EQ(0, status_rates_points(&r)); /* the first sample is the baseline */
	c[0].read_bytes = 10000;
	c[1].written_bytes = 5000;
	status_rates_sample(&r, 6000000000ull, c, 2);
	CHECK_EQ(1, status_rates_points(&r));
	CHECK_EQ(2000, status_rates_point(&r, 0)->read_per_s);
	CHECK_EQ(1000, status_rates_point(&r, 0)->write_per_s);
	uint64_t rd, wr;
	CHECK(status_rates_volume(&r, "b", &rd, &wr));
	CHECK_EQ(0, rd);
	CHECK_EQ(1000, wr);
	CHECK(!status_rates_volume(&r, "c", &rd, &wr));
	/* a volume that came after the last sample counts from zero */
	struct status_rate_count more[3] = { c[0], c[1], { "new", 50000, 0 } };
	status_rates_sample(&r, 11000000000ull, more, 3);
	CHECK(status_rates_volume(&r, "new", &rd, &wr));
	CHECK_EQ(10000, rd);
	/* a counter that went backwards (the volume replaced) is a fresh start, not a spike */
	c[0].read_bytes = 10;
	status_rates_sample(&r, 16000000000ull, c, 2);
	CHECK_EQ(0, status_rates_point(&r, 2)->read_per_s);
	/* the ring keeps the last STATUS_RATE_SAMPLES */
	for (unsigned i = 0; i < 100; i++) {
		c[0].read_bytes += 5000;
		status_rates_sample(&r, (17 + 5 * (uint64_t)i) * 1000000000ull, c, 2);
	}
	CHECK_EQ(STATUS_RATE_SAMPLES, status_rates_points(&r));
	CHECK_EQ(1000, status_rates_point(&r, STATUS_RATE_SAMPLES - 1)->read_per_s);
}

static void test_peer_allowed(void)
{
	struct qedbox_config cfg = { 0 };
	CHECK(http_peer_allowed(&cfg, 0x0a000202)); /* no list: anyone */
	cfg.n_http_allow = 2;
	cfg.http_allow[0] = (struct config_cidr){ 0xc0a80000, 0xffff0000 };
	cfg.http_allow[1] = (struct config_cidr){ 0x0a000203, 0xffffffff };
	CHECK(http_peer_allowed(&cfg, 0xc0a80101));
	CHECK(http_peer_allowed(&cfg, 0x0a000203));
	CHECK(!http_peer_allowed(&cfg, 0x0a000202));
	CHECK(!http_peer_allowed(&cfg, 0xc0a90101));
}

static void test_token(void)
{
	struct qedbox_config cfg = { 0 };
	CHECK_EQ(HTTP_TOKEN_NONE_CONFIGURED, http_check_token(&cfg, "Bearer anything-at-all-here"));
	CHECK_EQ(HTTP_TOKEN_NONE_CONFIGURED, http_check_token(&cfg, "Bearer "));
	strcpy(cfg.admin_token, "0123456789abcdef-token");
	CHECK_EQ(HTTP_TOKEN_OK, http_check_token(&cfg, "Bearer 0123456789abcdef-token"));
	CHECK_EQ(HTTP_TOKEN_OK, http_check_token(&cfg, "bearer 0123456789abcdef-token"));
	CHECK_EQ(HTTP_TOKEN_MISSING, http_check_token(&cfg, ""));
	CHECK_EQ(HTTP_TOKEN_MISSING, http_check_token(&cfg, "Bearer "));
	CHECK_EQ(HTTP_TOKEN_MISSING, http_check_token(&cfg, "Basic YWRtaW46eA=="));
	CHECK_EQ(HTTP_TOKEN_WRONG, http_check_token(&cfg, "Bearer 0123456789abcdef-toke"));
	CHECK_EQ(HTTP_TOKEN_WRONG, http_check_token(&cfg, "Bearer 0123456789abcdef-tokenX"));
	CHECK_EQ(HTTP_TOKEN_WRONG, http_check_token(&cfg, "Bearer 0123456789abcdef-tokeN"));
	char longer[300] = "Bearer ";
	memset(longer + 7, 'x', 250);
	CHECK_EQ(HTTP_TOKEN_WRONG, http_check_token(&cfg, longer));
}

static void test_body(void)
{
	char out[21];
	CHECK_EQ(0, http_body_string("{\"onto\": \"spare0\"}", "onto", out, sizeof(out)));
	CHECK_STR_EQ("spare0", out);
	CHECK_EQ(0, http_body_string(" { \"x\" : \"y\" , \"onto\":\"s\\\"1\" }\n", "onto", out,
				     sizeof(out)));
	CHECK_STR_EQ("s\"1", out);
	static const char *const bad[] = {
		"", "{}", "{\"onto\":1}", "{\"onto\":\"a\",}", "{\"onto\":\"a\" \"b\":\"c\"}",
		"{\"onto\":\"a\"} x", "{\"onto\":\"a\"", "{\"onto\":\"\\u0041\"}", "[\"onto\"]",
		"{\"onto\":\"123456789012345678901\"}", "{\"other\":\"a\"}", "{\"onto\":\"a\n\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (http_body_string(bad[i], "onto", out, sizeof(out)) != -22) {
			fprintf(stderr, "accepted: %s\n", bad[i]);
			CHECK(false);
		}
}

int main(void)
{
	RUN(test_html);
	RUN(test_metrics);
	RUN(test_json);
	RUN(test_cap_truncates);
	RUN(test_rates);
	RUN(test_peer_allowed);
	RUN(test_token);
	RUN(test_body);
	return check_report("test_http_content");
}
