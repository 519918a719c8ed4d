/*
 * Configuration text parser: see config_text.h for the syntax. Keys and values are copied into
 * the config's own text buffer, so the caller's string need not outlive the parse.
 */
#include "config_text.h"

#include <errno.h>
#include <string.h>

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static bool is_key_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '-' || ch == '.';
}

/* Copies one word starting at *in into the text buffer as "key\0value\0", the quotes
 * removed. Returns 0, -EINVAL (malformed word: skipped) or -E2BIG (no room). */
static int parse_word(struct config_text *c, size_t *used, const char **in, struct config_setting *out)
{
	const char *p = *in;
	char *start = c->text + *used, *end = c->text + sizeof(c->text);
	char *o = start, *value = NULL;
	bool quoted = false, bad_key = false;
	for (; *p && (quoted || !is_blank(*p)); p++) {
		if (*p == '"' && value) {
			quoted = !quoted;
			continue;
		}
		if (o + 2 > end) { /* this character and a terminator */
			while (*p && (quoted || !is_blank(*p)))
				quoted ^= *p++ == '"';
			*in = p;
			return -E2BIG;
		}
		if (*p == '=' && !value) {
			*o++ = '\0';
			value = o;
			continue;
		}
		if (!value && !is_key_char(*p))
			bad_key = true;
		*o++ = *p;
	}
	*o++ = '\0';
	*in = p;
	if (quoted || bad_key || *start == '\0')
		return -EINVAL;
	out->key = start;
	out->value = value ? value : o - 1; /* key alone: the empty string after it */
	*used = (size_t)(o - c->text);
	return 0;
}

int config_text_add(struct config_text *c, const char *text, const char *source)
{
	const char *p = text ? text : "";
	int result = 0;
	while (is_blank(*p))
		p++;
	if (*p == '/') /* a kernel path: not a setting */
		while (*p && !is_blank(*p))
			p++;
	for (;;) {
		while (is_blank(*p))
			p++;
		if (*p == '#') { /* a comment, to the end of the line */
			p += strcspn(p, "\n");
			continue;
		}
		if (!*p)
			break;
		struct config_setting s = { .source = source };
		int rc = parse_word(c, &c->used, &p, &s);
		if (rc == 0 && c->count == CONFIG_MAX_SETTINGS)
			rc = -E2BIG;
		if (rc < 0) {
			c->rejected++;
			if (result != -E2BIG)
				result = rc;
			continue;
		}
		c->settings[c->count++] = s;
	}
	return result;
}

int config_text_parse(struct config_text *c, const char *cmdline)
{
	memset(c, 0, sizeof(*c));
	return config_text_add(c, cmdline, CONFIG_SOURCE_CMDLINE);
}

const struct config_setting *config_text_find(const struct config_text *c, const char *key)
{
	for (unsigned i = c->count; i-- > 0;)
		if (strcmp(c->settings[i].key, key) == 0)
			return &c->settings[i];
	return NULL;
}

const char *config_text_lookup(const struct config_text *c, const char *key)
{
	const struct config_setting *s = config_text_find(c, key);
	return s ? s->value : NULL;
}

