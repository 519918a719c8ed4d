/*
 * The boot layer's internal interface: what its files give each other. Drivers and the
 * rest of the firmware use boot/platform.h instead.
 *
 * Start-up order (boot/setup.c): console, CPU tables, boot information, paging, heap,
 * clock, interrupts, then main().
 */
#ifndef QEDBOX_BOOT_PRIV_H
#define QEDBOX_BOOT_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bootdefs.h"

/* ---- boot information (bootinfo.c), filled from the PVH or multiboot2 structures ------ */
#define MEM_RAM		 1 /* region types as in the e820 / PVH / multiboot2 maps */
#define MEM_RESERVED	 2
#define MEM_ACPI	 3
#define MEM_NVS		 4
#define BOOT_MAX_REGIONS 64
#define BOOT_MAX_CMDLINE 2048
#define BOOT_MAX_BUSY	 4

struct mem_region {
	uint64_t base, len;
	uint32_t type;
};

struct boot_info {
	int kind; /* BOOT_KIND_* */
	struct mem_region map[BOOT_MAX_REGIONS];
	unsigned map_count;
	unsigned regions_dropped; /* beyond BOOT_MAX_REGIONS: neither mapped nor heap */
	char cmdline[BOOT_MAX_CMDLINE];
	bool cmdline_truncated;
	uint64_t rsdp;			       /* ACPI RSDP, 0 if the loader gave none */
	struct mem_region busy[BOOT_MAX_BUSY]; /* boot structures the heap must avoid */
	unsigned busy_count;
};

/* Reads the loader's structures at info. Returns 0 or -EINVAL if they are not valid. */
int bootinfo_parse(int kind, uint64_t info, struct boot_info *out);
const char *bootinfo_kind_name(int kind);
extern struct boot_info boot_info;

/* Linker symbols (linker.ld). */
extern char __image_start[], __image_end[];
extern char __text_start[], __text_end[]; /* the code: what the profiler samples */
extern char boot_stack_guard[]; /* start.S: the page below the boot stack */

/* ---- console.c: COM1 ------------------------------------------------------------------ */
void console_init(void);
void console_write(const char *s, size_t len);
void console_puts(const char *s);
void console_hex(const char *label, uint64_t v); /* " label=0x..." without allocating */

/* ---- cpu.c: descriptor tables and exceptions --------------------------------------------- */
void cpu_init(void);
void cpu_set_interrupt_gate(uint8_t vector, void (*entry)(void), int ist);
/* NMIs go to entry, on a stack of their own, instead of the fatal exception report. */
void cpu_set_nmi_handler(void (*entry)(void));
/* vectors.S: the loop's "sti; hlt; cli" (called with interrupts disabled), the halt's
 * address range (profile.c counts samples there as idle), and the wake-up interrupts
 * taken since boot. */
void cpu_halt(void);
extern char cpu_halt_idle[], cpu_halt_idle_end[];
extern uint64_t wakeup_interrupts;

struct exception_frame { /* as pushed by vectors.S */
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};
_Noreturn void exception_report(const struct exception_frame *f);

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}
static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* ---- paging.c ---------------------------------------------------------------------------- */
/* Builds the final page tables: all regions of the memory map identity-mapped. */
void paging_init(const struct boot_info *bi);
/* From then on, page-table pages beyond the static pool come from the heap. */
void paging_heap_ready(void);
/* The first physical address that cannot be mapped (the CPU's physical address width). */
uint64_t paging_address_limit(void);

/* ---- syscalls.c: newlib's heap ------------------------------------------------------------ */
void heap_init(const struct boot_info *bi);
void heap_region(uint64_t *base, uint64_t *len);

/* ---- clock.c -------------------------------------------------------------------------------- */
/* entry_tsc: the TSC when boot_main() began, where clock_ns() counts from. */
void clock_init(uint64_t entry_tsc);
const char *clock_source(void);
uint64_t clock_wall_epoch_ns(void); /* wall-clock time at boot (from the RTC), ns since 1970 */

/* ---- apic.c ------------------------------------------------------------------------------- */
void apic_init(void);
/* Arms the LAPIC timer to interrupt (VECTOR_WAKEUP) after about ns; 0 disarms it. */
void apic_timer_arm(uint64_t ns);
uint8_t apic_local_id(void); /* this CPU's local APIC ID: where interrupts are sent */

/* ---- loop.c, looptest.c ----------------------------------------------------------------- */
unsigned loop_halt_count(void); /* times the loop halted the CPU since boot */

/* ---- acpi.c: tables, read where they lie (early page tables: the first 4 GiB) ---------- */
#define ACPI_SDT_LENGTH	     4 /* u32 in every table's header */
#define ACPI_SDT_HEADER_SIZE 36
/* Address of the table with this signature ("FACP", "APIC"), or 0. */
uint64_t acpi_find_table(const struct boot_info *bi, const char signature[4]);
bool acpi_table_plausible(uint64_t table); /* a length a table can have, below 4 GiB */
uint16_t acpi_read16(uint64_t address);	   /* fields need not be aligned */
uint32_t acpi_read32(uint64_t address);

/* ---- ioapic.c: legacy interrupts (PCI INTx) ------------------------------------------- */
/* Reads the MADT: the I/O APICs and the ISA interrupt source overrides. */
void ioapic_find(const struct boot_info *bi);
/* Maps the I/O APICs and masks every pin (after apic_init). */
void ioapic_init(void);
void ioapic_print(void); /* what ioapic_find() found, on the console */
/* Routes ISA interrupt irq through the I/O APIC to this CPU as an NMI (edge-triggered,
 * as NMI delivery requires). 0, -ENODEV when no pin serves it, -EBUSY when the pin is
 * routed already. */
int ioapic_route_nmi(unsigned irq);

/* ---- power.c ------------------------------------------------------------------------------- */
void power_init(const struct boot_info *bi);
void power_print(void); /* the ports and sleep type found, on the console */

#endif
