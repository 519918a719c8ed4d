/*
 * Tests of the platform that the command line can ask for (crashtest=, mmiotest): each
 * provokes what the platform must survive or report, and says on the console what
 * happened. tests/system/test_boot.sh reads those lines.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "boot_priv.h"
#include "platform.h"

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

void platform_crash_test(const char *kind)
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

/* Maps the last page below the physical address limit (nothing there: a read gives what
 * QEMU returns for unassigned memory, and must not fault), then asks for the page at the
 * limit, which must be refused. */
void platform_mmio_test(void)
{
	uint64_t limit = paging_address_limit();
	volatile uint32_t *top = mmio_map(limit - 4096, 4096);
	uint32_t value = top ? *top : 0;
	bool refused = mmio_map(limit, 4096) == NULL;
	printf("qedbox: mmiotest: 0x%" PRIx64 " %s (read 0x%" PRIx32 "), 0x%" PRIx64 " %s\n",
	       limit - 4096, top ? "mapped" : "REFUSED", value, limit,
	       refused ? "refused" : "MAPPED");
}
