/* Host tests of the event log (lib/event_log.c): line format, the ring, the rate limit and
 * its suppression line, reset. Lines are captured through the sink; time is a fake clock. */
#include <stdbool.h>
#include <string.h>

#include "check.h"
#include "event_log.h"

#define MAX_LINES 256

static char lines[MAX_LINES][EVENT_TEXT_MAX + 64];
static unsigned n_lines;
static uint64_t fake_now;

static void capture(const char *line)
{
	if (n_lines < MAX_LINES)
		snprintf(lines[n_lines], sizeof(lines[n_lines]), "%s", line);
	n_lines++;
}

static uint64_t fake_clock(void)
{
	return fake_now;
}

static void start(bool with_clock)
{
	event_log_reset();
	event_log_set_sink(capture);
	n_lines = 0;
	fake_now = 1000000000ull;
	if (with_clock)
		event_log_set_clock(fake_clock);
}

static void test_line_format(void)
{
	start(true);
	event_log(EVENT_LOGIN, "%s from %s to %s auth %s", "iqn.1994-05.com.redhat:web",
		  "10.0.2.2:51234", "iqn.2026-11.org.qedbox:vol0", "CHAP");
	event_log(EVENT_LOGIN_FAILED, "x: %s", "not in ACL");
	CHECK_EQ(2, n_lines);
	CHECK_STR_EQ("event: login iqn.1994-05.com.redhat:web from 10.0.2.2:51234 to "
		     "iqn.2026-11.org.qedbox:vol0 auth CHAP", lines[0]);
	CHECK_STR_EQ("event: login-failed x: not in ACL", lines[1]);
	CHECK_EQ(1, event_log_count(EVENT_LOGIN));
	CHECK_EQ(1, event_log_count(EVENT_LOGIN_FAILED));
	CHECK_EQ(0, event_log_count(EVENT_LOGOUT));
	CHECK_EQ(0, event_log_count(EVENT_KIND_COUNT));
}

static void test_kind_names(void)
{
	static const char *const want[EVENT_KIND_COUNT] = {
		"login", "logout", "login-failed", "session-drop", "device-error",
		"volume-full", "check", "volume", "note",
	};
	for (unsigned k = 0; k < EVENT_KIND_COUNT; k++)
		CHECK_STR_EQ(want[k], event_kind_name((enum event_kind)k));
	CHECK_STR_EQ("?", event_kind_name(EVENT_KIND_COUNT));
}

/* A name a client chose, longer than a line may be: cut, still terminated. */
static void test_text_bounded(void)
{
	start(true);
	char long_name[1000];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	event_log(EVENT_NOTE, "%s", long_name);
	CHECK_EQ(1, n_lines);
	CHECK_EQ(strlen("event: note ") + EVENT_TEXT_MAX - 1, strlen(lines[0]));
	struct event_record r;
	CHECK_EQ(1, event_log_recent(&r, 1));
	CHECK_EQ(EVENT_TEXT_MAX - 1, strlen(r.text));
}

/* A client's name cannot end the line early or send terminal escapes. */
static void test_text_printable(void)
{
	start(true);
	event_log(EVENT_LOGIN_FAILED, "%s", "iqn.x\nevent: login forged\x1b[2J\xc3\xa9");
	CHECK_EQ(1, n_lines);
	CHECK_STR_EQ("event: login-failed iqn.x?event: login forged?[2J??", lines[0]);
}

/* The ring keeps the last EVENT_RING_SIZE, oldest first, with their time and kind. */
static void test_ring(void)
{
	start(false); /* no clock: no rate limit, time 0 */
	struct event_record out[EVENT_RING_SIZE + 8];
	CHECK_EQ(0, event_log_recent(out, EVENT_RING_SIZE));
	for (unsigned i = 0; i < 3; i++)
		event_log(EVENT_NOTE, "n%u", i);
	CHECK_EQ(3, event_log_recent(out, EVENT_RING_SIZE + 8));
	CHECK_STR_EQ("n0", out[0].text);
	CHECK_STR_EQ("n2", out[2].text);
	CHECK_EQ(2, event_log_recent(out, 2)); /* the latest two */
	CHECK_STR_EQ("n1", out[0].text);
	CHECK_STR_EQ("n2", out[1].text);

	start(true);
	for (unsigned i = 0; i < EVENT_RING_SIZE + 10; i++) {
		fake_now += 1000000000ull; /* a second apart: never rate limited */
		event_log(i % 2 ? EVENT_LOGOUT : EVENT_LOGIN, "e%u", i);
	}
	CHECK_EQ(EVENT_RING_SIZE, event_log_recent(out, EVENT_RING_SIZE + 8));
	CHECK_STR_EQ("e10", out[0].text);
	CHECK_EQ(EVENT_LOGIN, out[0].kind);
	CHECK_EQ(1000000000ull * 12, out[0].time_ns);
	CHECK_STR_EQ("e73", out[EVENT_RING_SIZE - 1].text);
	CHECK_EQ(EVENT_LOGOUT, out[EVENT_RING_SIZE - 1].kind);
	CHECK_EQ(0, event_log_suppressed());
}

/* A flood: EVENT_BURST through, the rest dropped and counted; operator events always
 * pass; the bucket refills at EVENT_REFILL_PER_S. */
static void test_rate_limit(void)
{
	start(true);
	for (unsigned i = 0; i < 100; i++)
		event_log(EVENT_LOGIN_FAILED, "flood %u", i);
	CHECK_EQ(EVENT_BURST, n_lines);
	CHECK_EQ(EVENT_BURST, event_log_count(EVENT_LOGIN_FAILED));
	CHECK_EQ(100 - EVENT_BURST, event_log_suppressed());
	event_log(EVENT_CHECK, "vol0: started");
	event_log(EVENT_VOLUME, "vol0: snapshot");
	CHECK_EQ(EVENT_BURST + 2, n_lines);
	event_log(EVENT_SESSION_DROP, "dropped too");
	CHECK_EQ(EVENT_BURST + 2, n_lines);
	CHECK_EQ(100 - EVENT_BURST + 1, event_log_suppressed());

	/* one refill period later: exactly one more event passes */
	fake_now += 1000000000ull / EVENT_REFILL_PER_S;
	event_log(EVENT_NOTE, "one");
	event_log(EVENT_NOTE, "two");
	CHECK_EQ(EVENT_BURST + 3, n_lines);
	CHECK_STR_EQ("event: note one", lines[EVENT_BURST + 2]);
	CHECK_EQ(100 - EVENT_BURST + 2, event_log_suppressed());
}

/* The suppression line comes once the bucket is full again, once, from an event or from
 * event_log_flush(), and goes into the ring. */
static void test_suppression_line(void)
{
	start(true);
	for (unsigned i = 0; i < EVENT_BURST + 7; i++)
		event_log(EVENT_LOGIN_FAILED, "flood %u", i);
	CHECK_EQ(EVENT_BURST, n_lines);
	event_log_flush();                      /* the bucket is empty: nothing yet */
	CHECK_EQ(EVENT_BURST, n_lines);
	fake_now += 1000000000ull;              /* a second: not full yet */
	event_log_flush();
	CHECK_EQ(EVENT_BURST, n_lines);
	fake_now += 1000000000ull * EVENT_BURST / EVENT_REFILL_PER_S;
	event_log_flush();
	CHECK_EQ(EVENT_BURST + 1, n_lines);
	CHECK_STR_EQ("event: 7 events suppressed", lines[EVENT_BURST]);
	event_log_flush();                      /* said once */
	CHECK_EQ(EVENT_BURST + 1, n_lines);
	struct event_record r;
	CHECK_EQ(1, event_log_recent(&r, 1));
	CHECK_EQ(EVENT_NOTE, r.kind);
	CHECK_STR_EQ("7 events suppressed", r.text);
	CHECK_EQ(7, event_log_suppressed());    /* the total stays */

	/* from the next event, ahead of it */
	for (unsigned i = 0; i < EVENT_BURST + 2; i++)
		event_log(EVENT_LOGIN_FAILED, "again %u", i);
	fake_now += 1000000000ull * EVENT_BURST / EVENT_REFILL_PER_S;
	n_lines = 0;
	event_log(EVENT_LOGOUT, "after");
	CHECK_EQ(2, n_lines);
	CHECK_STR_EQ("event: 2 events suppressed", lines[0]);
	CHECK_STR_EQ("event: logout after", lines[1]);
	CHECK_EQ(9, event_log_suppressed());
}

static void test_reset(void)
{
	start(true);
	for (unsigned i = 0; i < EVENT_BURST + 3; i++)
		event_log(EVENT_LOGIN, "x");
	event_log_reset();
	struct event_record r;
	CHECK_EQ(0, event_log_recent(&r, 1));
	CHECK_EQ(0, event_log_count(EVENT_LOGIN));
	CHECK_EQ(0, event_log_suppressed());
	/* the bucket is full again, the sink back to stdout: capture it once more */
	event_log_set_sink(capture);
	event_log_set_clock(fake_clock);
	n_lines = 0;
	for (unsigned i = 0; i < EVENT_BURST; i++)
		event_log(EVENT_LOGIN, "y");
	CHECK_EQ(EVENT_BURST, n_lines);
	CHECK_EQ(0, event_log_suppressed());
}

int main(void)
{
	RUN(test_line_format);
	RUN(test_kind_names);
	RUN(test_text_bounded);
	RUN(test_text_printable);
	RUN(test_ring);
	RUN(test_rate_limit);
	RUN(test_suppression_line);
	RUN(test_reset);
	event_log_reset();
	return check_report("test_event_log");
}
