/*
 * MD5 (RFC 1321), only for CHAP (RFC 1994) in the iSCSI login: not for anything that needs
 * collision resistance.
 *
 *     struct md5 m; md5_init(&m); md5_update(&m, buf, n); ...; md5_final(&m, digest);
 */
#ifndef QEDBOX_MD5_H
#define QEDBOX_MD5_H

#include <stddef.h>
#include <stdint.h>

#define MD5_DIGEST_LEN 16

struct md5 {
	uint32_t state[4];
	uint64_t bytes;        /* total length so far */
	uint8_t block[64];     /* partial block */
};

void md5_init(struct md5 *m);
void md5_update(struct md5 *m, const void *buf, size_t len);
void md5_final(struct md5 *m, uint8_t digest[MD5_DIGEST_LEN]);

#endif
