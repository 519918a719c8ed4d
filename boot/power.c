/*
 * Stopping the VM: ACPI soft power-off (S5) and QEMU's isa-debug-exit.
 *
 * power_init() finds the PM1 control ports in the FADT and the S5 sleep type in the
 * DSDT's \_S5 package (QEMU's pc and q35 both put PM1a_CNT at 0x604 and S5 at 0: the
 * fallbacks when the tables cannot be read). Once the appliance asked for it
 * (platform_set_debug_exit: the exit=debug key), platform_poweroff(code) first writes
 * code to port 0xf4, so QEMU started with
 * -device isa-debug-exit,iobase=0xf4,iosize=0x04 exits with status (code << 1) | 1.
 */
#include <stdio.h>
#include <string.h>

#include "boot_priv.h"
#include "platform.h"

#define DEBUG_EXIT_PORT	  0xf4
#define QEMU_PM1A_CNT	  0x604
#define PM1_SLP_EN	  (1u << 13)
#define PM1_SLP_TYP_SHIFT 10

/* Offsets in the FADT (ACPI 6.x, section 5.2.9). */
#define FADT_DSDT	40
#define FADT_PM1A_CNT	64
#define FADT_PM1B_CNT	68

/* AML encodings (ACPI 6.x, section 20.2). */
#define AML_PACKAGE_OP	0x12
#define AML_BYTE_PREFIX 0x0a
#define AML_ONE_OP	0x01

static uint16_t pm1a_cnt = QEMU_PM1A_CNT, pm1b_cnt;
static uint16_t slp_typ_a, slp_typ_b;
static const char *power_source = "QEMU's defaults";
static bool s5_found;

/* One integer of an AML package: ZeroOp, OneOp or BytePrefix n. */
static const uint8_t *aml_small_int(const uint8_t *p, uint16_t *out)
{
	if (*p == AML_BYTE_PREFIX) {
		*out = p[1];
		return p + 2;
	}
	*out = *p == AML_ONE_OP;
	return p + 1;
}

/* SLP_TYPa and SLP_TYPb from Name(_S5_, Package(){a, b, ...}) in the DSDT. */
static void s5_from_dsdt(uint64_t dsdt)
{
	if (!acpi_table_plausible(dsdt))
		return;
	const uint8_t *aml = (const uint8_t *)dsdt;
	uint32_t len = acpi_read32(dsdt + ACPI_SDT_LENGTH);
	for (uint32_t i = ACPI_SDT_HEADER_SIZE; i + 12 < len; i++) {
		if (memcmp(aml + i, "_S5_", 4) != 0 || aml[i + 4] != AML_PACKAGE_OP)
			continue;
		const uint8_t *p = aml + i + 5;
		p += 1 + (*p >> 6); /* PkgLength: bits 7-6 count its extra bytes */
		p += 1;		    /* NumElements */
		p = aml_small_int(p, &slp_typ_a);
		aml_small_int(p, &slp_typ_b);
		s5_found = true;
		return;
	}
}

void power_init(const struct boot_info *bi)
{
	uint64_t fadt = acpi_find_table(bi, "FACP");
	if (!fadt)
		return;
	if (acpi_read32(fadt + FADT_PM1A_CNT)) {
		pm1a_cnt = (uint16_t)acpi_read32(fadt + FADT_PM1A_CNT);
		power_source = "the FADT";
	}
	pm1b_cnt = (uint16_t)acpi_read32(fadt + FADT_PM1B_CNT);
	s5_from_dsdt(acpi_read32(fadt + FADT_DSDT));
}

void power_print(void)
{
	printf("qedbox: power-off: PM1a_CNT %#x, S5 type %u (from %s%s)\n", pm1a_cnt, slp_typ_a,
	       power_source, s5_found ? " and \\_S5" : "");
}

static bool debug_exit;

void platform_set_debug_exit(bool on)
{
	debug_exit = on;
}

_Noreturn void platform_poweroff(int code)
{
	__asm__ volatile("cli");
	if (debug_exit)
		outb(DEBUG_EXIT_PORT, (uint8_t)code);
	if (code != PLATFORM_EXIT_PANIC) {
		outw(pm1a_cnt, (uint16_t)(slp_typ_a << PM1_SLP_TYP_SHIFT | PM1_SLP_EN));
		if (pm1b_cnt)
			outw(pm1b_cnt, (uint16_t)(slp_typ_b << PM1_SLP_TYP_SHIFT | PM1_SLP_EN));
	}
	for (;;) /* a panic stays on screen; or power-off did not happen */
		__asm__ volatile("cli; hlt");
}
