/*
 * Host tests of the ChaCha20 block function (lib/chacha20.c) against RFC 8439's vectors,
 * and of the generator built on it (lib/random.c): determinism from a seed, seeds kept
 * apart, entropy accounting, fast key erasure, no repeated output, the keyed hash.
 */
#include <stdlib.h>

#include "byteorder.h"
#include "chacha20.h"
#include "check.h"
#include "random.h"

static void block_bytes(const uint8_t key_bytes[32], uint32_t counter, const uint8_t nonce_bytes[12],
			uint8_t out[64])
{
	uint32_t key[CHACHA20_KEY_WORDS], nonce[CHACHA20_NONCE_WORDS], words[CHACHA20_BLOCK_WORDS];
	for (unsigned i = 0; i < CHACHA20_KEY_WORDS; i++)
		key[i] = get_le32(key_bytes + 4 * i);
	for (unsigned i = 0; i < CHACHA20_NONCE_WORDS; i++)
		nonce[i] = get_le32(nonce_bytes + 4 * i);
	chacha20_block(key, counter, nonce, words);
	for (unsigned i = 0; i < CHACHA20_BLOCK_WORDS; i++)
		put_le32(out + 4 * i, words[i]);
}

/* RFC 8439 §2.3.2: key 00..1f, nonce 00:00:00:09:00:00:00:4a:00:00:00:00, counter 1. */
static void test_chacha20_block_rfc8439_2_3_2(void)
{
	static const uint8_t nonce[12] = { 0, 0, 0, 0x09, 0, 0, 0, 0x4a, 0, 0, 0, 0 };
	static const uint8_t expected[64] = {
		0x10, 0xf1, 0xe7, 0xe4, 0xd1, 0x3b, 0x59, 0x15, 0x50, 0x0f, 0xdd, 0x1f, 0xa3, 0x20, 0x71, 0xc4,
		0xc7, 0xd1, 0xf4, 0xc7, 0x33, 0xc0, 0x68, 0x03, 0x04, 0x22, 0xaa, 0x9a, 0xc3, 0xd4, 0x6c, 0x4e,
		0xd2, 0x82, 0x64, 0x46, 0x07, 0x9f, 0xaa, 0x09, 0x14, 0xc2, 0xd7, 0x05, 0xd9, 0x8b, 0x02, 0xa2,
		0xb5, 0x12, 0x9c, 0xd1, 0xde, 0x16, 0x4e, 0xb9, 0xcb, 0xd0, 0x83, 0xe8, 0xa2, 0x50, 0x3c, 0x4e,
	};
	uint8_t key[32], out[64];
	for (unsigned i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	block_bytes(key, 1, nonce, out);
	CHECK_MEM_EQ(expected, out, sizeof(out));
}

/* RFC 8439 appendix A.1, test vectors #1 and #2: all-zero key and nonce, counters 0, 1. */
static const uint8_t zero_key_stream[128] = {
	0x76, 0xb8, 0xe0, 0xad, 0xa0, 0xf1, 0x3d, 0x90, 0x40, 0x5d, 0x6a, 0xe5, 0x53, 0x86, 0xbd, 0x28,
	0xbd, 0xd2, 0x19, 0xb8, 0xa0, 0x8d, 0xed, 0x1a, 0xa8, 0x36, 0xef, 0xcc, 0x8b, 0x77, 0x0d, 0xc7,
	0xda, 0x41, 0x59, 0x7c, 0x51, 0x57, 0x48, 0x8d, 0x77, 0x24, 0xe0, 0x3f, 0xb8, 0xd8, 0x4a, 0x37,
	0x6a, 0x43, 0xb8, 0xf4, 0x15, 0x18, 0xa1, 0x1c, 0xc3, 0x87, 0xb6, 0x69, 0xb2, 0xee, 0x65, 0x86,
	0x9f, 0x07, 0xe7, 0xbe, 0x55, 0x51, 0x38, 0x7a, 0x98, 0xba, 0x97, 0x7c, 0x73, 0x2d, 0x08, 0x0d,
	0xcb, 0x0f, 0x29, 0xa0, 0x48, 0xe3, 0x65, 0x69, 0x12, 0xc6, 0x53, 0x3e, 0x32, 0xee, 0x7a, 0xed,
	0x29, 0xb7, 0x21, 0x76, 0x9c, 0xe6, 0x4e, 0x43, 0xd5, 0x71, 0x33, 0xb0, 0x74, 0xd8, 0x39, 0xd5,
	0x31, 0xed, 0x1f, 0x28, 0x51, 0x0a, 0xfb, 0x45, 0xac, 0xe1, 0x0a, 0x1f, 0x4b, 0x79, 0x4d, 0x6f,
};

static void test_chacha20_block_rfc8439_a1(void)
{
	static const uint8_t zero[32];
	uint8_t out[64];
	block_bytes(zero, 0, zero, out);
	CHECK_MEM_EQ(zero_key_stream, out, 64);
	block_bytes(zero, 1, zero, out);
	CHECK_MEM_EQ(zero_key_stream + 64, out, 64);
}

/* After a reset the key is all zero: the first request is that key's keystream from
 * byte 32 on (bytes 0-31 became the next key). */
static void test_first_request_after_reset_skips_the_next_key(void)
{
	uint8_t out[96];
	random_reset();
	random_bytes(out, sizeof(out));
	CHECK_MEM_EQ(zero_key_stream + 32, out, sizeof(out));
}

/* Fast key erasure: after a request the key is block 0's first 32 bytes, which the
 * caller never saw; the next request is that key's stream. */
static void test_each_request_replaces_the_key(void)
{
	static const uint8_t zero_nonce[12];
	uint8_t first[32], second[32], expected[64];
	random_reset();
	random_bytes(first, sizeof(first));
	random_bytes(second, sizeof(second));
	block_bytes(zero_key_stream, 0, zero_nonce, expected);
	CHECK_MEM_EQ(expected + 32, second, sizeof(second));
	CHECK(memcmp(first, second, sizeof(first)) != 0);
	/* Even an empty request moves the key on. */
	uint8_t a[16], b[16];
	random_reset();
	random_bytes(NULL, 0);
	random_bytes(a, sizeof(a));
	random_reset();
	random_bytes(b, sizeof(b));
	CHECK(memcmp(a, b, sizeof(a)) != 0);
}

static void stream_after_seed(const void *seed, size_t len, uint8_t out[64])
{
	random_reset();
	random_mix(seed, len, 0);
	random_bytes(out, 64);
}

static void test_same_seed_same_stream(void)
{
	uint8_t a[64], b[64];
	stream_after_seed("qedbox seed", 11, a);
	stream_after_seed("qedbox seed", 11, b);
	CHECK_MEM_EQ(a, b, sizeof(a));
}

static void test_different_seeds_different_streams(void)
{
	/* One bit apart; a trailing zero byte; piece boundaries (12 bytes) on each side. */
	static const char *const seeds[] = { "qedbox seed", "qedbox seec", "qedbox seed\0",
					     "", "\0", "123456789012", "1234567890123",
					     "12345678901234567890123", "123456789012345678901234" };
	static const size_t lens[] = { 11, 11, 12, 0, 1, 12, 13, 23, 24 };
	enum { N = sizeof(lens) / sizeof(lens[0]) };
	uint8_t out[N][64];
	for (unsigned i = 0; i < N; i++)
		stream_after_seed(seeds[i], lens[i], out[i]);
	for (unsigned i = 0; i < N; i++)
		for (unsigned j = i + 1; j < N; j++)
			CHECK(memcmp(out[i], out[j], 64) != 0);
	/* Nothing mixed at all differs from an empty seed mixed in. */
	uint8_t none[64];
	random_reset();
	random_bytes(none, sizeof(none));
	CHECK(memcmp(none, out[3], 64) != 0);
}

static void test_mixing_order_matters(void)
{
	uint8_t ab[64], ba[64];
	random_reset();
	random_mix("a", 1, 0);
	random_mix("b", 1, 0);
	random_bytes(ab, sizeof(ab));
	random_reset();
	random_mix("b", 1, 0);
	random_mix("a", 1, 0);
	random_bytes(ba, sizeof(ba));
	CHECK(memcmp(ab, ba, sizeof(ab)) != 0);
}

static void test_readiness_counts_credited_bits(void)
{
	uint8_t seed[16] = { 1 };
	random_reset();
	CHECK(!random_ready());
	CHECK_EQ(0, random_credited_bits());
	random_mix(seed, sizeof(seed), 0); /* stirred, not credited */
	CHECK_EQ(0, random_credited_bits());
	random_mix(seed, sizeof(seed), 1000); /* at most 8 bits a byte */
	CHECK_EQ(128, random_credited_bits());
	CHECK(!random_ready());
	random_mix(seed, 4, 20);
	CHECK_EQ(148, random_credited_bits());
	random_mix(seed, sizeof(seed), 107);
	CHECK(!random_ready());
	random_mix(seed, 1, 1);
	CHECK_EQ(RANDOM_READY_BITS, random_credited_bits());
	CHECK(random_ready());
	random_bytes(seed, sizeof(seed)); /* output does not use credit up */
	CHECK(random_ready());
	random_mix(seed, sizeof(seed), UINT32_MAX);
	random_mix(NULL, 0, UINT32_MAX); /* no bytes, no bits */
	CHECK_EQ(RANDOM_READY_BITS + 128, random_credited_bits());
	random_reset();
	CHECK(!random_ready());
}

static int cmp16(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

static void test_no_repeated_output(void)
{
	enum { N = 4096 };
	uint8_t(*out)[16] = malloc(N * 16);
	CHECK(out != NULL);
	if (!out)
		return;
	random_reset();
	random_mix("x", 1, 0);
	for (unsigned i = 0; i < N; i++)
		random_bytes(out[i], 16);
	qsort(out, N, 16, cmp16);
	unsigned repeats = 0;
	for (unsigned i = 1; i < N; i++)
		repeats += memcmp(out[i - 1], out[i], 16) == 0;
	CHECK_EQ(0, repeats);
	free(out);
	uint32_t prev = random_u32(), same = 0;
	for (unsigned i = 0; i < 1000; i++) {
		uint32_t v = random_u32();
		same += v == prev;
		prev = v;
	}
	CHECK_EQ(0, same);
}

/* About half the bits set: catches a stuck word or a byte-order slip that zeroes output. */
static void test_output_bits_are_balanced(void)
{
	enum { WORDS = 4096 };
	unsigned ones = 0;
	random_reset();
	random_mix("balance", 7, 0);
	for (unsigned i = 0; i < WORDS; i++)
		ones += (unsigned)__builtin_popcount(random_u32());
	/* Mean 65536, standard deviation 181: 2000 is 11 of them. */
	CHECK(ones > WORDS * 16 - 2000 && ones < WORDS * 16 + 2000);
}

/* A request larger than one key's worth is served piecewise, each piece with a new key:
 * the start of the stream is the same whatever the request's size. */
static void test_large_request(void)
{
	enum { BIG = 200 * 1024 };
	uint8_t *big = malloc(BIG), small[4096];
	CHECK(big != NULL);
	if (!big)
		return;
	random_reset();
	random_bytes(big, BIG);
	random_reset();
	random_bytes(small, sizeof(small));
	CHECK_MEM_EQ(small, big, sizeof(small));
	/* Each 64 KiB piece starts afresh: no piece repeats the first. */
	for (unsigned off = 65536; off + 64 <= BIG; off += 65536)
		CHECK(memcmp(big, big + off, 64) != 0);
	free(big);
}

static void test_keyed_hash(void)
{
	uint8_t k1[RANDOM_HASH_KEY_BYTES] = { 1 }, k2[RANDOM_HASH_KEY_BYTES] = { 2 };
	const char *tuple = "\x0a\x00\x02\x0f\x0c\xbc\x0a\x00\x02\x02\xd4\x31";
	uint32_t h = random_keyed_hash32(k1, tuple, 12);
	CHECK_EQ(h, random_keyed_hash32(k1, tuple, 12));
	CHECK(h != random_keyed_hash32(k2, tuple, 12));
	CHECK(h != random_keyed_hash32(k1, "\x0a\x00\x02\x0f\x0c\xbc\x0a\x00\x02\x02\xd4\x30", 12));
	/* Lengths around the 12-byte piece, and zero padding, all apart. */
	static const uint8_t zeros[25];
	uint32_t by_len[26];
	for (unsigned len = 0; len <= 25; len++) {
		by_len[len] = random_keyed_hash32(k1, zeros, len);
		for (unsigned j = 0; j < len; j++)
			CHECK(by_len[j] != by_len[len]);
	}
	/* The hash does not touch the generator. */
	uint8_t a[16], b[16];
	random_reset();
	random_bytes(a, sizeof(a));
	random_reset();
	(void)random_keyed_hash32(k1, tuple, 12);
	random_bytes(b, sizeof(b));
	CHECK_MEM_EQ(a, b, sizeof(a));
}

int main(void)
{
	RUN(test_chacha20_block_rfc8439_2_3_2);
	RUN(test_chacha20_block_rfc8439_a1);
	RUN(test_first_request_after_reset_skips_the_next_key);
	RUN(test_each_request_replaces_the_key);
	RUN(test_same_seed_same_stream);
	RUN(test_different_seeds_different_streams);
	RUN(test_mixing_order_matters);
	RUN(test_readiness_counts_credited_bits);
	RUN(test_no_repeated_output);
	RUN(test_output_bits_are_balanced);
	RUN(test_large_request);
	RUN(test_keyed_hash);
	return check_report("test_random");
}
