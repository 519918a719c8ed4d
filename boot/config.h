/*
 * The kernel command line as key=value settings. Portable (no firmware headers): the
 * firmware parses its command line with it (boot/config_keys.c) and the host tests it.
 *
 * Syntax: settings separated by blanks; "key=value" or "key" alone (its value is "");
 * a value may hold blanks inside double quotes (exit=debug name="my disk"). Keys are
 * letters, digits, '_', '-' and '.'. When a key repeats, the last one counts. A first
 * word starting with '/' (a kernel path some boot loaders prepend) is skipped.
 *
 *     struct config c;
 *     config_parse(&c, "ip=dhcp poweroff");
 *     config_lookup(&c, "ip");        -> "dhcp"
 *     config_lookup(&c, "poweroff");  -> ""
 *     config_lookup(&c, "port");      -> NULL
 */
#ifndef QEDBOX_CONFIG_H
#define QEDBOX_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_MAX_SETTINGS 64
#define CONFIG_MAX_TEXT	    2048 /* bytes of keys and values, terminators included */

struct config_setting {
	const char *key, *value;
};

struct config {
	char text[CONFIG_MAX_TEXT];
	struct config_setting settings[CONFIG_MAX_SETTINGS];
	unsigned count;
	unsigned rejected; /* malformed words skipped, settings beyond the limits dropped */
};

/* What a layer accepts: one entry per key, with a one-line description. */
struct config_key {
	const char *key, *help;
};

/* Parses cmdline (NULL is an empty line) into c. Returns 0, or -EINVAL when some words
 * were malformed (bad key, unterminated quote), or -E2BIG when the line exceeded the
 * limits; the well-formed settings that fit are kept either way. */
int config_parse(struct config *c, const char *cmdline);

/* The value of key (the last one given), or NULL. */
const char *config_lookup(const struct config *c, const char *key);

/* Whether key is in the table. */
bool config_key_known(const struct config_key *keys, size_t n, const char *key);

#endif
