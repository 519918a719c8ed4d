/* Host tests of the iSCSI receive state machine (net/iscsi_rx.c). */
#include "check.h"
#include "crc32c.h"
#include "iscsi_priv.h"

#include <errno.h>
#include <stdlib.h>

/* Builds a PDU on the wire: BHS (opcode, ahs words, data length), AHS, digests, data. */
static size_t build(uint8_t *out, uint8_t opcode, uint8_t ahs_words, const char *data,
		    bool digests)
{
	uint32_t len = data ? (uint32_t)strlen(data) : 0;
	size_t n = 0;
	memset(out, 0, ISCSI_BHS_LEN);
	out[0] = opcode;
	out[ISCSI_BHS_TOTAL_AHS_LENGTH] = ahs_words;
	put_be24(out + ISCSI_BHS_DATA_SEGMENT_LENGTH, len);
	put_be32(out + ISCSI_BHS_INITIATOR_TASK_TAG, 0xabcd);
	n = ISCSI_BHS_LEN;
	for (int i = 0; i < ahs_words * 4; i++)
		out[n++] = (uint8_t)i;
	if (digests) {
		put_le32(out + n, crc32c(0, out, n));
		n += 4;
	}
	size_t start = n;
	if (len) {
		memcpy(out + n, data, len);
		n += len;
		while (n % 4)
			out[n++] = 0;
		if (digests) {
			put_le32(out + n, crc32c(0, out + start, n - start));
			n += 4;
		}
	}
	return n;
}

/* Feeds wire in two pieces split at split; returns the PDU or NULL. */
static struct iscsi_pdu *feed_split(struct iscsi_rx *rx, const uint8_t *wire, size_t n, size_t split)
{
	struct iscsi_pdu *pdu = NULL;
	size_t used;
	int rc = iscsi_rx_feed(rx, wire, split, &used, &pdu);
	if (rc != 0 || used != split) {
		CHECK_EQ(0, rc);
		CHECK_EQ(split, used);
		return pdu;
	}
	rc = iscsi_rx_feed(rx, wire + split, n - split, &used, &pdu);
	CHECK_EQ(1, rc);
	CHECK_EQ(n - split, used);
	return pdu;
}

static void check_every_split(bool digests, uint8_t ahs_words, const char *data)
{
	uint8_t wire[512];
	size_t n = build(wire, ISCSI_OP_SCSI_CMD, ahs_words, data, digests);
	for (size_t split = 1; split < n; split++) {
		struct iscsi_rx rx;
		iscsi_rx_init(&rx, 8192);
		rx.header_digest = rx.data_digest = digests;
		struct iscsi_pdu *pdu = feed_split(&rx, wire, n, split);
		CHECK(pdu != NULL);
		if (pdu) {
			CHECK_EQ(ISCSI_OP_SCSI_CMD, pdu_opcode(pdu));
			CHECK_EQ(0xabcd, pdu_be32(pdu, ISCSI_BHS_INITIATOR_TASK_TAG));
			CHECK_EQ(data ? strlen(data) : 0, pdu->data_len);
			CHECK_EQ(ahs_words * 4, pdu->ahs_len);
			CHECK_EQ(0, pdu->reject_reason);
			if (data)
				CHECK_STR_EQ(data, (char *)pdu->data);
		}
		iscsi_pdu_free(pdu);
		iscsi_rx_free(&rx);
	}
}

static void test_every_split_point_plain(void) { check_every_split(false, 0, "Key=Value"); }
static void test_every_split_point_with_digests(void) { check_every_split(true, 0, "HeaderDigest=CRC32C"); }
static void test_every_split_point_with_ahs_and_digests(void) { check_every_split(true, 2, "abcde"); }
static void test_every_split_point_without_data(void) { check_every_split(true, 0, NULL); }

static void test_byte_by_byte_stream_of_three_pdus(void)
{
	uint8_t wire[1024];
	size_t n = 0;
	n += build(wire + n, ISCSI_OP_NOP_OUT, 0, "ping", true);
	n += build(wire + n, ISCSI_OP_TEXT_REQ, 1, "SendTargets=All", true);
	n += build(wire + n, ISCSI_OP_LOGOUT_REQ, 0, NULL, true);
	struct iscsi_rx rx;
	iscsi_rx_init(&rx, 8192);
	rx.header_digest = rx.data_digest = true;
	uint8_t seen[3];
	int count = 0;
	for (size_t i = 0; i < n; i++) {
		struct iscsi_pdu *pdu = NULL;
		size_t used;
		int rc = iscsi_rx_feed(&rx, wire + i, 1, &used, &pdu);
		CHECK_EQ(1, used);
		CHECK(rc >= 0);
		if (rc == 1) {
			if (count < 3)
				seen[count] = pdu_opcode(pdu);
			count++;
			iscsi_pdu_free(pdu);
		}
	}
	CHECK_EQ(3, count);
	CHECK_EQ(ISCSI_OP_NOP_OUT, seen[0]);
	CHECK_EQ(ISCSI_OP_TEXT_REQ, seen[1]);
	CHECK_EQ(ISCSI_OP_LOGOUT_REQ, seen[2]);
	iscsi_rx_free(&rx);
}

static void test_feed_stops_after_one_pdu(void)
{
	uint8_t wire[256];
	size_t a = build(wire, ISCSI_OP_NOP_OUT, 0, "x", false);
	size_t b = build(wire + a, ISCSI_OP_NOP_OUT, 0, NULL, false);
	struct iscsi_rx rx;
	iscsi_rx_init(&rx, 8192);
	struct iscsi_pdu *pdu = NULL;
	size_t used;
	CHECK_EQ(1, iscsi_rx_feed(&rx, wire, a + b, &used, &pdu));
	CHECK_EQ(a, used);
	iscsi_pdu_free(pdu);
	CHECK_EQ(1, iscsi_rx_feed(&rx, wire + a, b, &used, &pdu));
	CHECK_EQ(b, used);
	iscsi_pdu_free(pdu);
	iscsi_rx_free(&rx);
}

static void test_data_segment_over_limit_is_skipped_and_marked(void)
{
	static char big[600];
	memset(big, 'a', sizeof(big) - 1);
	uint8_t wire[1024];
	size_t n = build(wire, ISCSI_OP_SCSI_CMD, 0, big, true);
	n += build(wire + n, ISCSI_OP_NOP_OUT, 0, NULL, true);
	struct iscsi_rx rx;
	iscsi_rx_init(&rx, 512);
	rx.header_digest = rx.data_digest = true;
	struct iscsi_pdu *pdu = NULL;
	size_t used, total = 0;
	CHECK_EQ(1, iscsi_rx_feed(&rx, wire, n, &used, &pdu));
	total += used;
	CHECK_EQ(ISCSI_REASON_PROTOCOL_ERROR, pdu->reject_reason);
	CHECK(pdu->data == NULL); /* nothing stored */
	iscsi_pdu_free(pdu);
	/* the framing survived: the next PDU parses */
	CHECK_EQ(1, iscsi_rx_feed(&rx, wire + total, n - total, &used, &pdu));
	CHECK_EQ(ISCSI_OP_NOP_OUT, pdu_opcode(pdu));
	CHECK_EQ(0, pdu->reject_reason);
	iscsi_pdu_free(pdu);
	iscsi_rx_free(&rx);
}

static void test_bad_header_digest_is_fatal(void)
{
	uint8_t wire[256];
	size_t n = build(wire, ISCSI_OP_NOP_OUT, 0, "x", true);
	wire[ISCSI_BHS_LEN] ^= 1;
	struct iscsi_rx rx;
	iscsi_rx_init(&rx, 8192);
	rx.header_digest = rx.data_digest = true;
	struct iscsi_pdu *pdu = NULL;
	size_t used;
	CHECK_EQ(-EPROTO, iscsi_rx_feed(&rx, wire, n, &used, &pdu));
	CHECK(pdu == NULL);
	iscsi_rx_free(&rx);
}

static void test_bad_data_digest_marks_reject(void)
{
	uint8_t wire[256];
	size_t n = build(wire, ISCSI_OP_NOP_OUT, 0, "data", true);
	wire[n - 1] ^= 0x80;
	struct iscsi_rx rx;
	iscsi_rx_init(&rx, 8192);
	rx.header_digest = rx.data_digest = true;
	struct iscsi_pdu *pdu = NULL;
	size_t used;
	CHECK_EQ(1, iscsi_rx_feed(&rx, wire, n, &used, &pdu));
	CHECK_EQ(ISCSI_REASON_DATA_DIGEST_ERROR, pdu->reject_reason);
	iscsi_pdu_free(pdu);
	iscsi_rx_free(&rx);
}

static void test_padding_excluded_from_length(void)
{
	uint8_t wire[256];
	size_t n = build(wire, ISCSI_OP_TEXT_REQ, 0, "a=b", false); /* 3 bytes + 1 pad */
	CHECK_EQ(ISCSI_BHS_LEN + 4, n);
	struct iscsi_rx rx;
	iscsi_rx_init(&rx, 8192);
	struct iscsi_pdu *pdu = NULL;
	size_t used;
	CHECK_EQ(1, iscsi_rx_feed(&rx, wire, n, &used, &pdu));
	CHECK_EQ(3, pdu->data_len);
	CHECK_EQ(0, pdu->data[3]); /* NUL-terminated for text parsing */
	iscsi_pdu_free(pdu);
	iscsi_rx_free(&rx);
}

/* The place hook: the data segment goes to memory of the caller's (exactly data_len
 * bytes: the guard after it stays), or nowhere; digests are checked either way. */
struct placer {
	uint8_t mem[16];
	enum iscsi_rx_dest dest;
	unsigned calls;
};

static enum iscsi_rx_dest place_in_mem(void *ctx, struct iscsi_pdu *pdu, uint8_t **at)
{
	struct placer *p = ctx;
	(void)pdu;
	p->calls++;
	*at = p->mem;
	return p->dest;
}

static struct iscsi_pdu *feed_bytewise(struct iscsi_rx *rx, const uint8_t *wire, size_t n)
{
	struct iscsi_pdu *pdu = NULL;
	size_t used;
	for (size_t i = 0; i < n; i++)
		CHECK_EQ(i + 1 == n ? 1 : 0, iscsi_rx_feed(rx, wire + i, 1, &used, &pdu));
	return pdu;
}

static void test_place_hook_puts_data_in_callers_memory(void)
{
	uint8_t wire[256];
	size_t n = build(wire, ISCSI_OP_SCSI_DATA_OUT, 0, "hello", true); /* 5 + 3 pad */
	struct placer p = { .dest = ISCSI_RX_PLACED };
	memset(p.mem, 0xaa, sizeof(p.mem));
	struct iscsi_rx rx;
	iscsi_rx_init(&rx, 8192);
	rx.header_digest = rx.data_digest = true;
	rx.place = place_in_mem;
	rx.place_ctx = &p;
	struct iscsi_pdu *pdu = feed_bytewise(&rx, wire, n);
	CHECK(pdu != NULL);
	CHECK_EQ(1, p.calls);
	CHECK_EQ(ISCSI_RX_PLACED, pdu->dest);
	CHECK(pdu->data == NULL);
	CHECK_MEM_EQ("hello", p.mem, 5);
	CHECK_EQ(0xaa, p.mem[5]); /* the padding was not stored */
	CHECK_EQ(0, pdu->reject_reason);
	iscsi_pdu_free(pdu);
	wire[n - 1] ^= 1; /* a bad data digest is found in placed data too */
	pdu = feed_bytewise(&rx, wire, n);
	CHECK(pdu != NULL);
	CHECK_EQ(ISCSI_REASON_DATA_DIGEST_ERROR, pdu->reject_reason);
	iscsi_pdu_free(pdu);
	iscsi_rx_free(&rx);
}

static void test_place_hook_discards_and_is_asked_without_data(void)
{
	uint8_t wire[256];
	size_t n = build(wire, ISCSI_OP_SCSI_CMD, 0, "junk", false);
	struct placer p = { .dest = ISCSI_RX_DISCARD };
	memset(p.mem, 0xaa, sizeof(p.mem));
	struct iscsi_rx rx;
	iscsi_rx_init(&rx, 8192);
	rx.place = place_in_mem;
	rx.place_ctx = &p;
	struct iscsi_pdu *pdu = feed_bytewise(&rx, wire, n);
	CHECK(pdu != NULL);
	CHECK_EQ(ISCSI_RX_DISCARD, pdu->dest);
	CHECK(pdu->data == NULL);
	CHECK_EQ(0xaa, p.mem[0]);
	iscsi_pdu_free(pdu);
	n = build(wire, ISCSI_OP_SCSI_CMD, 0, NULL, false);
	pdu = feed_bytewise(&rx, wire, n);
	CHECK(pdu != NULL);
	CHECK_EQ(2, p.calls); /* a command without data is admitted at its header too */
	iscsi_pdu_free(pdu);
	iscsi_rx_free(&rx);
}

int main(void)
{
	RUN(test_every_split_point_plain);
	RUN(test_every_split_point_with_digests);
	RUN(test_every_split_point_with_ahs_and_digests);
	RUN(test_every_split_point_without_data);
	RUN(test_byte_by_byte_stream_of_three_pdus);
	RUN(test_feed_stops_after_one_pdu);
	RUN(test_data_segment_over_limit_is_skipped_and_marked);
	RUN(test_bad_header_digest_is_fatal);
	RUN(test_bad_data_digest_marks_reject);
	RUN(test_padding_excluded_from_length);
	RUN(test_place_hook_puts_data_in_callers_memory);
	RUN(test_place_hook_discards_and_is_asked_without_data);
	return check_report("test_iscsi_rx");
}
