/*
 * SCSI commands up to the point where all their data is in (RFC 7143 11.3, 11.7-11.8):
 * the SCSI Command PDU, immediate data, unsolicited and solicited Data-Out, and R2Ts.
 *
 * A write's data arrives in up to three parts, each checked for its exact offsets:
 *   immediate data    in the command PDU itself (ImmediateData=Yes)
 *   unsolicited       Data-Out with TTT 0xffffffff up to FirstBurstLength (InitialR2T=No
 *                     and F=0 on the command), DataSN from 0
 *   solicited         Data-Out answering our R2Ts: each R2T asks for up to MaxBurstLength
 *                     at a buffer offset under its own TTT; at most MaxOutstandingR2T at
 *                     once; DataSN from 0 per R2T; R2TSN from 0 per command
 * A Data-Out that breaks the sequence (DataSN, offset, length, unknown TTT) ends the
 * connection: at ERL 0 there is no recovery within it. Data-Out for a task that no longer
 * exists (aborted) is dropped silently.
 */
#include "iscsi_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scsi_spec.h"

struct iscsi_cmd *iscsi_cmd_find(struct iscsi_conn *c, uint32_t itt)
{
	for (struct iscsi_cmd *t = c->cmds; t; t = t->next)
		if (t->itt == itt)
			return t;
	return NULL;
}

void iscsi_cmd_release(struct iscsi_cmd *t)
{
	struct iscsi_session *s = &t->conn->sess;
	if (t->released)
		return;
	t->released = true;
	s->cmds_in_flight--;
	s->buffer_bytes -= t->edtl;
}

void iscsi_cmd_free(struct iscsi_cmd *t)
{
	struct iscsi_conn *c = t->conn;
	iscsi_cmd_release(t);
	for (struct iscsi_cmd **link = &c->cmds; *link; link = &(*link)->next) {
		if (*link == t) {
			*link = t->next;
			break;
		}
	}
	free(t->buf);
	free(t);
	waitq_wake_all(&c->cmds_done);
}

void iscsi_cmd_abort(struct iscsi_cmd *t)
{
	if (t->executing)
		t->aborted = true; /* its command task frees it when scsi_exec returns */
	else
		iscsi_cmd_free(t);
}

void iscsi_cmds_abort_all(struct iscsi_conn *c)
{
	struct iscsi_cmd *t = c->cmds, *next;
	for (; t; t = next) {
		next = t->next;
		iscsi_cmd_abort(t);
	}
}

bool iscsi_cmds_aborting(const struct iscsi_conn *c)
{
	for (const struct iscsi_cmd *t = c->cmds; t; t = t->next)
		if (t->aborted)
			return true;
	return false;
}

static unsigned r2ts_active(const struct iscsi_cmd *t)
{
	unsigned n = 0;
	for (unsigned i = 0; i < ISCSI_MAX_R2T; i++)
		n += t->r2t[i].active;
	return n;
}

/* Asks for the data not yet solicited, as far as MaxOutstandingR2T allows. */
static void send_r2ts(struct iscsi_cmd *t)
{
	struct iscsi_conn *c = t->conn;
	uint8_t bhs[ISCSI_BHS_LEN];

	while ((t->gap_len || t->solicit_next < t->edtl) &&
	       r2ts_active(t) < c->params.max_outstanding_r2t && !c->closing) {
		struct iscsi_r2t *r = NULL;
		for (unsigned i = 0; i < ISCSI_MAX_R2T && !r; i++)
			if (!t->r2t[i].active)
				r = &t->r2t[i];
		uint32_t *next = t->gap_len ? &t->gap_offset : &t->solicit_next;
		uint32_t len = t->gap_len ? t->gap_len : t->edtl - t->solicit_next;
		if (len > c->params.max_burst_length)
			len = c->params.max_burst_length;
		*r = (struct iscsi_r2t){ .active = true, .ttt = iscsi_conn_new_ttt(c),
					 .offset = *next, .len = len, .next_offset = *next };
		if (t->gap_len)
			t->gap_len -= len;
		iscsi_bhs_init(bhs, ISCSI_OP_R2T, ISCSI_FLAG_FINAL, t->itt);
		memcpy(bhs + ISCSI_BHS_LUN, t->lun_field, 8);
		put_be32(bhs + ISCSI_BHS_TARGET_TRANSFER_TAG, r->ttt);
		put_be32(bhs + ISCSI_BHS_R2TSN, t->r2tsn++);
		put_be32(bhs + ISCSI_BHS_BUFFER_OFFSET, r->offset);
		put_be32(bhs + ISCSI_BHS_DESIRED_DATA_TRANSFER_LENGTH, len);
		*next += len;
		iscsi_send_pdu(c, bhs, NULL, 0, ISCSI_STATSN_PEEK);
	}
}

static void data_complete_or_solicit(struct iscsi_cmd *t)
{
	if (t->received == t->edtl)
		iscsi_cmd_execute(t);
	else
		send_r2ts(t);
}

/* Checks a command PDU's fields. Returns 0 or a Reject reason. */
static uint8_t check_command(struct iscsi_conn *c, const struct iscsi_pdu *pdu)
{
	uint8_t flags = pdu->bhs[ISCSI_BHS_FLAGS];
	uint32_t edtl = pdu_be32(pdu, ISCSI_BHS_EXPECTED_DATA_TRANSFER_LENGTH);
	bool write = flags & ISCSI_FLAG_CMD_WRITE;

	if (pdu->ahs_len) /* extended CDBs and bidirectional commands: not served */
		return ISCSI_REASON_COMMAND_NOT_SUPPORTED;
	if ((flags & ISCSI_FLAG_CMD_READ) && write)
		return ISCSI_REASON_COMMAND_NOT_SUPPORTED;
	if (pdu->data_len && (!write || !c->params.immediate_data))
		return ISCSI_REASON_PROTOCOL_ERROR;
	if (pdu->data_len > edtl || pdu->data_len > c->params.first_burst_length)
		return ISCSI_REASON_PROTOCOL_ERROR;
	if (iscsi_cmd_find(c, pdu_be32(pdu, ISCSI_BHS_INITIATOR_TASK_TAG)))
		return ISCSI_REASON_TASK_IN_PROGRESS;
	return 0;
}

static struct iscsi_cmd *cmd_new(struct iscsi_conn *c, const struct iscsi_pdu *pdu)
{
	uint8_t flags = pdu->bhs[ISCSI_BHS_FLAGS];
	struct iscsi_cmd *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->conn = c;
	t->itt = pdu_be32(pdu, ISCSI_BHS_INITIATOR_TASK_TAG);
	t->cmdsn = pdu_be32(pdu, ISCSI_BHS_CMDSN);
	memcpy(t->lun_field, pdu->bhs + ISCSI_BHS_LUN, 8);
	memcpy(t->cdb, pdu->bhs + ISCSI_BHS_CDB, ISCSI_BHS_CDB_LEN);
	t->read = flags & ISCSI_FLAG_CMD_READ;
	t->write = flags & ISCSI_FLAG_CMD_WRITE;
	t->edtl = (t->read || t->write) ? pdu_be32(pdu, ISCSI_BHS_EXPECTED_DATA_TRANSFER_LENGTH) : 0;
	if (t->edtl) {
		t->buf = calloc(1, t->edtl);
		if (!t->buf) {
			free(t);
			return NULL;
		}
	}
	c->sess.cmds_in_flight++;
	c->sess.buffer_bytes += t->edtl;
	t->next = c->cmds;
	c->cmds = t;
	return t;
}

void iscsi_cmd_start(struct iscsi_conn *c, struct iscsi_pdu *pdu)
{
	uint32_t itt = pdu_be32(pdu, ISCSI_BHS_INITIATOR_TASK_TAG);
	uint8_t reason = check_command(c, pdu);

	if (reason) {
		iscsi_send_reject(c, pdu->bhs, reason);
		return;
	}
	if (pdu_be32(pdu, ISCSI_BHS_EXPECTED_DATA_TRANSFER_LENGTH) > SCSI_MAX_TRANSFER_BYTES) {
		/* More than any command may move (VPD B0h says so): ILLEGAL REQUEST, INVALID
		 * FIELD IN CDB. Data-Out that follows finds no task and is dropped. */
		iscsi_send_check_condition(c, itt, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
		return;
	}
	struct iscsi_cmd *t = cmd_new(c, pdu);
	if (!t) {
		iscsi_send_status(c, itt, SAM_STAT_BUSY); /* out of memory: retry later */
		return;
	}
	if (!t->write) {
		iscsi_cmd_execute(t);
		return;
	}
	if (pdu->data_len)
		memcpy(t->buf, pdu->data, pdu->data_len);
	t->received = pdu->data_len;
	t->unsolicited_next = pdu->data_len;
	bool more_unsolicited = !(pdu->bhs[ISCSI_BHS_FLAGS] & ISCSI_FLAG_FINAL) &&
				!c->params.initial_r2t;
	t->unsolicited_end = pdu->data_len;
	if (more_unsolicited) {
		uint32_t first = c->params.first_burst_length;
		t->unsolicited_end = t->edtl < first ? t->edtl : first;
	}
	t->solicit_next = t->unsolicited_end;
	data_complete_or_solicit(t);
}

static int take_unsolicited(struct iscsi_cmd *t, uint32_t offset, uint32_t datasn, uint32_t len,
			    bool final)
{
	if (offset != t->unsolicited_next || datasn != t->unsolicited_datasn ||
	    len > t->unsolicited_end - offset)
		return -EPROTO;
	t->unsolicited_next += len;
	t->unsolicited_datasn++;
	if (final && t->unsolicited_next < t->unsolicited_end) {
		/* Fewer unsolicited bytes than FirstBurstLength allowed: ask for the rest. */
		t->gap_offset = t->unsolicited_next;
		t->gap_len = t->unsolicited_end - t->unsolicited_next;
		t->unsolicited_end = t->unsolicited_next;
	}
	return 0;
}

static int take_solicited(struct iscsi_cmd *t, uint32_t ttt, uint32_t offset, uint32_t datasn,
			  uint32_t len, bool final)
{
	struct iscsi_r2t *r = NULL;
	for (unsigned i = 0; i < ISCSI_MAX_R2T && !r; i++)
		if (t->r2t[i].active && t->r2t[i].ttt == ttt)
			r = &t->r2t[i];
	if (!r || offset != r->next_offset || datasn != r->next_datasn ||
	    len > r->offset + r->len - offset)
		return -EPROTO;
	r->next_offset += len;
	r->next_datasn++;
	bool complete = r->next_offset == r->offset + r->len;
	if (final != complete)
		return -EPROTO; /* F marks exactly the last PDU of the sequence */
	if (complete)
		r->active = false;
	return 0;
}

int iscsi_cmd_data_out(struct iscsi_conn *c, struct iscsi_pdu *pdu)
{
	struct iscsi_cmd *t = iscsi_cmd_find(c, pdu_be32(pdu, ISCSI_BHS_INITIATOR_TASK_TAG));
	uint32_t ttt = pdu_be32(pdu, ISCSI_BHS_TARGET_TRANSFER_TAG);
	uint32_t offset = pdu_be32(pdu, ISCSI_BHS_BUFFER_OFFSET);
	uint32_t datasn = pdu_be32(pdu, ISCSI_BHS_DATASN);
	uint32_t len = pdu->data_len;
	bool final = pdu->bhs[ISCSI_BHS_FLAGS] & ISCSI_FLAG_FINAL;
	int rc;

	if (!t || t->executing || t->aborted)
		return 0; /* the task ended (aborted or failed): late data is dropped */
	if (!t->write || offset > t->edtl || len > t->edtl - offset)
		return -EPROTO;
	if (ttt == ISCSI_RESERVED_TAG)
		rc = take_unsolicited(t, offset, datasn, len, final);
	else
		rc = take_solicited(t, ttt, offset, datasn, len, final);
	if (rc < 0)
		return rc;
	if (len)
		memcpy(t->buf + offset, pdu->data, len);
	t->received += len;
	data_complete_or_solicit(t);
	return 0;
}
