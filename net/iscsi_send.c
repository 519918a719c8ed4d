/*
 * The PDUs the target sends, built from plain values: this file knows how each looks on
 * the wire, iscsi_cmd.c and the other handlers decide what to send.
 *
 * Every target PDU goes through iscsi_send_pdu(), which fills the numbering fields in one
 * place (StatSN, ExpCmdSN, MaxCmdSN: RFC 7143 4.2.2), pads the data segment to 4 bytes and
 * adds the digests the login negotiated. The send lock keeps the pieces of one PDU
 * together when several tasks send on one connection; StatSN is taken under the lock so
 * that it increases in the order the PDUs leave.
 */
#include "iscsi_priv.h"
#include "crc32c.h"

#include <errno.h>
#include <string.h>

void iscsi_bhs_init(uint8_t bhs[ISCSI_BHS_LEN], uint8_t opcode, uint8_t flags, uint32_t itt)
{
	memset(bhs, 0, ISCSI_BHS_LEN);
	bhs[ISCSI_BHS_OPCODE] = opcode;
	bhs[ISCSI_BHS_FLAGS] = flags;
	put_be32(bhs + ISCSI_BHS_INITIATOR_TASK_TAG, itt);
}

/* ---- sending ----------------------------------------------------------------------- */

static int send_bytes(struct iscsi_conn *c, const void *buf, size_t len)
{
	if (c->closing)
		return -EPIPE;
	c->srv->data.tx_sends++;
	int rc = c->ops->send(c->ctx, buf, len);
	if (rc < 0)
		iscsi_conn_close(c);
	return rc;
}

static void fill_numbers(struct iscsi_conn *c, uint8_t *bhs, enum iscsi_statsn statsn)
{
	if (statsn != ISCSI_STATSN_NONE)
		put_be32(bhs + ISCSI_BHS_STATSN, c->stat_sn);
	if (statsn == ISCSI_STATSN_ADVANCE)
		c->stat_sn++;
	put_be32(bhs + ISCSI_BHS_EXPCMDSN, c->sess.exp_cmdsn);
	put_be32(bhs + ISCSI_BHS_MAXCMDSN, iscsi_session_max_cmdsn(c));
}

static int send_locked(struct iscsi_conn *c, uint8_t *bhs, const void *data, uint32_t len)
{
	static const uint8_t zeros[ISCSI_PAD_LEN];
	uint8_t digest[ISCSI_DIGEST_LEN];
	uint32_t pad = iscsi_pad4(len) - len;
	int rc;

	if ((rc = send_bytes(c, bhs, ISCSI_BHS_LEN)) < 0)
		return rc;
	if (c->params.header_digest) {
		put_le32(digest, crc32c(0, bhs, ISCSI_BHS_LEN));
		if ((rc = send_bytes(c, digest, sizeof(digest))) < 0)
			return rc;
	}
	if (len == 0)
		return 0;
	if ((rc = send_bytes(c, data, len)) < 0)
		return rc;
	if (pad && (rc = send_bytes(c, zeros, pad)) < 0)
		return rc;
	if (c->params.data_digest) {
		uint32_t crc = crc32c(crc32c(0, data, len), zeros, pad);
		put_le32(digest, crc);
		if ((rc = send_bytes(c, digest, sizeof(digest))) < 0)
			return rc;
	}
	return 0;
}

int iscsi_send_pdu(struct iscsi_conn *c, uint8_t bhs[ISCSI_BHS_LEN], const void *data,
		   uint32_t len, enum iscsi_statsn statsn)
{
	int rc;

	if (c->closing)
		return -EPIPE;
	put_be24(bhs + ISCSI_BHS_DATA_SEGMENT_LENGTH, len);
	task_lock(&c->send_lock);
	c->srv->data.tx_pdus++;
	c->srv->data.tx_payload_bytes += len;
	fill_numbers(c, bhs, statsn);
	rc = send_locked(c, bhs, data, len);
	task_unlock(&c->send_lock);
	return rc;
}

/* ---- builders ---------------------------------------------------------------------- */

int iscsi_send_reject(struct iscsi_conn *c, const uint8_t bad_bhs[ISCSI_BHS_LEN], uint8_t reason)
{
	uint8_t bhs[ISCSI_BHS_LEN];
	iscsi_bhs_init(bhs, ISCSI_OP_REJECT, ISCSI_FLAG_FINAL, ISCSI_RESERVED_TAG);
	bhs[ISCSI_BHS_REJECT_REASON] = reason;
	return iscsi_send_pdu(c, bhs, bad_bhs, ISCSI_BHS_LEN, ISCSI_STATSN_ADVANCE);
}

int iscsi_send_r2t(struct iscsi_conn *c, const struct iscsi_r2t_pdu *r)
{
	uint8_t bhs[ISCSI_BHS_LEN];
	iscsi_bhs_init(bhs, ISCSI_OP_R2T, ISCSI_FLAG_FINAL, r->itt);
	memcpy(bhs + ISCSI_BHS_LUN, r->lun, 8);
	put_be32(bhs + ISCSI_BHS_TARGET_TRANSFER_TAG, r->ttt);
	put_be32(bhs + ISCSI_BHS_R2TSN, r->r2tsn);
	put_be32(bhs + ISCSI_BHS_BUFFER_OFFSET, r->offset);
	put_be32(bhs + ISCSI_BHS_DESIRED_DATA_TRANSFER_LENGTH, r->len);
	/* An R2T carries StatSN but does not advance it (RFC 7143 11.8). */
	return iscsi_send_pdu(c, bhs, NULL, 0, ISCSI_STATSN_PEEK);
}

int iscsi_send_data_in(struct iscsi_conn *c, const struct iscsi_data_in_pdu *d,
		       const void *data, uint32_t len)
{
	uint8_t bhs[ISCSI_BHS_LEN];
	uint8_t flags = d->final ? ISCSI_FLAG_FINAL : 0;
	if (d->with_status)
		flags |= ISCSI_FLAG_DATA_STATUS | d->residual.flag;
	iscsi_bhs_init(bhs, ISCSI_OP_SCSI_DATA_IN, flags, d->itt);
	memcpy(bhs + ISCSI_BHS_LUN, d->lun, 8);
	put_be32(bhs + ISCSI_BHS_TARGET_TRANSFER_TAG, ISCSI_RESERVED_TAG);
	put_be32(bhs + ISCSI_BHS_DATASN, d->datasn);
	put_be32(bhs + ISCSI_BHS_BUFFER_OFFSET, d->offset);
	if (d->with_status) {
		bhs[ISCSI_BHS_STATUS] = d->status;
		put_be32(bhs + ISCSI_BHS_RESIDUAL_COUNT, d->residual.count);
	}
	/* Only a Data-In that carries the status takes a StatSN (RFC 7143 11.7). */
	return iscsi_send_pdu(c, bhs, data, len,
			      d->with_status ? ISCSI_STATSN_ADVANCE : ISCSI_STATSN_NONE);
}

int iscsi_send_scsi_response(struct iscsi_conn *c, const struct iscsi_scsi_response_pdu *r)
{
	uint8_t bhs[ISCSI_BHS_LEN];
	uint8_t data[2 + SCSI_SENSE_MAX];

	iscsi_bhs_init(bhs, ISCSI_OP_SCSI_RSP, ISCSI_FLAG_FINAL | r->residual.flag, r->itt);
	bhs[ISCSI_BHS_RESPONSE] = ISCSI_RSP_COMMAND_COMPLETED_AT_TARGET;
	bhs[ISCSI_BHS_STATUS] = r->status;
	put_be32(bhs + ISCSI_BHS_EXPDATASN, r->exp_datasn);
	put_be32(bhs + ISCSI_BHS_RESIDUAL_COUNT, r->residual.count);
	/* The sense data is preceded by its length (RFC 7143 11.4.7). */
	put_be16(data, r->sense_len);
	if (r->sense_len)
		memcpy(data + 2, r->sense, r->sense_len);
	return iscsi_send_pdu(c, bhs, data, r->sense_len ? 2u + r->sense_len : 0,
			      ISCSI_STATSN_ADVANCE);
}
