/*
 * The receive state machine: turns a byte stream, in chunks of any size, into PDUs.
 *
 *   BHS (48) -> AHS (TotalAHSLength*4) -> header digest -> data + padding -> data digest
 *
 * Each state knows how many bytes its part has and how many arrived, so feeding stops and
 * resumes at any byte. A data segment longer than max_data_len is not stored: its bytes
 * are counted and the PDU is handed on marked for a Reject (the framing stays intact).
 * A header digest error is fatal: the lengths in a damaged header cannot be trusted, so
 * the connection must end (RFC 7143 7.8, ERL 0). A data digest error only rejects.
 *
 * Where a data segment goes is not this file's business: once the header is complete,
 * rx->place (the connection) says (enum iscsi_rx_dest): a buffer of the PDU's own, the
 * caller's memory (a SCSI command's buffer, so that written data is copied once, from
 * the transport straight to its final place), or nowhere. The bytes are digested alike.
 */
#include "iscsi_priv.h"
#include "crc32c.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void iscsi_rx_init(struct iscsi_rx *rx, uint32_t max_data_len)
{
	memset(rx, 0, sizeof(*rx));
	rx->max_data_len = max_data_len;
	rx->state = ISCSI_RX_BHS;
	rx->part_len = ISCSI_BHS_LEN;
}

void iscsi_pdu_free(struct iscsi_pdu *pdu)
{
	if (pdu) {
		if (pdu->cmd)
			iscsi_cmd_pdu_gone(pdu);
		if (pdu->budget)
			iscsi_budget_release(pdu->budget, pdu->data_len);
		free(pdu->data);
		free(pdu);
	}
}

void iscsi_rx_free(struct iscsi_rx *rx)
{
	iscsi_pdu_free(rx->pdu);
	rx->pdu = NULL;
}

static void enter(struct iscsi_rx *rx, enum iscsi_rx_state state, uint32_t part_len)
{
	rx->state = state;
	rx->pos = 0;
	rx->part_len = part_len;
}

/* A buffer of the PDU's own for its data segment. Forced: the input queue and the CmdSN
 * window bound these bytes, and the PDU that frees a command's buffer must never wait for
 * room. */
static int own_buffer(struct iscsi_rx *rx, struct iscsi_pdu *pdu)
{
	iscsi_budget_force(rx->budget, pdu->data_len);
	pdu->budget = rx->budget;
	pdu->data = malloc(iscsi_pad4(pdu->data_len) + 1);
	if (!pdu->data)
		return -ENOMEM;
	rx->at = pdu->data;
	return 0;
}

/* After the header (and its digest): where the data segment goes, or done. */
static int enter_data(struct iscsi_rx *rx)
{
	struct iscsi_pdu *pdu = rx->pdu;
	uint32_t len = get_be24(pdu->bhs + ISCSI_BHS_DATA_SEGMENT_LENGTH);

	pdu->data_len = len;
	rx->at = NULL;
	rx->too_long = len > rx->max_data_len;
	if (rx->too_long) {
		pdu->dest = ISCSI_RX_DISCARD;
		pdu->reject_reason = ISCSI_REASON_PROTOCOL_ERROR;
	} else {
		pdu->dest = rx->place ? rx->place(rx->place_ctx, pdu, &rx->at) : ISCSI_RX_OWN_BUFFER;
		if (pdu->dest != ISCSI_RX_PLACED)
			rx->at = NULL;
		if (pdu->dest == ISCSI_RX_OWN_BUFFER && len && own_buffer(rx, pdu) < 0)
			return -ENOMEM;
	}
	if (len == 0)
		return 1;
	rx->crc = 0;
	enter(rx, ISCSI_RX_DATA, iscsi_pad4(len));
	return 0;
}

static int after_header(struct iscsi_rx *rx)
{
	if (rx->header_digest) {
		enter(rx, ISCSI_RX_HDIGEST, ISCSI_DIGEST_LEN);
		return 0;
	}
	return enter_data(rx);
}

static int after_data(struct iscsi_rx *rx)
{
	if (rx->data_digest) {
		enter(rx, ISCSI_RX_DDIGEST, ISCSI_DIGEST_LEN);
		return 0;
	}
	return 1;
}

/* A part is complete: move to the next one. Returns 1 when the PDU is complete. */
static int part_done(struct iscsi_rx *rx)
{
	struct iscsi_pdu *pdu = rx->pdu;

	switch (rx->state) {
	case ISCSI_RX_BHS: {
		uint32_t ahs = pdu->bhs[ISCSI_BHS_TOTAL_AHS_LENGTH] * 4u;
		rx->crc = crc32c(0, pdu->bhs, ISCSI_BHS_LEN);
		pdu->ahs_len = (uint16_t)ahs;
		if (ahs) {
			enter(rx, ISCSI_RX_AHS, ahs);
			return 0;
		}
		return after_header(rx);
	}
	case ISCSI_RX_AHS:
		return after_header(rx);
	case ISCSI_RX_HDIGEST:
		if (get_le32(rx->digest) != rx->crc)
			return -EPROTO;
		return enter_data(rx);
	case ISCSI_RX_DATA:
		if (pdu->data)
			pdu->data[pdu->data_len] = 0;
		return after_data(rx);
	case ISCSI_RX_DDIGEST:
		if (!rx->too_long && get_le32(rx->digest) != rx->crc)
			pdu->reject_reason = ISCSI_REASON_DATA_DIGEST_ERROR;
		return 1;
	}
	return -EPROTO;
}

/* Takes up to the rest of the current part from buf. */
static size_t take(struct iscsi_rx *rx, const uint8_t *buf, size_t len)
{
	struct iscsi_pdu *pdu = rx->pdu;
	size_t n = rx->part_len - rx->pos;
	if (n > len)
		n = len;

	switch (rx->state) {
	case ISCSI_RX_BHS:
		memcpy(pdu->bhs + rx->pos, buf, n);
		break;
	case ISCSI_RX_AHS: /* not kept: only the header digest covers it */
		rx->crc = crc32c(rx->crc, buf, n);
		break;
	case ISCSI_RX_HDIGEST:
	case ISCSI_RX_DDIGEST:
		memcpy(rx->digest + rx->pos, buf, n);
		break;
	case ISCSI_RX_DATA:
		if (rx->at && rx->pos < pdu->data_len) /* the padding stays out of placed memory */
			memcpy(rx->at + rx->pos, buf,
			       n < pdu->data_len - rx->pos ? n : pdu->data_len - rx->pos);
		if (rx->data_digest && !rx->too_long)
			rx->crc = crc32c(rx->crc, buf, n);
		break;
	}
	rx->pos += (uint32_t)n;
	return n;
}

int iscsi_rx_feed(struct iscsi_rx *rx, const uint8_t *buf, size_t len, size_t *used,
		  struct iscsi_pdu **out)
{
	size_t done = 0;
	int rc = 0;

	while (done < len) {
		if (!rx->pdu) {
			rx->pdu = calloc(1, sizeof(*rx->pdu));
			if (!rx->pdu) {
				rc = -ENOMEM;
				break;
			}
			enter(rx, ISCSI_RX_BHS, ISCSI_BHS_LEN);
		}
		done += take(rx, buf + done, len - done);
		if (rx->pos < rx->part_len)
			break;
		rc = part_done(rx);
		if (rc != 0)
			break;
	}
	*used = done;
	if (rc == 1) {
		*out = rx->pdu;
		rx->pdu = NULL;
	}
	return rc;
}
