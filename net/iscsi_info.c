/*
 * What the target tells about itself: the list of sessions for a status page
 * (iscsi_server_sessions), the names of login failures and authentication methods, and
 * the session events with their counters: a login, a failed login and why, a logout, a
 * session dropped without one (lib/event_log.h). Reads the sessions' state, changes
 * nothing but the counters.
 */
#include "event_log.h"
#include "iscsi_priv.h"

#include <stdio.h>
#include <string.h>

static const char *const failure_names[ISCSI_LOGIN_FAIL_REASONS] = {
	[ISCSI_LOGIN_FAIL_UNKNOWN_TARGET] = "unknown target",
	[ISCSI_LOGIN_FAIL_NOT_IN_ACL] = "not in ACL",
	[ISCSI_LOGIN_FAIL_AUTH] = "CHAP failed",
	[ISCSI_LOGIN_FAIL_NO_CHAP] = "CHAP unavailable",
	[ISCSI_LOGIN_FAIL_TIMEOUT] = "login timeout",
	[ISCSI_LOGIN_FAIL_PDU_CAP] = "PDU cap",
	[ISCSI_LOGIN_FAIL_EVICTED] = "evicted",
	[ISCSI_LOGIN_FAIL_REFUSED] = "no free slot",
	[ISCSI_LOGIN_FAIL_PROTOCOL] = "protocol error",
	[ISCSI_LOGIN_FAIL_RESOURCES] = "out of resources",
	[ISCSI_LOGIN_FAIL_CLOSED] = "closed during login",
};

const char *iscsi_login_failure_name(unsigned reason)
{
	return reason < ISCSI_LOGIN_FAIL_REASONS ? failure_names[reason] : "?";
}

const char *iscsi_auth_method_name(unsigned method)
{
	switch (method) {
	case ISCSI_AUTH_CHAP:
		return "CHAP";
	case ISCSI_AUTH_MUTUAL_CHAP:
		return "mutual CHAP";
	default:
		return "none";
	}
}

void iscsi_source_format(const struct iscsi_source *s, char *out, size_t size)
{
	if (!s || s->len != 4) {
		snprintf(out, size, "%s", "");
		return;
	}
	snprintf(out, size, "%u.%u.%u.%u:%u", s->addr[0], s->addr[1], s->addr[2], s->addr[3],
		 (unsigned)s->port);
}

static const char *or_unknown(const char *s)
{
	return s && s[0] ? s : "?";
}

void iscsi_login_failed(struct iscsi_server *srv, const struct iscsi_source *source,
			const char *initiator, const char *target, enum iscsi_login_failure why)
{
	srv->login_failures++;
	if ((unsigned)why < ISCSI_LOGIN_FAIL_REASONS)
		srv->login_failures_by_reason[why]++;
	char address[48];
	iscsi_source_format(source, address, sizeof(address));
	event_log(EVENT_LOGIN_FAILED, "%s from %s to %s: %s", or_unknown(initiator),
		  or_unknown(address), or_unknown(target), iscsi_login_failure_name(why));
}

static const char *target_of(const struct iscsi_session *s)
{
	if (s->discovery)
		return "discovery";
	return s->target ? s->target->name : NULL;
}

void iscsi_conn_login_failed(struct iscsi_conn *c, const char *target,
			     enum iscsi_login_failure why)
{
	if (c->login_failure_counted || c->sess.logged_in)
		return;
	c->login_failure_counted = true;
	iscsi_login_failed(c->srv, &c->source, c->sess.initiator_name,
			   target ? target : target_of(&c->sess), why);
}

void iscsi_session_logged_in(struct iscsi_conn *c)
{
	struct iscsi_session *s = &c->sess;
	c->srv->logins++;
	s->login_ns = c->srv->clock_ns ? c->srv->clock_ns() : 0;
	char address[48];
	iscsi_source_format(&c->source, address, sizeof(address));
	event_log(EVENT_LOGIN, "%s from %s to %s auth %s", s->initiator_name,
		  or_unknown(address), target_of(s), iscsi_auth_method_name(s->auth_method));
}

void iscsi_session_ended(struct iscsi_conn *c)
{
	const struct iscsi_session *s = &c->sess;
	char address[48];
	iscsi_source_format(&c->source, address, sizeof(address));
	if (c->phase == ISCSI_PHASE_LOGGED_OUT) {
		event_log(EVENT_LOGOUT, "%s from %s to %s", s->initiator_name, or_unknown(address),
			  target_of(s));
		return;
	}
	c->srv->session_drops++;
	event_log(EVENT_SESSION_DROP, "%s from %s to %s: %s", s->initiator_name,
		  or_unknown(address), target_of(s), c->end_why ? c->end_why : "closed by the target");
}

static void hex_isid(const uint8_t isid[ISCSI_ISID_LEN], char out[13])
{
	for (int i = 0; i < ISCSI_ISID_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", isid[i]);
}

static void fill_info(const struct iscsi_conn *c, struct iscsi_session_info *info)
{
	const struct iscsi_session *s = &c->sess;
	memset(info, 0, sizeof(*info));
	snprintf(info->initiator, sizeof(info->initiator), "%s", s->initiator_name);
	hex_isid(s->isid, info->isid);
	if (s->target)
		snprintf(info->target, sizeof(info->target), "%s", s->target->name);
	iscsi_source_format(&c->source, info->address, sizeof(info->address));
	info->auth = iscsi_auth_method_name(s->auth_method);
	info->connections = 1;
	info->cmds_in_flight = s->cmds_in_flight;
	info->bytes_in = s->bytes_in;
	info->bytes_out = s->bytes_out;
	info->cmds = s->cmds;
	info->login_ns = s->login_ns;
	info->discovery = s->discovery;
}

unsigned iscsi_server_sessions(const struct iscsi_server *srv, struct iscsi_session_info *out,
			       unsigned max)
{
	unsigned n = 0;
	for (const struct iscsi_conn *c = srv->conns; c && n < max; c = c->next)
		if (c->sess.logged_in && !c->closing)
			fill_info(c, &out[n++]);
	return n;
}
