/*
 * CHAP with MD5 for the login's security stage (RFC 7143 12.1.3, RFC 1994):
 *
 *   initiator: AuthMethod=CHAP,None         target: AuthMethod=CHAP
 *   initiator: CHAP_A=5                     target: CHAP_A=5 CHAP_I=<id> CHAP_C=<challenge>
 *   initiator: CHAP_N=<user> CHAP_R=<MD5(id|secret|challenge)>
 *              [CHAP_I CHAP_C: mutual]      target: [CHAP_N CHAP_R: its own answer]
 *
 * Binary values travel as "0x" hex (we send hex) or "0b" base64 (accepted). A challenge
 * that repeats ours is refused (a reflection attack, RFC 7143 12.1.3).
 */
#include "iscsi_priv.h"
#include "md5.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define CHAP_VALUE_MAX 1024     /* longest binary value accepted */

void iscsi_chap_md5(uint8_t id, const char *secret, const uint8_t *challenge, size_t len,
		    uint8_t digest[ISCSI_CHAP_MD5_LEN])
{
	struct md5 m;
	md5_init(&m);
	md5_update(&m, &id, 1);
	md5_update(&m, secret, strlen(secret));
	md5_update(&m, challenge, len);
	md5_final(&m, digest);
}

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int b64_digit(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

static int decode_hex(const char *s, uint8_t *out, size_t max)
{
	size_t n = strlen(s), len = 0;
	size_t i = 0;
	if (n == 0)
		return -EINVAL;
	if (n % 2) { /* an odd count: the first digit stands alone */
		int d = hex_digit(s[0]);
		if (d < 0 || max < 1)
			return -EINVAL;
		out[len++] = (uint8_t)d;
		i = 1;
	}
	for (; i < n; i += 2) {
		int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);
		if (hi < 0 || lo < 0 || len >= max)
			return -EINVAL;
		out[len++] = (uint8_t)(hi << 4 | lo);
	}
	return (int)len;
}

static int decode_base64(const char *s, uint8_t *out, size_t max)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t len = 0;
	for (; *s && *s != '='; s++) {
		int d = b64_digit(*s);
		if (d < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (len >= max)
				return -EINVAL;
			out[len++] = (uint8_t)(acc >> bits);
		}
	}
	return len ? (int)len : -EINVAL;
}

int iscsi_chap_decode(const char *value, uint8_t *out, size_t max)
{
	if (value[0] == '0' && (value[1] == 'x' || value[1] == 'X'))
		return decode_hex(value + 2, out, max);
	if (value[0] == '0' && (value[1] == 'b' || value[1] == 'B'))
		return decode_base64(value + 2, out, max);
	return -EINVAL;
}

static void encode_hex(const uint8_t *bin, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	*out++ = '0';
	*out++ = 'x';
	for (size_t i = 0; i < len; i++) {
		*out++ = digits[bin[i] >> 4];
		*out++ = digits[bin[i] & 15];
	}
	*out = 0;
}

bool iscsi_chap_available(const struct iscsi_server *srv)
{
	return srv->cfg->random != NULL;
}

static bool list_has_md5(const char *list)
{
	const char *p = list;
	while (*p) {
		size_t n = strcspn(p, ",");
		if (n == 1 && p[0] == '5')
			return true;
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

int iscsi_chap_challenge(struct iscsi_chap *chap, struct iscsi_server *srv, const char *chap_a,
			 struct iscsi_text_buf *out)
{
	char hex[2 * ISCSI_CHAP_MD5_LEN + 3];
	int rc;

	if (!list_has_md5(chap_a)) {
		iscsi_text_add(out, "CHAP_A", "Reject");
		return -EACCES;
	}
	if (!iscsi_chap_available(srv))
		return -EAGAIN;
	srv->cfg->random(srv->cfg->random_ctx, &chap->id, 1);
	srv->cfg->random(srv->cfg->random_ctx, chap->challenge, sizeof(chap->challenge));
	chap->challenged = true;
	encode_hex(chap->challenge, sizeof(chap->challenge), hex);
	if ((rc = iscsi_text_add_u32(out, "CHAP_A", ISCSI_CHAP_ALGORITHM_MD5)) < 0 ||
	    (rc = iscsi_text_add_u32(out, "CHAP_I", chap->id)) < 0 ||
	    (rc = iscsi_text_add(out, "CHAP_C", hex)) < 0)
		return rc;
	return 0;
}

/* Constant-time comparison: the time taken says nothing about where they differ. */
static bool same_digest(const uint8_t *a, const uint8_t *b)
{
	uint8_t diff = 0;
	for (int i = 0; i < ISCSI_CHAP_MD5_LEN; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

static int answer_mutual(struct iscsi_chap *chap, const struct iscsi_credential *mutual,
			 const struct iscsi_chap_keys *keys, struct iscsi_text_buf *out)
{
	uint8_t challenge[CHAP_VALUE_MAX], digest[ISCSI_CHAP_MD5_LEN];
	char hex[2 * ISCSI_CHAP_MD5_LEN + 3];
	uint32_t id;
	int len, rc;

	if (!mutual->secret)
		return -EACCES; /* the initiator wants mutual CHAP, we have no secret for it */
	len = iscsi_chap_decode(keys->c, challenge, sizeof(challenge));
	if (len < 1 || sscanf(keys->i, "%u", &id) != 1 || id > 255)
		return -EACCES;
	if ((size_t)len == sizeof(chap->challenge) && !memcmp(challenge, chap->challenge, (size_t)len))
		return -EACCES; /* our own challenge reflected back */
	iscsi_chap_md5((uint8_t)id, mutual->secret, challenge, (size_t)len, digest);
	encode_hex(digest, sizeof(digest), hex);
	if ((rc = iscsi_text_add(out, "CHAP_N", mutual->user)) < 0 ||
	    (rc = iscsi_text_add(out, "CHAP_R", hex)) < 0)
		return rc;
	return 0;
}

int iscsi_chap_verify(struct iscsi_chap *chap, const struct iscsi_auth *auth,
		      const struct iscsi_chap_keys *keys, struct iscsi_text_buf *out)
{
	uint8_t response[CHAP_VALUE_MAX], expected[ISCSI_CHAP_MD5_LEN];
	const struct iscsi_credential *c = &auth->chap;

	if (!chap->challenged || !keys->n || !keys->r || !c->secret || !c->user)
		return -EACCES;
	chap->challenged = false; /* one answer per challenge */
	if (strcmp(keys->n, c->user) != 0)
		return -EACCES; /* CHAP_N names the credential: another one's secret never counts */
	if (iscsi_chap_decode(keys->r, response, sizeof(response)) != ISCSI_CHAP_MD5_LEN)
		return -EACCES;
	iscsi_chap_md5(chap->id, c->secret, chap->challenge, sizeof(chap->challenge), expected);
	if (!same_digest(response, expected))
		return -EACCES;
	if (keys->i || keys->c) {
		if (!keys->i || !keys->c)
			return -EACCES;
		return answer_mutual(chap, &auth->mutual, keys, out);
	}
	return 0; /* mutual authentication is the initiator's choice */
}
