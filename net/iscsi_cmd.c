/*
 * One SCSI command over iSCSI (RFC 7143 11.3-11.4, 11.7-11.8), from its SCSI Command PDU
 * to its last response. The file follows a command through its four phases:
 *
 *   1. admission    in the loop, as soon as the command PDU's header is complete
 *                   (iscsi_cmd_place, the receive state machine's place hook): the PDU
 *                   is checked; the command takes a window slot and a task
 *                   (iscsi_session_slot_free) and charges its buffer to the budget
 *                   before allocating it, so that its immediate data and its Data-Out
 *                   are received straight into that buffer. The verdict travels in the
 *                   PDU; the worker acts on it in CmdSN order (iscsi_cmd_start): a
 *                   refusal (Reject, CHECK CONDITION, BUSY, or TASK SET FULL for a
 *                   command that found no room) is sent then, else the command starts
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
 *                   The loop places a Data-Out's data at buffer + offset when the offset
 *                   and length fit the buffer of a command that still collects data,
 *                   else nowhere; the sequence checks are the worker's, in order.
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
 * Ownership: a command is freed only by its owner, never by whoever aborts it. From its
 * admission in the loop until the worker reaches its command PDU, the owner is that PDU
 * (queued, or waiting for its CmdSN): freeing the PDU unstarted (outside the window, a
 * duplicate CmdSN, the connection's end) marks the command started and aborted and
 * hands it to the worker (iscsi_cmd_pdu_gone). Then the owner is the connection's worker
 * while the command collects data (iscsi_cmd_start to execute()), then the command's own
 * task. Both may block in a send with the command in hand, and meanwhile a TMF, a LUN
 * reset from another session or a reinstatement may abort it: an abort only sets
 * cmd->aborted and wakes the owner. The owner checks the flag after each blocking call
 * and frees the command at a safe point: the task when scsi_exec() and the sends are
 * done, the worker in iscsi_cmds_reap() between PDUs and at teardown. Aborts concern
 * started commands only: one admitted but not started comes after them in CmdSN order.
 *
 * Holds: each Data-Out matched to a command at its header points into the buffer from
 * then until it is freed (being received, queued, or handled): cmd->holds counts them.
 * The worker frees an aborted command only when it has none (teardown first frees the
 * PDU being received and the queued ones), and hands a command to execute() only when
 * it has none: a stray Data-Out still arriving into a complete buffer must not change
 * it under the disk (it ends the connection when the worker meets it; if it is only
 * rejected, iscsi_cmds_reap() executes the command once it is gone). The loop matches
 * no PDU to a command that executes or was aborted, so an executing command never has
 * holds, and its task frees it as before.
 *
 * Data-In is lent to the transport (sent from the buffer by reference, no copy): the
 * task frees the buffer only after iscsi_conn_wait_returned(), once the peer has
 * acknowledged those bytes or the connection is gone. Meanwhile the buffer stays charged
 * to the session's budget; a peer that stops reading is ended by the NOP-In liveness
 * check (iscsi_server_tick), and the transport's end returns everything it borrowed.
 */
#include "iscsi_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scsi_spec.h"

/* The steps after admission, defined below in the order a command meets them. */
static void collect_or_execute(struct iscsi_cmd *cmd);
static void execute(struct iscsi_cmd *cmd);
static void respond(struct iscsi_cmd *cmd);
static void cmd_release(struct iscsi_cmd *cmd);
static void cmd_free(struct iscsi_cmd *cmd);

/* ---- 1. admission, when the command PDU's header is complete (the loop) ------------- */

/* Any command of c with this ITT that has not begun its last response, started or not:
 * an ITT names at most one of them, so a Data-Out finds its buffer unambiguously. */
static struct iscsi_cmd *cmd_by_itt(struct iscsi_conn *c, uint32_t itt)
{
	for (struct iscsi_cmd *cmd = c->cmds; cmd; cmd = cmd->next)
		if (cmd->itt == itt && !cmd->released)
			return cmd;
	return NULL;
}

/* Checks a command PDU's fields. Returns 0 or a Reject reason. */
static uint8_t check_command(struct iscsi_conn *c, const struct iscsi_pdu *pdu)
{
	const struct iscsi_params *params = &c->admit_params;
	uint8_t flags = pdu->bhs[ISCSI_BHS_FLAGS];
	uint32_t edtl = pdu_be32(pdu, ISCSI_BHS_EXPECTED_DATA_TRANSFER_LENGTH);
	bool write = flags & ISCSI_FLAG_CMD_WRITE;

	if (pdu->ahs_len) /* extended CDBs and bidirectional commands: not served */
		return ISCSI_REASON_COMMAND_NOT_SUPPORTED;
	if ((flags & ISCSI_FLAG_CMD_READ) && write)
		return ISCSI_REASON_COMMAND_NOT_SUPPORTED;
	if (pdu->data_len && (!write || !params->immediate_data))
		return ISCSI_REASON_PROTOCOL_ERROR;
	if (pdu->data_len > edtl || pdu->data_len > params->first_burst_length)
		return ISCSI_REASON_PROTOCOL_ERROR;
	if (cmd_by_itt(c, pdu_be32(pdu, ISCSI_BHS_INITIATOR_TASK_TAG)))
		return ISCSI_REASON_TASK_IN_PROGRESS;
	return 0;
}

/* The buffer a command needs: its EDTL, for reads and writes alike. */
static uint32_t buffer_bytes(const struct iscsi_pdu *pdu)
{
	if (!(pdu->bhs[ISCSI_BHS_FLAGS] & (ISCSI_FLAG_CMD_READ | ISCSI_FLAG_CMD_WRITE)))
		return 0;
	return pdu_be32(pdu, ISCSI_BHS_EXPECTED_DATA_TRANSFER_LENGTH);
}

/* A write's buffer is not zeroed: it executes only once Data-Out sequences with exact,
 * disjoint offsets have filled every byte of it, and a write sends no Data-In. Any other
 * command's buffer is zeroed: the SCSI layer goes by the CDB, not by the R/W bits, so a
 * Data-Out CDB sent as a read would take the buffer as data for the disk. */
static uint8_t *buffer_alloc(bool write, uint32_t bytes)
{
	return write ? malloc(bytes) : calloc(1, bytes);
}

/* Where the data sequences of a write stand after its immediate data: how far unsolicited
 * Data-Out may follow it and where the R2Ts start. Set at admission, so that Data-Out the
 * worker meets before the command PDU (that one waits for a lower CmdSN) is checked too. */
static void data_sequence_init(struct iscsi_cmd *cmd, const struct iscsi_pdu *pdu)
{
	const struct iscsi_params *params = &cmd->conn->admit_params;
	bool more_unsolicited = !(pdu->bhs[ISCSI_BHS_FLAGS] & ISCSI_FLAG_FINAL) &&
				!params->initial_r2t;

	cmd->received = pdu->data_len;
	cmd->unsolicited_next = pdu->data_len;
	cmd->unsolicited_end = pdu->data_len;
	if (more_unsolicited) {
		uint32_t first = params->first_burst_length;
		cmd->unsolicited_end = cmd->edtl < first ? cmd->edtl : first;
	}
	cmd->solicit_next = cmd->unsolicited_end;
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
		cmd->buf = buffer_alloc(cmd->write, cmd->edtl);
		if (!cmd->buf) {
			free(cmd);
			return NULL;
		}
	}
	if (cmd->write)
		data_sequence_init(cmd, pdu);
	c->sess.cmds_in_flight++;
	c->srv->data.commands++;
	c->sess.cmds++;
	c->srv->tasks++; /* its task, spawned once the data is in */
	cmd->next = c->cmds;
	c->cmds = cmd;
	return cmd;
}

/* Room for one more command: a window slot, a task, its buffer charged (before anything
 * is allocated for it). False: the initiator will be told TASK SET FULL and retries. */
static bool admit(struct iscsi_conn *c, const struct iscsi_pdu *pdu)
{
	if (iscsi_session_slot_free(c) && iscsi_budget_charge(&c->sess.budget, buffer_bytes(pdu)))
		return true;
	c->srv->task_set_full++;
	return false;
}

/* Decides pdu->verdict (and pdu->cmd) for a command PDU whose header is complete. */
static void judge_command(struct iscsi_conn *c, struct iscsi_pdu *pdu)
{
	uint8_t reason = check_command(c, pdu);

	if (reason) {
		pdu->verdict = ISCSI_VERDICT_REJECT;
		pdu->verdict_reason = reason;
	} else if (pdu_be32(pdu, ISCSI_BHS_EXPECTED_DATA_TRANSFER_LENGTH) > SCSI_MAX_TRANSFER_BYTES) {
		/* More than any command may move (VPD B0h says so). Data-Out that follows finds
		 * no command and is dropped. */
		pdu->verdict = ISCSI_VERDICT_TOO_LONG;
	} else if (!admit(c, pdu)) {
		pdu->verdict = ISCSI_VERDICT_TASK_SET_FULL;
	} else if (!(pdu->cmd = cmd_new(c, pdu))) {
		iscsi_budget_release(&c->sess.budget, buffer_bytes(pdu));
		pdu->verdict = ISCSI_VERDICT_BUSY;
	} else {
		pdu->verdict = ISCSI_VERDICT_ADMITTED;
	}
}

/* A Data-Out's header: the command it belongs to, if that one still collects data (it is
 * held from now on), and its data's place in that buffer if the offset and length fit.
 * Whether they are the ones the data sequence expects is the worker's check, in order;
 * a Data-Out that does not fit is discarded here and ends the connection there. */
static enum iscsi_rx_dest place_data_out(struct iscsi_conn *c, struct iscsi_pdu *pdu,
					 uint8_t **at)
{
	struct iscsi_cmd *cmd = cmd_by_itt(c, pdu_be32(pdu, ISCSI_BHS_INITIATOR_TASK_TAG));
	uint32_t offset = pdu_be32(pdu, ISCSI_BHS_BUFFER_OFFSET);

	if (!cmd || cmd->executing || cmd->aborted)
		return ISCSI_RX_DISCARD;
	cmd->holds++;
	pdu->cmd = cmd;
	if (!cmd->write || offset > cmd->edtl || pdu->data_len > cmd->edtl - offset ||
	    !pdu->data_len)
		return ISCSI_RX_DISCARD;
	*at = cmd->buf + offset;
	return ISCSI_RX_PLACED;
}

enum iscsi_rx_dest iscsi_cmd_place(struct iscsi_conn *c, struct iscsi_pdu *pdu, uint8_t **at)
{
	if (pdu_opcode(pdu) == ISCSI_OP_SCSI_DATA_OUT)
		return place_data_out(c, pdu, at);
	judge_command(c, pdu);
	if (!pdu->cmd || !pdu->data_len)
		return ISCSI_RX_DISCARD; /* a refused command's immediate data */
	*at = pdu->cmd->buf; /* check_command: data_len <= EDTL */
	return ISCSI_RX_PLACED;
}

/* ---- 1b. the verdict, in CmdSN order (the worker) ------------------------------------ */

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

void iscsi_cmd_start(struct iscsi_conn *c, struct iscsi_pdu *pdu)
{
	uint32_t itt = pdu_be32(pdu, ISCSI_BHS_INITIATOR_TASK_TAG);
	struct iscsi_cmd *cmd = pdu->cmd;

	pdu->cmd = NULL; /* the worker owns the command from here on */
	switch ((enum iscsi_verdict)pdu->verdict) {
	case ISCSI_VERDICT_NONE: /* sent before the login ended: nothing was admitted */
		iscsi_send_reject(c, pdu->bhs, ISCSI_REASON_PROTOCOL_ERROR);
		break;
	case ISCSI_VERDICT_REJECT:
		iscsi_send_reject(c, pdu->bhs, pdu->verdict_reason);
		break;
	case ISCSI_VERDICT_TOO_LONG: /* ILLEGAL REQUEST, INVALID FIELD IN CDB */
		respond_check_condition(c, itt, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
		break;
	case ISCSI_VERDICT_TASK_SET_FULL:
		respond_status(c, itt, SAM_STAT_TASK_SET_FULL);
		break;
	case ISCSI_VERDICT_BUSY: /* out of memory: retry later */
		respond_status(c, itt, SAM_STAT_BUSY);
		break;
	case ISCSI_VERDICT_ADMITTED:
		cmd->started = true;
		if (cmd->write)
			collect_or_execute(cmd);
		else
			execute(cmd);
		break;
	}
}

/* ---- 2. data: immediate, unsolicited and solicited Data-Out, R2Ts ------------------- */

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

int iscsi_cmd_data_out(struct iscsi_conn *c, struct iscsi_pdu *pdu)
{
	struct iscsi_cmd *cmd = pdu->cmd; /* NULL: no command collected data at its header */
	uint32_t ttt = pdu_be32(pdu, ISCSI_BHS_TARGET_TRANSFER_TAG);
	uint32_t offset = pdu_be32(pdu, ISCSI_BHS_BUFFER_OFFSET);
	uint32_t datasn = pdu_be32(pdu, ISCSI_BHS_DATASN);
	uint32_t len = pdu->data_len;
	bool final = pdu->bhs[ISCSI_BHS_FLAGS] & ISCSI_FLAG_FINAL;
	int rc;

	(void)c;
	if (cmd) /* its data is in place; only the worker frees cmd, and it is here */
		iscsi_cmd_pdu_gone(pdu);
	if (!cmd || cmd->executing || cmd->aborted)
		return 0; /* the command ended (aborted or failed): late data is dropped */
	/* The same test as place_data_out's: data that passes it was placed there. */
	if (!cmd->write || offset > cmd->edtl || len > cmd->edtl - offset)
		return -EPROTO;
	if (ttt == ISCSI_RESERVED_TAG)
		rc = take_unsolicited(cmd, offset, datasn, len, final);
	else
		rc = take_solicited(cmd, ttt, offset, datasn, len, final);
	if (rc < 0)
		return rc;
	cmd->received += len;
	if (cmd->started) /* else its command PDU waits for a lower CmdSN: it goes on then */
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
	if (cmd->received < cmd->edtl)
		send_r2ts(cmd);
	else if (!cmd->holds)
		execute(cmd);
	/* else a Data-Out beyond the data is being received into the buffer: the buffer is
	 * not handed to the disk until it is gone (it ends the connection when the worker
	 * meets it, or iscsi_cmds_reap() executes the command once it was dropped). */
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
	/* Data-In went out by reference to buf: the transport must be done with it first,
	 * even when an abort or the connection's end cut the sending short. */
	iscsi_conn_wait_returned(c, cmd->lent);
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
		iscsi_send_data_in(c, &pdu, cmd->buf + offset, n, &cmd->lent);
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
	struct iscsi_cmd *responding = NULL;
	for (struct iscsi_cmd *cmd = c->cmds; cmd; cmd = cmd->next) {
		if (cmd->itt != itt || !cmd->started)
			continue;
		if (!cmd->released)
			return cmd;
		responding = cmd; /* its ITT may be reused already (cmd_by_itt) */
	}
	return responding;
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

/* Removes cmd from its connection and frees it; TMFs waiting for it wake. Only with no
 * PDU holding it (cmd->holds 0): nothing points into its buffer any more. */
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
		if (cmd->started)
			iscsi_cmd_abort(cmd);
}

/* The worker's command that waited for a stray Data-Out to leave its complete buffer. */
static struct iscsi_cmd *cmd_ready(struct iscsi_conn *c)
{
	for (struct iscsi_cmd *cmd = c->cmds; cmd; cmd = cmd->next)
		if (cmd->started && !cmd->executing && !cmd->aborted && !cmd->holds &&
		    cmd->received == cmd->edtl)
			return cmd;
	return NULL;
}

void iscsi_cmds_reap(struct iscsi_conn *c)
{
	struct iscsi_cmd *cmd = c->cmds, *next;
	for (; cmd; cmd = next) {
		next = cmd->next;
		if (cmd->aborted && !cmd->executing && !cmd->holds)
			cmd_free(cmd);
	}
	/* One at a time: execute() may block, and the list may change meanwhile. */
	while (!c->closing && (cmd = cmd_ready(c)) != NULL)
		execute(cmd);
}

void iscsi_cmd_pdu_gone(struct iscsi_pdu *pdu)
{
	struct iscsi_cmd *cmd = pdu->cmd;
	pdu->cmd = NULL;
	if (pdu_opcode(pdu) == ISCSI_OP_SCSI_DATA_OUT) {
		cmd->holds--;
	} else {
		/* A command PDU dropped before the worker started its command (outside the
		 * window, a duplicate CmdSN, the connection's end): the command goes the way
		 * of an aborted one, freed by the worker once no Data-Out holds it. */
		cmd->started = true;
		cmd->aborted = true;
	}
	if (cmd->aborted && !cmd->holds)
		iscsi_conn_wake_worker(cmd->conn);
}

bool iscsi_cmds_aborting(const struct iscsi_conn *c)
{
	for (const struct iscsi_cmd *cmd = c->cmds; cmd; cmd = cmd->next)
		if (cmd->aborted)
			return true;
	return false;
}
