/*
 * Sessions: the server's registry (TSIH allocation, reinstatement) and command numbering.
 *
 * CmdSN (RFC 7143 4.2.2.1): commands are delivered in CmdSN order. A non-immediate
 * command with CmdSN == ExpCmdSN is delivered and advances ExpCmdSN; one ahead of it but
 * within [ExpCmdSN, MaxCmdSN] waits in a list sorted by CmdSN; one outside is dropped
 * silently. Immediate commands are delivered at once and do not advance ExpCmdSN.
 * Comparisons use serial number arithmetic (RFC 1982), so the window wraps at 2^32.
 *
 * MaxCmdSN shrinks with the commands in flight and closes (MaxCmdSN = ExpCmdSN - 1) while
 * the session's command buffers exceed their budget: that bounds each session's memory.
 */
#include "iscsi_priv.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_CMD_WINDOW 64
#define DEFAULT_SESSION_BUFFER_BYTES (32u * 1024 * 1024)

void iscsi_server_init(struct iscsi_server *srv, const struct iscsi_config *cfg)
{
	memset(srv, 0, sizeof(*srv));
	srv->cfg = cfg;
	srv->next_tsih = 1;
}

uint16_t iscsi_session_new_tsih(struct iscsi_server *srv)
{
	for (;;) {
		uint16_t tsih = srv->next_tsih++;
		if (tsih == 0)
			continue; /* 0 means "new session" on the wire */
		bool used = false;
		for (struct iscsi_conn *c = srv->conns; c; c = c->next)
			if (c->sess.logged_in && c->sess.tsih == tsih)
				used = true;
		if (!used)
			return tsih;
	}
}

void iscsi_session_reinstate(struct iscsi_conn *c)
{
	for (struct iscsi_conn *o = c->srv->conns; o; o = o->next) {
		if (o == c || !o->sess.logged_in || o->closing)
			continue;
		if (memcmp(o->sess.isid, c->sess.isid, ISCSI_ISID_LEN) != 0 ||
		    strcmp(o->sess.initiator_name, c->sess.initiator_name) != 0 ||
		    o->sess.target != c->sess.target)
			continue;
		/* The old session's commands end without responses (RFC 7143 6.3.5). */
		iscsi_cmds_abort_all(o);
		iscsi_conn_close(o);
	}
}

static uint32_t cmd_window(const struct iscsi_config *cfg)
{
	return cfg->cmd_window ? cfg->cmd_window : DEFAULT_CMD_WINDOW;
}

uint32_t iscsi_session_max_cmdsn(const struct iscsi_conn *c)
{
	const struct iscsi_session *s = &c->sess;
	const struct iscsi_config *cfg = c->srv->cfg;
	uint64_t budget = cfg->session_buffer_bytes ? cfg->session_buffer_bytes :
						      DEFAULT_SESSION_BUFFER_BYTES;
	uint32_t window = cmd_window(cfg);

	if (!s->logged_in)
		return s->exp_cmdsn; /* during login: one command, the login itself */
	if (s->buffer_bytes >= budget || s->cmds_in_flight + s->pending_count >= window)
		return s->exp_cmdsn - 1;
	return s->exp_cmdsn + window - 1 - s->cmds_in_flight - s->pending_count;
}

static void pending_insert(struct iscsi_session *s, struct iscsi_pdu *pdu)
{
	uint32_t sn = pdu_be32(pdu, ISCSI_BHS_CMDSN);
	struct iscsi_pdu **link = &s->pending;
	while (*link && sn_lt(pdu_be32(*link, ISCSI_BHS_CMDSN), sn))
		link = &(*link)->next;
	if (*link && pdu_be32(*link, ISCSI_BHS_CMDSN) == sn) {
		iscsi_pdu_free(pdu); /* a duplicate of one already waiting */
		return;
	}
	pdu->next = *link;
	*link = pdu;
	s->pending_count++;
}

static struct iscsi_pdu *pending_pop_next(struct iscsi_session *s)
{
	struct iscsi_pdu *head = s->pending;
	if (!head || pdu_be32(head, ISCSI_BHS_CMDSN) != s->exp_cmdsn)
		return NULL;
	s->pending = head->next;
	s->pending_count--;
	head->next = NULL;
	s->exp_cmdsn++;
	return head;
}

struct iscsi_pdu *iscsi_session_order(struct iscsi_conn *c, struct iscsi_pdu *pdu)
{
	struct iscsi_session *s = &c->sess;

	if (pdu) {
		uint32_t sn = pdu_be32(pdu, ISCSI_BHS_CMDSN);
		if (pdu_immediate(pdu))
			return pdu;
		/* The window as advertised: the commands pending are part of it. */
		uint32_t max = s->exp_cmdsn + cmd_window(c->srv->cfg) - 1;
		if (sn == s->exp_cmdsn) {
			s->exp_cmdsn++;
			return pdu;
		}
		if (sn_lt(s->exp_cmdsn, sn) && sn_le(sn, max) &&
		    s->pending_count < cmd_window(c->srv->cfg))
			pending_insert(s, pdu);
		else
			iscsi_pdu_free(pdu); /* outside the window: dropped */
	}
	return pending_pop_next(s);
}

void iscsi_session_free_pending(struct iscsi_conn *c)
{
	while (c->sess.pending) {
		struct iscsi_pdu *p = c->sess.pending;
		c->sess.pending = p->next;
		iscsi_pdu_free(p);
	}
	c->sess.pending_count = 0;
}
