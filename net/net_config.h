/*
 * Parsing of the networking keys of the command line (portable: host-tested).
 *
 *   ip=10.0.2.15/24   static address and prefix length (no key: DHCP)
 *   gw=10.0.2.2       default gateway for a static address (optional)
 *
 * net_config_parse() takes the raw values (NULL when the key is absent) and fills a
 * struct net_config, or returns -EINVAL and leaves an explanation in err (for the
 * console), so a typo never brings the appliance up at an address nobody asked for.
 * Addresses are host-order integers (10.0.2.15 is 0x0a00020f).
 */
#ifndef QEDBOX_NET_CONFIG_H
#define QEDBOX_NET_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct net_config {
	bool dhcp;	  /* true when no static address was given */
	uint32_t addr;	  /* static address */
	uint32_t netmask; /* from the prefix length */
	uint32_t gateway; /* 0: none */
};

/* Parses "a.b.c.d" (each part a decimal 0..255, nothing else). 0 or -EINVAL. */
int net_parse_ipv4(const char *text, uint32_t *addr);

/* Parses "a.b.c.d/len" (len 1..32; "/len" optional, default 24). 0 or -EINVAL. */
int net_parse_ipv4_prefix(const char *text, uint32_t *addr, uint32_t *netmask);

/* Values of the ip= and gw= keys (NULL when absent). 0, or -EINVAL with err filled. */
int net_config_parse(const char *ip, const char *gw, struct net_config *cfg, char *err,
		     size_t err_len);

/* Writes "a.b.c.d" into buf (at least 16 bytes). Returns buf. */
char *net_format_ipv4(uint32_t addr, char *buf);

#endif
