/* Parsing of the serving keys (serve_keys.h): lists, USER:SECRET pairs, sizes. */
#include "serve_keys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int serve_parse_size(const char *s, uint64_t *out)
{
	char *end;
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	unsigned shift = 0;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	case 'T': case 't': shift = 40; end++; break;
	}
	if (errno || *end || v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

/* Copies the next comma-separated item of *list into buf; false at the end or when an
 * item does not fit. */
static bool next_item(const char **list, char *buf, size_t cap, bool *too_long)
{
	const char *s = *list;
	if (!*s)
		return false;
	size_t n = strcspn(s, ",");
	*too_long = n == 0 || n >= cap;
	if (!*too_long) {
		memcpy(buf, s, n);
		buf[n] = 0;
	}
	*list = s[n] ? s + n + 1 : s + n;
	return true;
}

static int fail(char *err, unsigned len, const char *key, const char *why)
{
	snprintf(err, len, "%s: %s", key, why);
	return -EINVAL;
}

static int parse_format(struct serve_keys *k, const char *v, char *err, unsigned len)
{
	char item[21];
	bool bad;
	while (next_item(&v, item, sizeof(item), &bad)) {
		if (bad || k->n_format == SERVE_MAX_LIST)
			return fail(err, len, "format", "expected up to 16 disk serials, comma-separated");
		strcpy(k->format[k->n_format++], item);
	}
	return 0;
}

static int parse_acl(struct serve_keys *k, const char *v, char *err, unsigned len)
{
	char item[21 + SERVE_NAME_MAX];
	bool bad;
	while (next_item(&v, item, sizeof(item), &bad)) {
		char *slash = strchr(item, '/');
		if (bad || !slash || slash == item || slash - item > 20 || !slash[1] ||
		    k->n_acl == SERVE_MAX_LIST)
			return fail(err, len, "acl", "expected SERIAL/INITIATOR-IQN, comma-separated");
		struct serve_acl *a = &k->acl[k->n_acl++];
		*slash = 0;
		strcpy(a->serial, item);
		strcpy(a->initiator, slash + 1);
	}
	return 0;
}

static int parse_secret(const char *key, const char *v, char *user, char *secret, char *err,
			unsigned len)
{
	const char *colon = strchr(v, ':');
	/* RFC 7143 12.1.3: CHAP secrets of at least 12 bytes; 63 is our buffer's limit. */
	if (!colon || colon == v || colon - v > 63 || strlen(colon + 1) < 12 ||
	    strlen(colon + 1) > 63)
		return fail(err, len, key, "expected USER:SECRET with a 12 to 63 byte secret");
	memcpy(user, v, (size_t)(colon - v));
	user[colon - v] = 0;
	strcpy(secret, colon + 1);
	return 0;
}

int serve_keys_parse(struct serve_keys *k, const char *(*lookup)(const char *key), char *err,
		     unsigned err_len)
{
	int rc = 0;
	const char *v;
	memset(k, 0, sizeof(*k));
	strcpy(k->iqn_prefix, SERVE_DEFAULT_IQN_PREFIX);
	k->port = SERVE_DEFAULT_PORT;
	k->cluster_size = 64 * 1024;
	err[0] = 0;

	if ((v = lookup("iqn_prefix"))) {
		if (strlen(v) < 4 || strlen(v) > SERVE_NAME_MAX - 22 ||
		    (strncmp(v, "iqn.", 4) && strncmp(v, "eui.", 4)))
			rc = fail(err, err_len, "iqn_prefix", "expected iqn.YYYY-MM.domain[:...]");
		else
			strcpy(k->iqn_prefix, v);
	}
	if ((v = lookup("format")) && parse_format(k, v, err, err_len))
		rc = -EINVAL;
	if ((v = lookup("cluster_size"))) {
		uint64_t cs;
		if (serve_parse_size(v, &cs) || cs < 4096 || cs > (64u << 20) || (cs & (cs - 1)))
			rc = fail(err, err_len, "cluster_size", "expected a power of two, 4K to 64M");
		else
			k->cluster_size = (uint32_t)cs;
	}
	if ((v = lookup("acl")) && parse_acl(k, v, err, err_len))
		rc = -EINVAL;
	if ((v = lookup("chap")) && parse_secret("chap", v, k->chap_user, k->chap_secret, err, err_len))
		rc = -EINVAL;
	if ((v = lookup("mutual_chap")) &&
	    parse_secret("mutual_chap", v, k->mutual_user, k->mutual_secret, err, err_len))
		rc = -EINVAL;
	if (k->mutual_secret[0] && !k->chap_secret[0]) {
		k->mutual_secret[0] = 0;
		rc = fail(err, err_len, "mutual_chap", "needs chap as well");
	}
	if ((v = lookup("portal"))) {
		if (!*v || strlen(v) >= sizeof(k->portal) || strchr(v, ' '))
			rc = fail(err, err_len, "portal", "expected HOST:PORT");
		else
			strcpy(k->portal, v);
	}
	if ((v = lookup("iscsi_port"))) {
		uint64_t port;
		if (serve_parse_size(v, &port) || port == 0 || port > 65535)
			rc = fail(err, err_len, "iscsi_port", "expected 1 to 65535");
		else
			k->port = (uint16_t)port;
	}
	return rc;
}

bool serve_keys_formats(const struct serve_keys *k, const char *serial)
{
	for (unsigned i = 0; i < k->n_format; i++)
		if (strcmp(k->format[i], serial) == 0)
			return true;
	return false;
}
