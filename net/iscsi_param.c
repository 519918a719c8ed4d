/*
 * Text key=value data (RFC 7143 6.1) and the negotiation of the operational keys
 * (RFC 7143 13). The login and text handlers parse a data segment with
 * iscsi_text_parse(), offer each key to iscsi_param_negotiate(), and handle the rest
 * (names, security keys) themselves.
 *
 * How each key combines the initiator's offer with ours:
 *   HeaderDigest, DataDigest   the first of the initiator's list we support (CRC32C, None)
 *   MaxRecvDataSegmentLength   declarative, per direction: theirs caps what we send
 *   MaxBurstLength, FirstBurstLength, MaxOutstandingR2T, DefaultTime2Retain,
 *   ErrorRecoveryLevel, MaxConnections                 minimum
 *   DefaultTime2Wait                                   maximum
 *   ImmediateData                                      AND
 *   InitialR2T, DataPDUInOrder, DataSequenceInOrder    OR (we answer Yes to in-order)
 * Values Irrelevant / NotUnderstood / Reject from the initiator keep the default.
 */
#include "iscsi_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void iscsi_text_init(struct iscsi_text_buf *t, uint32_t cap)
{
	t->buf = NULL;
	t->len = 0;
	t->cap = cap;
}

void iscsi_text_free(struct iscsi_text_buf *t)
{
	free(t->buf);
	t->buf = NULL;
	t->len = 0;
}

int iscsi_text_append(struct iscsi_text_buf *t, const void *data, uint32_t len)
{
	if (len > t->cap - t->len)
		return -ENOSPC;
	char *grown = realloc(t->buf, t->len + len + 1);
	if (!grown)
		return -ENOMEM;
	t->buf = grown;
	memcpy(t->buf + t->len, data, len);
	t->len += len;
	t->buf[t->len] = 0;
	return 0;
}

int iscsi_text_add(struct iscsi_text_buf *t, const char *key, const char *value)
{
	size_t klen = strlen(key), vlen = strlen(value);
	int rc;
	if (klen + vlen + 2 > t->cap - t->len)
		return -ENOSPC; /* all or nothing: never half a pair */
	if ((rc = iscsi_text_append(t, key, (uint32_t)klen)) < 0 ||
	    (rc = iscsi_text_append(t, "=", 1)) < 0 ||
	    (rc = iscsi_text_append(t, value, (uint32_t)vlen + 1)) < 0)
		return rc;
	return 0;
}

int iscsi_text_add_u32(struct iscsi_text_buf *t, const char *key, uint32_t value)
{
	char num[12];
	snprintf(num, sizeof(num), "%lu", (unsigned long)value);
	return iscsi_text_add(t, key, num);
}

int iscsi_text_parse(char *buf, uint32_t len, iscsi_kv_fn fn, void *ctx)
{
	uint32_t pos = 0;

	if (len == 0)
		return 0;
	if (buf[len - 1] != 0)
		return -EINVAL; /* every pair ends with a NUL, the last one too */
	while (pos < len) {
		char *pair = buf + pos;
		size_t plen = strlen(pair);
		pos += (uint32_t)plen + 1;
		if (plen == 0)
			continue; /* tolerated: padding some initiators leave in */
		char *eq = strchr(pair, '=');
		if (!eq || eq == pair || eq - pair > ISCSI_TEXT_MAX_KEY)
			return -EINVAL;
		*eq = 0;
		int rc = fn(ctx, pair, eq + 1);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- value parsing ------------------------------------------------------------------- */

static bool is_no_value(const char *v)
{
	return !strcmp(v, "Irrelevant") || !strcmp(v, "NotUnderstood") || !strcmp(v, "Reject");
}

/* Decimal or 0x hex, no sign, fits 32 bits (RFC 7143 6.1 numerical values). */
static bool parse_u32(const char *v, uint32_t lo, uint32_t hi, uint32_t *out)
{
	unsigned long long n = 0;
	int base = 10;
	if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
		base = 16;
		v += 2;
	}
	if (!*v)
		return false;
	for (; *v; v++) {
		int d;
		if (*v >= '0' && *v <= '9')
			d = *v - '0';
		else if (base == 16 && *v >= 'a' && *v <= 'f')
			d = *v - 'a' + 10;
		else if (base == 16 && *v >= 'A' && *v <= 'F')
			d = *v - 'A' + 10;
		else
			return false;
		n = n * (unsigned)base + (unsigned)d;
		if (n > 0xffffffffull)
			return false;
	}
	if (n < lo || n > hi)
		return false;
	*out = (uint32_t)n;
	return true;
}

static bool parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "Yes"))
		*out = true;
	else if (!strcmp(v, "No"))
		*out = false;
	else
		return false;
	return true;
}

/* Picks CRC32C or None from a comma-separated list, in the initiator's order. */
static const char *pick_digest(const char *list, bool *out)
{
	const char *p = list;
	while (*p) {
		size_t n = strcspn(p, ",");
		if (n == 6 && !strncmp(p, "CRC32C", 6)) {
			*out = true;
			return "CRC32C";
		}
		if (n == 4 && !strncmp(p, "None", 4)) {
			*out = false;
			return "None";
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return NULL;
}

/* ---- negotiation --------------------------------------------------------------------- */

enum combine { COMBINE_MIN, COMBINE_MAX };

struct numeric_key {
	const char *name;
	size_t field;           /* offsetof in struct iscsi_params */
	uint32_t lo, hi;
	enum combine how;
};

#define PARAM(f) offsetof(struct iscsi_params, f)

static const struct numeric_key numeric_keys[] = {
	{ "MaxBurstLength", PARAM(max_burst_length), 512, ISCSI_MRDSL_MAX, COMBINE_MIN },
	{ "FirstBurstLength", PARAM(first_burst_length), 512, ISCSI_MRDSL_MAX, COMBINE_MIN },
	{ "MaxOutstandingR2T", PARAM(max_outstanding_r2t), 1, 65535, COMBINE_MIN },
	{ "DefaultTime2Wait", PARAM(default_time2wait), 0, 3600, COMBINE_MAX },
	{ "DefaultTime2Retain", PARAM(default_time2retain), 0, 3600, COMBINE_MIN },
	{ "ErrorRecoveryLevel", PARAM(error_recovery_level), 0, 2, COMBINE_MIN },
	{ "MaxConnections", PARAM(max_connections), 1, 65535, COMBINE_MIN },
};

/* Our side of each numeric key. */
static uint32_t our_value(const struct iscsi_limits *ours, const char *name)
{
	if (!strcmp(name, "MaxBurstLength"))
		return ours->max_burst_length;
	if (!strcmp(name, "FirstBurstLength"))
		return ours->first_burst_length;
	if (!strcmp(name, "MaxOutstandingR2T"))
		return ours->max_outstanding_r2t;
	if (!strcmp(name, "DefaultTime2Wait"))
		return ISCSI_DEFAULT_TIME2WAIT;
	/* we keep no state for a failed session (ERL 0), allow one connection */
	if (!strcmp(name, "MaxConnections"))
		return 1;
	return 0; /* DefaultTime2Retain, ErrorRecoveryLevel */
}

static int negotiate_numeric(struct iscsi_params *p, const struct iscsi_limits *ours,
			     const struct numeric_key *k, const char *value,
			     struct iscsi_text_buf *out)
{
	uint32_t theirs, mine = our_value(ours, k->name), result;
	if (!parse_u32(value, k->lo, k->hi, &theirs))
		return iscsi_text_add(out, k->name, "Reject");
	if (k->how == COMBINE_MIN)
		result = theirs < mine ? theirs : mine;
	else
		result = theirs > mine ? theirs : mine;
	*(uint32_t *)((char *)p + k->field) = result;
	return iscsi_text_add_u32(out, k->name, result);
}

static int negotiate_bool(bool *field, bool mine, bool is_and, const char *key,
			  const char *value, struct iscsi_text_buf *out)
{
	bool theirs;
	if (!parse_bool(value, &theirs))
		return iscsi_text_add(out, key, "Reject");
	*field = is_and ? (theirs && mine) : (theirs || mine);
	return iscsi_text_add(out, key, *field ? "Yes" : "No");
}

void iscsi_limits_from_config(struct iscsi_limits *l, const struct iscsi_config *cfg)
{
	l->max_recv_data_segment_length = cfg->max_recv_data_segment_length ?
		cfg->max_recv_data_segment_length : 262144;
	l->max_burst_length = cfg->max_burst_length ? cfg->max_burst_length : 1048576;
	l->first_burst_length = cfg->first_burst_length ? cfg->first_burst_length : 65536;
	l->max_outstanding_r2t = cfg->max_outstanding_r2t ? cfg->max_outstanding_r2t : 4;
	if (l->first_burst_length > l->max_burst_length)
		l->first_burst_length = l->max_burst_length;
	if (l->max_outstanding_r2t > ISCSI_MAX_R2T)
		l->max_outstanding_r2t = ISCSI_MAX_R2T;
}

void iscsi_params_init(struct iscsi_params *p, const struct iscsi_limits *ours)
{
	memset(p, 0, sizeof(*p));
	p->initiator_mrdsl = ISCSI_DEFAULT_MRDSL;
	p->target_mrdsl = ours->max_recv_data_segment_length;
	p->max_burst_length = ISCSI_DEFAULT_MAX_BURST_LENGTH;
	p->first_burst_length = ISCSI_DEFAULT_FIRST_BURST_LENGTH;
	p->immediate_data = true;
	p->initial_r2t = true;
	p->max_outstanding_r2t = ISCSI_DEFAULT_MAX_OUTSTANDING_R2T;
	p->data_pdu_in_order = true;
	p->data_sequence_in_order = true;
	p->default_time2wait = ISCSI_DEFAULT_TIME2WAIT;
	p->default_time2retain = ISCSI_DEFAULT_TIME2RETAIN;
	p->max_connections = 1;
}

int iscsi_param_negotiate(struct iscsi_params *p, const struct iscsi_limits *ours,
			  const char *key, const char *value, struct iscsi_text_buf *out)
{
	int rc = 0;
	bool known = true;

	if (is_no_value(value)) {
		/* The initiator does not take part in this key: keep the default. */
		for (size_t i = 0; i < sizeof(numeric_keys) / sizeof(numeric_keys[0]); i++)
			if (!strcmp(key, numeric_keys[i].name))
				return 1;
		return 0;
	}
	if (!strcmp(key, "HeaderDigest") || !strcmp(key, "DataDigest")) {
		bool *field = key[0] == 'H' ? &p->header_digest : &p->data_digest;
		const char *pick = pick_digest(value, field);
		rc = iscsi_text_add(out, key, pick ? pick : "Reject");
	} else if (!strcmp(key, "MaxRecvDataSegmentLength")) {
		/* Declarative: no answer, except that we declare ours (once, at the end). */
		uint32_t v;
		if (parse_u32(value, ISCSI_MRDSL_MIN, ISCSI_MRDSL_MAX, &v))
			p->initiator_mrdsl = v;
		else
			rc = iscsi_text_add(out, key, "Reject");
	} else if (!strcmp(key, "ImmediateData")) {
		rc = negotiate_bool(&p->immediate_data, true, true, key, value, out);
	} else if (!strcmp(key, "InitialR2T")) {
		rc = negotiate_bool(&p->initial_r2t, false, false, key, value, out);
	} else if (!strcmp(key, "DataPDUInOrder")) {
		rc = negotiate_bool(&p->data_pdu_in_order, true, false, key, value, out);
	} else if (!strcmp(key, "DataSequenceInOrder")) {
		rc = negotiate_bool(&p->data_sequence_in_order, true, false, key, value, out);
	} else if (!strcmp(key, "IFMarker") || !strcmp(key, "OFMarker")) {
		/* RFC 3720 keys, gone from RFC 7143; older initiators still offer them. */
		rc = iscsi_text_add(out, key, "No");
	} else if (!strcmp(key, "IFMarkInt") || !strcmp(key, "OFMarkInt")) {
		rc = iscsi_text_add(out, key, "Irrelevant");
	} else {
		known = false;
		for (size_t i = 0; i < sizeof(numeric_keys) / sizeof(numeric_keys[0]); i++) {
			if (!strcmp(key, numeric_keys[i].name)) {
				known = true;
				rc = negotiate_numeric(p, ours, &numeric_keys[i], value, out);
			}
		}
	}
	if (rc < 0)
		return rc;
	return known ? 1 : 0;
}

int iscsi_params_finish(struct iscsi_params *p, struct iscsi_text_buf *out)
{
	if (p->first_burst_length > p->max_burst_length)
		p->first_burst_length = p->max_burst_length;
	if (p->target_mrdsl_declared)
		return 0;
	p->target_mrdsl_declared = true;
	return iscsi_text_add_u32(out, "MaxRecvDataSegmentLength", p->target_mrdsl);
}
