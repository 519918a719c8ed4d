/* Host tests of what the target tells about itself (net/iscsi_info.c): the session list
 * of a status page, the login and session counters, and the events of a session's end
 * (logout, or a drop and why). The login events themselves: test_iscsi_login.c. */
#include "check.h"
#include "iscsi_test_support.h"

#include <string.h>

#define SOURCE_TEXT "10.0.2.2:51234"

static const struct iscsi_source source = { .len = 4, .addr = { 10, 0, 2, 2 }, .port = 51234 };
static uint64_t fake_now = 7000000000ull;

static uint64_t fake_clock(void)
{
	return fake_now;
}

/* The fixture with its first connection logged in, and a second connection from source
 * on link (the helpers talk to it). */
static void start_from_source(struct iscsi_fixture *f, struct fx_link *link)
{
	struct iscsi_conn *c;
	fx_init(f);
	f->srv.clock_ns = fake_clock;
	fx_open_link_from(f, link, &c, &source);
	fx_use(f, link);
}

static void read_blocks(struct iscsi_fixture *f, uint32_t itt, uint16_t blocks)
{
	uint8_t cdb[16];
	fx_read10_cdb(cdb, 0, blocks);
	fx_scsi_cmd(f, ISCSI_FLAG_CMD_READ, itt, blocks * FX_BLOCK_SIZE, cdb, NULL, 0);
}

static void write_blocks(struct iscsi_fixture *f, uint32_t itt, uint16_t blocks)
{
	static uint8_t data[8 * FX_BLOCK_SIZE];
	uint8_t cdb[16];
	fx_write10_cdb(cdb, 0, blocks);
	fx_scsi_cmd(f, ISCSI_FLAG_CMD_WRITE, itt, blocks * FX_BLOCK_SIZE, cdb, data,
		    blocks * FX_BLOCK_SIZE);
}

static void test_session_listed_with_its_fields(void)
{
	struct iscsi_fixture f;
	struct fx_link link;
	struct iscsi_session_info info[4];
	start_from_source(&f, &link);
	CHECK_EQ(0, iscsi_server_sessions(&f.srv, info, 4)); /* logging in is not a session */
	fx_ready(&f, NULL);
	CHECK(fx_last_event_is(EVENT_LOGIN, FX_INITIATOR " from " SOURCE_TEXT " to " FX_TARGET
			       " auth none"));
	CHECK_EQ(1, iscsi_server_sessions(&f.srv, info, 4));
	CHECK_STR_EQ(FX_INITIATOR, info[0].initiator);
	CHECK_STR_EQ("801234560001", info[0].isid);
	CHECK_STR_EQ(FX_TARGET, info[0].target);
	CHECK_STR_EQ(SOURCE_TEXT, info[0].address);
	CHECK_STR_EQ("none", info[0].auth);
	CHECK_EQ(1, info[0].connections);
	CHECK_EQ(0, info[0].cmds_in_flight);
	CHECK_EQ(fake_now, info[0].login_ns);
	CHECK(!info[0].discovery);
	CHECK_EQ(1, f.srv.logins);
	fx_fini(&f);
}

/* Commands and payload each way are the session's own. */
static void test_session_counts_commands_and_bytes(void)
{
	struct iscsi_fixture f;
	struct fx_link link;
	struct iscsi_session_info before, after;
	struct fx_pdu r;
	start_from_source(&f, &link);
	fx_ready(&f, "ImmediateData=Yes");
	CHECK_EQ(1, iscsi_server_sessions(&f.srv, &before, 1));
	read_blocks(&f, 0x10, 8);
	while (fx_next(&f, &r))
		;
	write_blocks(&f, 0x11, 2);
	while (fx_next(&f, &r))
		;
	CHECK_EQ(1, iscsi_server_sessions(&f.srv, &after, 1));
	CHECK_EQ(before.cmds + 2, after.cmds);
	CHECK_EQ(before.bytes_out + 8 * FX_BLOCK_SIZE, after.bytes_out);
	CHECK_EQ(before.bytes_in + 2 * FX_BLOCK_SIZE, after.bytes_in);
	fx_fini(&f);
}

/* The gate holds the volume: a command executing shows as in flight. */
static void test_session_shows_commands_in_flight(void)
{
	struct iscsi_fixture f;
	struct fx_link link;
	struct iscsi_session_info info;
	struct fx_pdu r;
	start_from_source(&f, &link);
	fx_ready(&f, NULL);
	f.gate_closed = true;
	read_blocks(&f, 0x20, 1);
	CHECK_EQ(1, iscsi_server_sessions(&f.srv, &info, 1));
	CHECK_EQ(1, info.cmds_in_flight);
	CHECK_EQ(1, f.sf.lun.in_flight);
	f.gate_closed = false;
	waitq_wake_all(&f.gate);
	fx_run();
	while (fx_next(&f, &r))
		;
	CHECK_EQ(1, iscsi_server_sessions(&f.srv, &info, 1));
	CHECK_EQ(0, info.cmds_in_flight);
	CHECK_EQ(0, f.sf.lun.in_flight);
	fx_fini(&f);
}

/* Every logged-in session, discovery ones too, at most max of them. */
static void test_sessions_all_listed_up_to_max(void)
{
	struct iscsi_fixture f;
	struct fx_link link;
	struct iscsi_session_info info[4];
	start_from_source(&f, &link);
	fx_ready(&f, NULL);
	fx_use(&f, &f.link);
	CHECK_EQ(0, fx_login_discovery(&f, NULL));
	CHECK(fx_last_event_is(EVENT_LOGIN, FX_INITIATOR " from ? to discovery auth none"));
	CHECK_EQ(2, iscsi_server_sessions(&f.srv, info, 4));
	unsigned discovery = info[0].discovery ? 0 : 1;
	CHECK(info[discovery].discovery);
	CHECK_STR_EQ("", info[discovery].target);
	CHECK_STR_EQ("", info[discovery].address);
	CHECK(!info[1 - discovery].discovery);
	CHECK_EQ(1, iscsi_server_sessions(&f.srv, info, 1));
	CHECK_EQ(2, f.srv.logins);
	fx_fini(&f);
}

static void test_logout_is_logged_not_dropped(void)
{
	struct iscsi_fixture f;
	struct fx_link link;
	struct iscsi_session_info info;
	start_from_source(&f, &link);
	fx_ready(&f, NULL);
	fx_logout(&f);
	CHECK(link.closed);
	CHECK(fx_last_event_is(EVENT_LOGOUT, FX_INITIATOR " from " SOURCE_TEXT " to " FX_TARGET));
	CHECK_EQ(0, iscsi_server_sessions(&f.srv, &info, 1));
	CHECK_EQ(0, f.srv.session_drops);
	CHECK_EQ(0, event_log_count(EVENT_SESSION_DROP));
	fx_fini(&f);
}

static void test_connection_lost_drops_session(void)
{
	struct iscsi_fixture f;
	struct fx_link link;
	start_from_source(&f, &link);
	fx_ready(&f, NULL);
	link.transport_gone = true;
	iscsi_conn_closed(link.c);
	fx_run();
	CHECK(fx_last_event_is(EVENT_SESSION_DROP, FX_INITIATOR " from " SOURCE_TEXT " to "
			       FX_TARGET ": connection lost"));
	CHECK_EQ(1, f.srv.session_drops);
	fx_fini(&f);
}

/* Silence through a whole tick, then no answer to the ping the next tick sent. */
static void test_unanswered_ping_drops_session(void)
{
	struct iscsi_fixture f;
	struct fx_link link;
	start_from_source(&f, &link);
	fx_ready(&f, NULL);
	for (int tick = 0; tick < 3; tick++) {
		iscsi_server_tick(&f.srv);
		fx_run();
	}
	CHECK(link.closed);
	CHECK(fx_last_event_is(EVENT_SESSION_DROP, FX_INITIATOR " from " SOURCE_TEXT " to "
			       FX_TARGET ": no answer to ping"));
	CHECK_EQ(1, f.srv.session_drops);
	fx_fini(&f);
}

/* A second login of the same initiator port ends the first session. */
static void test_reinstatement_drops_old_session(void)
{
	struct iscsi_fixture f;
	struct fx_link link;
	start_from_source(&f, &link);
	fx_use(&f, &f.link);
	fx_ready(&f, NULL);
	fx_use(&f, &link);
	fx_ready(&f, NULL);
	CHECK(f.link.closed);
	CHECK_EQ(1, f.srv.session_drops);
	struct event_record ev[2];
	CHECK_EQ(2, event_log_recent(ev, 2));
	/* the new session is in before the old one's worker ends it */
	CHECK_EQ(EVENT_LOGIN, ev[0].kind);
	CHECK_EQ(EVENT_SESSION_DROP, ev[1].kind);
	CHECK_STR_EQ(FX_INITIATOR " from ? to " FX_TARGET ": reinstated by a new login", ev[1].text);
	fx_fini(&f);
}

/* A connection that never logs in: one failed login, once, at the first silent tick. */
static void test_silent_login_fails_once(void)
{
	struct iscsi_fixture f;
	struct fx_link link;
	start_from_source(&f, &link);
	iscsi_server_tick(&f.srv);
	fx_run();
	CHECK(link.closed);
	/* the fixture's idle first connection too, after it (the ticks go newest first) */
	struct event_record ev[2];
	CHECK_EQ(2, event_log_recent(ev, 2));
	CHECK_EQ(EVENT_LOGIN_FAILED, ev[0].kind);
	CHECK_STR_EQ("? from " SOURCE_TEXT " to ?: login timeout", ev[0].text);
	CHECK(fx_last_event_is(EVENT_LOGIN_FAILED, "? from ? to ?: login timeout"));
	CHECK_EQ(2, f.srv.login_failures);
	CHECK_EQ(2, f.srv.login_failures_by_reason[ISCSI_LOGIN_FAIL_TIMEOUT]);
	iscsi_server_tick(&f.srv);
	fx_run();
	CHECK_EQ(2, f.srv.login_failures);
	fx_fini(&f);
}

/* The initiator gives up (or a scanner knocks): a failed login, once. */
static void test_close_during_login_fails_once(void)
{
	struct iscsi_fixture f;
	struct fx_link link;
	start_from_source(&f, &link);
	link.transport_gone = true;
	iscsi_conn_closed(link.c);
	fx_run();
	CHECK(fx_last_event_is(EVENT_LOGIN_FAILED, "? from " SOURCE_TEXT " to ?: closed during login"));
	CHECK_EQ(1, f.srv.login_failures_by_reason[ISCSI_LOGIN_FAIL_CLOSED]);
	CHECK_EQ(1, f.srv.login_failures);
	CHECK_EQ(0, f.srv.session_drops);
	fx_fini(&f);
}

/* Every slot holds a session: the newcomer is refused and counted. */
static void test_refused_newcomer_counted(void)
{
	struct iscsi_fixture f;
	fx_setup(&f);
	f.cfg.max_connections = 1;
	fx_start(&f);
	fx_ready(&f, NULL);
	struct fx_link link = { 0 };
	CHECK(!iscsi_conn_open_from(&f.srv, &fx_transport, &link, &source));
	CHECK_EQ(1, f.srv.login_failures_by_reason[ISCSI_LOGIN_FAIL_REFUSED]);
	CHECK(fx_last_event_is(EVENT_LOGIN_FAILED, "? from " SOURCE_TEXT " to ?: no free slot"));
	fx_fini(&f);
}

static void test_names(void)
{
	for (unsigned i = 0; i < ISCSI_LOGIN_FAIL_REASONS; i++) {
		CHECK(strcmp("?", iscsi_login_failure_name(i)) != 0);
		for (unsigned j = 0; j < i; j++)
			CHECK(strcmp(iscsi_login_failure_name(j), iscsi_login_failure_name(i)) != 0);
	}
	CHECK_STR_EQ("?", iscsi_login_failure_name(ISCSI_LOGIN_FAIL_REASONS));
	CHECK_STR_EQ("none", iscsi_auth_method_name(ISCSI_AUTH_NONE));
	CHECK_STR_EQ("CHAP", iscsi_auth_method_name(ISCSI_AUTH_CHAP));
	CHECK_STR_EQ("mutual CHAP", iscsi_auth_method_name(ISCSI_AUTH_MUTUAL_CHAP));
	char text[48];
	iscsi_source_format(&source, text, sizeof(text));
	CHECK_STR_EQ(SOURCE_TEXT, text);
	iscsi_source_format(NULL, text, sizeof(text));
	CHECK_STR_EQ("", text);
}

int main(void)
{
	RUN(test_session_listed_with_its_fields);
	RUN(test_session_counts_commands_and_bytes);
	RUN(test_session_shows_commands_in_flight);
	RUN(test_sessions_all_listed_up_to_max);
	RUN(test_logout_is_logged_not_dropped);
	RUN(test_connection_lost_drops_session);
	RUN(test_unanswered_ping_drops_session);
	RUN(test_reinstatement_drops_old_session);
	RUN(test_silent_login_fails_once);
	RUN(test_close_during_login_fails_once);
	RUN(test_refused_newcomer_counted);
	RUN(test_names);
	event_log_reset();
	return check_report("test_iscsi_info");
}
