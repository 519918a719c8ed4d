/*
 * Running a command and answering it (RFC 7143 11.4, 11.7): each command whose data is in
 * runs in a task of its own, so commands on one LUN execute concurrently; scsi_exec()
 * blocks only that task. Afterwards:
 *
 *   Data-In    the data in PDUs of at most the initiator's MaxRecvDataSegmentLength,
 *              grouped in sequences of at most MaxBurstLength (F ends each), DataSN
 *              from 0, buffer offsets increasing
 *   status     folded into the last Data-In (S bit) when there is no sense data, else a
 *              SCSI Response whose data is the sense, preceded by its 2-byte length
 *   residuals  from the initiator's ExpectedDataTransferLength (EDTL) and the length the
 *              CDB asks for (scsi_cmd.transfer_len): more asked than expected is an
 *              overflow, less an underflow; reads also count bytes not produced
 *
 * An aborted command sends nothing: the TMF that aborted it answers for it.
 */
#include "iscsi_priv.h"

#include <string.h>

#include "scsi_spec.h"

struct residual {
	uint8_t flags;              /* ISCSI_FLAG_RSP_OVERFLOW or _UNDERFLOW, or 0 */
	uint32_t count;
};

static struct residual residual_of(const struct iscsi_cmd *t)
{
	struct residual r = { 0, 0 };
	uint32_t wanted = t->scmd.transfer_len;
	if (t->read && t->scmd.status == SAM_STAT_GOOD && t->scmd.data_produced < wanted &&
	    wanted <= t->edtl)
		wanted = t->scmd.data_produced; /* a short read */
	if (!t->read && !t->write)
		return r; /* EDTL 0: nothing to count against */
	if (wanted > t->edtl) {
		r.flags = ISCSI_FLAG_RSP_OVERFLOW;
		r.count = wanted - t->edtl;
	} else if (wanted < t->edtl) {
		r.flags = ISCSI_FLAG_RSP_UNDERFLOW;
		r.count = t->edtl - wanted;
	}
	return r;
}

static void send_scsi_response(struct iscsi_conn *c, uint32_t itt, uint8_t status,
			       const uint8_t *sense, uint8_t sense_len, struct residual res,
			       uint32_t datasn)
{
	uint8_t bhs[ISCSI_BHS_LEN];
	uint8_t data[2 + SCSI_SENSE_MAX];

	iscsi_bhs_init(bhs, ISCSI_OP_SCSI_RSP, ISCSI_FLAG_FINAL | res.flags, itt);
	bhs[ISCSI_BHS_RESPONSE] = ISCSI_RSP_COMMAND_COMPLETED_AT_TARGET;
	bhs[ISCSI_BHS_STATUS] = status;
	put_be32(bhs + ISCSI_BHS_EXPDATASN, datasn);
	put_be32(bhs + ISCSI_BHS_RESIDUAL_COUNT, res.count);
	put_be16(data, sense_len);
	if (sense_len)
		memcpy(data + 2, sense, sense_len);
	iscsi_send_pdu(c, bhs, data, sense_len ? 2u + sense_len : 0, ISCSI_STATSN_ADVANCE);
}

void iscsi_send_check_condition(struct iscsi_conn *c, uint32_t itt, uint8_t sense_key,
				uint16_t asc)
{
	/* fixed format (SPC-4 4.5.3): response code, key, additional length, ASC, ASCQ */
	uint8_t sense[SENSE_FIXED_LEN] = { SENSE_RESPONSE_CURRENT_FIXED, 0, sense_key, 0, 0, 0, 0,
					   SENSE_ADDITIONAL_LEN };
	struct residual none = { 0, 0 };
	sense[12] = (uint8_t)(asc >> 8);
	sense[13] = (uint8_t)asc;
	send_scsi_response(c, itt, SAM_STAT_CHECK_CONDITION, sense, sizeof(sense), none, 0);
}

void iscsi_send_status(struct iscsi_conn *c, uint32_t itt, uint8_t status)
{
	struct residual none = { 0, 0 };
	send_scsi_response(c, itt, status, NULL, 0, none, 0);
}

/* Sends the Data-In; folds the status into the last PDU when fold. Returns DataSNs used. */
static uint32_t send_data_in(struct iscsi_cmd *t, uint32_t len, bool fold, struct residual res)
{
	struct iscsi_conn *c = t->conn;
	uint32_t offset = 0, datasn = 0, burst_left = c->params.max_burst_length;
	uint8_t bhs[ISCSI_BHS_LEN];

	while (offset < len && !c->closing) {
		uint32_t n = len - offset;
		if (n > c->params.initiator_mrdsl)
			n = c->params.initiator_mrdsl;
		if (n > burst_left)
			n = burst_left;
		bool last = offset + n == len;
		burst_left -= n;
		uint8_t flags = (last || burst_left == 0) ? ISCSI_FLAG_FINAL : 0;
		if (last && fold)
			flags |= ISCSI_FLAG_DATA_STATUS | res.flags;
		iscsi_bhs_init(bhs, ISCSI_OP_SCSI_DATA_IN, flags, t->itt);
		memcpy(bhs + ISCSI_BHS_LUN, t->lun_field, 8);
		put_be32(bhs + ISCSI_BHS_TARGET_TRANSFER_TAG, ISCSI_RESERVED_TAG);
		put_be32(bhs + ISCSI_BHS_DATASN, datasn++);
		put_be32(bhs + ISCSI_BHS_BUFFER_OFFSET, offset);
		if (last && fold) {
			bhs[ISCSI_BHS_STATUS] = t->scmd.status;
			put_be32(bhs + ISCSI_BHS_RESIDUAL_COUNT, res.count);
		}
		iscsi_send_pdu(c, bhs, t->buf + offset, n,
			       last && fold ? ISCSI_STATSN_ADVANCE : ISCSI_STATSN_NONE);
		offset += n;
		if (burst_left == 0)
			burst_left = c->params.max_burst_length;
	}
	return datasn;
}

static void respond(struct iscsi_cmd *t)
{
	struct iscsi_conn *c = t->conn;
	struct residual res = residual_of(t);
	uint32_t len = t->read ? t->scmd.data_produced : 0;
	if (len > t->edtl)
		len = t->edtl;
	bool fold = t->scmd.sense_len == 0;

	/* The window reopens before the last PDU leaves, so it carries the new MaxCmdSN. */
	iscsi_cmd_release(t);
	if (len > 0) {
		uint32_t datasn = send_data_in(t, len, fold, res);
		if (!fold)
			send_scsi_response(c, t->itt, t->scmd.status, t->scmd.sense, t->scmd.sense_len,
					   res, datasn);
		return;
	}
	send_scsi_response(c, t->itt, t->scmd.status, t->scmd.sense, t->scmd.sense_len, res, 0);
}

static bool lun_is_zero(const uint8_t *lun)
{
	for (int i = 0; i < 8; i++)
		if (lun[i])
			return false;
	return true;
}

static void command_main(void *arg)
{
	struct iscsi_cmd *t = arg;
	struct iscsi_conn *c = t->conn;
	struct scsi_cmd *cmd = &t->scmd;

	memset(cmd, 0, sizeof(*cmd));
	cmd->cdb = t->cdb;
	cmd->cdb_len = ISCSI_BHS_CDB_LEN;
	cmd->dir = t->write ? SCSI_DIR_WRITE : t->read ? SCSI_DIR_READ : SCSI_DIR_NONE;
	cmd->data = t->buf;
	cmd->data_len = t->edtl;
	scsi_exec(lun_is_zero(t->lun_field) ? c->sess.target->lun : NULL, &c->sess.nexus, cmd);
	if (!t->aborted && !c->closing)
		respond(t);
	iscsi_cmd_free(t);
	iscsi_conn_put(c);
}

void iscsi_cmd_execute(struct iscsi_cmd *t)
{
	struct iscsi_conn *c = t->conn;
	t->executing = true;
	iscsi_conn_get(c);
	if (!task_spawn(command_main, t)) {
		iscsi_conn_put(c);
		uint32_t itt = t->itt;
		iscsi_cmd_free(t);
		iscsi_send_status(c, itt, SAM_STAT_BUSY); /* out of memory: retry later */
	}
}
