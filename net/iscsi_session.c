/*
 * Sessions: the server's registry (TSIH allocation, reinstatement) and command numbering.
 *
 * CmdSN (RFC 7143 4.2.2.1): commands are delivered in CmdSN order. A non-immediate
 * command with CmdSN == ExpCmdSN is delivered and advances ExpCmdSN; one ahead of it but
 * within [ExpCmdSN, MaxCmdSN] waits in a list sorted by CmdSN; one outside is dropped
 * silently. Immediate commands are delivered at once and do not advance ExpCmdSN.
 * Comparisons use serial number arithmetic (RFC 1982), so the window wraps at 2^32.
 *
 * The window is MaxCmdSN = ExpCmdSN - 1 + the slots that fit: slots left of the command
 * window, and slots the buffer budget still pays for (session and server, a slot costing
 * budget / window bytes). A spent budget closes the window (MaxCmdSN = ExpCmdSN - 1), so
 * honest initiators wait instead of failing. The initiator never lowers its MaxCmdSN, so
 * the window's end is the highest MaxCmdSN ever sent; a command beyond it is dropped and
 * counted, and one within it that finds the budget spent gets TASK SET FULL
 * (iscsi_cmd.c).
 */
#include "iscsi_priv.h"

#include <stdlib.h>
#include <string.h>

/* Commands per session (window slots, hence command tasks): Linux open-iscsi queues at
 * most 32 per LUN (node.session.queue_depth) and we serve one LUN per target, QEMU's
 * libiscsi 32 to 64: 64 keeps both at full depth. 64 tasks of 64 KiB stacks: 4 MiB. */
#define DEFAULT_CMD_WINDOW 64
/* Buffer bytes per session: Linux's 32 commands of up to 1.25 MiB (max_sectors_kb
 * 1280) are 40 MiB; 64 MiB adds the input queue and the PDUs waiting for their turn, so
 * an honest initiator never meets the limit at full speed. A slot costs 1 MiB. */
#define DEFAULT_SESSION_BUFFER_BYTES (64ull * 1024 * 1024)
/* All sessions together, when the appliance gives no figure (host tests): four honest
 * sessions at full speed. */
#define DEFAULT_GLOBAL_BUFFER_BYTES (256ull * 1024 * 1024)
/* Command and TMF tasks of all sessions (64 KiB stacks each: 64 MiB): 16 sessions at
 * a full window. */
#define DEFAULT_MAX_TASKS 1024

uint32_t iscsi_session_cmd_window(const struct iscsi_config *cfg)
{
	return cfg->cmd_window ? cfg->cmd_window : DEFAULT_CMD_WINDOW;
}

uint64_t iscsi_session_buffer_limit(const struct iscsi_config *cfg)
{
	return cfg->session_buffer_bytes ? cfg->session_buffer_bytes : DEFAULT_SESSION_BUFFER_BYTES;
}

unsigned iscsi_server_max_tasks(const struct iscsi_config *cfg)
{
	return cfg->max_tasks ? cfg->max_tasks : DEFAULT_MAX_TASKS;
}

/* The shared pool: the global figure less what every connection slot is guaranteed
 * (iscsi_budget.c), so that the guarantees are always there to be taken. */
static uint64_t shared_pool_bytes(const struct iscsi_config *cfg)
{
	uint64_t global = cfg->global_buffer_bytes ? cfg->global_buffer_bytes
						  : DEFAULT_GLOBAL_BUFFER_BYTES;
	unsigned slots = cfg->max_connections ? cfg->max_connections : ISCSI_DEFAULT_MAX_CONNECTIONS;
	uint64_t guarantees = (uint64_t)slots * ISCSI_SESSION_GUARANTEED_BYTES;
	return global > 2 * guarantees ? global - guarantees : global / 2;
}

void iscsi_server_init(struct iscsi_server *srv, const struct iscsi_config *cfg)
{
	memset(srv, 0, sizeof(*srv));
	srv->cfg = cfg;
	iscsi_budget_init(&srv->budget, shared_pool_bytes(cfg), NULL);
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
		if (!o->end_why)
			o->end_why = "reinstated by a new login";
		iscsi_conn_close(o);
	}
}

bool iscsi_session_slot_free(const struct iscsi_conn *c)
{
	return c->sess.cmds_in_flight < iscsi_session_cmd_window(c->srv->cfg) &&
	       c->srv->tasks < iscsi_server_max_tasks(c->srv->cfg);
}

/* Slots the buffer budget pays for. Bytes of commands sending their last response count
 * as free: that response carries this MaxCmdSN, and its command frees them as soon as
 * the send returns, before the initiator can act on it. */
static uint32_t slots_by_bytes(const struct iscsi_conn *c, uint32_t window)
{
	const struct iscsi_session *s = &c->sess;
	uint64_t slot = s->budget.limit / window ? s->budget.limit / window : 1;
	uint64_t room = iscsi_budget_room(&s->budget) + s->responding_bytes;
	uint64_t slots = room / slot;
	return slots < window ? (uint32_t)slots : window;
}

uint32_t iscsi_session_max_cmdsn(struct iscsi_conn *c)
{
	struct iscsi_session *s = &c->sess;
	uint32_t window = iscsi_session_cmd_window(c->srv->cfg);
	uint32_t used = s->cmds_in_flight + s->pending_count;
	uint32_t slots = used < window ? window - used : 0;
	uint32_t by_bytes = slots_by_bytes(c, window);
	/* Also during login: the final login response opens the window (a larger MaxCmdSN
	 * in an earlier one is harmless, only login PDUs may follow it). */
	uint32_t max = s->exp_cmdsn - 1 + (by_bytes < slots ? by_bytes : slots);

	if (!s->max_cmdsn_valid || sn_lt(s->max_cmdsn_sent, max))
		s->max_cmdsn_sent = max;
	s->max_cmdsn_valid = true;
	return max;
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
		/* The window as advertised: [ExpCmdSN, the highest MaxCmdSN sent]. */
		bool inside = s->max_cmdsn_valid && sn_le(s->exp_cmdsn, sn) &&
			      sn_le(sn, s->max_cmdsn_sent);
		if (inside && sn == s->exp_cmdsn) {
			s->exp_cmdsn++;
			return pdu;
		}
		if (inside && s->pending_count < iscsi_session_cmd_window(c->srv->cfg)) {
			pending_insert(s, pdu);
		} else {
			c->srv->cmds_dropped++; /* outside the window: dropped silently */
			iscsi_pdu_free(pdu);
		}
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
