/*
 * The ChaCha20 block function, written from RFC 8439 §2.1-§2.3: 20 rounds of
 * quarter-rounds over a 4x4 matrix of words, then the input state added back in (without
 * that addition the rounds could be run backwards to recover the key).
 */
#include "chacha20.h"

static inline uint32_t rotl32(uint32_t v, unsigned n)
{
	return (v << n) | (v >> (32 - n));
}

/* §2.1: the quarter round on words a, b, c, d of the state. */
static inline void quarter_round(uint32_t x[CHACHA20_BLOCK_WORDS], unsigned a, unsigned b,
				 unsigned c, unsigned d)
{
	x[a] += x[b];
	x[d] = rotl32(x[d] ^ x[a], 16);
	x[c] += x[d];
	x[b] = rotl32(x[b] ^ x[c], 12);
	x[a] += x[b];
	x[d] = rotl32(x[d] ^ x[a], 8);
	x[c] += x[d];
	x[b] = rotl32(x[b] ^ x[c], 7);
}

/* §2.3: the four columns, then the four diagonals. */
static void double_round(uint32_t x[CHACHA20_BLOCK_WORDS])
{
	quarter_round(x, 0, 4, 8, 12);
	quarter_round(x, 1, 5, 9, 13);
	quarter_round(x, 2, 6, 10, 14);
	quarter_round(x, 3, 7, 11, 15);
	quarter_round(x, 0, 5, 10, 15);
	quarter_round(x, 1, 6, 11, 12);
	quarter_round(x, 2, 7, 8, 13);
	quarter_round(x, 3, 4, 9, 14);
}

void chacha20_block(const uint32_t key[CHACHA20_KEY_WORDS], uint32_t counter,
		    const uint32_t nonce[CHACHA20_NONCE_WORDS], uint32_t out[CHACHA20_BLOCK_WORDS])
{
	uint32_t in[CHACHA20_BLOCK_WORDS] = { CHACHA20_CONST_0, CHACHA20_CONST_1,
					      CHACHA20_CONST_2, CHACHA20_CONST_3 };
	for (unsigned i = 0; i < CHACHA20_KEY_WORDS; i++)
		in[CHACHA20_STATE_KEY + i] = key[i];
	in[CHACHA20_STATE_COUNTER] = counter;
	for (unsigned i = 0; i < CHACHA20_NONCE_WORDS; i++)
		in[CHACHA20_STATE_NONCE + i] = nonce[i];
	for (unsigned i = 0; i < CHACHA20_BLOCK_WORDS; i++)
		out[i] = in[i];
	for (unsigned r = 0; r < CHACHA20_ROUNDS; r += 2)
		double_round(out);
	for (unsigned i = 0; i < CHACHA20_BLOCK_WORDS; i++)
		out[i] += in[i];
	/* The input holds the key: leave no copy of it on the stack. */
	for (volatile uint32_t *p = in; p < in + CHACHA20_BLOCK_WORDS; p++)
		*p = 0;
}
