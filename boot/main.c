/*
 * The appliance's main(): says what it booted on, starts the other layers through
 * their hooks (boot/hooks.h), prints "qedbox: ready", and runs the event loop until
 * something stops it. Its return value is the power-off status.
 *
 * Console lines the system tests look for: "qedbox: booting", "qedbox: memory:",
 * "qedbox: command line:", "qedbox: unknown command-line key", "qedbox: ready".
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "boot.h"
#include "hooks.h"
#include "platform.h"

void config_print_keys(void);

static const char *region_type_name(uint32_t type)
{
	switch (type) {
	case MEM_RAM:
		return "ram";
	case MEM_RESERVED:
		return "reserved";
	case MEM_ACPI:
		return "acpi";
	case MEM_NVS:
		return "acpi-nvs";
	default:
		return "other";
	}
}

static void print_memory_map(const struct boot_info *bi)
{
	uint64_t ram = 0, heap_base, heap_len;
	for (unsigned i = 0; i < bi->map_count; i++) {
		const struct mem_region *r = &bi->map[i];
		printf("  0x%012" PRIx64 "-0x%012" PRIx64 " %s\n", r->base, r->base + r->len - 1,
		       region_type_name(r->type));
		if (r->type == MEM_RAM)
			ram += r->len;
	}
	heap_region(&heap_base, &heap_len);
	printf("qedbox: memory: %" PRIu64 " MiB RAM in %u regions, heap %" PRIu64
	       " MiB at %#" PRIx64 ", image %#" PRIx64 "-%#" PRIx64 "\n",
	       ram >> 20, bi->map_count, heap_len >> 20, heap_base, (uint64_t)__image_start,
	       (uint64_t)__image_end);
}

/* crashtest=KIND: a deliberate CPU exception, to test the exception report. */
static void crash_test(const char *kind)
{
	printf("qedbox: crashtest %s\n", kind);
	fflush(stdout);
	if (strcmp(kind, "ud2") == 0)
		__asm__ volatile("ud2");
	if (strcmp(kind, "pf") == 0)
		(void)*(volatile uint64_t *)0x7ff000000000ull; /* never mapped */
	if (strcmp(kind, "de") == 0) {
		volatile int zero = 0;
		printf("%d\n", 1 / zero);
	}
	printf("qedbox: crashtest: unknown kind '%s'\n", kind);
}

int main(void)
{
	char when[32];
	time_t now = time(NULL); /* through gettimeofday(): the RTC at boot plus clock_ns() */
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
	printf("qedbox: booting (%s, clock %s, %s)\n", bootinfo_kind_name(boot_info.kind),
	       clock_source(), when);
	print_memory_map(&boot_info);
	printf("qedbox: command line: %s\n", boot_info.cmdline);
	config_report_unknown();
	if (config_get("help"))
		config_print_keys();
	const char *crash = config_get("crashtest");
	if (crash)
		crash_test(crash);

	drivers_init();
	net_init();

	const char *looptest_count = config_get("looptest");
	if (looptest_count)
		looptest_start(looptest_count);

	printf("qedbox: ready (%" PRIu64 " ms since boot)\n", clock_ns() / 1000000);
	const char *off = config_get("poweroff");
	if (off && strcmp(off, "ready") == 0)
		return PLATFORM_EXIT_SUCCESS;
	if (off && strcmp(off, "idle") == 0)
		loop_stop_when_idle(PLATFORM_EXIT_SUCCESS);
	return loop_run();
}
