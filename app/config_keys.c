/*
 * The configuration keys: one table entry per key with its parser, its help line and,
 * for a key that holds secrets, how to mask them. Each parser gets the key's value (the
 * last one given) and fills its part of struct qedbox_config, or explains in one line
 * why the value is refused (app/config.c reports it).
 */
#include "config_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_config.h"
#include "parse_size.h"

static int refuse(struct problem *p, const char *why)
{
	snprintf(p->why, p->len, "%s", why);
	return -EINVAL;
}

/* Copies s into dst[cap]; false when it does not fit or is empty. */
static bool copy_text(char *dst, size_t cap, const char *s, size_t len)
{
	if (len == 0 || len >= cap)
		return false;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return true;
}

static int parse_port(const char *value, uint16_t *port)
{
	char *end;
	if (*value < '0' || *value > '9')
		return -EINVAL;
	unsigned long v = strtoul(value, &end, 10);
	if (*end || v == 0 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/* Calls item(cfg, text, len, p) for each comma-separated item of list. */
static int for_each_item(struct qedbox_config *cfg, const char *list, struct problem *p,
			 int (*item)(struct qedbox_config *, const char *, size_t, struct problem *))
{
	for (const char *s = list;; s++) {
		size_t n = strcspn(s, ",");
		int rc = item(cfg, s, n, p);
		if (rc < 0)
			return rc;
		s += n;
		if (!*s)
			return 0;
	}
}

/* ---- the platform and its tests ---------------------------------------------------- */

static int parse_exit(struct qedbox_config *cfg, const char *v, struct problem *p)
{
	if (strcmp(v, "debug") != 0 && strcmp(v, "1") != 0)
		return refuse(p, "expected debug");
	cfg->debug_exit = true;
	return 0;
}

static int parse_poweroff(struct qedbox_config *cfg, const char *v, struct problem *p)
{
	if (strcmp(v, "ready") == 0)
		cfg->poweroff = POWEROFF_READY;
	else if (strcmp(v, "idle") == 0)
		cfg->poweroff = POWEROFF_IDLE;
	else
		return refuse(p, "expected ready or idle");
	return 0;
}

static int parse_looptest(struct qedbox_config *cfg, const char *v, struct problem *p)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10); /* "looptest" alone: one wakeup */
	if ((*v && (*v < '0' || *v > '9')) || *end || n > 1000)
		return refuse(p, "expected a number of wakeups, 0 to 1000");
	cfg->looptest = n ? (unsigned)n : 1;
	return 0;
}

static int parse_crashtest(struct qedbox_config *cfg, const char *v, struct problem *p)
{
	static const char *const kinds[] = { "ud2", "pf", "null", "stack", "de" };
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(v, kinds[i]) == 0) {
			strcpy(cfg->crashtest, v);
			return 0;
		}
	return refuse(p, "expected ud2, pf, null, stack or de");
}

static int parse_mmiotest(struct qedbox_config *cfg, const char *v, struct problem *p)
{
	(void)v, (void)p;
	cfg->mmiotest = true;
	return 0;
}

static int parse_help(struct qedbox_config *cfg, const char *v, struct problem *p)
{
	(void)v, (void)p;
	cfg->help = true;
	return 0;
}

static int parse_selftest(struct qedbox_config *cfg, const char *v, struct problem *p)
{
	if (!copy_text(cfg->selftest, sizeof(cfg->selftest), v, strlen(v)))
		return refuse(p, "expected a disk serial of 1 to 20 bytes");
	return 0;
}

/* ---- the network ----------------------------------------------------------------------- */

/* ip= and gw= are read together in config_load(): a gateway belongs to an address. */

static int parse_tcp_echo(struct qedbox_config *cfg, const char *v, struct problem *p)
{
	if (parse_port(v, &cfg->tcp_echo_port) < 0)
		return refuse(p, "expected a TCP port, 1 to 65535");
	return 0;
}

static int parse_iperf(struct qedbox_config *cfg, const char *v, struct problem *p)
{
	(void)v, (void)p;
	cfg->iperf = true;
	return 0;
}

/* ---- diagnostics ----------------------------------------------------------------------- */

static int parse_profile(struct qedbox_config *cfg, const char *v, struct problem *p)
{
	char *end;
	unsigned long hz = strtoul(v, &end, 10); /* "profile" alone: the default rate */
	if (!*v)
		hz = CONFIG_DEFAULT_PROFILE_HZ;
	else if (*v < '0' || *v > '9' || *end || hz < CONFIG_PROFILE_HZ_MIN ||
		 hz > CONFIG_PROFILE_HZ_MAX)
		return refuse(p, "expected samples per second, 20 to 10000");
	cfg->profile_hz = (unsigned)hz;
	return 0;
}

static int parse_profile_port(struct qedbox_config *cfg, const char *v, struct problem *p)
{
	if (parse_port(v, &cfg->profile_port) < 0)
		return refuse(p, "expected a TCP port, 1 to 65535");
	return 0;
}

/* ---- the web server ------------------------------------------------------------------ */

static int parse_http(struct qedbox_config *cfg, const char *v, struct problem *p)
{
	if (strcmp(v, "off") == 0)
		cfg->http_port = 0;
	else if (parse_port(v, &cfg->http_port) < 0)
		return refuse(p, "expected a TCP port, 1 to 65535, or off");
	return 0;
}

/* 16 to 128 visible ASCII characters: what an Authorization header can carry. */
static int parse_admin_token(struct qedbox_config *cfg, const char *v, struct problem *p)
{
	size_t n = strlen(v);
	bool visible = true;
	for (size_t i = 0; i < n; i++)
		visible &= v[i] > ' ' && v[i] < 0x7f;
	if (n < CONFIG_TOKEN_MIN || n > CONFIG_TOKEN_MAX || !visible)
		return refuse(p, "expected 16 to 128 visible ASCII characters");
	strcpy(cfg->admin_token, v);
	return 0;
}

/* A.B.C.D/LEN, LEN 0 to 32 (default 32: one address). */
static bool take_cidr(struct config_cidr *c, const char *s, size_t n)
{
	char text[20];
	if (!copy_text(text, sizeof(text), s, n))
		return false;
	char *slash = strchr(text, '/');
	unsigned long len = 32;
	if (slash) {
		char *end;
		*slash = '\0';
		len = strtoul(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || *end || len > 32)
			return false;
	}
	if (net_parse_ipv4(text, &c->addr) < 0)
		return false;
	c->mask = len ? ~0u << (32 - len) : 0;
	c->addr &= c->mask;
	return true;
}

static int allow_item(struct qedbox_config *cfg, const char *s, size_t n, struct problem *p)
{
	if (cfg->n_http_allow == CONFIG_MAX_LIST ||
	    !take_cidr(&cfg->http_allow[cfg->n_http_allow], s, n))
		return refuse(p, "expected up to 16 A.B.C.D/LEN ranges, comma-separated");
	cfg->n_http_allow++;
	return 0;
}

static int parse_http_allow(struct qedbox_config *cfg, const char *v, struct problem *p)
{
	int rc = for_each_item(cfg, v, p, allow_item);
	if (rc < 0) {
		cfg->n_http_allow = 0;
		cfg->http_allow_refused = true;
	}
	return rc;
}

/* ---- volumes and the iSCSI target ---------------------------------------------------- */

static int format_item(struct qedbox_config *cfg, const char *s, size_t n, struct problem *p)
{
	if (cfg->n_format == CONFIG_MAX_LIST ||
	    !copy_text(cfg->format[cfg->n_format], sizeof(cfg->format[0]), s, n))
		return refuse(p, "expected up to 16 disk serials, comma-separated");
	cfg->n_format++;
	return 0;
}

static int parse_format(struct qedbox_config *cfg, const char *v, struct problem *p)
{
	int rc = for_each_item(cfg, v, p, format_item);
	if (rc < 0)
		cfg->n_format = 0; /* a list is taken whole or not at all */
	return rc;
}

static int parse_cluster_size(struct qedbox_config *cfg, const char *v, struct problem *p)
{
	uint64_t cs;
	if (parse_size(v, &cs) < 0 || cs < 4096 || cs > (64u << 20) || (cs & (cs - 1)))
		return refuse(p, "expected a power of two, 4K to 64M");
	cfg->cluster_size = (uint32_t)cs;
	return 0;
}

static int parse_write_cache(struct qedbox_config *cfg, const char *v, struct problem *p)
{
	if (strcmp(v, "on") == 0)
		cfg->write_through = false;
	else if (strcmp(v, "off") == 0)
		cfg->write_through = true;
	else
		return refuse(p, "expected on or off");
	return 0;
}

static int parse_iqn_prefix(struct qedbox_config *cfg, const char *v, struct problem *p)
{
	/* Room for ":" and a 20-byte serial after the prefix. */
	size_t n = strlen(v);
	if (n < 4 || n > ISCSI_NAME_MAX - 1 - 1 - BLKDEV_SERIAL_MAX ||
	    (strncmp(v, "iqn.", 4) != 0 && strncmp(v, "eui.", 4) != 0))
		return refuse(p, "expected iqn.YYYY-MM.domain[:...]");
	strcpy(cfg->iqn_prefix, v);
	return 0;
}

/* USER:SECRET of len bytes at s. RFC 7143 12.1.3: CHAP secrets of at least 12 bytes. */
static bool take_credential(struct config_chap *c, const char *s, size_t len)
{
	const char *colon = memchr(s, ':', len);
	size_t user_len = colon ? (size_t)(colon - s) : 0, secret_len = len - user_len - 1;
	return colon && secret_len >= 12 && copy_text(c->user, sizeof(c->user), s, user_len) &&
	       copy_text(c->secret, sizeof(c->secret), colon + 1, secret_len);
}

/* SERIAL/IQN[/USER:SECRET[/MUSER:MSECRET]] */
static int acl_item(struct qedbox_config *cfg, const char *s, size_t n, struct problem *p)
{
	const char *end = s + n, *part[4];
	size_t len[4];
	unsigned parts = 0;
	for (const char *q = s; parts < 4; parts++) {
		const char *slash = memchr(q, '/', (size_t)(end - q));
		part[parts] = q;
		len[parts] = (size_t)((slash ? slash : end) - q);
		if (!slash) {
			parts++;
			break;
		}
		q = slash + 1;
	}
	struct config_acl *a = &cfg->acl[cfg->n_acl];
	memset(a, 0, sizeof(*a));
	if (cfg->n_acl == CONFIG_MAX_LIST || parts < 2 || part[parts - 1] + len[parts - 1] != end ||
	    !copy_text(a->serial, sizeof(a->serial), part[0], len[0]) ||
	    !copy_text(a->initiator, sizeof(a->initiator), part[1], len[1]) ||
	    (parts > 2 && !take_credential(&a->chap, part[2], len[2])) ||
	    (parts > 3 && !take_credential(&a->mutual, part[3], len[3])))
		return refuse(p, "expected SERIAL/IQN[/USER:SECRET[/MUSER:MSECRET]], comma-separated, "
				 "secrets of 12 to 63 bytes");
	cfg->n_acl++;
	return 0;
}

static int parse_acl(struct qedbox_config *cfg, const char *v, struct problem *p)
{
	int rc = for_each_item(cfg, v, p, acl_item);
	if (rc < 0)
		cfg->n_acl = 0; /* a partial list would let in whoever the rest kept out */
	return rc;
}

static int parse_credential(struct config_chap *c, const char *v, struct problem *p)
{
	struct config_chap parsed;
	if (!take_credential(&parsed, v, strlen(v)))
		return refuse(p, "expected USER:SECRET with a 12 to 63 byte secret");
	*c = parsed;
	return 0;
}

static int parse_chap(struct qedbox_config *cfg, const char *v, struct problem *p)
{
	return parse_credential(&cfg->chap, v, p);
}

static int parse_mutual_chap(struct qedbox_config *cfg, const char *v, struct problem *p)
{
	return parse_credential(&cfg->mutual_chap, v, p);
}

static int parse_discovery_chap(struct qedbox_config *cfg, const char *v, struct problem *p)
{
	return parse_credential(&cfg->discovery_chap, v, p);
}

static int parse_portal(struct qedbox_config *cfg, const char *v, struct problem *p)
{
	if (strchr(v, ' ') || !copy_text(cfg->portal, sizeof(cfg->portal), v, strlen(v)))
		return refuse(p, "expected HOST:PORT");
	return 0;
}

static int parse_iscsi_port(struct qedbox_config *cfg, const char *v, struct problem *p)
{
	if (parse_port(v, &cfg->iscsi_port) < 0)
		return refuse(p, "expected 1 to 65535");
	return 0;
}

/* ---- what the console may show ------------------------------------------------------ */

void config_append(char *buf, size_t len, const char *s, size_t n)
{
	size_t used = strlen(buf);
	if (used + 1 >= len)
		return;
	if (n > len - used - 1)
		n = len - used - 1;
	memcpy(buf + used, s, n);
	buf[used + n] = '\0';
}

/* the whole value is the secret */
static void mask_all(const char *v, char *buf, size_t len)
{
	(void)v;
	snprintf(buf, len, "***");
}

/* USER:SECRET -> USER:*** */
static void mask_credential(const char *v, char *buf, size_t len)
{
	buf[0] = '\0';
	config_append(buf, len, v, strcspn(v, ":"));
	config_append(buf, len, ":***", 4);
}

/* acl=: each item keeps its serial and IQN; every credential's secret becomes "***". */
static void mask_acl(const char *v, char *buf, size_t len)
{
	buf[0] = '\0';
	for (unsigned part = 0; *v; v++) {
		if (*v == ',')
			part = 0;
		else if (*v == '/')
			part++;
		if (part >= 2 && *v == ':') { /* a credential's secret, to the next separator */
			config_append(buf, len, ":***", 4);
			v += strcspn(v, "/,") - 1;
			continue;
		}
		config_append(buf, len, v, 1);
	}
}

#define KEY(name, parse, help) { name, parse, help, false, NULL, NULL }
#define ACCESS_KEY(name, parse, mask, help) { name, parse, help, true, mask, NULL }
#define WEB_KEY(name, parse, mask, refused, help) { name, parse, help, false, mask, refused }

const struct config_key config_keys[] = {
	/* the platform */
	KEY("exit", parse_exit, "debug: power-off ends QEMU through isa-debug-exit (port 0xf4) with status (code << 1) | 1"),
	KEY("poweroff", parse_poweroff, "ready: power off once booted; idle: power off when no task is left and the loop goes idle"),
	KEY("looptest", parse_looptest, "N: test the event loop (a task, N wakeups of a 20 ms timer), then power off"),
	KEY("mmiotest", parse_mmiotest, "map device memory at the top of the physical address space (tests mmio_map)"),
	KEY("crashtest", parse_crashtest, "ud2, pf, null, stack or de: raise that CPU fault after boot (tests the exception report)"),
	KEY("help", parse_help, "print this table of command-line keys at boot"),
	KEY("selftest", parse_selftest, "SERIAL: self-test of that virtio-blk disk (OVERWRITES it), then power off"),
	/* the network */
	KEY("ip", NULL, "static address a.b.c.d/len (/len optional, default 24); without it, DHCP"),
	KEY("gw", NULL, "default gateway a.b.c.d for a static address"),
	KEY("tcp_echo", parse_tcp_echo, "PORT: TCP echo service on PORT (tests the network path)"),
	KEY("iperf", parse_iperf, "start lwIP's iperf2 server on port 5001 (throughput test)"),
	/* diagnostics */
	KEY("profile", parse_profile, "[HZ]: sample where the CPU spends its time, HZ times a second (default 1000, 20..10000); the profile is served on profile_port"),
	KEY("profile_port", parse_profile_port, "PORT: each TCP connection there receives the profile since the previous one, then is closed (default 3270)"),
	/* the web server */
	KEY("http", parse_http, "PORT or off: the status page, /metrics and the API on PORT (default 80)"),
	WEB_KEY("admin_token", parse_admin_token, mask_all, "no action is allowed",
		"TOKEN: the API's actions need Authorization: Bearer TOKEN (16 to 128 characters); without it every action is refused"),
	WEB_KEY("http_allow", parse_http_allow, NULL, "the web server is off",
		"A.B.C.D/LEN[,...]: only these addresses may use the web server (default: any)"),
	/* volumes and the iSCSI target */
	KEY("iqn_prefix", parse_iqn_prefix, "target names are PREFIX:SERIAL (default " CONFIG_DEFAULT_IQN_PREFIX ")"),
	KEY("format", parse_format, "SERIAL[,SERIAL...]: format these disks as QED when they are blank"),
	KEY("cluster_size", parse_cluster_size, "cluster size for format (4K..64M, default 64K)"),
	KEY("write_cache", parse_write_cache, "on|off: off makes every write durable before it completes (for takeover on shared disks; default on)"),
	ACCESS_KEY("acl", parse_acl, mask_acl,
		   "SERIAL/IQN[/USER:SECRET[/MUSER:MSECRET]],...: only these initiators may log in to that volume, with these CHAP credentials"),
	ACCESS_KEY("chap", parse_chap, mask_credential,
		   "USER:SECRET: initiators without their own credentials must log in with CHAP (secret of 12 to 63 bytes)"),
	ACCESS_KEY("mutual_chap", parse_mutual_chap, mask_credential,
		   "USER:SECRET: the target authenticates itself to initiators that ask (needs chap)"),
	ACCESS_KEY("discovery_chap", parse_discovery_chap, mask_credential,
		   "USER:SECRET: discovery sessions must log in with CHAP"),
	KEY("portal", parse_portal, "HOST:PORT given to initiators in SendTargets (default: our address and port)"),
	KEY("iscsi_port", parse_iscsi_port, "TCP port of the iSCSI target (default 3260)"),
};
const size_t config_key_count = sizeof(config_keys) / sizeof(config_keys[0]);

const struct config_key *config_key_named(const char *name)
{
	for (size_t i = 0; i < config_key_count; i++)
		if (strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	return NULL;
}
