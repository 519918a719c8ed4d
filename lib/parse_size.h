/*
 * The one size syntax of the project (configuration keys, qedtool's arguments): a
 * decimal or 0x-hexadecimal number, optionally followed by K, M, G or T (powers of 1024,
 * either case) and then optionally "B" or "iB":  4096, 0x1000, 64K, 64KiB, 1G.
 */
#ifndef QEDBOX_PARSE_SIZE_H
#define QEDBOX_PARSE_SIZE_H

#include <stdint.h>

/* 0 with *out in bytes, or -EINVAL when s is malformed or the size exceeds 64 bits. */
int parse_size(const char *s, uint64_t *out);

#endif
