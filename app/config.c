/*
 * The configuration keys (config.h): one table entry per key with its help line and
 * its parser. Each parser gets the key's value (the last one given) and fills its part
 * of the configuration, or explains in one line why the value is refused.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_size.h"

struct problem {
	char *why;
	size_t len;
};

typedef int (*key_parser)(struct qedbox_config *cfg, const char *value, struct problem *p);

struct config_key {
	const char *name;
	key_parser parse;
	const char *help;
};

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

static int acl_item(struct qedbox_config *cfg, const char *s, size_t n, struct problem *p)
{
	const char *slash = memchr(s, '/', n);
	struct config_acl *a = &cfg->acl[cfg->n_acl];
	if (cfg->n_acl == CONFIG_MAX_LIST || !slash ||
	    !copy_text(a->serial, sizeof(a->serial), s, (size_t)(slash - s)) ||
	    !copy_text(a->initiator, sizeof(a->initiator), slash + 1, n - (size_t)(slash - s) - 1))
		return refuse(p, "expected SERIAL/INITIATOR-IQN, comma-separated");
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

/* USER:SECRET. RFC 7143 12.1.3: CHAP secrets of at least 12 bytes. */
static int parse_credential(struct config_chap *c, const char *v, struct problem *p)
{
	const char *colon = strchr(v, ':');
	struct config_chap parsed;
	if (!colon || !copy_text(parsed.user, sizeof(parsed.user), v, (size_t)(colon - v)) ||
	    strlen(colon + 1) < 12 ||
	    !copy_text(parsed.secret, sizeof(parsed.secret), colon + 1, strlen(colon + 1)))
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

/* clang-format off */
static const struct config_key keys[] = {
	/* the platform */
	{ "exit", parse_exit, "debug: power-off ends QEMU through isa-debug-exit (port 0xf4) with status (code << 1) | 1" },
	{ "poweroff", parse_poweroff, "ready: power off once booted; idle: power off when no task is left and the loop goes idle" },
	{ "looptest", parse_looptest, "N: test the event loop (a task, N wakeups of a 20 ms timer), then power off" },
	{ "mmiotest", parse_mmiotest, "map device memory at the top of the physical address space (tests mmio_map)" },
	{ "crashtest", parse_crashtest, "ud2, pf, null, stack or de: raise that CPU fault after boot (tests the exception report)" },
	{ "help", parse_help, "print this table of command-line keys at boot" },
	{ "selftest", parse_selftest, "SERIAL: self-test of that virtio-blk disk (OVERWRITES it), then power off" },
	/* the network */
	{ "ip", NULL, "static address a.b.c.d/len (/len optional, default 24); without it, DHCP" },
	{ "gw", NULL, "default gateway a.b.c.d for a static address" },
	{ "tcp_echo", parse_tcp_echo, "PORT: TCP echo service on PORT (tests the network path)" },
	{ "iperf", parse_iperf, "start lwIP's iperf2 server on port 5001 (throughput test)" },
	/* volumes and the iSCSI target */
	{ "iqn_prefix", parse_iqn_prefix, "target names are PREFIX:SERIAL (default " CONFIG_DEFAULT_IQN_PREFIX ")" },
	{ "format", parse_format, "SERIAL[,SERIAL...]: format these disks as QED when they are blank" },
	{ "cluster_size", parse_cluster_size, "cluster size for format (4K..64M, default 64K)" },
	{ "acl", parse_acl, "SERIAL/IQN[,SERIAL/IQN...]: only these initiators may log in to that volume" },
	{ "chap", parse_chap, "USER:SECRET: initiators must log in with CHAP (secret of 12 to 63 bytes)" },
	{ "mutual_chap", parse_mutual_chap, "USER:SECRET: the target also authenticates itself to initiators (needs chap)" },
	{ "portal", parse_portal, "HOST:PORT given to initiators in SendTargets (default: our address and port)" },
	{ "iscsi_port", parse_iscsi_port, "TCP port of the iSCSI target (default 3260)" },
};
/* clang-format on */
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static const struct config_key *key_named(const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static void set_defaults(struct qedbox_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->net.dhcp = true;
	cfg->net_ok = true;
	cfg->cluster_size = CONFIG_DEFAULT_CLUSTER_SIZE;
	strcpy(cfg->iqn_prefix, CONFIG_DEFAULT_IQN_PREFIX);
	cfg->iscsi_port = CONFIG_DEFAULT_ISCSI_PORT;
}

/* Checks that span keys, once each key is read. */
static unsigned check_combinations(struct qedbox_config *cfg, const struct config_text *text,
				   config_report_fn report, void *ctx)
{
	char why[128], line[160];
	unsigned problems = 0;
	if (net_config_parse(config_text_lookup(text, "ip"), config_text_lookup(text, "gw"),
			     &cfg->net, why, sizeof(why)) < 0) {
		cfg->net_ok = false;
		snprintf(line, sizeof(line), "command line: %s (networking off)", why);
		report(ctx, line);
		problems++;
	}
	if (cfg->mutual_chap.secret[0] && !cfg->chap.secret[0]) {
		memset(&cfg->mutual_chap, 0, sizeof(cfg->mutual_chap));
		report(ctx, "command line: mutual_chap: needs chap as well (ignored)");
		problems++;
	}
	return problems;
}

unsigned config_load(struct qedbox_config *cfg, const struct config_text *text,
		     config_report_fn report, void *ctx)
{
	char why[96], line[sizeof(why) + 64];
	struct problem p = { why, sizeof(why) };
	unsigned problems = 0;
	set_defaults(cfg);
	for (unsigned i = 0; i < text->count; i++) {
		if (key_named(text->settings[i].key))
			continue;
		snprintf(line, sizeof(line), "unknown command-line key '%s' (ignored)",
			 text->settings[i].key);
		report(ctx, line);
		problems++;
	}
	for (size_t i = 0; i < N_KEYS; i++) {
		const char *value = config_text_lookup(text, keys[i].name);
		if (!value || !keys[i].parse || keys[i].parse(cfg, value, &p) == 0)
			continue;
		snprintf(line, sizeof(line), "command line: %s: %s (ignored)", keys[i].name, why);
		report(ctx, line);
		problems++;
	}
	return problems + check_combinations(cfg, text, report, ctx);
}

bool config_formats(const struct qedbox_config *cfg, const char *serial)
{
	for (unsigned i = 0; i < cfg->n_format; i++)
		if (strcmp(cfg->format[i], serial) == 0)
			return true;
	return false;
}

void config_print_keys(void (*print)(void *ctx, const char *line), void *ctx)
{
	char line[160];
	for (size_t i = 0; i < N_KEYS; i++) {
		snprintf(line, sizeof(line), "  %-12s %s", keys[i].name, keys[i].help);
		print(ctx, line);
	}
}
