/*
 * The PDUs the target sends, built from plain values: this file knows how each looks on
 * the wire, iscsi_cmd.c and the other handlers decide what to send.
 *
 * Every target PDU goes through iscsi_send_pdu(), which fills the numbering fields in one
 * place (StatSN, ExpCmdSN, MaxCmdSN: RFC 7143 4.2.2), pads the data segment to 4 bytes and
 * adds the digests the login negotiated, and hands the pieces to the transport in one
 * call (ops->sendv). The send lock keeps PDUs whole when several tasks send on one
 * connection (a send may block mid-PDU); StatSN is taken under the lock so that it
 * increases in the order the PDUs leave.
 *
 * Data-In may be lent to the transport (sent by reference, without a copy): the command
 * keeps its buffer unchanged until iscsi_conn_wait_returned() says the transport is done
 * with it (iscsi_cmd.c).
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

static void fill_numbers(struct iscsi_conn *c, uint8_t *bhs, enum iscsi_statsn statsn)
{
	if (statsn != ISCSI_STATSN_NONE)
		put_be32(bhs + ISCSI_BHS_STATSN, c->stat_sn);
	if (statsn == ISCSI_STATSN_ADVANCE)
		c->stat_sn++;
	put_be32(bhs + ISCSI_BHS_EXPCMDSN, c->sess.exp_cmdsn);
	put_be32(bhs + ISCSI_BHS_MAXCMDSN, iscsi_session_max_cmdsn(c));
}

/* One PDU as one gather list: the header with its digest, the data segment, then the
 * padding with the data digest; the small pieces sit side by side in head and tail so
 * that the transport copies each run at once. */
static int send_locked(struct iscsi_conn *c, const uint8_t *bhs, const void *data, uint32_t len,
		       uint64_t *lent)
{
	static const uint8_t zeros[ISCSI_PAD_LEN];
	uint8_t head[ISCSI_BHS_LEN + ISCSI_DIGEST_LEN], tail[ISCSI_PAD_LEN + ISCSI_DIGEST_LEN];
	uint32_t pad = iscsi_pad4(len) - len;
	struct iscsi_iov iov[3] = { { head, ISCSI_BHS_LEN } };
	unsigned n = 1;

	memcpy(head, bhs, ISCSI_BHS_LEN);
	if (c->params.header_digest) {
		put_le32(head + ISCSI_BHS_LEN, crc32c(0, bhs, ISCSI_BHS_LEN));
		iov[0].len += ISCSI_DIGEST_LEN;
	}
	if (len) {
		iov[n++] = (struct iscsi_iov){ data, len };
		memset(tail, 0, pad);
		size_t tail_len = pad;
		if (c->params.data_digest) {
			put_le32(tail + pad, crc32c(crc32c(0, data, len), zeros, pad));
			tail_len += ISCSI_DIGEST_LEN;
		}
		if (tail_len)
			iov[n++] = (struct iscsi_iov){ tail, tail_len };
	}
	/* Lending needs a way to get the bytes back; small data is not worth a reference. */
	unsigned flags = lent && c->ops->wait_returned && len >= ISCSI_LEND_MIN ? ISCSI_SEND_LEND : 0;
	uint64_t mark = 0;
	c->srv->data.tx_sends++;
	int rc = c->ops->sendv(c->ctx, iov, n, flags, flags ? &mark : NULL);
	if (mark) /* also after a failure: part of the data may have been lent */
		*lent = mark;
	if (rc < 0) {
		if (!c->end_why)
			c->end_why = "connection lost";
		iscsi_conn_close(c);
	}
	return rc < 0 ? rc : 0;
}

int iscsi_send_pdu_lent(struct iscsi_conn *c, uint8_t bhs[ISCSI_BHS_LEN], const void *data,
			uint32_t len, enum iscsi_statsn statsn, uint64_t *lent)
{
	int rc;

	if (c->closing)
		return -EPIPE;
	put_be24(bhs + ISCSI_BHS_DATA_SEGMENT_LENGTH, len);
	task_lock(&c->send_lock);
	c->srv->data.tx_pdus++;
	c->srv->data.tx_payload_bytes += len;
	c->sess.bytes_out += len;
	fill_numbers(c, bhs, statsn);
	rc = c->closing ? -EPIPE : send_locked(c, bhs, data, len, lent);
	task_unlock(&c->send_lock);
	return rc;
}

int iscsi_send_pdu(struct iscsi_conn *c, uint8_t bhs[ISCSI_BHS_LEN], const void *data,
		   uint32_t len, enum iscsi_statsn statsn)
{
	return iscsi_send_pdu_lent(c, bhs, data, len, statsn, NULL);
}

void iscsi_conn_wait_returned(struct iscsi_conn *c, uint64_t lent)
{
	if (lent && c->ops->wait_returned)
		c->ops->wait_returned(c->ctx, lent);
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
		       const void *data, uint32_t len, uint64_t *lent)
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
	return iscsi_send_pdu_lent(c, bhs, data, len,
				   d->with_status ? ISCSI_STATSN_ADVANCE : ISCSI_STATSN_NONE, lent);
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
