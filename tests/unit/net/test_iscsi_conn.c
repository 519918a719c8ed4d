/* Host tests of admission (net/iscsi_conn.c): the login deadline and login PDU cap, the
 * connection slots (global and per source), and which connection gives its slot away. */
#include "check.h"
#include "iscsi_test_support.h"

#include <stdlib.h>
#include <string.h>

#define LINKS 64

static struct fx_link links[LINKS];
static struct iscsi_conn *conns[LINKS];

/* A connection from 10.0.2.<host>, on links[i]. NULL when the target refused it. */
static struct iscsi_conn *open_from(struct iscsi_fixture *f, unsigned i, uint8_t host)
{
	struct iscsi_source source = { .len = 4, .addr = { 10, 0, 2, host } };
	memset(&links[i], 0, sizeof(links[i]));
	conns[i] = iscsi_conn_open_from(&f->srv, &fx_transport, &links[i], &source);
	links[i].c = conns[i];
	fx_run();
	return conns[i];
}

static void talk_to(struct iscsi_fixture *f, unsigned i)
{
	f->c = conns[i];
	f->lk = &links[i];
}

/* Logs links[i] in as its own initiator port (ISID ends in i: no reinstatement). */
static int login_on(struct iscsi_fixture *f, unsigned i)
{
	static const uint8_t isid[ISCSI_ISID_LEN] = { 0x80, 0x12, 0x34, 0x56, 0, 0 };
	uint8_t bhs[ISCSI_BHS_LEN] = { ISCSI_OP_LOGIN_REQ | ISCSI_IMMEDIATE,
				       ISCSI_FLAG_LOGIN_TRANSIT | (1 << ISCSI_FLAG_LOGIN_CSG_SHIFT) | 3 };
	char text[512];
	struct fx_pdu r;

	talk_to(f, i);
	memcpy(bhs + ISCSI_BHS_ISID, isid, sizeof(isid));
	bhs[ISCSI_BHS_ISID + ISCSI_ISID_LEN - 1] = (uint8_t)i;
	put_be32(bhs + ISCSI_BHS_INITIATOR_TASK_TAG, 0x1000);
	put_be32(bhs + ISCSI_BHS_CMDSN, 1);
	uint32_t len = fx_text(text, sizeof(text), "InitiatorName=" FX_INITIATOR "\nTargetName="
				FX_TARGET "\nSessionType=Normal");
	fx_send(f, bhs, text, len);
	if (!fx_next(f, &r))
		return -1;
	return r.bhs[ISCSI_BHS_STATUS_CLASS] << 8 | r.bhs[ISCSI_BHS_STATUS_DETAIL];
}

static void fini(struct iscsi_fixture *f)
{
	fx_fini(f);
	for (unsigned i = 0; i < LINKS; i++) {
		free(links[i].out);
		links[i].out = NULL;
	}
}

/* Connections holding a slot: open and not closing. */
static unsigned open_count(struct iscsi_fixture *f)
{
	unsigned n = 0;
	for (struct iscsi_conn *c = f->srv.conns; c; c = c->next)
		n += !c->closing;
	return n;
}

/* ---- the login phase ---------------------------------------------------------------- */

/* One byte of a Login Request per tick: never stalled, never done. It ends a tick past
 * the deadline, while a session that logged in keeps talking and stays. */
static void test_login_trickling_a_byte_per_tick_ends_at_deadline(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t bhs[ISCSI_BHS_LEN] = { ISCSI_OP_LOGIN_REQ | ISCSI_IMMEDIATE };
	unsigned ticks_allowed = ISCSI_DEFAULT_LOGIN_TIMEOUT_MS / ISCSI_TICK_MS;
	fx_init(&f);
	fx_ready(&f, NULL);
	CHECK(open_from(&f, 0, 9) != NULL);
	for (unsigned t = 0; t <= ticks_allowed; t++) {
		CHECK(!links[0].closed); /* within the deadline */
		talk_to(&f, 0);
		fx_send_raw(&f, bhs + t, 1);
		f.c = f.link.c;
		f.lk = &f.link;
		fx_nop_out(&f, 0x10 + t, ISCSI_RESERVED_TAG, NULL, 0);
		CHECK(fx_next(&f, &r));
		iscsi_server_tick(&f.srv);
		fx_run();
	}
	CHECK(links[0].closed); /* a tick past 15 s */
	CHECK_EQ(1, f.srv.logins_timed_out);
	CHECK(!f.link.closed);
	fini(&f);
}

/* The deadline is the config's when set: 20 s is four ticks. */
static void test_login_deadline_follows_config(void)
{
	struct iscsi_fixture f;
	uint8_t bhs[ISCSI_BHS_LEN] = { ISCSI_OP_LOGIN_REQ | ISCSI_IMMEDIATE };
	fx_init(&f);
	f.cfg.login_timeout_ms = 20000;
	for (unsigned t = 0; t < 4; t++) {
		fx_send_raw(&f, bhs + t, 1);
		iscsi_server_tick(&f.srv);
		fx_run();
	}
	CHECK(!f.link.closed);
	fx_send_raw(&f, bhs + 4, 1);
	iscsi_server_tick(&f.srv);
	fx_run();
	CHECK(f.link.closed);
	fini(&f);
}

/* Continued Login Requests (C bit) without end: each is answered, the 65th ends it. */
static void test_endless_login_continuations_hit_pdu_cap(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	fx_init(&f);
	for (unsigned i = 0; i < ISCSI_LOGIN_PDU_MAX; i++) {
		fx_login_req(&f, ISCSI_FLAG_LOGIN_CONTINUE, 0, "X=1");
		CHECK(fx_next(&f, &r));
		CHECK_EQ(ISCSI_OP_LOGIN_RSP, r.opcode);
	}
	CHECK(!f.link.closed);
	fx_login_req(&f, ISCSI_FLAG_LOGIN_CONTINUE, 0, "X=1");
	CHECK(f.link.closed);
	CHECK_EQ(1, f.srv.logins_timed_out);
	fini(&f);
}

/* ---- slots ---------------------------------------------------------------------------- */

/* A source at its cap: its own oldest login goes, the newcomer is served. */
static void test_source_at_cap_evicts_its_oldest_login(void)
{
	struct iscsi_fixture f;
	fx_init(&f);
	f.cfg.max_connections_per_source = 3;
	for (unsigned i = 0; i < 3; i++)
		CHECK(open_from(&f, i, 7) != NULL);
	CHECK(open_from(&f, 3, 7) != NULL);
	CHECK(links[0].closed); /* the oldest */
	CHECK(!links[1].closed && !links[2].closed && !links[3].closed);
	CHECK_EQ(1, f.srv.conns_evicted);
	CHECK(open_from(&f, 4, 8) != NULL); /* another source has its own allowance */
	CHECK_EQ(1, f.srv.conns_evicted);
	fini(&f);
}

/* Sessions keep their slots: the newcomer takes a login's, or is refused. */
static void test_sessions_are_never_evicted(void)
{
	struct iscsi_fixture f;
	fx_init(&f);
	f.cfg.max_connections_per_source = 3;
	for (unsigned i = 0; i < 3; i++)
		CHECK(open_from(&f, i, 7) != NULL);
	CHECK_EQ(0, login_on(&f, 0));
	CHECK_EQ(0, login_on(&f, 2));
	CHECK(open_from(&f, 3, 7) != NULL);
	CHECK(links[1].closed); /* the one still logging in, though not the oldest */
	CHECK(!links[0].closed && !links[2].closed);
	CHECK_EQ(0, login_on(&f, 3));
	CHECK(open_from(&f, 4, 7) == NULL); /* three sessions: no room */
	CHECK_EQ(1, f.srv.conns_refused);
	CHECK(!links[0].closed && !links[2].closed && !links[3].closed);
	fini(&f);
}

/* The global cap evicts the oldest login of any source. */
static void test_global_cap_evicts_oldest_login_of_any_source(void)
{
	struct iscsi_fixture f;
	fx_init(&f);
	f.cfg.max_connections = 4;
	CHECK_EQ(0, fx_login(&f, NULL)); /* f's own connection: a session, of no known source */
	CHECK(open_from(&f, 0, 1) != NULL);
	CHECK(open_from(&f, 1, 2) != NULL);
	CHECK(open_from(&f, 2, 2) != NULL);
	CHECK(open_from(&f, 3, 3) != NULL);
	CHECK(links[0].closed); /* source 1's login, older than source 2's */
	CHECK(!f.link.closed);
	CHECK_EQ(4, open_count(&f));
	fini(&f);
}

/* Behind one NAT: sixteen sessions from one address, while the same address opens login
 * after login that never ends; the sessions all stay, the logins stay under the cap. */
static void test_sixteen_sessions_behind_one_address_survive_a_login_flood(void)
{
	struct iscsi_fixture f;
	fx_init(&f);
	for (unsigned i = 0; i < 16; i++) {
		CHECK(open_from(&f, i, 2) != NULL);
		CHECK_EQ(0, login_on(&f, i));
	}
	for (unsigned i = 16; i < LINKS; i++)
		CHECK(open_from(&f, i, 2) != NULL);
	for (unsigned i = 0; i < 16; i++)
		CHECK(!links[i].closed);
	CHECK_EQ(ISCSI_DEFAULT_MAX_CONNECTIONS_PER_SOURCE + 1, open_count(&f)); /* + f's own */
	CHECK_EQ(LINKS - ISCSI_DEFAULT_MAX_CONNECTIONS_PER_SOURCE, f.srv.conns_evicted);
	CHECK(links[LINKS - 1].c && !links[LINKS - 1].closed); /* the newest login is served */
	fini(&f);
}

/* A closing connection no longer holds a slot. */
static void test_closed_connection_frees_its_slot(void)
{
	struct iscsi_fixture f;
	fx_init(&f);
	f.cfg.max_connections_per_source = 1;
	CHECK(open_from(&f, 0, 5) != NULL);
	CHECK_EQ(0, login_on(&f, 0));
	CHECK(open_from(&f, 1, 5) == NULL);
	links[0].transport_gone = true;
	iscsi_conn_closed(conns[0]); /* the peer went away */
	fx_run();
	CHECK(open_from(&f, 1, 5) != NULL);
	CHECK_EQ(0, f.srv.conns_evicted);
	fini(&f);
}

int main(void)
{
	RUN(test_login_trickling_a_byte_per_tick_ends_at_deadline);
	RUN(test_login_deadline_follows_config);
	RUN(test_endless_login_continuations_hit_pdu_cap);
	RUN(test_source_at_cap_evicts_its_oldest_login);
	RUN(test_sessions_are_never_evicted);
	RUN(test_global_cap_evicts_oldest_login_of_any_source);
	RUN(test_sixteen_sessions_behind_one_address_survive_a_login_flood);
	RUN(test_closed_connection_frees_its_slot);
	return check_report("test_iscsi_conn");
}
