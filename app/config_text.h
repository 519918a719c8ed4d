/*
 * Configuration text as key=value settings: the first step of reading the configuration
 * (app/config.h turns the settings into typed values). Portable: host-tested.
 *
 * Syntax: settings separated by blanks; "key=value" or "key" alone (its value is "");
 * a value may hold blanks inside double quotes (exit=debug name="my disk"). Keys are
 * letters, digits, '_', '-' and '.'. When a key repeats, the last one counts. A first
 * word starting with '/' (a kernel path some boot loaders prepend) is skipped.
 *
 *     struct config_text c;
 *     config_text_parse(&c, "ip=dhcp poweroff");
 *     config_text_lookup(&c, "ip");        -> "dhcp"
 *     config_text_lookup(&c, "poweroff");  -> ""
 *     config_text_lookup(&c, "port");      -> NULL
 */
#ifndef QEDBOX_CONFIG_TEXT_H
#define QEDBOX_CONFIG_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_MAX_SETTINGS 64
#define CONFIG_MAX_TEXT	    2048 /* bytes of keys and values, terminators included */

struct config_setting {
	const char *key, *value;
};

struct config_text {
	char text[CONFIG_MAX_TEXT];
	struct config_setting settings[CONFIG_MAX_SETTINGS];
	unsigned count;
	unsigned rejected; /* malformed words skipped, settings beyond the limits dropped */
};

/* Parses cmdline (NULL is an empty line) into c. Returns 0, or -EINVAL when some words
 * were malformed (bad key, unterminated quote), or -E2BIG when the line exceeded the
 * limits; the well-formed settings that fit are kept either way. */
int config_text_parse(struct config_text *c, const char *cmdline);

/* The value of key (the last one given), or NULL. */
const char *config_text_lookup(const struct config_text *c, const char *key);

#endif
