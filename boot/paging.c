/*
 * Page tables: every address is its own physical address (identity mapping), so a
 * pointer can be handed to a device as it is.
 *
 * paging_init() maps every region of the memory map with 2 MiB pages (no 1 GiB pages:
 * TCG's default qemu64 CPU lacks them): RAM, ACPI and NVS regions write-back, others
 * uncached. mmio_map() adds uncached mappings for device memory anywhere below the
 * CPU's physical address limit, at most 2^47 (64-bit BARs on q35 can lie far above
 * 4 GiB). Reserved regions above 4 GiB are left out: they hold no firmware tables.
 * Table pages come from a static pool (enough for about 60 GiB of RAM), then the heap.
 *
 * The first 2 MiB (low memory and the image) get 4 KiB pages instead, to leave two
 * pages unmapped: page 0, so that a NULL pointer faults, and the guard page below the
 * boot stack, so that a stack overflow faults (a double fault, reported on its own
 * stack) instead of overwriting .bss.
 */
#include <malloc.h>
#include <string.h>

#include "boot_priv.h"
#include "platform.h"

#define PTE_PRESENT	  0x1ull
#define PTE_WRITABLE	  0x2ull
#define PTE_WRITE_THROUGH 0x8ull
#define PTE_CACHE_DISABLE 0x10ull
#define PTE_LARGE	  0x80ull
#define PTE_ADDRESS_MASK  0x000ffffffffff000ull
#define PTE_UNCACHED	  (PTE_WRITE_THROUGH | PTE_CACHE_DISABLE)
#define LARGE_PAGE	  (2ull << 20)
#define PAGE		  4096ull
#define ENTRIES		  512
#define ADDRESS_LIMIT	  (1ull << 47) /* identity mapping: lower canonical half only */
#define POOL_PAGES	  64
#define FIRMWARE_AREA_END (4ull << 30) /* reserved regions above hold no tables */

typedef uint64_t table_t[ENTRIES];

static table_t pml4 __attribute__((aligned(4096)));
static table_t pool[POOL_PAGES] __attribute__((aligned(4096)));
static unsigned pool_used;
static bool heap_ready;
/* Identity mapping reaches the lower canonical half, and no further than the CPU's
 * physical address width (entries with higher bits set fault as reserved). */
static uint64_t address_limit = ADDRESS_LIMIT;

static uint64_t *table_alloc(void)
{
	uint64_t *t = NULL;
	if (pool_used < POOL_PAGES)
		t = pool[pool_used++];
	else if (heap_ready)
		t = memalign(4096, sizeof(table_t));
	if (t)
		memset(t, 0, sizeof(table_t));
	return t;
}

/* The table that entry `index` of `table` points to, created when absent. */
static uint64_t *next_level(uint64_t *table, unsigned index)
{
	if (!(table[index] & PTE_PRESENT)) {
		uint64_t *t = table_alloc();
		if (!t)
			return NULL;
		table[index] = (uint64_t)t | PTE_PRESENT | PTE_WRITABLE;
	}
	return (uint64_t *)(table[index] & PTE_ADDRESS_MASK);
}

static uint64_t *page_directory(uint64_t phys)
{
	uint64_t *pdpt = next_level(pml4, (phys >> 39) % ENTRIES);
	return pdpt ? next_level(pdpt, (phys >> 30) % ENTRIES) : NULL;
}

static int map_large_page(uint64_t phys, uint64_t flags)
{
	uint64_t *pd = page_directory(phys);
	if (!pd)
		return -1;
	uint64_t *entry = &pd[(phys >> 21) % ENTRIES];
	if ((*entry & PTE_PRESENT) && !(*entry & PTE_LARGE))
		return -1; /* split into 4 KiB pages with guards (below): leave it so */
	*entry = phys | PTE_PRESENT | PTE_WRITABLE | PTE_LARGE | flags;
	return 0;
}

/* Replaces the large page at 0 with 4 KiB pages, all write-back but the guards. */
static void split_first_large_page(void)
{
	uint64_t *pd = page_directory(0), *pt = table_alloc();
	if (!pd || !pt)
		return;
	uint64_t guard = (uint64_t)boot_stack_guard;
	for (uint64_t i = 1; i < ENTRIES; i++) {
		uint64_t phys = i * PAGE;
		if (phys != guard)
			pt[i] = phys | PTE_PRESENT | PTE_WRITABLE;
	}
	pd[0] = (uint64_t)pt | PTE_PRESENT | PTE_WRITABLE;
}

static int map_range(uint64_t base, uint64_t len, uint64_t flags)
{
	if (len == 0 || base >= address_limit || len > address_limit - base)
		return -1;
	for (uint64_t p = base & ~(LARGE_PAGE - 1); p < base + len; p += LARGE_PAGE)
		if (map_large_page(p, flags) < 0)
			return -1;
	return 0;
}

static void load_cr3(void)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"((uint64_t)pml4) : "memory");
}

static bool is_memory(uint32_t type)
{
	return type == MEM_RAM || type == MEM_ACPI || type == MEM_NVS;
}

/* CPUID 0x80000008 EAX[7:0]: physical address bits; 36 when the CPU does not say. */
static uint64_t physical_address_limit(void)
{
	uint32_t r[4];
	cpuid(0x80000000, 0, r);
	unsigned bits = 36;
	if (r[0] >= 0x80000008) {
		cpuid(0x80000008, 0, r);
		bits = r[0] & 0xff;
	}
	return bits < 47 ? 1ull << bits : ADDRESS_LIMIT;
}

void paging_init(const struct boot_info *bi)
{
	address_limit = physical_address_limit();
	/* Device and reserved regions first, so that a 2 MiB page holding both RAM and a
	 * reserved area ends up write-back. */
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned i = 0; i < bi->map_count; i++) {
			const struct mem_region *r = &bi->map[i];
			if (is_memory(r->type) != (pass == 1))
				continue;
			if (!is_memory(r->type) && r->base >= FIRMWARE_AREA_END)
				continue; /* e.g. the HyperTransport hole at 1 TiB: nothing to read
					   */
			if (map_range(r->base, r->len, pass ? 0 : PTE_UNCACHED) < 0)
				console_hex("paging: region not mapped, base", r->base);
		}
	}
	/* The image itself, whatever the map says. */
	map_range((uint64_t)__image_start, (uint64_t)(__image_end - __image_start), 0);
	split_first_large_page();
	load_cr3();
}

void paging_heap_ready(void)
{
	heap_ready = true;
}

uint64_t paging_address_limit(void)
{
	return address_limit;
}

volatile void *mmio_map(uint64_t phys, uint64_t len)
{
	if (map_range(phys, len, PTE_UNCACHED) < 0)
		return NULL;
	load_cr3(); /* drops every cached translation */
	return (volatile void *)phys;
}
