/*
 * Shared by app/config.c (loading, checks across keys, what the console shows) and
 * app/config_keys.c (the table of keys: each one's parser, help line and masking).
 */
#ifndef QEDBOX_CONFIG_PRIV_H
#define QEDBOX_CONFIG_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* Where a parser explains, in one line, why it refused a value. */
struct problem {
	char *why;
	size_t len;
};

typedef int (*key_parser)(struct qedbox_config *cfg, const char *value, struct problem *p);
/* Writes value into buf with its secrets replaced by "***". */
typedef void (*key_masker)(const char *value, char *buf, size_t len);

struct config_key {
	const char *name;
	key_parser parse;
	const char *help;
	bool access;       /* refusing it must not open access: access_ok becomes false */
	key_masker mask;   /* NULL: the value holds no secret */
	const char *refused; /* what a refused value leads to; NULL: it is ignored */
};

/* The key named name, or NULL; and the whole table. */
const struct config_key *config_key_named(const char *name);
extern const struct config_key config_keys[];
extern const size_t config_key_count;

/* Appends n bytes of s to the string in buf[len], as far as they fit. */
void config_append(char *buf, size_t len, const char *s, size_t n);

#endif
