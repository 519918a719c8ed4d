/*
 * Networking keys of the command line: see net_config.h. Strict parsing: every part of
 * an address is a decimal number 0..255 without sign, spaces or leading garbage.
 */
#include "net_config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_PREFIX_LEN 24

/* Reads a decimal number up to max from *p; advances *p. 0 or -EINVAL. */
static int parse_decimal(const char **p, unsigned max, unsigned *value)
{
	const char *s = *p;
	unsigned v = 0;
	int digits = 0;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (unsigned)(*s - '0');
		if (v > max || ++digits > 3)
			return -EINVAL;
		s++;
	}
	if (digits == 0)
		return -EINVAL;
	*p = s;
	*value = v;
	return 0;
}

/* Parses four dotted parts from *p, advances *p past them. */
static int parse_dotted(const char **p, uint32_t *addr)
{
	uint32_t a = 0;
	for (int i = 0; i < 4; i++) {
		unsigned part;
		if (i > 0 && *(*p)++ != '.')
			return -EINVAL;
		if (parse_decimal(p, 255, &part) != 0)
			return -EINVAL;
		a = a << 8 | part;
	}
	*addr = a;
	return 0;
}

int net_parse_ipv4(const char *text, uint32_t *addr)
{
	const char *p = text;
	if (text == NULL || parse_dotted(&p, addr) != 0 || *p != '\0')
		return -EINVAL;
	return 0;
}

int net_parse_ipv4_prefix(const char *text, uint32_t *addr, uint32_t *netmask)
{
	const char *p = text;
	unsigned len = DEFAULT_PREFIX_LEN;
	if (text == NULL || parse_dotted(&p, addr) != 0)
		return -EINVAL;
	if (*p == '/') {
		p++;
		if (parse_decimal(&p, 32, &len) != 0 || len == 0)
			return -EINVAL;
	}
	if (*p != '\0')
		return -EINVAL;
	*netmask = len == 32 ? 0xffffffffu : ~(0xffffffffu >> len);
	return 0;
}

int net_config_parse(const char *ip, const char *gw, struct net_config *cfg, char *err,
		     size_t err_len)
{
	memset(cfg, 0, sizeof *cfg);
	if (ip == NULL) {
		cfg->dhcp = true;
		return 0;
	}
	if (net_parse_ipv4_prefix(ip, &cfg->addr, &cfg->netmask) != 0) {
		snprintf(err, err_len, "ip=%s: expected a.b.c.d or a.b.c.d/len", ip);
		return -EINVAL;
	}
	if (cfg->addr == 0 || (cfg->addr & ~cfg->netmask) == ~cfg->netmask) {
		snprintf(err, err_len, "ip=%s: not a host address", ip);
		return -EINVAL;
	}
	if (gw != NULL && net_parse_ipv4(gw, &cfg->gateway) != 0) {
		snprintf(err, err_len, "gw=%s: expected a.b.c.d", gw);
		return -EINVAL;
	}
	return 0;
}

char *net_format_ipv4(uint32_t addr, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", (unsigned)(addr >> 24), (unsigned)(addr >> 16 & 255),
		 (unsigned)(addr >> 8 & 255), (unsigned)(addr & 255));
	return buf;
}
