/*
 * The generator behind random.h: one ChaCha20 key, fast key erasure on output, and a
 * compression function built on the same block function for mixing and keyed hashing.
 *
 * Compression (random_mix, random_keyed_hash32): the message is cut into 12-byte
 * pieces; each piece goes into the counter and the first two nonce words of one ChaCha20
 * block keyed by the chaining value, and the first 8 output words are the next chaining
 * value. For a secret chaining value ChaCha20 is a pseudo-random function of (counter,
 * nonce), and chaining it over a prefix-free encoding of the message keeps it one (the
 * cascade construction); for a known chaining value the output is as hard to steer or
 * invert as the cipher is to break. The last nonce word carries a domain tag, and on the
 * last piece (zero-padded) a final flag and the piece's byte count, so no two messages
 * encode alike and no encoding is a prefix of another. The generator's own blocks use
 * tag 0 (nonce 0), so no compression block is ever a keystream block.
 */
#include "random.h"

#include <limits.h>
#include <string.h>

#include "byteorder.h"
#include "chacha20.h"

#define DOMAIN_MIX  0x6d697800u /* "mix": stirring into the generator's key */
#define DOMAIN_HASH 0x68736800u /* "hsh": random_keyed_hash32 */
#define FINAL_PIECE 0x80u        /* or'd with the byte count (0..12) of the last piece */
#define PIECE_BYTES 12           /* counter word + two nonce words */

/* Keystream served with one key: keeps the 32-bit block counter far from wrapping; a
 * larger request is served in several pieces, each with its own key. */
#define MAX_BYTES_PER_KEY (64u * 1024)

#define KEY_BYTES (CHACHA20_KEY_WORDS * 4)

static struct {
	uint32_t key[CHACHA20_KEY_WORDS];
	unsigned credited_bits;
} pool;

/* Stores that the compiler may not drop as dead: secrets leave no copies behind. */
static void wipe(void *p, size_t len)
{
	volatile uint8_t *v = p;
	while (len--)
		*v++ = 0;
}

static void compress(const uint32_t chain[CHACHA20_KEY_WORDS], const uint8_t piece[PIECE_BYTES],
		     uint32_t tag, uint32_t out[CHACHA20_BLOCK_WORDS])
{
	const uint32_t nonce[CHACHA20_NONCE_WORDS] = { get_le32(piece + 4),
						       get_le32(piece + 8), tag };
	chacha20_block(chain, get_le32(piece), nonce, out);
}

/* Runs the message through the cascade from chain (updated in place); out gets the whole
 * last block, whose first 8 words are also the final chaining value. */
static void absorb(uint32_t chain[CHACHA20_KEY_WORDS], uint32_t domain, const void *data,
		   size_t len, uint32_t out[CHACHA20_BLOCK_WORDS])
{
	const uint8_t *p = data;
	for (; len > PIECE_BYTES; p += PIECE_BYTES, len -= PIECE_BYTES) {
		compress(chain, p, domain, out);
		memcpy(chain, out, KEY_BYTES);
	}
	uint8_t last[PIECE_BYTES] = { 0 };
	if (len)
		memcpy(last, p, len);
	compress(chain, last, domain | FINAL_PIECE | (uint32_t)len, out);
	memcpy(chain, out, KEY_BYTES);
	wipe(last, sizeof(last));
}

void random_reset(void)
{
	wipe(&pool, sizeof(pool));
}

void random_mix(const void *seed, size_t len, unsigned entropy_bits)
{
	uint32_t out[CHACHA20_BLOCK_WORDS];
	absorb(pool.key, DOMAIN_MIX, seed, len, out);
	wipe(out, sizeof(out));
	/* A byte holds at most 8 bits of entropy, whatever the caller believes. */
	if (len < UINT_MAX / 8 && entropy_bits > 8 * len)
		entropy_bits = (unsigned)(8 * len);
	pool.credited_bits = entropy_bits > UINT_MAX - pool.credited_bits
				     ? UINT_MAX : pool.credited_bits + entropy_bits;
}

bool random_ready(void)
{
	return pool.credited_bits >= RANDOM_READY_BITS;
}

unsigned random_credited_bits(void)
{
	return pool.credited_bits;
}

/* Copies the first len bytes of the words' little-endian serialisation. */
static void store_words(uint8_t *dst, const uint32_t *words, size_t len)
{
	uint8_t tmp[4];
	for (size_t i = 0; i < len; i += 4) {
		put_le32(tmp, words[i / 4]);
		memcpy(dst + i, tmp, len - i < 4 ? len - i : 4);
	}
	wipe(tmp, sizeof(tmp));
}

/* One key's worth: block 0 gives the next key (before anything is handed out) and 32
 * bytes of output, blocks 1.. the rest. */
static void generate(uint8_t *dst, size_t len)
{
	static const uint32_t nonce[CHACHA20_NONCE_WORDS] = { 0, 0, 0 };
	uint32_t key[CHACHA20_KEY_WORDS], block[CHACHA20_BLOCK_WORDS];
	memcpy(key, pool.key, KEY_BYTES);
	chacha20_block(key, 0, nonce, block);
	memcpy(pool.key, block, KEY_BYTES);
	size_t n = len < KEY_BYTES ? len : KEY_BYTES;
	store_words(dst, block + CHACHA20_KEY_WORDS, n);
	for (uint32_t counter = 1; n < len; counter++) {
		size_t step = len - n < CHACHA20_BLOCK_BYTES ? len - n : CHACHA20_BLOCK_BYTES;
		chacha20_block(key, counter, nonce, block);
		store_words(dst + n, block, step);
		n += step;
	}
	wipe(key, sizeof(key));
	wipe(block, sizeof(block));
}

void random_bytes(void *buf, size_t len)
{
	uint8_t *p = buf;
	do {
		size_t n = len < MAX_BYTES_PER_KEY ? len : MAX_BYTES_PER_KEY;
		generate(p, n);
		p += n;
		len -= n;
	} while (len);
}

uint32_t random_u32(void)
{
	uint8_t b[4];
	random_bytes(b, sizeof(b));
	uint32_t v = get_le32(b);
	wipe(b, sizeof(b));
	return v;
}

uint32_t random_keyed_hash32(const uint8_t key[RANDOM_HASH_KEY_BYTES], const void *data,
			     size_t len)
{
	uint32_t chain[CHACHA20_KEY_WORDS], out[CHACHA20_BLOCK_WORDS];
	for (unsigned i = 0; i < CHACHA20_KEY_WORDS; i++)
		chain[i] = get_le32(key + 4 * i);
	absorb(chain, DOMAIN_HASH, data, len, out);
	uint32_t h = out[0];
	wipe(chain, sizeof(chain));
	wipe(out, sizeof(out));
	return h;
}
