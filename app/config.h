/*
 * The appliance's configuration: every key of the command line, parsed once into typed
 * values and validated with a message per bad key. Portable (host-tested in
 * tests/unit/app/test_config.c). main() loads it once and passes the parts down as
 * arguments: no layer below the appliance reads configuration on its own.
 *
 *     struct config_text text;              // app/config_text.h: key=value settings
 *     config_text_parse(&text, cmdline);
 *     struct qedbox_config cfg;
 *     config_load(&cfg, &text, report, ctx); // report(ctx, line) for each problem
 *
 * The settings come from QEMU's fw_cfg file opt/org.qedbox/config (where secrets stay
 * out of the host's process list), then the kernel command line, which overrides it.
 *
 * A key with a bad value is reported and keeps its default, except where a default would
 * be unsafe: a typo in ip= or gw= turns networking off (net_ok false) rather than
 * bringing the appliance up at an address nobody asked for, and a problem in any access
 * key (acl, chap, mutual_chap, discovery_chap) serves no volume at all (access_ok false)
 * rather than serving them more openly than asked. `help` prints the table of keys.
 */
#ifndef QEDBOX_CONFIG_H
#define QEDBOX_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blkdev.h"
#include "config_text.h"
#include "iscsi_spec.h"
#include "net_config.h"

#define CONFIG_MAX_LIST	      16 /* entries of format= and acl= */
#define CONFIG_CREDENTIAL_MAX 64 /* CHAP user names and secrets, with the NUL */
#define CONFIG_PORTAL_MAX     64

#define CONFIG_DEFAULT_IQN_PREFIX   "iqn.2026-11.org.qedbox"
#define CONFIG_DEFAULT_ISCSI_PORT   3260
#define CONFIG_DEFAULT_CLUSTER_SIZE (64 * 1024)
/* The sampling profiler (profile[=HZ]): off by default. 1 kHz resolves a second of work
 * into 1000 samples and costs well under 1% of the CPU; the bounds keep the PIT's
 * divisor in range (it cannot go below about 18.2 Hz) and the NMIs from flooding a TCG
 * vCPU. */
#define CONFIG_DEFAULT_PROFILE_HZ 1000
#define CONFIG_PROFILE_HZ_MIN	  20
#define CONFIG_PROFILE_HZ_MAX	  10000
#define CONFIG_DEFAULT_PROFILE_PORT 3270
/* The web server (http=, admin_token=, http_allow=): on port 80 unless moved or off. */
#define CONFIG_DEFAULT_HTTP_PORT 80
#define CONFIG_TOKEN_MIN	 16
#define CONFIG_TOKEN_MAX	 128

enum config_poweroff {
	POWEROFF_NEVER, /* serve until the VM is stopped */
	POWEROFF_READY, /* once booted */
	POWEROFF_IDLE,  /* when no task is left and the loop goes idle */
};

struct config_chap {
	char user[CONFIG_CREDENTIAL_MAX];
	char secret[CONFIG_CREDENTIAL_MAX]; /* "" when not configured */
};

/* acl=SERIAL/IQN[/USER:SECRET[/MUSER:MSECRET]]: the initiator IQN may log in to the
 * volume on disk SERIAL, with its own CHAP credentials when given. */
struct config_acl {
	char serial[BLKDEV_SERIAL_MAX + 1];
	char initiator[ISCSI_NAME_MAX];
	struct config_chap chap, mutual; /* secret "": chap= and mutual_chap= apply */
};

/* http_allow=A.B.C.D/LEN: an address range, host order (a.b.c.d is a << 24 | ...). */
struct config_cidr {
	uint32_t addr, mask;
};

struct qedbox_config {
	/* the platform and its tests */
	bool debug_exit;			   /* exit=debug */
	enum config_poweroff poweroff;
	unsigned looptest;			   /* timer wakeups; 0: off */
	char crashtest[8];			   /* "": off */
	bool mmiotest;
	bool help;
	char selftest[BLKDEV_SERIAL_MAX + 1]; /* "": off */
	/* the network */
	struct net_config net;
	bool net_ok; /* false: ip= or gw= was malformed, networking stays off */
	uint16_t tcp_echo_port; /* 0: off */
	bool iperf;
	unsigned profile_hz;	/* 0: off */
	uint16_t profile_port;	/* where the profile is dumped, when profile_hz is set */
	/* the web server: status page, metrics, API (app/http_routes.c) */
	uint16_t http_port;	/* 0: off */
	char admin_token[CONFIG_TOKEN_MAX + 1]; /* "": every action is refused */
	struct config_cidr http_allow[CONFIG_MAX_LIST]; /* who may read; none listed: anyone */
	unsigned n_http_allow;
	bool http_allow_refused; /* a bad http_allow= turns the web server off */
	/* volumes */
	char format[CONFIG_MAX_LIST][BLKDEV_SERIAL_MAX + 1];
	unsigned n_format;
	uint32_t cluster_size;
	/* Writes are durable when they complete (as FUA); the LUNs report no volatile cache.
	 * For shared disks a standby takes over: a flush after the takeover cannot cover
	 * writes the dead appliance acknowledged without one. */
	bool write_through;
	/* the iSCSI target */
	char iqn_prefix[ISCSI_NAME_MAX];
	struct config_acl acl[CONFIG_MAX_LIST];
	unsigned n_acl;
	struct config_chap chap, mutual_chap; /* for initiators without their own */
	struct config_chap discovery_chap;    /* discovery sessions must authenticate */
	bool access_ok; /* false: an access key was refused, and no volume is served */
	char portal[CONFIG_PORTAL_MAX]; /* "": the bound address and port */
	uint16_t iscsi_port;
};

/* Receives one line per problem (no newline). */
typedef void (*config_report_fn)(void *ctx, const char *line);

/* Fills cfg from the settings of text. Returns how many problems were reported. */
unsigned config_load(struct qedbox_config *cfg, const struct config_text *text,
		     config_report_fn report, void *ctx);

/* Whether format= names the disk with this serial. */
bool config_formats(const struct qedbox_config *cfg, const char *serial);

/* Prints the table of keys with a line of help each. */
void config_print_keys(void (*print)(void *ctx, const char *line), void *ctx);

/* Writes the settings of text from source into buf as "key=value ...", every secret
 * replaced by "***": what the console may show. */
void config_describe(const struct config_text *text, const char *source, char *buf, size_t len);

#endif
