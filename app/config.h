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
 * A key with a bad value is reported and keeps its default, except ip= and gw=: a typo
 * there turns networking off (net_ok false) rather than bringing the appliance up at an
 * address nobody asked for. `help` prints the table of keys (config_print_keys).
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

enum config_poweroff {
	POWEROFF_NEVER, /* serve until the VM is stopped */
	POWEROFF_READY, /* once booted */
	POWEROFF_IDLE,  /* when no task is left and the loop goes idle */
};

struct config_acl {
	char serial[BLKDEV_SERIAL_MAX + 1];
	char initiator[ISCSI_NAME_MAX];
};

struct config_chap {
	char user[CONFIG_CREDENTIAL_MAX];
	char secret[CONFIG_CREDENTIAL_MAX]; /* "" when not configured */
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
	/* volumes */
	char format[CONFIG_MAX_LIST][BLKDEV_SERIAL_MAX + 1];
	unsigned n_format;
	uint32_t cluster_size;
	/* the iSCSI target */
	char iqn_prefix[ISCSI_NAME_MAX];
	struct config_acl acl[CONFIG_MAX_LIST];
	unsigned n_acl;
	struct config_chap chap, mutual_chap;
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

#endif
