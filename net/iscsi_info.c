/*
 * What the target tells about itself: the list of sessions for a status page
 * (iscsi_server_sessions), the names of login failures and authentication methods, and
 * the login-failure counter with its console event. Reads the sessions' state, changes
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

void iscsi_login_failed(struct iscsi_conn *c, enum iscsi_login_failure why)
{
	struct iscsi_server *srv = c->srv;
	srv->login_failures++;
	if ((unsigned)why < ISCSI_LOGIN_FAIL_REASONS)
		srv->login_failures_by_reason[why]++;
	char address[48];
	iscsi_source_format(&c->source, address, sizeof(address));
	const char *initiator = c->sess.initiator_name[0] ? c->sess.initiator_name : "?";
	event_log(EVENT_LOGIN_FAILED, "%s from %s: %s", initiator, address[0] ? address : "?",
		  iscsi_login_failure_name(why));
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
