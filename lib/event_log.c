/*
 * The event log (event_log.h): format, rate limit, ring. The token bucket counts in
 * nanoseconds of credit rather than tokens: one event costs 1 s / EVENT_REFILL_PER_S of
 * credit and the bucket holds EVENT_BURST of them, so refilling is adding elapsed time.
 */
#include "event_log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define NS_PER_S 1000000000ull
#define EVENT_COST_NS (NS_PER_S / EVENT_REFILL_PER_S)
#define BUCKET_NS (EVENT_BURST * EVENT_COST_NS)

static const char *const kind_names[EVENT_KIND_COUNT] = {
	[EVENT_LOGIN] = "login",
	[EVENT_LOGOUT] = "logout",
	[EVENT_LOGIN_FAILED] = "login-failed",
	[EVENT_SESSION_DROP] = "session-drop",
	[EVENT_DEVICE_ERROR] = "device-error",
	[EVENT_VOLUME_FULL] = "volume-full",
	[EVENT_CHECK] = "check",
	[EVENT_VOLUME] = "volume",
	[EVENT_NOTE] = "note",
};

/* Everything the log keeps; event_log_reset() returns it to its start. */
static struct {
	uint64_t (*now_ns)(void);
	void (*write_line)(const char *line);
	struct event_record ring[EVENT_RING_SIZE];
	unsigned ring_next;             /* where the next record goes */
	unsigned ring_used;
	uint64_t counts[EVENT_KIND_COUNT];
	uint64_t suppressed;            /* dropped since start */
	uint64_t suppressed_unreported; /* dropped since the last "suppressed" line */
	uint64_t credit_ns;             /* the bucket: EVENT_COST_NS per event */
	uint64_t credit_at_ns;          /* the clock when credit was last topped up */
} log_state = { .credit_ns = BUCKET_NS };

const char *event_kind_name(enum event_kind kind)
{
	if ((unsigned)kind >= EVENT_KIND_COUNT)
		return "?";
	return kind_names[kind];
}

static uint64_t now(void)
{
	return log_state.now_ns ? log_state.now_ns() : 0;
}

static void write_line(const char *line)
{
	if (log_state.write_line)
		log_state.write_line(line);
	else
		printf("%s\n", line);
}

static void keep(uint64_t t, enum event_kind kind, const char *text)
{
	struct event_record *r = &log_state.ring[log_state.ring_next];
	r->time_ns = t;
	r->kind = kind;
	snprintf(r->text, sizeof(r->text), "%s", text);
	log_state.ring_next = (log_state.ring_next + 1) % EVENT_RING_SIZE;
	if (log_state.ring_used < EVENT_RING_SIZE)
		log_state.ring_used++;
}

/* Adds the credit earned since the last top-up; the bucket holds BUCKET_NS at most. */
static void refill(uint64_t t)
{
	uint64_t earned = t > log_state.credit_at_ns ? t - log_state.credit_at_ns : 0;
	log_state.credit_at_ns = t;
	if (earned > BUCKET_NS - log_state.credit_ns)
		log_state.credit_ns = BUCKET_NS;
	else
		log_state.credit_ns += earned;
}

static void report_suppressed(uint64_t t)
{
	if (!log_state.suppressed_unreported || log_state.credit_ns < BUCKET_NS)
		return;
	char text[64];
	snprintf(text, sizeof(text), "%llu events suppressed",
		 (unsigned long long)log_state.suppressed_unreported);
	log_state.suppressed_unreported = 0;
	char line[80];
	snprintf(line, sizeof(line), "event: %s", text);
	write_line(line);
	keep(t, EVENT_NOTE, text);
}

/* Names in events come from clients: a control character could forge a line or drive
 * the operator's terminal, so anything but printable ASCII becomes '?'. */
static void make_printable(char *text)
{
	for (unsigned char *p = (unsigned char *)text; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
}

static bool never_dropped(enum event_kind kind)
{
	return kind == EVENT_CHECK || kind == EVENT_VOLUME;
}

/* Takes one event's credit; false when the bucket is empty (the event is dropped). */
static bool admit(enum event_kind kind)
{
	if (!log_state.now_ns || never_dropped(kind))
		return true;
	if (log_state.credit_ns < EVENT_COST_NS) {
		log_state.suppressed++;
		log_state.suppressed_unreported++;
		return false;
	}
	log_state.credit_ns -= EVENT_COST_NS;
	return true;
}

void event_log(enum event_kind kind, const char *fmt, ...)
{
	if ((unsigned)kind >= EVENT_KIND_COUNT)
		kind = EVENT_NOTE;
	uint64_t t = now();
	refill(t);
	report_suppressed(t);
	if (!admit(kind))
		return;
	char text[EVENT_TEXT_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	make_printable(text);
	char line[EVENT_TEXT_MAX + 32];
	snprintf(line, sizeof(line), "event: %s %s", kind_names[kind], text);
	write_line(line);
	keep(t, kind, text);
	log_state.counts[kind]++;
}

void event_log_flush(void)
{
	uint64_t t = now();
	refill(t);
	report_suppressed(t);
}

unsigned event_log_recent(struct event_record *out, unsigned max)
{
	unsigned n = log_state.ring_used < max ? log_state.ring_used : max;
	/* the newest n, oldest first: they end just before ring_next */
	unsigned first = (log_state.ring_next + EVENT_RING_SIZE - n) % EVENT_RING_SIZE;
	for (unsigned i = 0; i < n; i++)
		out[i] = log_state.ring[(first + i) % EVENT_RING_SIZE];
	return n;
}

uint64_t event_log_count(enum event_kind kind)
{
	if ((unsigned)kind >= EVENT_KIND_COUNT)
		return 0;
	return log_state.counts[kind];
}

uint64_t event_log_suppressed(void)
{
	return log_state.suppressed;
}

void event_log_set_clock(uint64_t (*now_ns)(void))
{
	log_state.now_ns = now_ns;
	log_state.credit_at_ns = now();
}

void event_log_set_sink(void (*sink)(const char *line))
{
	log_state.write_line = sink;
}

void event_log_reset(void)
{
	memset(&log_state, 0, sizeof(log_state));
	log_state.credit_ns = BUCKET_NS;
}
