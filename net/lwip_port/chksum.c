/*
 * lwIP's Internet checksum, 8 bytes per step: see chksum.h. Ones' complement addition
 * is associative and commutative and respects the byte pairing of the words, so the sum
 * of 64-bit words (with the carries added back) folds to the same 16-bit value as the
 * sum of 16-bit words. Loads are unaligned (fine on x86) so the pairing stays relative
 * to the start of the data, as lwIP expects. The firmware is built freestanding, where
 * gcc calls memcpy() even for a constant 8 bytes; __builtin_memcpy is one load.
 */
#include "arch/chksum.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "lwip_port_chksum assumes a little-endian CPU (the odd last byte is a low byte)"
#endif

static uint64_t add_with_carry(uint64_t sum, uint64_t v)
{
	sum += v;
	return sum + (sum < v);
}

uint16_t lwip_port_chksum(const void *data, int len)
{
	const uint8_t *p = data;
	uint64_t sum = 0;
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t v;
		__builtin_memcpy(&v, p, sizeof v);
		sum = add_with_carry(sum, v);
	}
	sum = (sum & 0xffffffffu) + (sum >> 32); /* at most 33 bits now */
	for (; len >= 2; p += 2, len -= 2) {
		uint16_t w;
		__builtin_memcpy(&w, p, sizeof w);
		sum += w;
	}
	if (len > 0)
		sum += *p; /* the last odd byte is the low byte of its word */
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}
