/*
 * The login phase (RFC 7143 6, 11.12-11.13): stages, names, authentication, operational
 * negotiation, then the session.
 *
 *   SecurityNegotiation (CSG 0) -> LoginOperationalNegotiation (CSG 1) -> FullFeature (3)
 *
 * Each Login Request names its current stage (CSG); with the T bit it asks to move to NSG,
 * and our response grants the move by echoing T (only once authentication is done). A
 * request with the C bit carries text continued in the next one: we gather it and answer
 * each such PDU with an empty response. The first request fixes ISID, TSIH, CID and the
 * numbering (ExpCmdSN = its CmdSN, StatSN = its ExpStatSN), and its text fixes who logs in
 * to what: InitiatorName, SessionType and TargetName are taken there and nowhere else
 * (a later request may repeat them, never change them). Authentication is therefore
 * earned for that one initiator, target and session type, with the credentials the
 * target's access list gives that initiator (discovery: the discovery credentials).
 * The last response carries the session's TSIH: a new one for TSIH 0, which also
 * reinstates (ends) an older normal session of the same initiator, ISID and target; a
 * non-zero TSIH names such a session to take over.
 */
#include "iscsi_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct iscsi_login {
	bool started;
	uint8_t isid[ISCSI_ISID_LEN];
	uint16_t tsih;              /* as the initiator asked */
	uint32_t itt;
	uint8_t stage;              /* the current stage */
	bool names_fixed;           /* the first request's names were taken */
	struct iscsi_auth auth;     /* what this initiator must prove for this target */
	bool auth_done;             /* the security stage was passed or is not needed */
	bool chap_selected;
	bool mutual_answered;       /* the initiator challenged us and got our answer */
	char target_asked[ISCSI_NAME_MAX]; /* TargetName as requested, for the console */
	bool target_declared;       /* TargetPortalGroupTag (and alias) sent */
	struct iscsi_chap chap;
	struct iscsi_params params; /* applied to the connection when the login ends */
	struct iscsi_limits limits;
	struct iscsi_text_buf text_in;
};

/* What one (gathered) login request says. */
struct login_keys {
	struct iscsi_conn *c;
	struct iscsi_text_buf *out;
	const char *initiator_name, *target_name, *session_type, *auth_method;
	struct iscsi_chap_keys chap;
	bool malformed;
};

void iscsi_login_free(struct iscsi_login *l)
{
	if (!l)
		return;
	iscsi_text_free(&l->text_in);
	free(l);
}

static bool is_no_value(const char *v)
{
	return !strcmp(v, "Irrelevant") || !strcmp(v, "NotUnderstood") || !strcmp(v, "Reject");
}

static int collect_key(void *ctx, const char *key, const char *value)
{
	struct login_keys *k = ctx;
	struct iscsi_login *l = k->c->login;
	const char **slot = NULL;

	if (!strcmp(key, "InitiatorName")) slot = &k->initiator_name;
	else if (!strcmp(key, "TargetName")) slot = &k->target_name;
	else if (!strcmp(key, "SessionType")) slot = &k->session_type;
	else if (!strcmp(key, "AuthMethod")) slot = &k->auth_method;
	else if (!strcmp(key, "CHAP_A")) slot = &k->chap.a;
	else if (!strcmp(key, "CHAP_N")) slot = &k->chap.n;
	else if (!strcmp(key, "CHAP_R")) slot = &k->chap.r;
	else if (!strcmp(key, "CHAP_I")) slot = &k->chap.i;
	else if (!strcmp(key, "CHAP_C")) slot = &k->chap.c;
	if (slot) {
		*slot = value;
		return 0;
	}
	/* Declarations that are ours to make, or the initiator's own: no answer. */
	if (!strcmp(key, "InitiatorAlias") || !strcmp(key, "TargetAlias") ||
	    !strcmp(key, "TargetAddress") || !strcmp(key, "TargetPortalGroupTag"))
		return 0;
	int rc = iscsi_param_negotiate(&l->params, &l->limits, key, value, k->out);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	if (is_no_value(value))
		return 0; /* never answer NotUnderstood with NotUnderstood */
	return iscsi_text_add(k->out, key, "NotUnderstood");
}

static int send_response(struct iscsi_conn *c, uint8_t flags, uint16_t status, uint16_t tsih,
			 const struct iscsi_text_buf *text)
{
	struct iscsi_login *l = c->login;
	uint8_t bhs[ISCSI_BHS_LEN];

	iscsi_bhs_init(bhs, ISCSI_OP_LOGIN_RSP, flags, l->itt);
	bhs[ISCSI_BHS_VERSION_MAX] = ISCSI_VERSION;
	bhs[ISCSI_BHS_VERSION_ACTIVE] = ISCSI_VERSION;
	memcpy(bhs + ISCSI_BHS_ISID, l->isid, ISCSI_ISID_LEN);
	put_be16(bhs + ISCSI_BHS_TSIH, tsih);
	bhs[ISCSI_BHS_STATUS_CLASS] = (uint8_t)(status >> 8);
	bhs[ISCSI_BHS_STATUS_DETAIL] = (uint8_t)status;
	return iscsi_send_pdu(c, bhs, text ? text->buf : NULL, text ? text->len : 0,
			      ISCSI_STATSN_ADVANCE);
}

/* What a failure status means for the counters and the console. */
static enum iscsi_login_failure failure_of(uint16_t status)
{
	switch (status) {
	case ISCSI_LOGIN_NOT_FOUND:
		return ISCSI_LOGIN_FAIL_UNKNOWN_TARGET;
	case ISCSI_LOGIN_AUTHORIZATION_FAILURE:
		return ISCSI_LOGIN_FAIL_NOT_IN_ACL;
	case ISCSI_LOGIN_AUTHENTICATION_FAILURE:
		return ISCSI_LOGIN_FAIL_AUTH;
	case ISCSI_LOGIN_SERVICE_UNAVAILABLE:
		return ISCSI_LOGIN_FAIL_NO_CHAP;
	case ISCSI_LOGIN_OUT_OF_RESOURCES:
		return ISCSI_LOGIN_FAIL_RESOURCES;
	default:
		return ISCSI_LOGIN_FAIL_PROTOCOL;
	}
}

static int fail(struct iscsi_conn *c, uint16_t status)
{
	const char *asked = c->login->target_asked;
	iscsi_conn_login_failed(c, asked[0] ? asked : NULL, failure_of(status));
	send_response(c, 0, status, 0, NULL);
	return -EACCES;
}

/* Checks the first request's fixed fields and takes its numbering. */
static int start(struct iscsi_conn *c, struct iscsi_pdu *pdu)
{
	struct iscsi_login *l = c->login;
	if (pdu->bhs[ISCSI_BHS_VERSION_MIN] > ISCSI_VERSION)
		return ISCSI_LOGIN_UNSUPPORTED_VERSION;
	l->started = true;
	memcpy(l->isid, pdu->bhs + ISCSI_BHS_ISID, ISCSI_ISID_LEN);
	l->tsih = get_be16(pdu->bhs + ISCSI_BHS_TSIH);
	l->stage = (pdu->bhs[ISCSI_BHS_FLAGS] & ISCSI_FLAG_LOGIN_CSG_MASK) >> ISCSI_FLAG_LOGIN_CSG_SHIFT;
	c->sess.exp_cmdsn = pdu_be32(pdu, ISCSI_BHS_CMDSN);
	c->stat_sn = pdu_be32(pdu, ISCSI_BHS_EXPSTATSN);
	memcpy(c->sess.isid, l->isid, ISCSI_ISID_LEN);
	return 0;
}

/* The first request's names: who logs in to what, for the whole login. Returns 0 or a
 * login status. */
static int fix_names(struct iscsi_conn *c, const struct login_keys *k)
{
	struct iscsi_login *l = c->login;
	struct iscsi_session *s = &c->sess;

	if (!k->initiator_name)
		return ISCSI_LOGIN_MISSING_PARAMETER;
	if (strlen(k->initiator_name) >= sizeof(s->initiator_name))
		return ISCSI_LOGIN_INITIATOR_ERROR;
	strcpy(s->initiator_name, k->initiator_name);
	if (k->session_type && !strcmp(k->session_type, "Discovery"))
		s->discovery = true;
	else if (k->session_type && strcmp(k->session_type, "Normal") != 0)
		return ISCSI_LOGIN_SESSION_TYPE_NOT_SUPPORTED;
	l->names_fixed = true;
	if (s->discovery) {
		l->auth = c->srv->cfg->discovery;
		return 0;
	}
	if (!k->target_name)
		return ISCSI_LOGIN_MISSING_PARAMETER;
	snprintf(l->target_asked, sizeof(l->target_asked), "%s", k->target_name);
	const struct iscsi_target_config *t = iscsi_target_find(c->srv->cfg, k->target_name);
	if (!t)
		return ISCSI_LOGIN_NOT_FOUND;
	if (!iscsi_target_admits(t, s->initiator_name, &l->auth))
		return ISCSI_LOGIN_AUTHORIZATION_FAILURE;
	s->target = t;
	return 0;
}

static bool absent_or_same(const char *given, const char *fixed)
{
	return !given || !strcmp(given, fixed);
}

/* A later request may repeat the first one's names, never change them: authentication
 * earned for one target or session type must not carry over to another. */
static int check_names_unchanged(const struct iscsi_conn *c, const struct login_keys *k)
{
	const struct iscsi_session *s = &c->sess;
	if (!absent_or_same(k->initiator_name, s->initiator_name) ||
	    !absent_or_same(k->session_type, s->discovery ? "Discovery" : "Normal") ||
	    (!s->discovery && !absent_or_same(k->target_name, s->target->name)))
		return ISCSI_LOGIN_INITIATOR_ERROR;
	return 0;
}

static bool list_has(const char *list, const char *item)
{
	size_t n = strlen(item);
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");
		if (len == n && !strncmp(p, item, n))
			return true;
		p += len;
		if (*p == ',')
			p++;
	}
	return false;
}

static bool chap_required(const struct iscsi_conn *c)
{
	return c->login->auth.chap.secret != NULL;
}

/* The security stage. Returns 0 or a login status. */
static int authenticate(struct iscsi_conn *c, const struct login_keys *k)
{
	struct iscsi_login *l = c->login;
	bool need_chap = chap_required(c);

	if (need_chap && !iscsi_chap_available(c->srv))
		return ISCSI_LOGIN_SERVICE_UNAVAILABLE; /* no unguessable challenge to offer */
	if (k->auth_method) {
		const char *pick = NULL;
		if (need_chap && list_has(k->auth_method, "CHAP"))
			pick = "CHAP";
		else if (!need_chap && list_has(k->auth_method, "None"))
			pick = "None";
		iscsi_text_add(k->out, "AuthMethod", pick ? pick : "Reject");
		if (!pick)
			return ISCSI_LOGIN_AUTHENTICATION_FAILURE;
		l->chap_selected = need_chap;
		l->auth_done = !need_chap;
	}
	if (k->chap.a) {
		if (!l->chap_selected || iscsi_chap_challenge(&l->chap, c->srv, k->chap.a, k->out) < 0)
			return ISCSI_LOGIN_AUTHENTICATION_FAILURE;
	}
	if (k->chap.r || k->chap.n) {
		if (!l->chap_selected || iscsi_chap_verify(&l->chap, &l->auth, &k->chap, k->out) < 0)
			return ISCSI_LOGIN_AUTHENTICATION_FAILURE;
		l->auth_done = true;
		l->mutual_answered = k->chap.c != NULL;
	}
	return 0;
}

/* The session begins: TSIH, reinstatement, parameters in force. Returns 0 or a status. */
static int enter_full_feature(struct iscsi_conn *c, uint16_t *tsih)
{
	struct iscsi_login *l = c->login;
	struct iscsi_session *s = &c->sess;

	/* Only an authenticated normal session may end another one, and only its own: the
	 * same initiator, ISID and target (a discovery login authenticates for nothing). */
	if (l->tsih != 0) {
		bool found = false;
		for (struct iscsi_conn *o = c->srv->conns; o && !s->discovery; o = o->next)
			if (o != c && o->sess.logged_in && o->sess.tsih == l->tsih &&
			    !o->sess.discovery && o->sess.target == s->target &&
			    !memcmp(o->sess.isid, s->isid, ISCSI_ISID_LEN) &&
			    !strcmp(o->sess.initiator_name, s->initiator_name))
				found = true;
		if (!found)
			return ISCSI_LOGIN_SESSION_DOES_NOT_EXIST;
	}
	if (!s->discovery)
		iscsi_session_reinstate(c);
	s->tsih = l->tsih ? l->tsih : iscsi_session_new_tsih(c->srv);
	*tsih = s->tsih;
	return 0;
}

static void begin_session(struct iscsi_conn *c)
{
	struct iscsi_login *l = c->login;
	c->params = l->params;
	c->phase = ISCSI_PHASE_FULL_FEATURE;
	c->sess.logged_in = true;
	c->sess.nexus.unit_attention_reset = true; /* POWER ON once per I_T nexus */
	/* The I_T nexus identity reservations key on: the initiator port name. */
	const uint8_t *isid = c->sess.isid;
	snprintf(c->sess.nexus.id, sizeof(c->sess.nexus.id), "%s,i,0x%02x%02x%02x%02x%02x%02x",
		 c->sess.initiator_name, isid[0], isid[1], isid[2], isid[3], isid[4], isid[5]);
	c->srv->sessions_open++;
	c->sess.auth_method = !l->chap_selected ? ISCSI_AUTH_NONE
			      : l->mutual_answered ? ISCSI_AUTH_MUTUAL_CHAP : ISCSI_AUTH_CHAP;
	iscsi_login_free(l);
	c->login = NULL;
	iscsi_session_logged_in(c);
}

/* Handles the gathered text of one request. Returns 0 or a login status. */
static int process(struct iscsi_conn *c, uint8_t flags, uint16_t *tsih, bool *transit,
		   struct iscsi_text_buf *out)
{
	struct iscsi_login *l = c->login;
	struct login_keys k = { .c = c, .out = out };
	uint8_t nsg = flags & ISCSI_FLAG_LOGIN_NSG_MASK;
	int status;

	if (iscsi_text_parse(l->text_in.buf, l->text_in.len, collect_key, &k) < 0)
		return ISCSI_LOGIN_INITIATOR_ERROR;
	status = l->names_fixed ? check_names_unchanged(c, &k) : fix_names(c, &k);
	if (status != 0)
		return status;
	if (!l->target_declared && !c->sess.discovery) {
		l->target_declared = true;
		iscsi_text_add_u32(out, "TargetPortalGroupTag", c->srv->cfg->tpgt ? c->srv->cfg->tpgt : 1);
		if (c->sess.target->alias)
			iscsi_text_add(out, "TargetAlias", c->sess.target->alias);
	}
	if (l->stage == ISCSI_SECURITY_NEGOTIATION_STAGE) {
		if ((status = authenticate(c, &k)) != 0)
			return status;
		if (!k.auth_method && !l->chap_selected && !chap_required(c))
			l->auth_done = true; /* nothing offered, nothing required */
	} else if (!l->auth_done && chap_required(c)) {
		return ISCSI_LOGIN_AUTHENTICATION_FAILURE; /* the security stage was skipped */
	} else {
		l->auth_done = true;
	}

	*transit = (flags & ISCSI_FLAG_LOGIN_TRANSIT) && l->auth_done;
	if (l->stage == ISCSI_LOGIN_OPERATIONAL_NEGOTIATION_STAGE ||
	    (*transit && nsg == ISCSI_FULL_FEATURE_PHASE))
		iscsi_params_finish(&l->params, out);
	if (*transit && nsg == ISCSI_FULL_FEATURE_PHASE)
		return enter_full_feature(c, tsih);
	return 0;
}

static bool flags_valid(const struct iscsi_login *l, uint8_t flags)
{
	uint8_t csg = (flags & ISCSI_FLAG_LOGIN_CSG_MASK) >> ISCSI_FLAG_LOGIN_CSG_SHIFT;
	uint8_t nsg = flags & ISCSI_FLAG_LOGIN_NSG_MASK;
	if ((flags & ISCSI_FLAG_LOGIN_TRANSIT) && (flags & ISCSI_FLAG_LOGIN_CONTINUE))
		return false;
	if (csg != l->stage || csg > ISCSI_LOGIN_OPERATIONAL_NEGOTIATION_STAGE)
		return false;
	if ((flags & ISCSI_FLAG_LOGIN_TRANSIT) && (nsg <= csg || nsg == 2))
		return false;
	return true;
}

int iscsi_login_handle(struct iscsi_conn *c, struct iscsi_pdu *pdu)
{
	uint8_t flags = pdu->bhs[ISCSI_BHS_FLAGS];
	struct iscsi_text_buf out;
	uint16_t tsih = 0;
	bool transit = false;
	int status, rc;

	if (!c->login) {
		c->login = calloc(1, sizeof(*c->login));
		if (!c->login) {
			iscsi_conn_login_failed(c, NULL, ISCSI_LOGIN_FAIL_RESOURCES);
			return -ENOMEM;
		}
		iscsi_limits_from_config(&c->login->limits, c->srv->cfg);
		iscsi_params_init(&c->login->params, &c->login->limits);
		iscsi_text_init(&c->login->text_in, ISCSI_TEXT_LIMIT);
	}
	struct iscsi_login *l = c->login;
	l->itt = pdu_be32(pdu, ISCSI_BHS_INITIATOR_TASK_TAG);
	if (!l->started && (status = start(c, pdu)) != 0)
		return fail(c, (uint16_t)status);
	if (memcmp(l->isid, pdu->bhs + ISCSI_BHS_ISID, ISCSI_ISID_LEN) != 0 ||
	    l->tsih != get_be16(pdu->bhs + ISCSI_BHS_TSIH) || !flags_valid(l, flags))
		return fail(c, ISCSI_LOGIN_INITIATOR_ERROR);
	if (pdu->data_len && iscsi_text_append(&l->text_in, pdu->data, pdu->data_len) < 0)
		return fail(c, ISCSI_LOGIN_OUT_OF_RESOURCES);
	if (flags & ISCSI_FLAG_LOGIN_CONTINUE) /* more text follows: acknowledge this part */
		return send_response(c, (uint8_t)(flags & ISCSI_FLAG_LOGIN_CSG_MASK), 0, 0, NULL) < 0 ? -EPIPE : 0;

	iscsi_text_init(&out, ISCSI_TEXT_LIMIT);
	status = process(c, flags, &tsih, &transit, &out);
	iscsi_text_free(&l->text_in);
	if (status != 0) {
		iscsi_text_free(&out);
		return fail(c, (uint16_t)status);
	}
	uint8_t rflags = flags & (ISCSI_FLAG_LOGIN_CSG_MASK | ISCSI_FLAG_LOGIN_NSG_MASK);
	if (transit)
		rflags |= ISCSI_FLAG_LOGIN_TRANSIT;
	else
		rflags &= ISCSI_FLAG_LOGIN_CSG_MASK;
	bool final = transit && (flags & ISCSI_FLAG_LOGIN_NSG_MASK) == ISCSI_FULL_FEATURE_PHASE;
	if (final) {
		/* Digests start with the initiator's next PDU, which may follow our response at
		 * once; our own PDUs use them after this response. */
		c->rx.header_digest = l->params.header_digest;
		c->rx.data_digest = l->params.data_digest;
		/* So may its first commands: the loop admits them at their headers. */
		c->admit_params = l->params;
		c->admitting = !c->sess.discovery;
	}
	rc = send_response(c, rflags, 0, tsih, &out);
	iscsi_text_free(&out);
	if (transit)
		l->stage = flags & ISCSI_FLAG_LOGIN_NSG_MASK;
	if (final)
		begin_session(c);
	return rc < 0 ? rc : 0;
}
