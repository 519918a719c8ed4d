/*
 * Text requests in the full feature phase (RFC 7143 11.10-11.11): SendTargets, the
 * discovery of targets, plus the target lookup and access lists the login uses too.
 *
 * SendTargets=All (discovery sessions) lists every target this initiator may use;
 * SendTargets=<name> that one; an empty value the session's own target. Each target is
 * "TargetName=<iqn>" then "TargetAddress=<portal>,<tpgt>".
 *
 * Continuation both ways: a request with the C bit is gathered until its last part, each
 * part answered by an empty response. A response longer than the initiator's
 * MaxRecvDataSegmentLength goes out in pieces with C=1 and a Target Transfer Tag; the
 * initiator asks for each next piece with an empty request carrying that tag.
 */
#include "iscsi_priv.h"

#include <stdio.h>
#include <string.h>

const struct iscsi_target_config *iscsi_target_find(const struct iscsi_config *cfg,
						    const char *name)
{
	for (unsigned i = 0; i < cfg->n_targets; i++)
		if (cfg->targets[i].name && !strcmp(cfg->targets[i].name, name))
			return &cfg->targets[i];
	return NULL;
}

static struct iscsi_credential either(struct iscsi_credential own, struct iscsi_credential dflt)
{
	return own.secret ? own : dflt;
}

bool iscsi_target_admits(const struct iscsi_target_config *t, const char *initiator,
			 struct iscsi_auth *auth)
{
	struct iscsi_auth resolved = t->auth;
	bool listed = t->n_acl == 0;
	for (unsigned i = 0; i < t->n_acl && !listed; i++) {
		const struct iscsi_acl_entry *e = &t->acl[i];
		if (strcmp(e->initiator, initiator) != 0)
			continue;
		listed = true;
		resolved.chap = either(e->auth.chap, t->auth.chap);
		resolved.mutual = either(e->auth.mutual, t->auth.mutual);
	}
	if (listed && auth)
		*auth = resolved;
	return listed;
}

static int add_target(struct iscsi_conn *c, const struct iscsi_target_config *t,
		      struct iscsi_text_buf *out)
{
	const struct iscsi_config *cfg = c->srv->cfg;
	char addr[128];
	int rc = iscsi_text_add(out, "TargetName", t->name);
	if (rc < 0 || !cfg->portal)
		return rc;
	snprintf(addr, sizeof(addr), "%s,%u", cfg->portal, cfg->tpgt ? cfg->tpgt : 1u);
	return iscsi_text_add(out, "TargetAddress", addr);
}

struct text_request {
	struct iscsi_conn *c;
	struct iscsi_text_buf *out;
};

static int answer_key(void *ctx, const char *key, const char *value)
{
	struct text_request *r = ctx;
	struct iscsi_conn *c = r->c;
	const struct iscsi_config *cfg = c->srv->cfg;

	if (strcmp(key, "SendTargets") != 0) {
		if (!strcmp(value, "NotUnderstood") || !strcmp(value, "Irrelevant") ||
		    !strcmp(value, "Reject"))
			return 0;
		return iscsi_text_add(r->out, key, "NotUnderstood");
	}
	if (!strcmp(value, "All")) {
		if (!c->sess.discovery)
			return iscsi_text_add(r->out, key, "Reject"); /* RFC 7143 13.3 */
		for (unsigned i = 0; i < cfg->n_targets; i++) {
			if (!iscsi_target_admits(&cfg->targets[i], c->sess.initiator_name, NULL))
				continue;
			int rc = add_target(c, &cfg->targets[i], r->out);
			if (rc < 0)
				return rc;
		}
		return 0;
	}
	const struct iscsi_target_config *t =
		value[0] ? iscsi_target_find(cfg, value) : c->sess.target;
	if (t && iscsi_target_admits(t, c->sess.initiator_name, NULL) &&
	    (c->sess.discovery || t == c->sess.target))
		return add_target(c, t, r->out);
	return 0; /* an unknown name: an empty list */
}

/* Sends the next piece of c->text_out. */
static void send_piece(struct iscsi_conn *c, uint32_t itt, const uint8_t *lun)
{
	uint8_t bhs[ISCSI_BHS_LEN];
	uint32_t left = c->text_out.len - c->text_out_pos;
	uint32_t n = left < c->params.initiator_mrdsl ? left : c->params.initiator_mrdsl;
	bool last = n == left;

	iscsi_bhs_init(bhs, ISCSI_OP_TEXT_RSP, last ? ISCSI_FLAG_FINAL : ISCSI_FLAG_TEXT_CONTINUE, itt);
	memcpy(bhs + ISCSI_BHS_LUN, lun, 8);
	c->text_out_ttt = last ? ISCSI_RESERVED_TAG : iscsi_conn_new_ttt(c);
	put_be32(bhs + ISCSI_BHS_TARGET_TRANSFER_TAG, c->text_out_ttt);
	iscsi_send_pdu(c, bhs, c->text_out.buf ? c->text_out.buf + c->text_out_pos : NULL, n,
		       ISCSI_STATSN_ADVANCE);
	c->text_out_pos += n;
	if (last) {
		iscsi_text_free(&c->text_out);
		c->text_out_pos = 0;
	}
}

/* Answers a part of a request sent with the C bit: empty, F=0, a tag for the next part. */
static void ask_for_more_request(struct iscsi_conn *c, uint32_t itt, const uint8_t *lun)
{
	uint8_t bhs[ISCSI_BHS_LEN];
	iscsi_bhs_init(bhs, ISCSI_OP_TEXT_RSP, 0, itt);
	memcpy(bhs + ISCSI_BHS_LUN, lun, 8);
	c->text_in_ttt = iscsi_conn_new_ttt(c);
	put_be32(bhs + ISCSI_BHS_TARGET_TRANSFER_TAG, c->text_in_ttt);
	iscsi_send_pdu(c, bhs, NULL, 0, ISCSI_STATSN_ADVANCE);
}

void iscsi_text_handle(struct iscsi_conn *c, struct iscsi_pdu *pdu)
{
	uint32_t itt = pdu_be32(pdu, ISCSI_BHS_INITIATOR_TASK_TAG);
	uint32_t ttt = pdu_be32(pdu, ISCSI_BHS_TARGET_TRANSFER_TAG);
	const uint8_t *lun = pdu->bhs + ISCSI_BHS_LUN;
	uint8_t flags = pdu->bhs[ISCSI_BHS_FLAGS];
	bool continues_request = c->text_in.len > 0 && ttt == c->text_in_ttt;

	if (ttt != ISCSI_RESERVED_TAG && !continues_request) {
		/* The initiator asks for the next piece of a long response. */
		if (ttt == c->text_out_ttt && c->text_out_pos < c->text_out.len)
			send_piece(c, itt, lun);
		else
			iscsi_send_reject(c, pdu->bhs, ISCSI_REASON_INVALID_PDU_FIELD);
		return;
	}
	if (ttt == ISCSI_RESERVED_TAG)
		iscsi_text_free(&c->text_in); /* a new exchange resets any earlier one */
	/* A new request ends any long response still pending (RFC 7143 11.10.4). */
	iscsi_text_free(&c->text_out);
	c->text_out_pos = 0;
	if (pdu->data_len && iscsi_text_append(&c->text_in, pdu->data, pdu->data_len) < 0) {
		iscsi_text_free(&c->text_in);
		iscsi_send_reject(c, pdu->bhs, ISCSI_REASON_PROTOCOL_ERROR);
		return;
	}
	if (flags & ISCSI_FLAG_TEXT_CONTINUE) {
		ask_for_more_request(c, itt, lun);
		return;
	}
	struct text_request r = { .c = c, .out = &c->text_out };
	int rc = iscsi_text_parse(c->text_in.buf, c->text_in.len, answer_key, &r);
	iscsi_text_free(&c->text_in);
	if (rc < 0) {
		iscsi_text_free(&c->text_out);
		iscsi_send_reject(c, pdu->bhs, ISCSI_REASON_PROTOCOL_ERROR);
		return;
	}
	send_piece(c, itt, lun);
}
