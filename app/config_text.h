/*
 * Configuration text as key=value settings: the first step of reading the configuration
 * (app/config.h turns the settings into typed values). Portable: host-tested.
 *
 * Syntax: settings separated by blanks; "key=value" or "key" alone (its value is "");
 * a value may hold blanks inside double quotes (exit=debug name="my disk"). Keys are
 * letters, digits, '_', '-' and '.'. When a key repeats, the last one counts. A first
 * word starting with '/' (a kernel path some boot loaders prepend) is skipped, and so is
 * everything from a word starting with '#' to the end of its line (comments in a file).
 * Several texts can be added to one config_text; a later one overrides an earlier one.
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

#define CONFIG_MAX_SETTINGS 128
#define CONFIG_MAX_TEXT	    8192 /* bytes of keys and values, terminators included */

/* Where a setting came from, for messages. */
#define CONFIG_SOURCE_CMDLINE "command line"
#define CONFIG_SOURCE_FILE    "config file"

struct config_setting {
	const char *key, *value;
	const char *source; /* CONFIG_SOURCE_* */
};

struct config_text {
	char text[CONFIG_MAX_TEXT];
	size_t used; /* bytes of text taken */
	struct config_setting settings[CONFIG_MAX_SETTINGS];
	unsigned count;
	unsigned rejected; /* malformed words skipped, settings beyond the limits dropped */
};

/* Resets c and parses cmdline (NULL is an empty line) into it, as CONFIG_SOURCE_CMDLINE.
 * Returns 0, or -EINVAL when some words were malformed (bad key, unterminated quote), or
 * -E2BIG when the text exceeded the limits; the well-formed settings that fit are kept
 * either way. */
int config_text_parse(struct config_text *c, const char *cmdline);

/* Adds the settings of text (from source) after those c holds: they override them.
 * Returns as config_text_parse(). */
int config_text_add(struct config_text *c, const char *text, const char *source);

/* The setting of key (the last one given), or NULL; and its value alone. */
const struct config_setting *config_text_find(const struct config_text *c, const char *key);
const char *config_text_lookup(const struct config_text *c, const char *key);

#endif
