/*
 * The appliance's main(): the one place where start-up happens, in order. The platform
 * (boot/) has set up the CPU, memory, clock and interrupts and calls main(); main()
 * reads the configuration once, starts each layer with the part of it that layer needs,
 * prints "qedbox: ready", and runs the event loop until something stops it. Its return
 * value is the power-off status.
 *
 *   1. the platform's boot report, then the configuration: QEMU's fw_cfg file
 *      opt/org.qedbox/config, overridden by the kernel command line (problems on the
 *      console; secrets never)
 *   2. the platform tests the configuration asks for (mmiotest, crashtest)
 *   3. PCI, the random generator's seed, the virtio-blk disks, the network (lwIP on
 *      virtio-net), the profiler when asked for (profile=)
 *   4. a task, once the loop runs: the disk table, then the self-test or the volumes
 *      and the iSCSI target
 *
 * Console lines the system tests look for: "qedbox: command line: ", "qedbox: command
 * line: unknown key", "qedbox: command line: KEY: ...", "qedbox: entropy:", "qedbox: ready".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "disks.h"
#include "entropy.h"
#include "event_log.h"
#include "fw_cfg.h"
#include "iscsi_lwip.h"
#include "network.h"
#include "pci.h"
#include "platform.h"
#include "profile.h"
#include "random.h"
#include "task.h"
#include "virtio_blk.h"
#include "volumes.h"

#define CONFIG_FILE "opt/org.qedbox/config" /* -fw_cfg name=opt/org.qedbox/config,file=F */

/* Everything the appliance keeps for its lifetime; main() fills it once. */
static struct {
	char file[CONFIG_MAX_TEXT];
	struct config_text text;
	struct qedbox_config cfg;
	struct blkdev *devs[DISKS_MAX];
	struct disk_probe disks[DISKS_MAX];
	unsigned n_disks;
	struct iscsi_config iscsi;
	bool seeded; /* the random generator holds enough entropy for CHAP */
} app;

static void print_line(void *ctx, const char *line)
{
	printf("%s%s\n", (const char *)ctx, line);
}

/* The configuration file, when the host gave one; "" otherwise. */
static void read_config_file(void)
{
	size_t len = 0;
	int rc = fw_cfg_read_file(CONFIG_FILE, app.file, sizeof(app.file) - 1, &len);
	app.file[rc == 0 ? len : 0] = '\0';
	if (rc == -E2BIG)
		printf("qedbox: config file %s: %lu bytes, more than %lu: ignored\n", CONFIG_FILE,
		       (unsigned long)len, (unsigned long)(sizeof(app.file) - 1)); /* no %zu */
	else if (rc < 0 && rc != -ENOENT && rc != -ENODEV)
		printf("qedbox: config file %s: not readable (%s)\n", CONFIG_FILE, strerror(-rc));
}

/* What each source said, secrets masked. */
static void show_config(void)
{
	static char line[CONFIG_MAX_TEXT];
	if (app.file[0]) {
		config_describe(&app.text, CONFIG_SOURCE_FILE, line, sizeof(line));
		printf("qedbox: config file: %s\n", line);
	}
	config_describe(&app.text, CONFIG_SOURCE_CMDLINE, line, sizeof(line));
	printf("qedbox: command line: %s\n", line);
}

static void load_config(void)
{
	read_config_file();
	memset(&app.text, 0, sizeof(app.text));
	if (config_text_add(&app.text, app.file, CONFIG_SOURCE_FILE) < 0)
		printf("qedbox: config file: malformed or excess words ignored\n");
	if (config_text_add(&app.text, platform_cmdline(), CONFIG_SOURCE_CMDLINE) < 0)
		printf("qedbox: command line: malformed or excess words ignored\n");
	show_config();
	config_load(&app.cfg, &app.text, print_line, "qedbox: ");
	platform_set_debug_exit(app.cfg.debug_exit);
	if (app.cfg.help) {
		printf("qedbox: configuration keys:\n");
		config_print_keys(print_line, "");
	}
}

static void random_for_chap(void *ctx, void *buf, size_t len)
{
	(void)ctx;
	random_bytes(buf, len);
}

static void start_disks(void)
{
	app.n_disks = virtio_blk_probe_all();
	if (app.n_disks > DISKS_MAX)
		app.n_disks = DISKS_MAX;
	for (unsigned i = 0; i < app.n_disks; i++)
		app.devs[i] = virtio_blk_disk(i);
}

/* Runs once the loop runs: everything that waits for the disks. */
static void serve_task(void *arg)
{
	const struct qedbox_config *cfg = arg;
	disks_probe(app.devs, app.n_disks, app.disks);
	if (cfg->selftest[0]) {
		int rc = disks_selftest(cfg->selftest);
		loop_stop(rc ? PLATFORM_EXIT_FAILURE : PLATFORM_EXIT_SUCCESS);
		return;
	}
	volumes_open(cfg, app.disks, app.n_disks, &app.iscsi);
	app.iscsi.portal = cfg->portal[0] ? cfg->portal : NULL;
	app.iscsi.random = app.seeded ? random_for_chap : NULL; /* no seed: no CHAP */
	/* Initiators' buffers may take half the heap; the rest stays for QED's caches,
	 * lwIP, task stacks and the drivers. */
	uint64_t in_use, high_water, heap_bytes;
	heap_usage(&in_use, &high_water, &heap_bytes);
	app.iscsi.global_buffer_bytes = heap_bytes / 2;
	iscsi_lwip_start(&app.iscsi, cfg->iscsi_port);
}

int main(void)
{
	platform_report();
	event_log_set_clock(clock_ns); /* events are stamped and rate-limited from here on */
	load_config();
	const struct qedbox_config *cfg = &app.cfg;
	if (cfg->mmiotest)
		platform_mmio_test();
	if (cfg->crashtest[0])
		platform_crash_test(cfg->crashtest);

	pci_scan();
	app.seeded = entropy_seed();
	start_disks();
	network_start(cfg);
	if (cfg->profile_hz)
		profile_start(cfg->profile_hz, cfg->profile_port);
	if (!task_spawn(serve_task, &app.cfg))
		printf("qedbox: out of memory starting the volumes\n");
	if (cfg->looptest)
		looptest_start(cfg->looptest);

	printf("qedbox: ready (%" PRIu64 " ms since boot)\n", clock_ns() / 1000000);
	if (cfg->poweroff == POWEROFF_READY)
		return PLATFORM_EXIT_SUCCESS;
	if (cfg->poweroff == POWEROFF_IDLE)
		loop_stop_when_idle(PLATFORM_EXIT_SUCCESS);
	return loop_run();
}
