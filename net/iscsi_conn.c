/*
 * Connections: the transport interface of iscsi.h, the per-connection worker task and the
 * dispatch of PDUs by opcode, with the small handlers (NOP, Logout, Reject, SNACK).
 *
 * Bytes arrive in iscsi_conn_input() (the loop); the receive state machine turns them into
 * PDUs queued for the connection's worker task, which handles them one at a time in
 * arrival order and may block on sends. SCSI commands leave the worker as soon as their
 * data is in: each runs in a task of its own (iscsi_cmd.c), so commands execute
 * concurrently. The input queue is bounded: when it is full, iscsi_conn_input() consumes
 * less and the transport holds the rest back (its receive window closes).
 *
 * Ending: iscsi_conn_close() (the target's decision) calls ops->close once; the transport
 * answers with iscsi_conn_closed(), which drops its reference. The worker then aborts what
 * is left; the connection is freed by whoever drops the last reference, and ops->release
 * frees the transport's state with it. This count is the only one of a connection: the
 * transport keeps none of its own (iscsi_lwip.c).
 */
#include "iscsi_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void worker_main(void *arg);
static enum iscsi_rx_dest place_data(void *ctx, struct iscsi_pdu *pdu, uint8_t **at);

/* ---- slots ------------------------------------------------------------------------- */

static unsigned or_default(unsigned value, unsigned dflt) { return value ? value : dflt; }

static bool same_source(const struct iscsi_source *a, const struct iscsi_source *b)
{
	return a->len && a->len == b->len && !memcmp(a->addr, b->addr, a->len);
}

/* A connection holds a slot until it is being closed: what lingers after that (tasks
 * finishing) no longer answers its peer. */
static bool in_source(const struct iscsi_conn *c, const struct iscsi_source *source)
{
	return !c->closing && (!source || same_source(&c->source, source));
}

static unsigned slots_held(const struct iscsi_server *srv, const struct iscsi_source *source)
{
	unsigned n = 0;
	for (const struct iscsi_conn *c = srv->conns; c; c = c->next)
		n += in_source(c, source);
	return n;
}

/* Frees a slot of source (NULL: any) by ending its oldest connection still logging in.
 * srv->conns is newest first. Returns false when every such slot holds a session. */
static bool evict_oldest_login(struct iscsi_server *srv, const struct iscsi_source *source)
{
	struct iscsi_conn *oldest = NULL;
	for (struct iscsi_conn *c = srv->conns; c; c = c->next)
		if (in_source(c, source) && c->phase == ISCSI_PHASE_LOGIN)
			oldest = c;
	if (!oldest)
		return false;
	srv->conns_evicted++;
	iscsi_conn_login_failed(oldest, NULL, ISCSI_LOGIN_FAIL_EVICTED);
	iscsi_conn_abort(oldest);
	return true;
}

/* Makes room for a newcomer from source under both caps. Returns false to refuse it. */
static bool make_room(struct iscsi_server *srv, const struct iscsi_source *source)
{
	const struct iscsi_config *cfg = srv->cfg;
	unsigned per_source = or_default(cfg->max_connections_per_source,
					 ISCSI_DEFAULT_MAX_CONNECTIONS_PER_SOURCE);
	unsigned total = or_default(cfg->max_connections, ISCSI_DEFAULT_MAX_CONNECTIONS);

	/* Over its own allowance, a source gives up one of its own logins, not another's. */
	if (source && slots_held(srv, source) >= per_source && !evict_oldest_login(srv, source))
		return false;
	if (slots_held(srv, NULL) >= total && !evict_oldest_login(srv, NULL))
		return false;
	return true;
}

struct iscsi_conn *iscsi_conn_open_from(struct iscsi_server *srv,
					const struct iscsi_transport_ops *ops, void *ctx,
					const struct iscsi_source *source)
{
	if (source && (!source->len || source->len > sizeof(source->addr)))
		source = NULL;
	if (!make_room(srv, source)) {
		srv->conns_refused++;
		iscsi_login_failed(srv, source, NULL, NULL, ISCSI_LOGIN_FAIL_REFUSED);
		return NULL;
	}
	struct iscsi_limits limits;
	struct iscsi_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->srv = srv;
	c->ops = ops;
	c->ctx = ctx;
	c->refs = 2; /* the transport and the worker */
	c->phase = ISCSI_PHASE_LOGIN;
	if (source)
		c->source = *source;
	iscsi_limits_from_config(&limits, srv->cfg);
	iscsi_params_init(&c->params, &limits);
	iscsi_rx_init(&c->rx, limits.max_recv_data_segment_length > ISCSI_DEFAULT_MRDSL ?
				      limits.max_recv_data_segment_length : ISCSI_DEFAULT_MRDSL);
	iscsi_budget_init(&c->sess.budget, iscsi_session_buffer_limit(srv->cfg), &srv->budget);
	c->sess.budget.guaranteed = ISCSI_SESSION_GUARANTEED_BYTES;
	c->rx.budget = &c->sess.budget;
	c->rx.place = place_data;
	c->rx.place_ctx = c;
	c->send_lock = (struct task_lock)TASK_LOCK_INIT;
	c->next_ttt = 1;
	iscsi_text_init(&c->text_in, ISCSI_TEXT_LIMIT);
	iscsi_text_init(&c->text_out, ISCSI_TEXT_LIMIT);
	c->worker = task_spawn(worker_main, c);
	if (!c->worker) {
		free(c);
		return NULL;
	}
	c->next = srv->conns;
	srv->conns = c;
	srv->conns_open++;
	return c;
}

struct iscsi_conn *iscsi_conn_open(struct iscsi_server *srv, const struct iscsi_transport_ops *ops,
				   void *ctx)
{
	return iscsi_conn_open_from(srv, ops, ctx, NULL);
}

void iscsi_conn_get(struct iscsi_conn *c) { c->refs++; }

void iscsi_conn_put(struct iscsi_conn *c)
{
	if (--c->refs > 0)
		return;
	for (struct iscsi_conn **link = &c->srv->conns; *link; link = &(*link)->next) {
		if (*link == c) {
			*link = c->next;
			break;
		}
	}
	c->srv->conns_open--;
	iscsi_rx_free(&c->rx);
	iscsi_text_free(&c->text_in);
	iscsi_text_free(&c->text_out);
	if (c->ops->release)
		c->ops->release(c->ctx);
	free(c);
}

void iscsi_conn_wake_worker(struct iscsi_conn *c)
{
	if (c->worker && c->worker_idle) {
		c->worker_idle = false;
		task_wake(c->worker);
	}
}

static void end_conn(struct iscsi_conn *c, void (*how)(void *ctx))
{
	if (c->closing)
		return;
	c->closing = true;
	iscsi_conn_wake_worker(c);
	if (!c->transport_gone)
		how(c->ctx);
}

void iscsi_conn_close(struct iscsi_conn *c) { end_conn(c, c->ops->close); }

void iscsi_conn_abort(struct iscsi_conn *c)
{
	end_conn(c, c->ops->abort ? c->ops->abort : c->ops->close);
}

/* Ends c for why (the console's words) unless it is ending already. */
static void close_because(struct iscsi_conn *c, const char *why)
{
	if (!c->closing && !c->end_why)
		c->end_why = why;
	iscsi_conn_close(c);
}

void iscsi_conn_closed(struct iscsi_conn *c)
{
	if (!c->closing && c->phase == ISCSI_PHASE_LOGIN)
		iscsi_conn_login_failed(c, NULL, ISCSI_LOGIN_FAIL_CLOSED);
	if (!c->closing && !c->end_why)
		c->end_why = "connection lost"; /* the peer closed or reset it, or it broke */
	c->transport_gone = true;
	c->closing = true;
	iscsi_conn_wake_worker(c);
	iscsi_conn_put(c);
}

uint32_t iscsi_conn_new_ttt(struct iscsi_conn *c)
{
	uint32_t ttt = c->next_ttt++;
	if (ttt == ISCSI_RESERVED_TAG)
		ttt = c->next_ttt++;
	return ttt;
}

size_t iscsi_conn_input(struct iscsi_conn *c, const void *buf, size_t len)
{
	const uint8_t *bytes = buf;
	size_t done = 0;

	if (c->closing)
		return len;
	iscsi_conn_get(c); /* ops->close may drop the transport's reference */
	while (done < len && !c->closing) {
		struct iscsi_pdu *pdu = NULL;
		size_t used;
		if (c->inq_count >= ISCSI_INPUT_QUEUE_MAX || c->inq_bytes >= ISCSI_INPUT_QUEUE_BYTES) {
			c->input_stalled = true;
			break;
		}
		int rc = iscsi_rx_feed(&c->rx, bytes + done, len - done, &used, &pdu);
		done += used;
		c->rx_bytes += used;
		if (rc < 0) {
			if (c->phase == ISCSI_PHASE_LOGIN)
				iscsi_conn_login_failed(c, NULL, rc == -ENOMEM ? ISCSI_LOGIN_FAIL_RESOURCES
									: ISCSI_LOGIN_FAIL_PROTOCOL);
			close_because(c, rc == -ENOMEM ? "out of memory" : "header digest error");
			break;
		}
		if (rc == 1) {
			c->sess.bytes_in += pdu->data_len;
			c->srv->data.rx_pdus++;
			c->srv->data.rx_payload_bytes += pdu->data_len;
			if (pdu->dest == ISCSI_RX_DISCARD)
				c->srv->data.rx_discarded_bytes += pdu->data_len;
			else /* copied once, to its own buffer or to its command's */
				c->srv->data.rx_copied_bytes += pdu->data_len;
			if (c->inq_tail)
				c->inq_tail->next = pdu;
			else
				c->inq_head = pdu;
			c->inq_tail = pdu;
			c->inq_count++;
			c->inq_bytes += pdu->data_len;
			iscsi_conn_wake_worker(c);
		}
	}
	size_t result = c->closing ? len : done;
	iscsi_conn_put(c);
	return result;
}

/* The receive state machine's question, for each PDU once its header is complete: where
 * its data segment goes. SCSI data goes to its command's buffer (iscsi_cmd_place), or
 * nowhere before the session can admit commands (the worker refuses those PDUs); the
 * other PDUs' data (login, text, NOP-Out) gets a buffer of its own. */
static enum iscsi_rx_dest place_data(void *ctx, struct iscsi_pdu *pdu, uint8_t **at)
{
	struct iscsi_conn *c = ctx;
	uint8_t op = pdu_opcode(pdu);

	if (op != ISCSI_OP_SCSI_CMD && op != ISCSI_OP_SCSI_DATA_OUT)
		return ISCSI_RX_OWN_BUFFER;
	if (!c->admitting || c->closing)
		return ISCSI_RX_DISCARD;
	return iscsi_cmd_place(c, pdu, at);
}

/* ---- small handlers ------------------------------------------------------------------ */

static void handle_nop_out(struct iscsi_conn *c, struct iscsi_pdu *pdu)
{
	uint32_t itt = pdu_be32(pdu, ISCSI_BHS_INITIATOR_TASK_TAG);
	uint8_t bhs[ISCSI_BHS_LEN];

	if (itt == ISCSI_RESERVED_TAG) {
		/* The answer to our ping (or a ping that wants no answer). */
		if (pdu_be32(pdu, ISCSI_BHS_TARGET_TRANSFER_TAG) != ISCSI_RESERVED_TAG)
			c->ping_outstanding = false;
		return;
	}
	iscsi_bhs_init(bhs, ISCSI_OP_NOP_IN, ISCSI_FLAG_FINAL, itt);
	memcpy(bhs + ISCSI_BHS_LUN, pdu->bhs + ISCSI_BHS_LUN, 8);
	put_be32(bhs + ISCSI_BHS_TARGET_TRANSFER_TAG, ISCSI_RESERVED_TAG);
	uint32_t echo = pdu->data ? pdu->data_len : 0;
	if (echo > c->params.initiator_mrdsl)
		echo = c->params.initiator_mrdsl;
	iscsi_send_pdu(c, bhs, pdu->data, echo, ISCSI_STATSN_ADVANCE);
}

static void handle_logout(struct iscsi_conn *c, struct iscsi_pdu *pdu)
{
	uint8_t reason = pdu->bhs[ISCSI_BHS_FLAGS] & ISCSI_FLAG_FUNCTION_MASK;
	uint8_t bhs[ISCSI_BHS_LEN];
	uint8_t response = ISCSI_LOGOUT_RSP_SUCCESS;

	if (reason == ISCSI_LOGOUT_REMOVE_CONNECTION_FOR_RECOVERY)
		response = ISCSI_LOGOUT_RSP_RECOVERY_NOT_SUPPORTED; /* ERL 0 */
	iscsi_bhs_init(bhs, ISCSI_OP_LOGOUT_RSP, ISCSI_FLAG_FINAL,
		       pdu_be32(pdu, ISCSI_BHS_INITIATOR_TASK_TAG));
	bhs[ISCSI_BHS_RESPONSE] = response;
	if (response == ISCSI_LOGOUT_RSP_SUCCESS) {
		/* Commands still running end without responses (RFC 7143 11.14). */
		iscsi_cmds_abort_all(c);
		c->phase = ISCSI_PHASE_LOGGED_OUT;
	}
	iscsi_send_pdu(c, bhs, NULL, 0, ISCSI_STATSN_ADVANCE);
	if (response == ISCSI_LOGOUT_RSP_SUCCESS)
		iscsi_conn_close(c);
}

/* A PDU that carries a CmdSN, in CmdSN order. */
static void dispatch_ordered(struct iscsi_conn *c, struct iscsi_pdu *pdu)
{
	uint8_t op = pdu_opcode(pdu);

	if (c->sess.discovery && op != ISCSI_OP_TEXT_REQ && op != ISCSI_OP_LOGOUT_REQ) {
		/* A discovery session carries only Text and Logout (RFC 7143 4.3). */
		iscsi_send_reject(c, pdu->bhs, ISCSI_REASON_PROTOCOL_ERROR);
		return;
	}
	switch (op) {
	case ISCSI_OP_NOP_OUT: handle_nop_out(c, pdu); break;
	case ISCSI_OP_SCSI_CMD: iscsi_cmd_start(c, pdu); break;
	case ISCSI_OP_SCSI_TASK_MGMT_REQ: iscsi_tmf_handle(c, pdu); break;
	case ISCSI_OP_TEXT_REQ: iscsi_text_handle(c, pdu); break;
	case ISCSI_OP_LOGOUT_REQ: handle_logout(c, pdu); break;
	}
}

static void handle_full_feature(struct iscsi_conn *c, struct iscsi_pdu *pdu)
{
	switch (pdu_opcode(pdu)) {
	case ISCSI_OP_NOP_OUT:
	case ISCSI_OP_SCSI_CMD:
	case ISCSI_OP_SCSI_TASK_MGMT_REQ:
	case ISCSI_OP_TEXT_REQ:
	case ISCSI_OP_LOGOUT_REQ:
		/* Once a PDU closed the connection (a logout), the next ones stay in the
		 * ordering, which the teardown frees: none is taken out only to be lost. */
		for (struct iscsi_pdu *p = iscsi_session_order(c, pdu); p;
		     p = c->closing ? NULL : iscsi_session_order(c, NULL)) {
			if (!c->closing)
				dispatch_ordered(c, p);
			iscsi_pdu_free(p);
		}
		return; /* the ordering took pdu */
	case ISCSI_OP_SCSI_DATA_OUT:
		if (c->sess.discovery)
			iscsi_send_reject(c, pdu->bhs, ISCSI_REASON_PROTOCOL_ERROR);
		else if (iscsi_cmd_data_out(c, pdu) < 0) /* ERL 0 ends it */
			close_because(c, "broken data sequence");
		break;
	case ISCSI_OP_SNACK_REQ:
		iscsi_send_reject(c, pdu->bhs, ISCSI_REASON_SNACK_REJECT);
		break;
	case ISCSI_OP_LOGIN_REQ:
		iscsi_send_reject(c, pdu->bhs, ISCSI_REASON_PROTOCOL_ERROR);
		break;
	default:
		iscsi_send_reject(c, pdu->bhs, ISCSI_REASON_COMMAND_NOT_SUPPORTED);
		break;
	}
	iscsi_pdu_free(pdu);
}

static void handle_pdu(struct iscsi_conn *c, struct iscsi_pdu *pdu)
{
	if (pdu->reject_reason) {
		iscsi_send_reject(c, pdu->bhs, pdu->reject_reason);
		if (c->phase == ISCSI_PHASE_LOGIN) {
			iscsi_conn_login_failed(c, NULL, ISCSI_LOGIN_FAIL_PROTOCOL);
			iscsi_conn_close(c);
		}
		iscsi_pdu_free(pdu);
		return;
	}
	switch (c->phase) {
	case ISCSI_PHASE_LOGIN:
		if (++c->login_pdus > ISCSI_LOGIN_PDU_MAX) {
			/* Endless continuations: no login needs this many. */
			c->srv->logins_timed_out++;
			iscsi_conn_login_failed(c, NULL, ISCSI_LOGIN_FAIL_PDU_CAP);
			iscsi_conn_abort(c);
		} else if (pdu_opcode(pdu) != ISCSI_OP_LOGIN_REQ) {
			/* Nothing but Login before the full feature phase (RFC 7143 6.3). */
			iscsi_send_reject(c, pdu->bhs, ISCSI_REASON_PROTOCOL_ERROR);
			iscsi_conn_login_failed(c, NULL, ISCSI_LOGIN_FAIL_PROTOCOL);
			iscsi_conn_close(c);
		} else if (iscsi_login_handle(c, pdu) < 0) {
			iscsi_conn_close(c);
		}
		iscsi_pdu_free(pdu);
		break;
	case ISCSI_PHASE_FULL_FEATURE:
		handle_full_feature(c, pdu);
		break;
	case ISCSI_PHASE_LOGGED_OUT:
		iscsi_pdu_free(pdu);
		break;
	}
}

static struct iscsi_pdu *input_pop(struct iscsi_conn *c)
{
	struct iscsi_pdu *pdu = c->inq_head;
	if (!pdu)
		return NULL;
	c->inq_head = pdu->next;
	if (!c->inq_head)
		c->inq_tail = NULL;
	c->inq_count--;
	c->inq_bytes -= pdu->data_len;
	pdu->next = NULL;
	if (c->input_stalled && c->inq_count < ISCSI_INPUT_QUEUE_MAX / 2 &&
	    c->inq_bytes < ISCSI_INPUT_QUEUE_BYTES / 2) {
		c->input_stalled = false;
		if (c->ops->resume && !c->closing)
			c->ops->resume(c->ctx);
	}
	return pdu;
}

static void worker_teardown(struct iscsi_conn *c)
{
	struct iscsi_pdu *pdu;
	/* The loop feeds nothing more once closing: the PDU it was receiving, like the
	 * queued ones, lets go of the command buffers it points into. */
	iscsi_rx_free(&c->rx);
	while ((pdu = input_pop(c)) != NULL)
		iscsi_pdu_free(pdu);
	iscsi_session_free_pending(c);
	iscsi_cmds_abort_all(c);
	iscsi_cmds_reap(c); /* the running ones are freed by their tasks */
	iscsi_login_free(c->login);
	c->login = NULL;
	if (c->sess.logged_in) {
		iscsi_session_ended(c);
		if (c->sess.target) /* the I_T nexus is gone: so is its RESERVE(6) */
			scsi_nexus_lost(c->sess.target->lun, &c->sess.nexus);
		c->sess.logged_in = false;
		c->srv->sessions_open--;
	}
	c->worker = NULL;
}

static void worker_main(void *arg)
{
	struct iscsi_conn *c = arg;

	while (!c->closing) {
		iscsi_cmds_reap(c); /* here the worker holds no command */
		struct iscsi_pdu *pdu = input_pop(c);
		if (!pdu) {
			c->worker_idle = true;
			task_block();
			c->worker_idle = false;
			continue;
		}
		handle_pdu(c, pdu);
	}
	worker_teardown(c);
	iscsi_conn_put(c);
}

/* ---- liveness --------------------------------------------------------------------- */

static void ping_main(void *arg)
{
	struct iscsi_conn *c = arg;
	uint8_t bhs[ISCSI_BHS_LEN];
	iscsi_bhs_init(bhs, ISCSI_OP_NOP_IN, ISCSI_FLAG_FINAL, ISCSI_RESERVED_TAG);
	/* A real TTT: the initiator must answer (RFC 7143 11.19). StatSN not advanced. */
	put_be32(bhs + ISCSI_BHS_TARGET_TRANSFER_TAG, iscsi_conn_new_ttt(c));
	iscsi_send_pdu(c, bhs, NULL, 0, ISCSI_STATSN_PEEK);
	iscsi_conn_put(c);
}

/* Whether c sent anything since the previous tick. */
static bool heard_since_tick(struct iscsi_conn *c)
{
	bool heard = c->rx_bytes != c->rx_bytes_at_ping;
	c->rx_bytes_at_ping = c->rx_bytes;
	return heard;
}

/* A login ends when it stalls for a whole period or outlives the deadline, counted in
 * whole ticks past it so that it is never cut short: a trickle of bytes keeps it from
 * stalling, not from the deadline. */
static void tick_login(struct iscsi_conn *c)
{
	uint32_t timeout_ms = or_default(c->srv->cfg->login_timeout_ms,
					 ISCSI_DEFAULT_LOGIN_TIMEOUT_MS);
	unsigned deadline_ticks = (timeout_ms + ISCSI_TICK_MS - 1) / ISCSI_TICK_MS;
	bool heard = heard_since_tick(c);

	if (++c->login_ticks > deadline_ticks) {
		c->srv->logins_timed_out++;
		iscsi_conn_login_failed(c, NULL, ISCSI_LOGIN_FAIL_TIMEOUT);
		iscsi_conn_abort(c);
	} else if (!heard) {
		iscsi_conn_login_failed(c, NULL, ISCSI_LOGIN_FAIL_TIMEOUT);
		iscsi_conn_abort(c);
	}
}

static void tick_session(struct iscsi_conn *c)
{
	if (heard_since_tick(c)) {
		c->ping_outstanding = false;
	} else if (c->ping_outstanding) {
		close_because(c, "no answer to ping");
	} else {
		c->ping_outstanding = true;
		iscsi_conn_get(c);
		if (!task_spawn(ping_main, c))
			iscsi_conn_put(c);
	}
}

void iscsi_server_tick(struct iscsi_server *srv)
{
	struct iscsi_conn *next;
	for (struct iscsi_conn *c = srv->conns; c; c = next) {
		next = c->next;
		if (c->closing || c->phase == ISCSI_PHASE_LOGGED_OUT)
			continue;
		iscsi_conn_get(c);
		if (c->phase == ISCSI_PHASE_LOGIN)
			tick_login(c);
		else
			tick_session(c);
		next = c->next;
		iscsi_conn_put(c);
	}
}
