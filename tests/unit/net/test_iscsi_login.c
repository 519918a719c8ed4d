/* Host tests of the login phase, CHAP and session reinstatement (net/iscsi_login.c,
 * net/iscsi_chap.c, net/iscsi_session.c) through the connection interface. */
#include "check.h"
#include "iscsi_test_support.h"

#include <stdlib.h>

#define CSG(s) ((s) << ISCSI_FLAG_LOGIN_CSG_SHIFT)
#define T ISCSI_FLAG_LOGIN_TRANSIT

static int status_of(const struct fx_pdu *r)
{
	return r->bhs[ISCSI_BHS_STATUS_CLASS] << 8 | r->bhs[ISCSI_BHS_STATUS_DETAIL];
}

static void counting_random(void *ctx, void *buf, size_t len)
{
	uint8_t *next = ctx, *p = buf;
	for (size_t i = 0; i < len; i++)
		p[i] = (*next)++;
}

static void test_one_step_login_to_normal_session(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	fx_init(&f);
	f.expstatsn = 77;
	fx_login_req(&f, T | CSG(1) | 3, 0,
		     "InitiatorName=" FX_INITIATOR "\nTargetName=" FX_TARGET);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_LOGIN_RSP, r.opcode);
	CHECK_EQ(0, status_of(&r));
	CHECK_EQ(T | CSG(1) | 3, r.flags);
	CHECK(get_be16(r.bhs + ISCSI_BHS_TSIH) != 0);
	CHECK_EQ(77, r.statsn);        /* StatSN starts at the initiator's ExpStatSN */
	CHECK_EQ(1, r.expcmdsn);       /* the login's CmdSN */
	CHECK_STR_EQ("1", fx_key(&r, "TargetPortalGroupTag"));
	CHECK_STR_EQ("disk0", fx_key(&r, "TargetAlias"));
	CHECK_STR_EQ("262144", fx_key(&r, "MaxRecvDataSegmentLength"));
	CHECK_EQ(ISCSI_PHASE_FULL_FEATURE, f.c->phase);
	CHECK(f.c->sess.nexus.unit_attention_reset);
	CHECK(fx_last_event_is(EVENT_LOGIN, FX_INITIATOR " from ? to " FX_TARGET " auth none"));
	CHECK_EQ(1, f.srv.logins);
	fx_fini(&f);
}

static void test_two_stage_login_tsih_only_in_final_response(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	fx_init(&f);
	fx_login_req(&f, T | CSG(0) | 1, 0,
		     "InitiatorName=" FX_INITIATOR "\nTargetName=" FX_TARGET "\nAuthMethod=None");
	CHECK(fx_next(&f, &r));
	CHECK_EQ(0, status_of(&r));
	CHECK_EQ(T | CSG(0) | 1, r.flags);
	CHECK_STR_EQ("None", fx_key(&r, "AuthMethod"));
	CHECK_STR_EQ("1", fx_key(&r, "TargetPortalGroupTag")); /* in the first response */
	CHECK_EQ(0, get_be16(r.bhs + ISCSI_BHS_TSIH));
	fx_login_req(&f, T | CSG(1) | 3, 0, "MaxBurstLength=65536\nImmediateData=No");
	CHECK(fx_next(&f, &r));
	CHECK_EQ(0, status_of(&r));
	CHECK(fx_key(&r, "TargetPortalGroupTag") == NULL); /* only once */
	CHECK_STR_EQ("65536", fx_key(&r, "MaxBurstLength"));
	CHECK_STR_EQ("No", fx_key(&r, "ImmediateData"));
	CHECK(get_be16(r.bhs + ISCSI_BHS_TSIH) != 0);
	CHECK_EQ(65536, f.c->params.max_burst_length);
	CHECK(!f.c->params.immediate_data);
	fx_fini(&f);
}

/* The keys Linux open-iscsi sends, in its two stages. */
static void test_open_iscsi_style_login(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	fx_init(&f);
	fx_login_req(&f, T | CSG(0) | 1, 0,
		     "InitiatorName=" FX_INITIATOR "\nInitiatorAlias=client\nTargetName=" FX_TARGET
		     "\nSessionType=Normal\nAuthMethod=None");
	CHECK(fx_next(&f, &r));
	CHECK_EQ(0, status_of(&r));
	CHECK(r.flags & T);
	CHECK(fx_key(&r, "InitiatorAlias") == NULL);
	fx_login_req(&f, T | CSG(1) | 3, 0,
		     "HeaderDigest=None\nDataDigest=None\nDefaultTime2Wait=2\nDefaultTime2Retain=0"
		     "\nIFMarker=No\nOFMarker=No\nErrorRecoveryLevel=0\nInitialR2T=No"
		     "\nImmediateData=Yes\nMaxBurstLength=16776192\nFirstBurstLength=262144"
		     "\nMaxOutstandingR2T=1\nMaxConnections=1\nDataPDUInOrder=Yes"
		     "\nDataSequenceInOrder=Yes\nMaxRecvDataSegmentLength=262144");
	CHECK(fx_next(&f, &r));
	CHECK_EQ(0, status_of(&r));
	CHECK_STR_EQ("None", fx_key(&r, "HeaderDigest"));
	CHECK_STR_EQ("No", fx_key(&r, "InitialR2T"));
	CHECK_STR_EQ("Yes", fx_key(&r, "ImmediateData"));
	CHECK_STR_EQ("1048576", fx_key(&r, "MaxBurstLength"));
	CHECK_STR_EQ("65536", fx_key(&r, "FirstBurstLength"));
	CHECK_STR_EQ("0", fx_key(&r, "ErrorRecoveryLevel"));
	CHECK_STR_EQ("1", fx_key(&r, "MaxConnections"));
	CHECK_STR_EQ("262144", fx_key(&r, "MaxRecvDataSegmentLength"));
	CHECK(memmem(r.data, r.data_len, "=NotUnderstood", 14) == NULL); /* every key known */
	CHECK_EQ(ISCSI_PHASE_FULL_FEATURE, f.c->phase);
	CHECK(!f.c->params.initial_r2t);
	CHECK_EQ(65536, f.c->params.first_burst_length);
	fx_fini(&f);
}

static void test_transit_not_requested_stays_in_stage(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	fx_init(&f);
	fx_login_req(&f, CSG(1), 0, "InitiatorName=" FX_INITIATOR "\nTargetName=" FX_TARGET);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(0, status_of(&r));
	CHECK_EQ(CSG(1), r.flags);
	CHECK_EQ(ISCSI_PHASE_LOGIN, f.c->phase);
	fx_login_req(&f, T | CSG(1) | 3, 0, NULL);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(T | CSG(1) | 3, r.flags);
	CHECK_EQ(ISCSI_PHASE_FULL_FEATURE, f.c->phase);
	fx_fini(&f);
}

static void test_unknown_key_answered_not_understood(void)
{
	struct iscsi_fixture f;
	fx_init(&f);
	CHECK_EQ(0, fx_login(&f, "X-com.example.Thing=1\nY-Other=NotUnderstood"));
	CHECK_STR_EQ("NotUnderstood", fx_key(&f.last, "X-com.example.Thing"));
	CHECK(fx_key(&f.last, "Y-Other") == NULL); /* no answer to NotUnderstood */
	fx_fini(&f);
}

static void test_per_direction_mrdsl_after_login(void)
{
	struct iscsi_fixture f;
	fx_init(&f);
	CHECK_EQ(0, fx_login(&f, "MaxRecvDataSegmentLength=4096"));
	CHECK_EQ(4096, f.c->params.initiator_mrdsl);
	CHECK_EQ(262144, f.c->params.target_mrdsl);
	fx_fini(&f);
}

static void test_missing_initiator_name_fails(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	fx_init(&f);
	fx_login_req(&f, T | CSG(1) | 3, 0, "TargetName=" FX_TARGET);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_LOGIN_MISSING_PARAMETER, status_of(&r));
	CHECK(f.link.closed);
	fx_fini(&f);
}

static void test_unknown_target_fails_not_found(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	fx_init(&f);
	fx_login_req(&f, T | CSG(1) | 3, 0, "InitiatorName=" FX_INITIATOR "\nTargetName=iqn.nope");
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_LOGIN_NOT_FOUND, status_of(&r));
	CHECK(f.link.closed);
	CHECK(fx_last_event_is(EVENT_LOGIN_FAILED, FX_INITIATOR " from ? to iqn.nope: unknown target"));
	CHECK_EQ(1, f.srv.login_failures_by_reason[ISCSI_LOGIN_FAIL_UNKNOWN_TARGET]);
	fx_fini(&f);
}

static void test_initiator_not_in_acl_fails_authorization(void)
{
	struct iscsi_fixture f;
	static const struct iscsi_acl_entry allowed[] = { { .initiator = "iqn.1994-05.com.example:other" } };
	fx_init(&f);
	f.targets[0].acl = allowed;
	f.targets[0].n_acl = 1;
	CHECK_EQ(ISCSI_LOGIN_AUTHORIZATION_FAILURE, fx_login(&f, NULL));
	CHECK(f.link.closed);
	CHECK(fx_last_event_is(EVENT_LOGIN_FAILED, FX_INITIATOR " from ? to " FX_TARGET ": not in ACL"));
	CHECK_EQ(1, f.srv.login_failures_by_reason[ISCSI_LOGIN_FAIL_NOT_IN_ACL]);
	CHECK_EQ(0, f.srv.logins);
	fx_fini(&f);
}

static void test_initiator_in_acl_logs_in(void)
{
	struct iscsi_fixture f;
	static const struct iscsi_acl_entry allowed[] = { { .initiator = "iqn.x:other" },
							  { .initiator = FX_INITIATOR } };
	fx_init(&f);
	f.targets[0].acl = allowed;
	f.targets[0].n_acl = 2;
	CHECK_EQ(0, fx_login(&f, NULL));
	fx_fini(&f);
}

static void test_unsupported_version_fails(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	char text[256];
	fx_init(&f);
	uint8_t bhs[ISCSI_BHS_LEN] = { ISCSI_OP_LOGIN_REQ | ISCSI_IMMEDIATE, T | CSG(1) | 3, 2, 1 };
	uint32_t len = fx_text(text, sizeof(text), "InitiatorName=" FX_INITIATOR "\nTargetName=" FX_TARGET);
	fx_send(&f, bhs, text, len);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_LOGIN_UNSUPPORTED_VERSION, status_of(&r));
	fx_fini(&f);
}

static void test_command_before_login_rejected_and_closed(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t cdb[16] = { 0 };
	fx_init(&f);
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL, 1, 0, cdb, NULL, 0);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_REJECT, r.opcode);
	CHECK_EQ(ISCSI_REASON_PROTOCOL_ERROR, r.bhs[ISCSI_BHS_REJECT_REASON]);
	CHECK(f.link.closed);
	fx_fini(&f);
}

static void test_transit_and_continue_together_fail(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	fx_init(&f);
	fx_login_req(&f, T | ISCSI_FLAG_LOGIN_CONTINUE | CSG(1) | 3, 0, "InitiatorName=" FX_INITIATOR);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_LOGIN_INITIATOR_ERROR, status_of(&r));
	fx_fini(&f);
}

static void test_login_text_continued_across_pdus(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	fx_init(&f);
	/* "InitiatorName=..." split in the middle of a key=value pair */
	char text[256];
	uint32_t len = fx_text(text, sizeof(text), "InitiatorName=" FX_INITIATOR "\nTargetName=" FX_TARGET);
	uint8_t bhs[ISCSI_BHS_LEN] = { ISCSI_OP_LOGIN_REQ | ISCSI_IMMEDIATE,
				       ISCSI_FLAG_LOGIN_CONTINUE | CSG(1) | 3 };
	put_be32(bhs + ISCSI_BHS_CMDSN, 1);
	fx_send(&f, bhs, text, 20);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(0, status_of(&r));
	CHECK_EQ(0, r.data_len);
	CHECK(!(r.flags & T));
	bhs[1] = T | CSG(1) | 3;
	fx_send(&f, bhs, text + 20, len - 20);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(0, status_of(&r));
	CHECK(r.flags & T);
	CHECK_EQ(ISCSI_PHASE_FULL_FEATURE, f.c->phase);
	fx_fini(&f);
}

static void test_login_text_without_equals_fails(void)
{
	struct iscsi_fixture f;
	fx_init(&f);
	CHECK_EQ(ISCSI_LOGIN_INITIATOR_ERROR, fx_login(&f, "NoEqualsHere"));
	CHECK(f.link.closed);
	fx_fini(&f);
}

static void test_chap_md5_known_answer(void)
{
	uint8_t challenge[16], digest[16], expected[16];
	for (int i = 0; i < 16; i++)
		challenge[i] = (uint8_t)(2 + i);
	iscsi_chap_md5(1, "secretsecret12", challenge, 16, digest);
	CHECK_EQ(16, iscsi_chap_decode("0x40473926e3739c242318a6451d2e920e", expected, 16));
	CHECK_MEM_EQ(expected, digest, 16);
}

static void test_chap_decode_hex_and_base64(void)
{
	uint8_t out[8];
	CHECK_EQ(3, iscsi_chap_decode("0x0aFf10", out, sizeof(out)));
	CHECK_EQ(0xff, out[1]);
	CHECK_EQ(3, iscsi_chap_decode("0bAQID", out, sizeof(out)));
	CHECK_EQ(3, out[2]);
	CHECK(iscsi_chap_decode("1234", out, sizeof(out)) < 0);
	CHECK(iscsi_chap_decode("0xzz", out, sizeof(out)) < 0);
	CHECK(iscsi_chap_decode("0x112233445566778899", out, sizeof(out)) < 0);
}

/* Runs the CHAP exchange; returns the final login status. */
static int chap_login(struct iscsi_fixture *f, const char *secret, const char *mutual_keys,
		      struct fx_pdu *final)
{
	struct fx_pdu r;
	fx_login_req(f, T | CSG(0) | 1, 0, "InitiatorName=" FX_INITIATOR "\nTargetName=" FX_TARGET
					   "\nAuthMethod=CHAP,None");
	if (!fx_next(f, &r) || status_of(&r) != 0)
		return -1;
	CHECK_STR_EQ("CHAP", fx_key(&r, "AuthMethod"));
	CHECK(!(r.flags & T)); /* not authenticated yet */
	fx_login_req(f, CSG(0) | 1, 0, "CHAP_A=7,5");
	if (!fx_next(f, &r) || status_of(&r) != 0)
		return -1;
	CHECK_STR_EQ("5", fx_key(&r, "CHAP_A"));
	const char *id = fx_key(&r, "CHAP_I"), *c = fx_key(&r, "CHAP_C");
	CHECK(id && c);
	if (!id || !c)
		return -1;
	uint8_t challenge[16], digest[16];
	CHECK_EQ(16, iscsi_chap_decode(c, challenge, 16));
	iscsi_chap_md5((uint8_t)atoi(id), secret, challenge, 16, digest);
	char text[512] = "CHAP_N=alice\nCHAP_R=0x";
	for (int i = 0; i < 16; i++)
		sprintf(text + strlen(text), "%02x", digest[i]);
	if (mutual_keys)
		sprintf(text + strlen(text), "\n%s", mutual_keys);
	fx_login_req(f, T | CSG(0) | 1, 0, text);
	if (!fx_next(f, final))
		return -1;
	return status_of(final);
}

static void setup_chap(struct iscsi_fixture *f, uint8_t *counter)
{
	f->cfg.random = counting_random;
	f->cfg.random_ctx = counter;
	f->targets[0].auth.chap = (struct iscsi_credential){ "alice", "secretsecret12" };
}

/* CHAP, and the target proves itself to initiators that ask. */
static void setup_mutual_chap(struct iscsi_fixture *f, uint8_t *counter)
{
	setup_chap(f, counter);
	f->targets[0].auth.mutual = (struct iscsi_credential){ "target0", "targetsecret34" };
}

/* After the security stage: the operational stage to the full feature phase, and the
 * login event it logs, "... auth <auth>". */
static void finish_login(struct iscsi_fixture *f, const char *auth)
{
	struct fx_pdu r;
	char event[256];
	fx_login_req(f, T | CSG(1) | 3, 0, NULL);
	CHECK(fx_next(f, &r));
	CHECK_EQ(0, status_of(&r));
	CHECK_EQ(ISCSI_PHASE_FULL_FEATURE, f->c->phase);
	snprintf(event, sizeof(event), FX_INITIATOR " from ? to " FX_TARGET " auth %s", auth);
	CHECK(fx_last_event_is(EVENT_LOGIN, event));
}

static void test_chap_one_way_succeeds(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t counter = 1;
	fx_init(&f);
	setup_chap(&f, &counter);
	CHECK_EQ(0, chap_login(&f, "secretsecret12", NULL, &r));
	CHECK(r.flags & T);
	CHECK_EQ(0, event_log_count(EVENT_LOGIN)); /* not before the full feature phase */
	finish_login(&f, "CHAP");
	fx_fini(&f);
}

static void test_chap_challenge_is_the_random_source(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t counter = 1;
	fx_init(&f);
	setup_chap(&f, &counter);
	fx_login_req(&f, CSG(0) | 1, 0, "InitiatorName=" FX_INITIATOR "\nTargetName=" FX_TARGET
				      "\nAuthMethod=CHAP");
	CHECK(fx_next(&f, &r));
	fx_login_req(&f, CSG(0) | 1, 0, "CHAP_A=5");
	CHECK(fx_next(&f, &r));
	CHECK_STR_EQ("1", fx_key(&r, "CHAP_I"));
	CHECK_STR_EQ("0x02030405060708090a0b0c0d0e0f1011", fx_key(&r, "CHAP_C"));
	fx_fini(&f);
}

static void test_chap_wrong_secret_fails(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t counter = 1;
	fx_init(&f);
	setup_chap(&f, &counter);
	CHECK_EQ(ISCSI_LOGIN_AUTHENTICATION_FAILURE, chap_login(&f, "wrongsecret123", NULL, &r));
	CHECK(f.link.closed);
	/* one event, one count, and neither secret in the text */
	CHECK(fx_last_event_is(EVENT_LOGIN_FAILED, FX_INITIATOR " from ? to " FX_TARGET ": CHAP failed"));
	CHECK_EQ(1, event_log_count(EVENT_LOGIN_FAILED));
	CHECK_EQ(1, f.srv.login_failures);
	CHECK_EQ(1, f.srv.login_failures_by_reason[ISCSI_LOGIN_FAIL_AUTH]);
	CHECK_EQ(0, f.srv.logins);
	fx_fini(&f);
	CHECK_EQ(0, event_log_count(EVENT_SESSION_DROP)); /* no session to drop */
}

static void test_chap_required_but_only_none_offered_fails(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t counter = 1;
	fx_init(&f);
	setup_chap(&f, &counter);
	fx_login_req(&f, T | CSG(0) | 1, 0, "InitiatorName=" FX_INITIATOR "\nTargetName=" FX_TARGET
					    "\nAuthMethod=None");
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_LOGIN_AUTHENTICATION_FAILURE, status_of(&r));
	fx_fini(&f);
}

static void test_chap_required_and_security_stage_skipped_fails(void)
{
	struct iscsi_fixture f;
	uint8_t counter = 1;
	fx_init(&f);
	setup_chap(&f, &counter);
	CHECK_EQ(ISCSI_LOGIN_AUTHENTICATION_FAILURE, fx_login(&f, NULL));
	fx_fini(&f);
}

static void test_chap_mutual_target_answers_challenge(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t counter = 1;
	fx_init(&f);
	setup_mutual_chap(&f, &counter);
	char keys[128] = "CHAP_I=85\nCHAP_C=0x";
	for (int i = 100; i < 116; i++)
		sprintf(keys + strlen(keys), "%02x", i);
	CHECK_EQ(0, chap_login(&f, "secretsecret12", keys, &r));
	CHECK_STR_EQ("target0", fx_key(&r, "CHAP_N"));
	CHECK_STR_EQ("0x64a786699ba2a03e985527fe530221b2", fx_key(&r, "CHAP_R"));
	finish_login(&f, "mutual CHAP");
	fx_fini(&f);
}

/* The target could prove itself, but the initiator did not ask: one-way CHAP is what
 * happened, and what the console says. */
static void test_chap_mutual_not_asked_is_one_way(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t counter = 1;
	fx_init(&f);
	setup_mutual_chap(&f, &counter);
	CHECK_EQ(0, chap_login(&f, "secretsecret12", NULL, &r));
	CHECK(fx_key(&r, "CHAP_R") == NULL);
	finish_login(&f, "CHAP");
	fx_fini(&f);
}

static void test_chap_mutual_reflected_challenge_fails(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t counter = 1;
	fx_init(&f);
	setup_mutual_chap(&f, &counter);
	/* our own challenge (bytes 2..17) sent back */
	CHECK_EQ(ISCSI_LOGIN_AUTHENTICATION_FAILURE,
		 chap_login(&f, "secretsecret12", "CHAP_I=1\nCHAP_C=0x02030405060708090a0b0c0d0e0f1011", &r));
	fx_fini(&f);
}

static void test_same_isid_and_name_reinstates_old_session(void)
{
	struct iscsi_fixture f;
	struct fx_link link2;
	struct iscsi_conn *c2, *c1;
	fx_init(&f);
	CHECK_EQ(0, fx_login(&f, NULL));
	uint16_t tsih1 = get_be16(f.last.bhs + ISCSI_BHS_TSIH);
	c1 = f.c;
	/* the second connection becomes the one the helpers use */
	fx_open_link(&f, &link2, &c2);
	fx_use(&f, &link2);
	CHECK_EQ(0, fx_login(&f, NULL));
	CHECK(get_be16(f.last.bhs + ISCSI_BHS_TSIH) != tsih1);
	CHECK_EQ(1, f.srv.sessions_open);
	/* the first connection was closed by the target */
	bool old_alive = false;
	for (struct iscsi_conn *c = f.srv.conns; c; c = c->next)
		old_alive |= c == c1;
	CHECK(!old_alive);
	CHECK(f.link.closed);
	fx_fini(&f);
	free(link2.out);
}

/* ---- names are fixed by the first request: authentication is earned for them --------- */

/* The attack: a login that names the victim's initiator, ISID and CHAP-protected target
 * as Normal, then switches to Discovery (which needs no CHAP) to reach full feature and
 * reinstate, ending the victim's authenticated session. */
static void test_session_type_switch_after_first_request_fails(void)
{
	struct iscsi_fixture f;
	struct fx_link link2;
	struct iscsi_conn *victim, *c2;
	struct fx_pdu r;
	uint8_t counter = 1;
	fx_init(&f);
	setup_chap(&f, &counter);
	CHECK_EQ(0, chap_login(&f, "secretsecret12", NULL, &r));
	fx_login_req(&f, T | CSG(1) | 3, 0, NULL);
	CHECK(fx_next(&f, &r));
	victim = f.c;
	fx_open_link(&f, &link2, &c2);
	fx_use(&f, &link2);
	fx_login_req(&f, CSG(0) | 1, 0, "InitiatorName=" FX_INITIATOR "\nTargetName=" FX_TARGET
				      "\nSessionType=Normal\nAuthMethod=CHAP,None");
	CHECK(fx_next(&f, &r));
	CHECK_EQ(0, status_of(&r));
	fx_login_req(&f, T | CSG(0) | 3, 0, "SessionType=Discovery");
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_LOGIN_INITIATOR_ERROR, status_of(&r));
	CHECK(link2.closed);
	CHECK_EQ(ISCSI_PHASE_FULL_FEATURE, victim->phase);
	CHECK(!f.link.closed);
	CHECK_EQ(1, f.srv.sessions_open);
	fx_fini(&f);
	free(link2.out);
}

/* Authenticating for one target and then naming another in a later request fails,
 * whether the request names the target alone or repeats the initiator's name with it. */
static void target_switch_after_authentication_fails(const char *switch_text)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t counter = 1;
	fx_init(&f);
	setup_chap(&f, &counter);
	f.targets[1].auth.chap = (struct iscsi_credential){ "alice", "secretsecret12" };
	f.targets[0].auth.chap = (struct iscsi_credential){ "alice", "another-secret9" };
	fx_login_req(&f, CSG(0) | 1, 0, "InitiatorName=" FX_INITIATOR "\nTargetName=" FX_TARGET2
				      "\nAuthMethod=CHAP");
	CHECK(fx_next(&f, &r));
	fx_login_req(&f, CSG(0) | 1, 0, "CHAP_A=5");
	CHECK(fx_next(&f, &r));
	uint8_t challenge[16], digest[16];
	CHECK_EQ(16, iscsi_chap_decode(fx_key(&r, "CHAP_C"), challenge, 16));
	iscsi_chap_md5((uint8_t)atoi(fx_key(&r, "CHAP_I")), "secretsecret12", challenge, 16, digest);
	char text[256] = "CHAP_N=alice\nCHAP_R=0x";
	for (int i = 0; i < 16; i++)
		sprintf(text + strlen(text), "%02x", digest[i]);
	fx_login_req(&f, T | CSG(0) | 1, 0, text);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(0, status_of(&r)); /* authenticated for disk1 */
	fx_login_req(&f, T | CSG(1) | 3, 0, switch_text);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_LOGIN_INITIATOR_ERROR, status_of(&r));
	CHECK(f.link.closed);
	CHECK_EQ(0, f.srv.sessions_open);
	fx_fini(&f);
}

static void test_target_switch_after_authentication_fails(void)
{
	target_switch_after_authentication_fails("TargetName=" FX_TARGET);
	target_switch_after_authentication_fails("InitiatorName=" FX_INITIATOR
						 "\nTargetName=" FX_TARGET);
}

static void test_repeating_the_same_names_is_allowed(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	fx_init(&f);
	fx_login_req(&f, CSG(0) | 1, 0, "InitiatorName=" FX_INITIATOR "\nTargetName=" FX_TARGET
				      "\nAuthMethod=None");
	CHECK(fx_next(&f, &r));
	fx_login_req(&f, T | CSG(0) | 3, 0,
		     "InitiatorName=" FX_INITIATOR "\nTargetName=" FX_TARGET "\nSessionType=Normal");
	CHECK(fx_next(&f, &r));
	CHECK_EQ(0, status_of(&r));
	CHECK_EQ(ISCSI_PHASE_FULL_FEATURE, f.c->phase);
	fx_fini(&f);
}

/* ---- credentials per initiator ------------------------------------------------------ */

static const struct iscsi_acl_entry bob_only[] = {
	{ .initiator = FX_INITIATOR, .auth = { { "bob", "bobs-own-secret" }, { NULL, NULL } } },
};

static void test_acl_entry_credentials_are_required(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t counter = 1;
	fx_init(&f);
	setup_chap(&f, &counter); /* the target's default: alice / secretsecret12 */
	f.targets[0].acl = bob_only;
	f.targets[0].n_acl = 1;
	/* The default credentials do not count for an initiator with its own. */
	CHECK_EQ(ISCSI_LOGIN_AUTHENTICATION_FAILURE, chap_login(&f, "secretsecret12", NULL, &r));
	fx_fini(&f);
}

static void test_chap_name_must_match_the_credential(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t counter = 1;
	fx_init(&f);
	setup_chap(&f, &counter);
	f.targets[0].auth.chap.user = "carol"; /* same secret, another name */
	CHECK_EQ(ISCSI_LOGIN_AUTHENTICATION_FAILURE, chap_login(&f, "secretsecret12", NULL, &r));
	fx_fini(&f);
}

static void test_chap_refused_without_random_source(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t counter = 1;
	fx_init(&f);
	setup_chap(&f, &counter);
	f.cfg.random = NULL;
	fx_login_req(&f, CSG(0) | 1, 0, "InitiatorName=" FX_INITIATOR "\nTargetName=" FX_TARGET
				      "\nAuthMethod=CHAP");
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_LOGIN_SERVICE_UNAVAILABLE, status_of(&r));
	CHECK(f.link.closed);
	fx_fini(&f);
}

static void test_discovery_needs_its_chap_when_configured(void)
{
	struct iscsi_fixture f;
	uint8_t counter = 1;
	fx_init(&f);
	f.cfg.random = counting_random;
	f.cfg.random_ctx = &counter;
	f.cfg.discovery.chap = (struct iscsi_credential){ "disco", "discovery-secret" };
	CHECK_EQ(ISCSI_LOGIN_AUTHENTICATION_FAILURE, fx_login_discovery(&f, NULL));
	CHECK(f.link.closed);
	fx_fini(&f);
}

/* A discovery login with the same initiator name and ISID leaves the normal session be. */
static void test_discovery_login_does_not_reinstate(void)
{
	struct iscsi_fixture f;
	struct fx_link link2;
	struct iscsi_conn *c2;
	fx_init(&f);
	CHECK_EQ(0, fx_login(&f, NULL));
	fx_open_link(&f, &link2, &c2);
	fx_use(&f, &link2);
	CHECK_EQ(0, fx_login_discovery(&f, NULL));
	CHECK(!f.link.closed);
	CHECK_EQ(2, f.srv.sessions_open);
	fx_fini(&f);
	free(link2.out);
}

/* Nor does a normal login to another target. */
static void test_login_to_another_target_does_not_reinstate(void)
{
	struct iscsi_fixture f;
	struct fx_link link2;
	struct iscsi_conn *c2;
	fx_init(&f);
	CHECK_EQ(0, fx_login(&f, NULL));
	fx_open_link(&f, &link2, &c2);
	fx_use(&f, &link2);
	fx_login_req(&f, T | CSG(1) | 3, 0, "InitiatorName=" FX_INITIATOR "\nTargetName=" FX_TARGET2);
	struct fx_pdu r;
	CHECK(fx_next(&f, &r));
	CHECK_EQ(0, status_of(&r));
	CHECK(!f.link.closed);
	CHECK_EQ(2, f.srv.sessions_open);
	fx_fini(&f);
	free(link2.out);
}

static void test_unknown_nonzero_tsih_fails(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	fx_init(&f);
	fx_login_req(&f, T | CSG(1) | 3, 0x4242,
		     "InitiatorName=" FX_INITIATOR "\nTargetName=" FX_TARGET);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_LOGIN_SESSION_DOES_NOT_EXIST, status_of(&r));
	fx_fini(&f);
}

static void test_bad_session_type_fails(void)
{
	struct iscsi_fixture f;
	fx_init(&f);
	CHECK_EQ(ISCSI_LOGIN_SESSION_TYPE_NOT_SUPPORTED, fx_login(&f, "SessionType=Weird"));
	fx_fini(&f);
}

static void test_digests_apply_after_login(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	fx_init(&f);
	CHECK_EQ(0, fx_login(&f, "HeaderDigest=CRC32C,None\nDataDigest=CRC32C"));
	CHECK_STR_EQ("CRC32C", fx_key(&f.last, "HeaderDigest"));
	f.digests = true;
	fx_nop_out(&f, 5, ISCSI_RESERVED_TAG, "ping", 4);
	CHECK(fx_next(&f, &r)); /* the test's parser checks both digests */
	CHECK_EQ(ISCSI_OP_NOP_IN, r.opcode);
	CHECK_EQ(4, r.data_len);
	fx_fini(&f);
}

int main(void)
{
	RUN(test_one_step_login_to_normal_session);
	RUN(test_two_stage_login_tsih_only_in_final_response);
	RUN(test_open_iscsi_style_login);
	RUN(test_transit_not_requested_stays_in_stage);
	RUN(test_unknown_key_answered_not_understood);
	RUN(test_per_direction_mrdsl_after_login);
	RUN(test_missing_initiator_name_fails);
	RUN(test_unknown_target_fails_not_found);
	RUN(test_initiator_not_in_acl_fails_authorization);
	RUN(test_initiator_in_acl_logs_in);
	RUN(test_unsupported_version_fails);
	RUN(test_command_before_login_rejected_and_closed);
	RUN(test_transit_and_continue_together_fail);
	RUN(test_login_text_continued_across_pdus);
	RUN(test_login_text_without_equals_fails);
	RUN(test_chap_md5_known_answer);
	RUN(test_chap_decode_hex_and_base64);
	RUN(test_chap_one_way_succeeds);
	RUN(test_chap_challenge_is_the_random_source);
	RUN(test_chap_wrong_secret_fails);
	RUN(test_chap_required_but_only_none_offered_fails);
	RUN(test_chap_required_and_security_stage_skipped_fails);
	RUN(test_chap_mutual_target_answers_challenge);
	RUN(test_chap_mutual_not_asked_is_one_way);
	RUN(test_chap_mutual_reflected_challenge_fails);
	RUN(test_same_isid_and_name_reinstates_old_session);
	RUN(test_session_type_switch_after_first_request_fails);
	RUN(test_target_switch_after_authentication_fails);
	RUN(test_repeating_the_same_names_is_allowed);
	RUN(test_acl_entry_credentials_are_required);
	RUN(test_chap_name_must_match_the_credential);
	RUN(test_chap_refused_without_random_source);
	RUN(test_discovery_needs_its_chap_when_configured);
	RUN(test_discovery_login_does_not_reinstate);
	RUN(test_login_to_another_target_does_not_reinstate);
	RUN(test_unknown_nonzero_tsih_fails);
	RUN(test_bad_session_type_fails);
	RUN(test_digests_apply_after_login);
	return check_report("test_iscsi_login");
}
