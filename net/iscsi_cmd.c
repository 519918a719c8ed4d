/*
 * One SCSI command over iSCSI (RFC 7143 11.3-11.4, 11.7-11.8), from its SCSI Command PDU
 * to its last response. The file follows a command through its four phases:
 *
 *   1. admission    the command PDU is checked; the command takes a window slot and a
 *                   task (iscsi_session_slot_free) and charges its buffer to the budget
 *                   before allocating it; a command that finds no room (an immediate
 *                   one, or one the window still admitted) gets TASK SET FULL
 *   2. data         a write's data arrives in up to three parts, each checked for its
 *                   exact offsets:
 *                     immediate     in the command PDU itself (ImmediateData=Yes)
 *                     unsolicited   Data-Out with TTT 0xffffffff up to FirstBurstLength
 *                                   (InitialR2T=No and F=0 on the command), DataSN from 0
 *                     solicited     Data-Out answering our R2Ts: each R2T asks for up to
 *                                   MaxBurstLength at a buffer offset under its own TTT;
 *                                   at most MaxOutstandingR2T at once; DataSN from 0 per
 *                                   R2T; R2TSN from 0 per command
 *                   A Data-Out that breaks the sequence (DataSN, offset, length, unknown
 *                   TTT) ends the connection: at ERL 0 there is no recovery within it.
 *   3. execution    once the data is in, the command runs in a task of its own
 *                   (lib/task.h), so commands on one LUN execute concurrently; scsi_exec()
 *                   blocks only that task
 *   4. response     Data-In in PDUs of at most the initiator's MaxRecvDataSegmentLength,
 *                   grouped in sequences of at most MaxBurstLength (F ends each), DataSN
 *                   from 0, buffer offsets increasing; the status is folded into the last
 *                   Data-In (S bit) when there is no sense data, else it is a SCSI
 *                   Response carrying the sense. Residuals compare the initiator's
 *                   ExpectedDataTransferLength (EDTL) with the length the CDB asks for
 *                   (scsi_cmd.transfer_len): more asked than expected is an overflow, less
 *                   an underflow; reads also count bytes not produced.
 *
 * An aborted command (TMF, logout, connection end) sends nothing: the TMF that aborted it
 * answers for it, and Data-Out for a command that no longer exists is dropped silently.
 * The PDUs themselves are built in iscsi_send.c.
 *
 * Ownership: a command is freed only by its owner, never by whoever aborts it. The owner
 * is the connection's worker while the command collects data (admission to execute()),
 * then the command's own task. Both may block in a send with the command in hand, and
 * meanwhile a TMF, a LUN reset from another session or a reinstatement may abort it: an
 * abort only sets cmd->aborted and wakes the owner. The owner checks the flag after each
 * blocking call and frees the command at a safe point: the task when scsi_exec() and the
 * sends are done, the worker in iscsi_cmds_reap() between PDUs and at teardown.
 */
#include "iscsi_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scsi_spec.h"

/* The steps after admission, defined below in the order a command meets them. */
static void begin_data(struct iscsi_cmd *cmd, const struct iscsi_pdu *pdu);
static void collect_or_execute(struct iscsi_cmd *cmd);
static void execute(struct iscsi_cmd *cmd);
static void respond(struct iscsi_cmd *cmd);
static void cmd_release(struct iscsi_cmd *cmd);
static void cmd_free(struct iscsi_cmd *cmd);

/* ---- 1. admission ------------------------------------------------------------------ */

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

/* Answers a command that never became an iscsi_cmd: status only (BUSY: retry later). */
static void respond_status(struct iscsi_conn *c, uint32_t itt, uint8_t status)
{
	struct iscsi_scsi_response_pdu rsp = { .itt = itt, .status = status };
	iscsi_send_scsi_response(c, &rsp);
}

/* The same with CHECK CONDITION; asc is ASC << 8 | ASCQ as in scsi_spec.h. */
static void respond_check_condition(struct iscsi_conn *c, uint32_t itt, uint8_t sense_key,
				    uint16_t asc)
{
	/* fixed format (SPC-4 4.5.3): response code, key, additional length, ASC, ASCQ */
	uint8_t sense[SENSE_FIXED_LEN] = { SENSE_RESPONSE_CURRENT_FIXED, 0, sense_key, 0, 0, 0, 0,
					   SENSE_ADDITIONAL_LEN };
	sense[12] = (uint8_t)(asc >> 8);
	sense[13] = (uint8_t)asc;
	struct iscsi_scsi_response_pdu rsp = { .itt = itt, .status = SAM_STAT_CHECK_CONDITION,
					       .sense = sense, .sense_len = sizeof(sense) };
	iscsi_send_scsi_response(c, &rsp);
}

/* The buffer a command needs: its EDTL, for reads and writes alike. */
static uint32_t buffer_bytes(const struct iscsi_pdu *pdu)
{
	if (!(pdu->bhs[ISCSI_BHS_FLAGS] & (ISCSI_FLAG_CMD_READ | ISCSI_FLAG_CMD_WRITE)))
		return 0;
	return pdu_be32(pdu, ISCSI_BHS_EXPECTED_DATA_TRANSFER_LENGTH);
}

/* Allocates a command whose buffer bytes are already charged; takes its slot and task. */
static struct iscsi_cmd *cmd_new(struct iscsi_conn *c, const struct iscsi_pdu *pdu)
{
	uint8_t flags = pdu->bhs[ISCSI_BHS_FLAGS];
	struct iscsi_cmd *cmd = calloc(1, sizeof(*cmd));
	if (!cmd)
		return NULL;
	cmd->conn = c;
	cmd->itt = pdu_be32(pdu, ISCSI_BHS_INITIATOR_TASK_TAG);
	memcpy(cmd->lun_field, pdu->bhs + ISCSI_BHS_LUN, 8);
	memcpy(cmd->cdb, pdu->bhs + ISCSI_BHS_CDB, ISCSI_BHS_CDB_LEN);
	cmd->read = flags & ISCSI_FLAG_CMD_READ;
	cmd->write = flags & ISCSI_FLAG_CMD_WRITE;
	cmd->edtl = buffer_bytes(pdu);
	if (cmd->edtl) {
		cmd->buf = calloc(1, cmd->edtl);
		if (!cmd->buf) {
			free(cmd);
			return NULL;
		}
	}
	c->sess.cmds_in_flight++;
	c->srv->data.commands++;
	c->srv->tasks++; /* its task, spawned once the data is in */
	cmd->next = c->cmds;
	c->cmds = cmd;
	return cmd;
}

/* Room for one more command: a window slot, a task, its buffer charged (before anything
 * is allocated for it). False: the initiator is told TASK SET FULL and retries. */
static bool admit(struct iscsi_conn *c, const struct iscsi_pdu *pdu)
{
	if (iscsi_session_slot_free(c) && iscsi_budget_charge(&c->sess.budget, buffer_bytes(pdu)))
		return true;
	c->srv->task_set_full++;
	respond_status(c, pdu_be32(pdu, ISCSI_BHS_INITIATOR_TASK_TAG), SAM_STAT_TASK_SET_FULL);
	return false;
}

void iscsi_cmd_start(struct iscsi_conn *c, const struct iscsi_pdu *pdu)
{
	uint32_t itt = pdu_be32(pdu, ISCSI_BHS_INITIATOR_TASK_TAG);
	uint8_t reason = check_command(c, pdu);

	if (reason) {
		iscsi_send_reject(c, pdu->bhs, reason);
		return;
	}
	if (pdu_be32(pdu, ISCSI_BHS_EXPECTED_DATA_TRANSFER_LENGTH) > SCSI_MAX_TRANSFER_BYTES) {
		/* More than any command may move (VPD B0h says so): ILLEGAL REQUEST, INVALID
		 * FIELD IN CDB. Data-Out that follows finds no command and is dropped. */
		respond_check_condition(c, itt, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
		return;
	}
	if (!admit(c, pdu))
		return;
	struct iscsi_cmd *cmd = cmd_new(c, pdu);
	if (!cmd) {
		iscsi_budget_release(&c->sess.budget, buffer_bytes(pdu));
		respond_status(c, itt, SAM_STAT_BUSY); /* out of memory: retry later */
		return;
	}
	if (!cmd->write) {
		execute(cmd);
		return;
	}
	begin_data(cmd, pdu);
}

/* ---- 2. data: immediate, unsolicited and solicited Data-Out, R2Ts ------------------- */

/* A write's immediate data, and how far unsolicited Data-Out may follow it. */
static void begin_data(struct iscsi_cmd *cmd, const struct iscsi_pdu *pdu)
{
	const struct iscsi_params *params = &cmd->conn->params;
	bool more_unsolicited = !(pdu->bhs[ISCSI_BHS_FLAGS] & ISCSI_FLAG_FINAL) &&
				!params->initial_r2t;

	if (pdu->data_len) {
		memcpy(cmd->buf, pdu->data, pdu->data_len);
		cmd->conn->srv->data.rx_copied_bytes += pdu->data_len;
	}
	cmd->received = pdu->data_len;
	cmd->unsolicited_next = pdu->data_len;
	cmd->unsolicited_end = pdu->data_len;
	if (more_unsolicited) {
		uint32_t first = params->first_burst_length;
		cmd->unsolicited_end = cmd->edtl < first ? cmd->edtl : first;
	}
	cmd->solicit_next = cmd->unsolicited_end;
	collect_or_execute(cmd);
}

static int take_unsolicited(struct iscsi_cmd *cmd, uint32_t offset, uint32_t datasn,
			    uint32_t len, bool final)
{
	if (offset != cmd->unsolicited_next || datasn != cmd->unsolicited_datasn ||
	    len > cmd->unsolicited_end - offset)
		return -EPROTO;
	cmd->unsolicited_next += len;
	cmd->unsolicited_datasn++;
	if (final && cmd->unsolicited_next < cmd->unsolicited_end) {
		/* Fewer unsolicited bytes than FirstBurstLength allowed: ask for the rest. */
		cmd->gap_offset = cmd->unsolicited_next;
		cmd->gap_len = cmd->unsolicited_end - cmd->unsolicited_next;
		cmd->unsolicited_end = cmd->unsolicited_next;
	}
	return 0;
}

static struct iscsi_r2t *r2t_find(struct iscsi_cmd *cmd, uint32_t ttt)
{
	for (unsigned i = 0; i < ISCSI_MAX_R2T; i++)
		if (cmd->r2t[i].active && cmd->r2t[i].ttt == ttt)
			return &cmd->r2t[i];
	return NULL;
}

static int take_solicited(struct iscsi_cmd *cmd, uint32_t ttt, uint32_t offset,
			  uint32_t datasn, uint32_t len, bool final)
{
	struct iscsi_r2t *r = r2t_find(cmd, ttt);
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

int iscsi_cmd_data_out(struct iscsi_conn *c, const struct iscsi_pdu *pdu)
{
	struct iscsi_cmd *cmd = iscsi_cmd_find(c, pdu_be32(pdu, ISCSI_BHS_INITIATOR_TASK_TAG));
	uint32_t ttt = pdu_be32(pdu, ISCSI_BHS_TARGET_TRANSFER_TAG);
	uint32_t offset = pdu_be32(pdu, ISCSI_BHS_BUFFER_OFFSET);
	uint32_t datasn = pdu_be32(pdu, ISCSI_BHS_DATASN);
	uint32_t len = pdu->data_len;
	bool final = pdu->bhs[ISCSI_BHS_FLAGS] & ISCSI_FLAG_FINAL;
	int rc;

	if (!cmd || cmd->executing || cmd->aborted)
		return 0; /* the command ended (aborted or failed): late data is dropped */
	if (!cmd->write || offset > cmd->edtl || len > cmd->edtl - offset)
		return -EPROTO;
	if (ttt == ISCSI_RESERVED_TAG)
		rc = take_unsolicited(cmd, offset, datasn, len, final);
	else
		rc = take_solicited(cmd, ttt, offset, datasn, len, final);
	if (rc < 0)
		return rc;
	if (len) {
		memcpy(cmd->buf + offset, pdu->data, len);
		c->srv->data.rx_copied_bytes += len;
	}
	cmd->received += len;
	collect_or_execute(cmd);
	return 0;
}

static struct iscsi_r2t *r2t_unused(struct iscsi_cmd *cmd)
{
	for (unsigned i = 0; i < ISCSI_MAX_R2T; i++)
		if (!cmd->r2t[i].active)
			return &cmd->r2t[i];
	return NULL;
}

static unsigned r2ts_active(const struct iscsi_cmd *cmd)
{
	unsigned n = 0;
	for (unsigned i = 0; i < ISCSI_MAX_R2T; i++)
		n += cmd->r2t[i].active;
	return n;
}

/* Asks for the data not yet solicited, as far as MaxOutstandingR2T allows. A gap the
 * unsolicited data left goes first. */
static void send_r2ts(struct iscsi_cmd *cmd)
{
	struct iscsi_conn *c = cmd->conn;

	while ((cmd->gap_len || cmd->solicit_next < cmd->edtl) &&
	       r2ts_active(cmd) < c->params.max_outstanding_r2t && !c->closing &&
	       !cmd->aborted) { /* the send below may block while an abort comes */
		struct iscsi_r2t *r = r2t_unused(cmd);
		uint32_t *next = cmd->gap_len ? &cmd->gap_offset : &cmd->solicit_next;
		uint32_t len = cmd->gap_len ? cmd->gap_len : cmd->edtl - cmd->solicit_next;
		if (len > c->params.max_burst_length)
			len = c->params.max_burst_length;
		*r = (struct iscsi_r2t){ .active = true, .ttt = iscsi_conn_new_ttt(c),
					 .offset = *next, .len = len, .next_offset = *next };
		if (cmd->gap_len)
			cmd->gap_len -= len;
		*next += len;
		struct iscsi_r2t_pdu pdu = { .itt = cmd->itt, .lun = cmd->lun_field, .ttt = r->ttt,
					     .r2tsn = cmd->r2tsn++, .offset = r->offset, .len = len };
		iscsi_send_r2t(c, &pdu);
	}
}

static void collect_or_execute(struct iscsi_cmd *cmd)
{
	if (cmd->received == cmd->edtl)
		execute(cmd);
	else
		send_r2ts(cmd);
}

/* ---- 3. execution ------------------------------------------------------------------ */

/* Scratch memory of the SCSI layer is paid from the session's budget like the buffer. */
static bool charge_scratch(void *ctx, size_t bytes)
{
	struct iscsi_conn *c = ctx;
	return iscsi_budget_charge(&c->sess.budget, bytes);
}

static void uncharge_scratch(void *ctx, size_t bytes)
{
	struct iscsi_conn *c = ctx;
	iscsi_budget_release(&c->sess.budget, bytes);
}

/* The command's own task: only LUN 0 is served, any other gets the SCSI layer's answer
 * for a missing LUN. */
static void command_main(void *arg)
{
	struct iscsi_cmd *cmd = arg;
	struct iscsi_conn *c = cmd->conn;
	struct scsi_cmd *scsi = &cmd->scsi;

	memset(scsi, 0, sizeof(*scsi));
	scsi->cdb = cmd->cdb;
	scsi->cdb_len = ISCSI_BHS_CDB_LEN;
	scsi->dir = cmd->write ? SCSI_DIR_WRITE : cmd->read ? SCSI_DIR_READ : SCSI_DIR_NONE;
	scsi->data = cmd->buf;
	scsi->data_len = cmd->edtl;
	scsi->charge = charge_scratch;
	scsi->uncharge = uncharge_scratch;
	scsi->charge_ctx = c;
	scsi_exec(iscsi_lun_served(cmd->lun_field) ? c->sess.target->lun : NULL, &c->sess.nexus, scsi);
	if (!cmd->aborted && !c->closing)
		respond(cmd);
	cmd_free(cmd);
	iscsi_conn_put(c);
}

static void execute(struct iscsi_cmd *cmd)
{
	struct iscsi_conn *c = cmd->conn;
	cmd->executing = true;
	iscsi_conn_get(c); /* the command's task holds the connection until it ends */
	if (!task_spawn(command_main, cmd)) {
		iscsi_conn_put(c);
		uint32_t itt = cmd->itt;
		cmd_free(cmd);
		respond_status(c, itt, SAM_STAT_BUSY); /* out of memory: retry later */
	}
}

/* ---- 4. response ------------------------------------------------------------------- */

static struct iscsi_residual residual_of(const struct iscsi_cmd *cmd)
{
	struct iscsi_residual r = { 0, 0 };
	uint32_t wanted = cmd->scsi.transfer_len;
	if (cmd->read && cmd->scsi.status == SAM_STAT_GOOD && cmd->scsi.data_produced < wanted &&
	    wanted <= cmd->edtl)
		wanted = cmd->scsi.data_produced; /* a short read */
	if (!cmd->read && !cmd->write)
		return r; /* EDTL 0: nothing to count against */
	if (wanted > cmd->edtl) {
		r.flag = ISCSI_FLAG_RSP_OVERFLOW;
		r.count = wanted - cmd->edtl;
	} else if (wanted < cmd->edtl) {
		r.flag = ISCSI_FLAG_RSP_UNDERFLOW;
		r.count = cmd->edtl - wanted;
	}
	return r;
}

/* Sends len bytes of Data-In; folds the status into the last PDU when fold. Returns the
 * number of Data-In PDUs sent (the next DataSN). */
static uint32_t send_data_in(struct iscsi_cmd *cmd, uint32_t len, bool fold,
			     struct iscsi_residual res)
{
	struct iscsi_conn *c = cmd->conn;
	uint32_t offset = 0, burst_left = c->params.max_burst_length;
	struct iscsi_data_in_pdu pdu = { .itt = cmd->itt, .lun = cmd->lun_field,
					 .status = cmd->scsi.status, .residual = res };

	while (offset < len && !c->closing && !cmd->aborted) {
		uint32_t n = len - offset;
		if (n > c->params.initiator_mrdsl)
			n = c->params.initiator_mrdsl;
		if (n > burst_left)
			n = burst_left;
		bool last = offset + n == len;
		burst_left -= n;
		pdu.offset = offset;
		pdu.final = last || burst_left == 0;
		pdu.with_status = last && fold;
		iscsi_send_data_in(c, &pdu, cmd->buf + offset, n);
		pdu.datasn++;
		offset += n;
		if (burst_left == 0)
			burst_left = c->params.max_burst_length;
	}
	return pdu.datasn;
}

static void respond(struct iscsi_cmd *cmd)
{
	struct iscsi_conn *c = cmd->conn;
	uint32_t len = cmd->read ? cmd->scsi.data_produced : 0;
	if (len > cmd->edtl)
		len = cmd->edtl;
	bool fold = cmd->scsi.sense_len == 0;
	struct iscsi_scsi_response_pdu rsp = { .itt = cmd->itt, .status = cmd->scsi.status,
					       .sense = cmd->scsi.sense,
					       .sense_len = cmd->scsi.sense_len,
					       .residual = residual_of(cmd) };

	/* The window reopens before the last PDU leaves, so it carries the new MaxCmdSN. */
	cmd_release(cmd);
	if (len > 0) {
		rsp.exp_datasn = send_data_in(cmd, len, fold, rsp.residual);
		if (fold)
			return;
	}
	iscsi_send_scsi_response(c, &rsp);
}

/* ---- the connection's commands: lookup, end, abort ---------------------------------- */

struct iscsi_cmd *iscsi_cmd_find(struct iscsi_conn *c, uint32_t itt)
{
	for (struct iscsi_cmd *cmd = c->cmds; cmd; cmd = cmd->next)
		if (cmd->itt == itt)
			return cmd;
	return NULL;
}

/* Gives back the command's window slot (once), before its last response; its bytes stay
 * charged until cmd_free() but count as free for the MaxCmdSN that response carries. */
static void cmd_release(struct iscsi_cmd *cmd)
{
	struct iscsi_session *s = &cmd->conn->sess;
	if (cmd->released)
		return;
	cmd->released = true;
	s->cmds_in_flight--;
	s->responding_bytes += cmd->edtl;
}

/* Removes cmd from its connection and frees it; TMFs waiting for it wake. */
static void cmd_free(struct iscsi_cmd *cmd)
{
	struct iscsi_conn *c = cmd->conn;
	cmd_release(cmd);
	c->sess.responding_bytes -= cmd->edtl;
	iscsi_budget_release(&c->sess.budget, cmd->edtl);
	c->srv->tasks--;
	for (struct iscsi_cmd **link = &c->cmds; *link; link = &(*link)->next) {
		if (*link == cmd) {
			*link = cmd->next;
			break;
		}
	}
	free(cmd->buf);
	free(cmd);
	waitq_wake_all(&c->cmds_done);
}

/* Marks cmd; its owner frees it (see the top of this file). The caller may be any task
 * or the loop, with the owner blocked anywhere: nothing is freed here. */
void iscsi_cmd_abort(struct iscsi_cmd *cmd)
{
	cmd->aborted = true;
	/* A running command's task sees the flag when scsi_exec() or its send returns; the
	 * worker may be idle and must come round to free one that collects data. */
	if (!cmd->executing)
		iscsi_conn_wake_worker(cmd->conn);
}

void iscsi_cmds_abort_all(struct iscsi_conn *c)
{
	for (struct iscsi_cmd *cmd = c->cmds; cmd; cmd = cmd->next)
		iscsi_cmd_abort(cmd);
}

void iscsi_cmds_reap(struct iscsi_conn *c)
{
	struct iscsi_cmd *cmd = c->cmds, *next;
	for (; cmd; cmd = next) {
		next = cmd->next;
		if (cmd->aborted && !cmd->executing)
			cmd_free(cmd);
	}
}

bool iscsi_cmds_aborting(const struct iscsi_conn *c)
{
	for (const struct iscsi_cmd *cmd = c->cmds; cmd; cmd = cmd->next)
		if (cmd->aborted)
			return true;
	return false;
}
