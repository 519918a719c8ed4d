/*
 * The platform's boot report: what the appliance booted on, printed once by main()
 * before any device is touched. Console lines the system tests look for: "qedbox:
 * booting", "qedbox: memory:", "qedbox: power-off:". The command line itself is shown by
 * the appliance, which knows which of its values are secrets.
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "boot_priv.h"
#include "platform.h"

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

void platform_report(void)
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
	if (boot_info.cmdline_truncated)
		printf("qedbox: command line longer than %d bytes: the rest is ignored\n",
		       BOOT_MAX_CMDLINE - 1);
}

const char *platform_cmdline(void)
{
	return boot_info.cmdline;
}
