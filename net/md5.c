/*
 * MD5 (RFC 1321): 64-byte blocks, four rounds of sixteen steps, little-endian words.
 * Written from the RFC's description; the per-step constants are floor(2^32 * |sin(i)|).
 */
#include "md5.h"

#include "byteorder.h"

#include <string.h>

static const uint32_t sine_table[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
	0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
	0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
	0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
	0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
	0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
	0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
	0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
	0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
	0xeb86d391,
};

/* Rotation amounts: four per round, repeated within the round. */
static const uint8_t shifts[4][4] = { { 7, 12, 17, 22 }, { 5, 9, 14, 20 }, { 4, 11, 16, 23 },
				      { 6, 10, 15, 21 } };

static uint32_t rotl(uint32_t x, unsigned n) { return (x << n) | (x >> (32 - n)); }

static void md5_block(uint32_t state[4], const uint8_t *p)
{
	uint32_t w[16];
	for (int i = 0; i < 16; i++)
		w[i] = get_le32(p + 4 * i);

	uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
	for (int i = 0; i < 64; i++) {
		uint32_t f;
		int g, round = i / 16;
		switch (round) {
		case 0: f = (b & c) | (~b & d); g = i; break;
		case 1: f = (d & b) | (~d & c); g = (5 * i + 1) % 16; break;
		case 2: f = b ^ c ^ d; g = (3 * i + 5) % 16; break;
		default: f = c ^ (b | ~d); g = (7 * i) % 16; break;
		}
		uint32_t next = b + rotl(a + f + sine_table[i] + w[g], shifts[round][i % 4]);
		a = d;
		d = c;
		c = b;
		b = next;
	}
	state[0] += a;
	state[1] += b;
	state[2] += c;
	state[3] += d;
}

void md5_init(struct md5 *m)
{
	m->state[0] = 0x67452301;
	m->state[1] = 0xefcdab89;
	m->state[2] = 0x98badcfe;
	m->state[3] = 0x10325476;
	m->bytes = 0;
}

void md5_update(struct md5 *m, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		size_t used = m->bytes % 64, n = 64 - used;
		if (n > len)
			n = len;
		memcpy(m->block + used, p, n);
		m->bytes += n;
		p += n;
		len -= n;
		if (m->bytes % 64 == 0)
			md5_block(m->state, m->block);
	}
}

void md5_final(struct md5 *m, uint8_t digest[MD5_DIGEST_LEN])
{
	uint64_t bits = m->bytes * 8;
	static const uint8_t pad_start = 0x80, zero = 0;
	md5_update(m, &pad_start, 1);
	while (m->bytes % 64 != 56)
		md5_update(m, &zero, 1);
	uint8_t len_le[8];
	put_le64(len_le, bits);
	md5_update(m, len_le, 8);
	for (int i = 0; i < 4; i++)
		put_le32(digest + 4 * i, m->state[i]);
}
