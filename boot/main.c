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
#include "volumes.h"

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
	if (bi->regions_dropped)
		printf("qedbox: memory map: %u regions beyond the first %d ignored\n",
		       bi->regions_dropped, BOOT_MAX_REGIONS);
	heap_region(&heap_base, &heap_len);
	printf("qedbox: memory: %" PRIu64 " MiB RAM in %u regions, heap %" PRIu64
	       " MiB at %#" PRIx64 ", image %#" PRIx64 "-%#" PRIx64 "\n",
	       ram >> 20, bi->map_count, heap_len >> 20, heap_base, (uint64_t)__image_start,
	       (uint64_t)__image_end);
}

/* An address of 0 the compiler cannot see through (it would drop a known NULL read). */
static uintptr_t zero_address(void)
{
	volatile uintptr_t zero = 0;
	return zero;
}

/* Uses stack until the guard page below the boot stack faults (long before the limit,
 * which only keeps the compiler from calling the recursion infinite). */
static unsigned recurse_forever(unsigned depth)
{
	static volatile unsigned limit = 1u << 30;
	volatile char frame[512];
	frame[0] = (char)depth;
	if (depth >= limit)
		return 0;
	return recurse_forever(depth + 1) + frame[0];
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
	if (strcmp(kind, "null") == 0)
		(void)*(volatile uint64_t *)(uintptr_t)zero_address();
	if (strcmp(kind, "stack") == 0)
		printf("%u\n", recurse_forever(1));
	if (strcmp(kind, "de") == 0) /* in assembly: GCC turns 1 / x into a comparison */
		__asm__ volatile("div %0" : : "r"(0u), "a"(1u), "d"(0u));
	printf("qedbox: crashtest: unknown kind '%s'\n", kind);
}

/* mmiotest: maps the last page below the physical address limit (nothing there: a read
 * gives what QEMU returns for unassigned memory, and must not fault), then asks for the
 * page at the limit, which must be refused. */
static void mmio_test(void)
{
	uint64_t limit = paging_address_limit();
	volatile uint32_t *top = mmio_map(limit - 4096, 4096);
	uint32_t value = top ? *top : 0;
	bool refused = mmio_map(limit, 4096) == NULL;
	printf("qedbox: mmiotest: 0x%" PRIx64 " %s (read 0x%" PRIx32 "), 0x%" PRIx64 " %s\n",
	       limit - 4096, top ? "mapped" : "REFUSED", value, limit,
	       refused ? "refused" : "MAPPED");
}

int main(void)
{
	struct tm t;
	time_t now = time(NULL); /* through gettimeofday(): the RTC at boot plus clock_ns() */
	gmtime_r(&now, &t);
	printf("qedbox: booting (%s, clock %s, %04d-%02d-%02d %02d:%02d:%02d UTC)\n",
	       bootinfo_kind_name(boot_info.kind), clock_source(), t.tm_year + 1900, t.tm_mon + 1,
	       t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec);
	print_memory_map(&boot_info);
	power_print();
	ioapic_print();
	printf("qedbox: command line: %s\n", boot_info.cmdline);
	if (boot_info.cmdline_truncated)
		printf("qedbox: command line longer than %d bytes: the rest is ignored\n",
		       BOOT_MAX_CMDLINE - 1);
	config_report_unknown();
	if (config_get("help"))
		config_print_keys();
	if (config_get("mmiotest"))
		mmio_test();
	const char *crash = config_get("crashtest");
	if (crash)
		crash_test(crash);

	drivers_init();
	net_init();
	volumes_start();

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
