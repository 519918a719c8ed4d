/*
 * The command-line keys that say what to serve and to whom, parsed into plain data.
 * Portable (host-tested in tests/unit/boot/test_serve_keys.c); boot/volumes.c acts on it.
 *
 *   iqn_prefix=iqn.2026-11.org.qedbox   target names are <prefix>:<disk serial>
 *   format=SERIAL[,SERIAL...]           disks to format as QED when blank
 *   cluster_size=64K                    cluster size for format (4K..64M)
 *   acl=SERIAL/IQN[,SERIAL/IQN...]      initiators allowed per volume (default: any)
 *   chap=USER:SECRET                    initiators must log in with CHAP
 *   mutual_chap=USER:SECRET             and the target authenticates back
 *   portal=HOST:PORT                    address given in SendTargets (default: ours)
 *   iscsi_port=3260                     TCP port of the target
 */
#ifndef QEDBOX_SERVE_KEYS_H
#define QEDBOX_SERVE_KEYS_H

#include <stdbool.h>
#include <stdint.h>

#define SERVE_MAX_LIST 16
#define SERVE_NAME_MAX 224 /* an iSCSI name is at most 223 bytes */

struct serve_acl {
	char serial[21];
	char initiator[SERVE_NAME_MAX];
};

struct serve_keys {
	char iqn_prefix[SERVE_NAME_MAX];
	char format[SERVE_MAX_LIST][21];
	unsigned n_format;
	uint32_t cluster_size;
	struct serve_acl acl[SERVE_MAX_LIST];
	unsigned n_acl;
	char chap_user[64], chap_secret[64];
	char mutual_user[64], mutual_secret[64];
	char portal[64];
	uint16_t port;
};

#define SERVE_DEFAULT_IQN_PREFIX "iqn.2026-11.org.qedbox"
#define SERVE_DEFAULT_PORT 3260

/* Reads the keys through lookup (config_get in the firmware). Returns 0, or -EINVAL with
 * a one-line reason in err (the caller reports it; the bad key is ignored, the rest
 * still parsed). */
int serve_keys_parse(struct serve_keys *k, const char *(*lookup)(const char *key),
		     char *err, unsigned err_len);

bool serve_keys_formats(const struct serve_keys *k, const char *serial);

/* Parses "64K", "1M", "4096": bytes; -EINVAL when malformed or over *out's range. */
int serve_parse_size(const char *s, uint64_t *out);

#endif
