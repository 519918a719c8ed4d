/*
 * libFuzzer target: login and text key=value data (net/iscsi_param.c). The data segment
 * is split by iscsi_text_parse() and every pair offered to iscsi_param_negotiate(), as
 * the login does; then iscsi_params_finish().
 *
 * Input: [cap][limits][text...]. cap picks how much answer text fits (small ones reach
 * the "answer full" paths), limits picks our side's configuration, the rest is the data
 * segment as received (it must end in NUL to be accepted).
 *
 * Invariants: the negotiated values stay within what RFC 7143 and our side allow (the
 * command code sizes its R2T table by MaxOutstandingR2T); the answer never passes its cap,
 * holds whole pairs only and parses back.
 */
#include "fuzz.h"
#include "iscsi_priv.h"

#include <errno.h>
#include <string.h>

struct negotiation {
	struct iscsi_params p;
	struct iscsi_limits ours;
	struct iscsi_text_buf out;
	unsigned keys;
};

static void check_answer(const struct iscsi_text_buf *out)
{
	FUZZ_ASSERT(out->len <= out->cap);
	if (out->len == 0)
		return;
	FUZZ_ASSERT(out->buf[out->len] == 0);
	FUZZ_ASSERT(out->buf[out->len - 1] == 0); /* whole pairs only */
}

static void check_params(const struct negotiation *n)
{
	const struct iscsi_params *p = &n->p;
	FUZZ_ASSERT(p->initiator_mrdsl >= ISCSI_MRDSL_MIN && p->initiator_mrdsl <= ISCSI_MRDSL_MAX);
	FUZZ_ASSERT(p->target_mrdsl == n->ours.max_recv_data_segment_length);
	FUZZ_ASSERT(p->max_burst_length >= 512 && p->max_burst_length <= ISCSI_MRDSL_MAX);
	FUZZ_ASSERT(p->first_burst_length >= 512 && p->first_burst_length <= ISCSI_MRDSL_MAX);
	FUZZ_ASSERT(p->max_outstanding_r2t >= 1 && p->max_outstanding_r2t <= ISCSI_MAX_R2T);
	FUZZ_ASSERT(p->default_time2wait <= 3600 && p->default_time2retain <= 3600);
	FUZZ_ASSERT(p->error_recovery_level == 0); /* we offer ERL 0 only */
	FUZZ_ASSERT(p->max_connections == 1);
	/* the data PDUs and sequences always come in order: we answer Yes (OR) */
	FUZZ_ASSERT(p->data_pdu_in_order && p->data_sequence_in_order);
}

static int offer(void *ctx, const char *key, const char *value)
{
	struct negotiation *n = ctx;
	FUZZ_ASSERT(key[0] != 0 && strchr(key, '=') == NULL && strlen(key) <= ISCSI_TEXT_MAX_KEY);
	n->keys++;
	int rc = iscsi_param_negotiate(&n->p, &n->ours, key, value, &n->out);
	FUZZ_ASSERT(rc == 0 || rc == 1 || rc == -ENOSPC);
	check_answer(&n->out);
	check_params(n);
	return rc < 0 ? rc : 0;
}

static int count_pair(void *ctx, const char *key, const char *value)
{
	(void)key;
	(void)value;
	(*(unsigned *)ctx)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t cap = fuzz_u8(&in), lim = fuzz_u8(&in);
	struct iscsi_config cfg = { 0 };
	struct negotiation n = { 0 };

	if (in.left > ISCSI_TEXT_LIMIT)
		return 0;
	/* our side: the defaults, or small and odd limits */
	if (lim & 1)
		cfg.max_recv_data_segment_length = 512u << (lim >> 5);
	if (lim & 2)
		cfg.max_burst_length = 512u << ((lim >> 2) & 7);
	if (lim & 4)
		cfg.first_burst_length = 4096u << ((lim >> 3) & 3);
	if (lim & 8)
		cfg.max_outstanding_r2t = 1u + (lim >> 3);
	iscsi_limits_from_config(&n.ours, &cfg);
	iscsi_params_init(&n.p, &n.ours);
	iscsi_text_init(&n.out, cap ? (uint32_t)cap * 4 : ISCSI_TEXT_LIMIT);

	/* the segment as the receiver keeps it: its own buffer, one writable byte after */
	uint32_t len = (uint32_t)in.left;
	char *buf = malloc(len + 1);
	FUZZ_ASSERT(buf);
	memcpy(buf, in.p, len);
	buf[len] = 0;
	int rc = iscsi_text_parse(buf, len, offer, &n);
	FUZZ_ASSERT(rc == 0 || rc == -EINVAL || rc == -ENOSPC);
	if (rc == 0) {
		rc = iscsi_params_finish(&n.p, &n.out);
		FUZZ_ASSERT(rc == 0 || rc == -ENOSPC);
		FUZZ_ASSERT(n.p.first_burst_length <= n.p.max_burst_length);
		check_params(&n);
		/* a second finish declares nothing more */
		uint32_t before = n.out.len;
		FUZZ_ASSERT(iscsi_params_finish(&n.p, &n.out) == 0 && n.out.len == before);
	}
	check_answer(&n.out);
	/* the answer is well-formed text that the initiator can parse */
	if (n.out.len) {
		unsigned pairs = 0;
		FUZZ_ASSERT(iscsi_text_parse(n.out.buf, n.out.len, count_pair, &pairs) == 0);
		FUZZ_ASSERT(pairs >= 1);
	}
	iscsi_text_free(&n.out);
	free(buf);
	return 0;
}
