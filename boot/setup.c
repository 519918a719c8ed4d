/*
 * boot_main(): from start.S to main(), in the order each part needs the one before:
 * console (to report anything), CPU tables (to report faults), boot information,
 * ACPI power-off ports and I/O APICs (read while the early tables map the first 4 GiB),
 * final page tables, heap, clock, interrupts. Then main(); exit() with its status
 * flushes stdio and powers off.
 */
#include <stdlib.h>

#include "boot_priv.h"
#include "platform.h"

int main(void);
void boot_main(uint32_t kind, uint32_t info);

void boot_main(uint32_t kind, uint32_t info)
{
	uint64_t entry_tsc = rdtsc();
	console_init();
	cpu_init();
	if (bootinfo_parse((int)kind, info, &boot_info) < 0) {
		console_puts("qedbox: the boot loader's information is not usable; stopping\n");
		platform_poweroff(PLATFORM_EXIT_PANIC);
	}
	power_init(&boot_info);
	ioapic_find(&boot_info);
	paging_init(&boot_info);
	heap_init(&boot_info);
	clock_init(entry_tsc);
	apic_init();
	ioapic_init();
	exit(main());
}
