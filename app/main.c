/*
 * The appliance's main(): the one place where start-up happens, in order. The platform
 * (boot/) has set up the CPU, memory, clock and interrupts and calls main(); main()
 * reads the configuration once, starts each layer with the part of it that layer needs,
 * prints "qedbox: ready", and runs the event loop until something stops it. Its return
 * value is the power-off status.
 *
 *   1. the platform's boot report, then the configuration (problems on the console)
 *   2. the platform tests the configuration asks for (mmiotest, crashtest)
 *   3. PCI, the virtio-blk disks, the network (lwIP on virtio-net)
 *   4. a task, once the loop runs: the disk table, then the self-test or the volumes
 *      and the iSCSI target
 *
 * Console lines the system tests look for: "qedbox: unknown command-line key",
 * "qedbox: command line: KEY: ...", "qedbox: ready".
 */
#include <inttypes.h>
#include <stdio.h>

#include "config.h"
#include "disks.h"
#include "iscsi_lwip.h"
#include "network.h"
#include "pci.h"
#include "platform.h"
#include "task.h"
#include "virtio_blk.h"
#include "volumes.h"

/* Everything the appliance keeps for its lifetime; main() fills it once. */
static struct {
	struct config_text text;
	struct qedbox_config cfg;
	struct blkdev *devs[DISKS_MAX];
	struct disk_probe disks[DISKS_MAX];
	unsigned n_disks;
	struct iscsi_config iscsi;
} app;

static void print_line(void *ctx, const char *line)
{
	printf("%s%s\n", (const char *)ctx, line);
}

static void load_config(void)
{
	if (config_text_parse(&app.text, platform_cmdline()) < 0)
		printf("qedbox: command line: malformed or excess words ignored\n");
	config_load(&app.cfg, &app.text, print_line, "qedbox: ");
	platform_set_debug_exit(app.cfg.debug_exit);
	if (app.cfg.help) {
		printf("qedbox: command-line keys:\n");
		config_print_keys(print_line, "");
	}
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
	/* Initiators' buffers may take half the heap; the rest stays for QED's caches,
	 * lwIP, task stacks and the drivers. */
	app.iscsi.global_buffer_bytes = platform_heap_bytes() / 2;
	iscsi_lwip_start(&app.iscsi, cfg->iscsi_port);
}

int main(void)
{
	platform_report();
	load_config();
	const struct qedbox_config *cfg = &app.cfg;
	if (cfg->mmiotest)
		platform_mmio_test();
	if (cfg->crashtest[0])
		platform_crash_test(cfg->crashtest);

	pci_scan();
	start_disks();
	network_start(cfg);
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
