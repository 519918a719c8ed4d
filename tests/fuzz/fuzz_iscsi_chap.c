/*
 * libFuzzer target: CHAP values and answers (net/iscsi_chap.c).
 *
 * Input: [max][flags][value\0 CHAP_N\0 CHAP_R\0 CHAP_I\0 CHAP_C]. value is decoded by
 * iscsi_chap_decode() into a buffer of exactly max bytes; then the fields answer a
 * challenge through iscsi_chap_verify() (a field missing from the input: a key not sent).
 * With flags bit 2 the harness puts the right CHAP_R in, so that the mutual answer is
 * reached with the input's CHAP_I and CHAP_C.
 *
 * Invariants: a decode writes only within max and returns 1..max or -EINVAL, and a hex
 * value decodes to the bytes its digits say; verify accepts only the right user with the
 * right response to our challenge, and never a reflected challenge.
 */
#include "fuzz.h"
#include "iscsi_priv.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#define USER "iqn.1994-05.com.example:client"
#define SECRET "chapsecret1234"
#define MUTUAL_USER "iqn.2026-11.org.qedbox:disk0"
#define MUTUAL_SECRET "mutualsecret99"

static const uint8_t our_challenge[ISCSI_CHAP_MD5_LEN] = {
	0x40, 0x47, 0x39, 0x26, 0xe3, 0x73, 0x9c, 0x24, 0x23, 0x18, 0xa6, 0x45, 0x1d, 0x2e, 0x92, 0x0e,
};

static void to_hex(const uint8_t *bin, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		*out++ = digits[bin[i] >> 4];
		*out++ = digits[bin[i] & 15];
	}
	*out = 0;
}

/* A "0x" value that decoded: its digits, lower case and padded to even, are the bytes. */
static void check_hex_round_trip(const char *value, const uint8_t *bin, int len)
{
	const char *digits = value + 2;
	size_t n = strlen(digits);
	char *want = malloc(n + 2), *got = malloc(2 * (size_t)len + 1);
	FUZZ_ASSERT(want && got);
	size_t w = 0;
	if (n % 2)
		want[w++] = '0';
	for (size_t i = 0; i < n; i++)
		want[w++] = (char)tolower((unsigned char)digits[i]);
	want[w] = 0;
	to_hex(bin, (size_t)len, got);
	FUZZ_ASSERT(strcmp(want, got) == 0);
	free(want);
	free(got);
}

static void fuzz_decode(const char *value, size_t max)
{
	uint8_t *out = malloc(max ? max : 1); /* exactly max: ASan sees any byte past it */
	FUZZ_ASSERT(out);
	int rc = iscsi_chap_decode(value, out, max);
	FUZZ_ASSERT(rc == -EINVAL || (rc >= 1 && (size_t)rc <= max));
	if (rc > 0 && value[0] == '0' && (value[1] == 'x' || value[1] == 'X'))
		check_hex_round_trip(value, out, rc);
	free(out);
}

static bool decodes_to(const char *value, const uint8_t *want, size_t len)
{
	uint8_t buf[1024];
	return value && iscsi_chap_decode(value, buf, sizeof(buf)) == (int)len &&
	       !memcmp(buf, want, len);
}

static void fuzz_verify(uint8_t flags, const char *fields[5])
{
	struct iscsi_chap chap = { .id = (uint8_t)(flags >> 3), .challenged = !(flags & 1) };
	struct iscsi_auth auth = {
		.chap = { USER, SECRET },
		.mutual = { MUTUAL_USER, flags & 2 ? NULL : MUTUAL_SECRET },
	};
	struct iscsi_chap_keys keys = { .n = fields[1], .r = fields[2], .i = fields[3], .c = fields[4] };
	uint8_t expected[ISCSI_CHAP_MD5_LEN];
	char right[2 * ISCSI_CHAP_MD5_LEN + 3] = "0x";
	struct iscsi_text_buf out;

	memcpy(chap.challenge, our_challenge, sizeof(our_challenge));
	iscsi_chap_md5(chap.id, SECRET, chap.challenge, sizeof(chap.challenge), expected);
	if (flags & 4) {
		to_hex(expected, sizeof(expected), right + 2);
		keys.r = right;
	}
	bool was_challenged = chap.challenged;
	iscsi_text_init(&out, flags & 0x80 ? 40 : ISCSI_TEXT_LIMIT);
	int rc = iscsi_chap_verify(&chap, &auth, &keys, &out);
	FUZZ_ASSERT(rc == 0 || rc == -EACCES || rc == -ENOSPC);
	if (keys.n && keys.r) /* one answer per challenge, whatever it was */
		FUZZ_ASSERT(!chap.challenged);
	if (rc == 0) {
		FUZZ_ASSERT(was_challenged);
		FUZZ_ASSERT(keys.n && !strcmp(keys.n, USER));
		FUZZ_ASSERT(decodes_to(keys.r, expected, sizeof(expected)));
		/* mutual: both keys or neither, never our own challenge reflected */
		FUZZ_ASSERT(!keys.i == !keys.c);
		if (keys.c) {
			FUZZ_ASSERT(auth.mutual.secret);
			FUZZ_ASSERT(!decodes_to(keys.c, our_challenge, sizeof(our_challenge)));
			FUZZ_ASSERT(out.len > 0 && out.buf[out.len - 1] == 0);
		} else {
			FUZZ_ASSERT(out.len == 0);
		}
	}
	FUZZ_ASSERT(out.len <= out.cap);
	iscsi_text_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	size_t max = fuzz_u8(&in);
	uint8_t flags = fuzz_u8(&in);
	const char *fields[5] = { 0 };

	if (in.left > 4096)
		return 0;
	/* the fields as the login keeps them: NUL-terminated strings in one buffer */
	char *text = malloc(in.left + 1);
	FUZZ_ASSERT(text);
	memcpy(text, in.p, in.left);
	text[in.left] = 0;
	size_t pos = 0;
	for (int k = 0; k < 5 && pos <= in.left; k++) {
		fields[k] = text + pos;
		pos += strlen(text + pos) + 1;
	}
	fuzz_decode(fields[0], max);
	fuzz_verify(flags, fields);
	free(text);
	return 0;
}
