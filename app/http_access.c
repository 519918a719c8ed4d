/*
 * Access to the web server (http_access.h).
 */
#include "http_access.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

bool http_peer_allowed(const struct qedbox_config *cfg, uint32_t peer)
{
	if (cfg->n_http_allow == 0)
		return true;
	for (unsigned i = 0; i < cfg->n_http_allow; i++)
		if ((peer & cfg->http_allow[i].mask) == cfg->http_allow[i].addr)
			return true;
	return false;
}

/* Compares every byte of both padded buffers, whatever matches: no early exit. */
static bool same_token(const char *given, const char *token)
{
	char a[CONFIG_TOKEN_MAX + 1] = { 0 }, b[CONFIG_TOKEN_MAX + 1] = { 0 };
	size_t given_len = strlen(given), token_len = strlen(token);
	memcpy(a, given, given_len < CONFIG_TOKEN_MAX ? given_len : CONFIG_TOKEN_MAX);
	memcpy(b, token, token_len < CONFIG_TOKEN_MAX ? token_len : CONFIG_TOKEN_MAX);
	unsigned diff = given_len != token_len;
	for (size_t i = 0; i < sizeof(a); i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

enum http_token_verdict http_check_token(const struct qedbox_config *cfg,
					 const char *authorization)
{
	if (!cfg->admin_token[0])
		return HTTP_TOKEN_NONE_CONFIGURED;
	if (strncasecmp(authorization, "Bearer ", 7) != 0)
		return HTTP_TOKEN_MISSING;
	const char *given = authorization + 7;
	while (*given == ' ')
		given++;
	if (!*given)
		return HTTP_TOKEN_MISSING;
	return same_token(given, cfg->admin_token) ? HTTP_TOKEN_OK : HTTP_TOKEN_WRONG;
}

static const char *skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	return s;
}

/* A JSON string at s (its opening quote) into out[cap] (NULL: skipped); returns the byte
 * after its closing quote, or NULL when malformed or too long. Only the escapes \" \\ and
 * \/ are taken: serials need no others. */
static const char *take_string(const char *s, char *out, size_t cap)
{
	size_t n = 0;
	if (*s++ != '"')
		return NULL;
	for (; *s != '"'; s++) {
		char c = *s;
		if ((unsigned char)c < 0x20)
			return NULL; /* the end of the body, or a raw control byte */
		if (c == '\\') {
			c = *++s;
			if (c != '"' && c != '\\' && c != '/')
				return NULL;
		}
		if (out) {
			if (n + 1 >= cap)
				return NULL;
			out[n] = c;
		}
		n++;
	}
	if (out)
		out[n] = '\0';
	return s + 1;
}

int http_body_string(const char *body, const char *key, char *out, size_t cap)
{
	char name[32];
	bool found = false;
	const char *s = skip_blanks(body);
	if (*s++ != '{')
		return -EINVAL;
	for (s = skip_blanks(s); *s != '}';) {
		s = take_string(s, name, sizeof(name));
		if (!s || *(s = skip_blanks(s)) != ':')
			return -EINVAL;
		bool wanted = strcmp(name, key) == 0;
		s = take_string(skip_blanks(s + 1), wanted ? out : NULL, cap);
		if (!s)
			return -EINVAL;
		found |= wanted;
		s = skip_blanks(s);
		if (*s == ',') {
			s = skip_blanks(s + 1);
			if (*s != '"')
				return -EINVAL; /* a member must follow a comma */
		} else if (*s != '}') {
			return -EINVAL;
		}
	}
	return found && !*skip_blanks(s + 1) ? 0 : -EINVAL;
}
