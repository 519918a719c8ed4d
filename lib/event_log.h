/*
 * event_log: what happened to the appliance while it serves, one console line per event
 * and a ring of the latest ones for a status page. Portable (the firmware and the host
 * tests run the same code); one log per program, single-threaded like everything else.
 *
 *     event_log_set_clock(clock_ns);                // at start-up (tests: a fake clock)
 *     event_log(EVENT_LOGIN, "%s from %s to %s auth %s", initiator, address, target, auth);
 *
 * prints "event: login iqn... from 10.0.2.2:51234 to iqn...:vol0 auth CHAP". A line is at
 * most EVENT_TEXT_MAX bytes of text after the kind word (longer text is cut), and every
 * byte outside printable ASCII is printed and kept as '?': what a client sends (names)
 * can neither make a line unbounded nor forge one. Never pass a secret.
 *
 * Rate limit: a token bucket of EVENT_BURST events refilled at EVENT_REFILL_PER_S, shared
 * by every kind but EVENT_CHECK and EVENT_VOLUME (the operator's own actions, never
 * dropped), so a hostile client can flood neither the console nor the ring. Dropped
 * events are counted; once the bucket is full again, the next event_log() or
 * event_log_flush() prints "event: N events suppressed" (and keeps it in the ring as an
 * EVENT_NOTE). Without a clock (event_log_set_clock not called, or NULL) time stands
 * still at 0 and nothing is rate limited.
 */
#ifndef QEDBOX_EVENT_LOG_H
#define QEDBOX_EVENT_LOG_H

#include <stdint.h>

enum event_kind {
	EVENT_LOGIN,            /* a session reached the full feature phase */
	EVENT_LOGOUT,           /* ... and ended with a Logout */
	EVENT_LOGIN_FAILED,     /* a login refused, and why */
	EVENT_SESSION_DROP,     /* a session ended without a Logout (lost, reset, timed out) */
	EVENT_DEVICE_ERROR,     /* a volume's device returned an error */
	EVENT_VOLUME_FULL,      /* a write found no space (ENOSPC reached the SCSI layer) */
	EVENT_CHECK,            /* the boot-time check of an image: started, result */
	EVENT_VOLUME,           /* a volume snapshotted, cloned, switched or stopped */
	EVENT_NOTE,             /* anything else worth a line */
	EVENT_KIND_COUNT
};

#define EVENT_TEXT_MAX 256      /* bytes of text kept and printed per event, NUL included */
#define EVENT_RING_SIZE 64      /* events event_log_recent() can return */
#define EVENT_BURST 20          /* rate-limited events let through at once */
#define EVENT_REFILL_PER_S 5    /* and per second after that */

struct event_record {
	uint64_t time_ns;       /* the clock's time when it was logged */
	enum event_kind kind;
	char text[EVENT_TEXT_MAX]; /* after the kind word, NUL-terminated */
};

/* Logs one event: prints "event: <kind word> <text>" and keeps it in the ring, unless
 * the rate limit drops it. */
void event_log(enum event_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The kind's word on the console ("login", "login-failed", ...); "?" out of range. */
const char *event_kind_name(enum event_kind kind);

/* Copies up to max of the latest events into out, oldest first; returns how many. */
unsigned event_log_recent(struct event_record *out, unsigned max);
/* Events of kind logged (printed and kept) since start; dropped ones are not counted. */
uint64_t event_log_count(enum event_kind kind);
/* Events dropped by the rate limit since start. */
uint64_t event_log_suppressed(void);

/* Prints the "N events suppressed" line if events were dropped and the bucket is full
 * again. Call now and then (the appliance: from a periodic tick). */
void event_log_flush(void);

/* Where time comes from (nanoseconds, monotonic); NULL: none. */
void event_log_set_clock(uint64_t (*now_ns)(void));
/* Where lines go, one call per line without its newline; NULL: stdout (the console). */
void event_log_set_sink(void (*write_line)(const char *line));
/* Back to the start: ring, counts, bucket empty of events and full of tokens, no clock,
 * stdout (tests). */
void event_log_reset(void);

#endif
