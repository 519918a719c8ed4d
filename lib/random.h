/*
 * random: the appliance's cryptographic random number generator. Portable (the firmware
 * and the host tests run the same code); one generator per program, single-threaded like
 * everything else here.
 *
 * Start-up: stir in whatever the platform offers, crediting only what is really
 * unpredictable, then ask whether that was enough:
 *     random_mix(&tsc, sizeof tsc, 0);              // timing: stirred, never credited
 *     n = cpu_entropy(buf, 64);  random_mix(buf, n, 8 * n);
 *     n = virtio_rng_read(buf, 64, timeout);  random_mix(buf, n, 8 * n);
 *     if (!random_ready()) ...say so; CHAP refuses to run...
 * Then random_bytes() / random_u32() for secrets, challenges, ports and sequence numbers.
 * random_bytes() answers before random_ready() too (from whatever was stirred in, or
 * from a fixed all-zero key after random_reset()): callers that need secrecy check first.
 *
 * Construction: a 256-bit ChaCha20 key (lib/chacha20.h). A request generates keystream
 * with that key and nonce 0, from block 0; the first 32 bytes of block 0 become the next
 * key and the caller gets the rest ("fast key erasure"), so a copy of the state taken
 * later cannot reproduce anything already handed out. random_mix() compresses its input
 * into the key with the same block function (see random.c).
 */
#ifndef QEDBOX_RANDOM_H
#define QEDBOX_RANDOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Credited bits from which the generator counts as seeded. */
#define RANDOM_READY_BITS 256
/* Size of the key random_keyed_hash32() takes. */
#define RANDOM_HASH_KEY_BYTES 32

/* Back to the all-zero key with nothing credited (tests; a start-up that wants a known
 * state). */
void random_reset(void);

/* Compresses len bytes of seed into the key. entropy_bits is the caller's estimate of
 * the seed's unpredictable bits; at most 8 * len of them are credited. Any bytes are
 * safe to mix: a seed an attacker knows, or chose, does not help predict the key. */
void random_mix(const void *seed, size_t len, unsigned entropy_bits);

/* Whether at least RANDOM_READY_BITS have been credited since random_reset(). */
bool random_ready(void);

/* Bits credited so far (for the start-up report), saturating. */
unsigned random_credited_bits(void);

/* len bytes of keystream; the key is replaced before this returns. */
void random_bytes(void *buf, size_t len);
uint32_t random_u32(void);

/* A keyed pseudo-random function from any bytes to 32 bits: the F() of RFC 6528 TCP
 * sequence numbers. Unpredictable to whoever does not know key; independent of the
 * generator's state. */
uint32_t random_keyed_hash32(const uint8_t key[RANDOM_HASH_KEY_BYTES], const void *data,
			     size_t len);

#endif
