/*
 * The command line of this boot (config_get) and the table of every key the firmware
 * knows, each with a one-line description. A key not in the table is reported on the
 * console at boot and otherwise ignored; `help` on the command line prints the table.
 *
 * Each layer adds its keys to known_keys below, one line each, grouped by layer.
 */
#include <stdio.h>

#include "boot.h"
#include "config.h"
#include "platform.h"

/* clang-format off */
static const struct config_key known_keys[] = {
	/* boot/ */
	{ "exit", "debug: power-off ends QEMU through isa-debug-exit (port 0xf4) with status (code << 1) | 1" },
	{ "poweroff", "ready: power off once booted; idle: power off when no task is left and the loop goes idle" },
	{ "looptest", "N: test the event loop (a task, N wakeups of a 20 ms timer), then power off" },
	{ "mmiotest", "map device memory at the top of the physical address space (tests mmio_map)" },
	{ "crashtest", "ud2, pf, null, stack or de: raise that CPU fault after boot (tests the exception report)" },
	{ "help", "print this table of command-line keys at boot" },
	/* drivers/ */
	{ "selftest", "SERIAL: self-test of that virtio-blk disk (OVERWRITES it), then power off" },
	/* net/ */
	{ "ip", "static address a.b.c.d/len (/len optional, default 24); without it, DHCP" },
	{ "gw", "default gateway a.b.c.d for a static address" },
	{ "tcp_echo", "PORT: TCP echo service on PORT (tests the network path)" },
	{ "iperf", "start lwIP's iperf2 server on port 5001 (throughput test)" },
	/* volumes and the iSCSI target (boot/serve_keys.h) */
	{ "iqn_prefix", "target names are PREFIX:SERIAL (default iqn.2026-11.org.qedbox)" },
	{ "format", "SERIAL[,SERIAL...]: format these disks as QED when they are blank" },
	{ "cluster_size", "cluster size for format (4K..64M, default 64K)" },
	{ "acl", "SERIAL/IQN[,SERIAL/IQN...]: only these initiators may log in to that volume" },
	{ "chap", "USER:SECRET: initiators must log in with CHAP (secret of 12 to 63 bytes)" },
	{ "mutual_chap", "USER:SECRET: the target also authenticates itself to initiators (needs chap)" },
	{ "portal", "HOST:PORT given to initiators in SendTargets (default: our address and port)" },
	{ "iscsi_port", "TCP port of the iSCSI target (default 3260)" },
};
/* clang-format on */
#define KNOWN_KEYS (sizeof(known_keys) / sizeof(known_keys[0]))

static struct config boot_config;

void config_init(const char *cmdline)
{
	int rc = config_parse(&boot_config, cmdline);
	if (rc < 0)
		console_puts("qedbox: command line: malformed or excess words ignored\n");
}

const char *config_get(const char *key)
{
	return config_lookup(&boot_config, key);
}

unsigned config_report_unknown(void)
{
	unsigned unknown = 0;
	for (unsigned i = 0; i < boot_config.count; i++) {
		const char *key = boot_config.settings[i].key;
		if (!config_key_known(known_keys, KNOWN_KEYS, key)) {
			printf("qedbox: unknown command-line key '%s' (ignored)\n", key);
			unknown++;
		}
	}
	return unknown;
}

void config_print_keys(void)
{
	printf("qedbox: command-line keys:\n");
	for (size_t i = 0; i < KNOWN_KEYS; i++)
		printf("  %-12s %s\n", known_keys[i].key, known_keys[i].help);
}
