/*
 * The ChaCha20 block function (RFC 8439 §2.3), and the constants of that RFC. Portable.
 *
 * One call turns a 256-bit key, a 32-bit block counter and a 96-bit nonce into 64 bytes
 * of keystream, returned as 16 words; byte i of the keystream is byte i % 4 of word i / 4
 * in little-endian order (put_le32, lib/byteorder.h). lib/random.c builds the generator on it.
 *
 *     uint32_t key[CHACHA20_KEY_WORDS], nonce[CHACHA20_NONCE_WORDS], out[CHACHA20_BLOCK_WORDS];
 *     key[i] = get_le32(key_bytes + 4 * i);   // likewise the nonce
 *     chacha20_block(key, counter, nonce, out);
 */
#ifndef QEDBOX_CHACHA20_H
#define QEDBOX_CHACHA20_H

#include <stdint.h>

/* ---- RFC 8439 §2.3 ----------------------------------------------------------------- */
#define CHACHA20_KEY_WORDS   8
#define CHACHA20_NONCE_WORDS 3
#define CHACHA20_BLOCK_WORDS 16
#define CHACHA20_KEY_BYTES   32
#define CHACHA20_NONCE_BYTES 12
#define CHACHA20_BLOCK_BYTES 64
#define CHACHA20_ROUNDS      20 /* 10 double rounds: a column and a diagonal round each */

/* Words 0-3 of the state: "expand 32-byte k" read as four little-endian words. */
#define CHACHA20_CONST_0 0x61707865u
#define CHACHA20_CONST_1 0x3320646eu
#define CHACHA20_CONST_2 0x79622d32u
#define CHACHA20_CONST_3 0x6b206574u

/* State layout: constants, key, counter, nonce. */
#define CHACHA20_STATE_KEY     4
#define CHACHA20_STATE_COUNTER 12
#define CHACHA20_STATE_NONCE   13

void chacha20_block(const uint32_t key[CHACHA20_KEY_WORDS], uint32_t counter,
		    const uint32_t nonce[CHACHA20_NONCE_WORDS], uint32_t out[CHACHA20_BLOCK_WORDS]);

#endif
