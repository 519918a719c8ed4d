/*
 * CRC32C (Castagnoli, polynomial 0x1EDC6F41 reflected), the iSCSI header and data digest.
 *
 *     uint32_t crc = crc32c(0, bhs, 48);            // whole buffer
 *     crc = crc32c(crc, more, n);                   // continues over several pieces
 *
 * The pre- and post-inversion are inside: chained calls give the same value as one call
 * over the concatenation. On the wire (RFC 7143) the digest is this value little-endian.
 * Uses the SSE4.2 crc32 instruction when CPUID reports it, else a table.
 */
#ifndef QEDBOX_CRC32C_H
#define QEDBOX_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

/* The two implementations, exposed for tests and benchmarks. */
uint32_t crc32c_table(uint32_t crc, const void *buf, size_t len);
uint32_t crc32c_sse42(uint32_t crc, const void *buf, size_t len); /* only if available */
bool crc32c_sse42_available(void);

#endif
