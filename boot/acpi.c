/*
 * ACPI tables: finds a table by its signature. Used at boot, while the early page
 * tables map the first 4 GiB, by power.c (the FADT) and ioapic.c (the MADT).
 *
 * The RSDP is the one the loader gave (PVH, multiboot2) or else the one found in the
 * BIOS area; the table list is the XSDT (64-bit entries) when the RSDP has one, else
 * the RSDT (32-bit entries). Tables are read in place, field by field: they need not
 * be aligned, and nothing in them is trusted beyond a plausible length.
 */
#include <string.h>

#include "boot_priv.h"

#define BIOS_AREA_START 0xe0000
#define BIOS_AREA_END	0x100000
#define ACPI_TABLE_MAX	(1u << 20) /* larger "tables" are garbage */

/* Offsets in the RSDP (ACPI 6.x, section 5.2.5). */
#define RSDP_REVISION 15
#define RSDP_RSDT     16
#define RSDP_XSDT     24

uint16_t acpi_read16(uint64_t a)
{
	uint16_t v;
	memcpy(&v, (const void *)a, 2);
	return v;
}

uint32_t acpi_read32(uint64_t a)
{
	uint32_t v;
	memcpy(&v, (const void *)a, 4);
	return v;
}

static uint64_t acpi_read64(uint64_t a)
{
	uint64_t v;
	memcpy(&v, (const void *)a, 8);
	return v;
}

static uint64_t rsdp_find(uint64_t given)
{
	if (given)
		return given;
	for (uint64_t a = BIOS_AREA_START; a < BIOS_AREA_END; a += 16)
		if (memcmp((const void *)a, "RSD PTR ", 8) == 0)
			return a;
	return 0;
}

bool acpi_table_plausible(uint64_t t)
{
	return t && t < (4ull << 30) && acpi_read32(t + ACPI_SDT_LENGTH) >= ACPI_SDT_HEADER_SIZE &&
	       acpi_read32(t + ACPI_SDT_LENGTH) <= ACPI_TABLE_MAX;
}

uint64_t acpi_find_table(const struct boot_info *bi, const char signature[4])
{
	uint64_t rsdp = rsdp_find(bi->rsdp), sdt;
	if (!rsdp)
		return 0;
	unsigned entry_size = 4;
	if (*(const uint8_t *)(rsdp + RSDP_REVISION) >= 2 &&
	    acpi_table_plausible(acpi_read64(rsdp + RSDP_XSDT)))
		sdt = acpi_read64(rsdp + RSDP_XSDT), entry_size = 8;
	else
		sdt = acpi_read32(rsdp + RSDP_RSDT);
	if (!acpi_table_plausible(sdt))
		return 0;
	uint32_t len = acpi_read32(sdt + ACPI_SDT_LENGTH);
	for (uint32_t off = ACPI_SDT_HEADER_SIZE; off + entry_size <= len; off += entry_size) {
		uint64_t t = entry_size == 8 ? acpi_read64(sdt + off) : acpi_read32(sdt + off);
		if (acpi_table_plausible(t) && memcmp((const void *)t, signature, 4) == 0)
			return t;
	}
	return 0;
}
