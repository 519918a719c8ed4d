/*
 * CPU tables: the TSS (its only use is the IST stack that double faults, NMIs and
 * machine checks switch to, so a stack overflow is still reported) and the IDT.
 *
 * exception_report() is where every CPU exception ends: it prints the vector, error
 * code, RIP, CR2 and the registers on the console with no allocation, then stops the VM
 * with a failure status (boot/power.c).
 */
#include <string.h>

#include "boot_priv.h"
#include "platform.h"

#define IDT_ENTRIES	       256
#define GATE_INTERRUPT_PRESENT 0x8e
#define TSS_AVAILABLE_PRESENT  0x89
#define IST_FAULT	       1
#define IST_NMI		       2 /* the profiler's NMI: never on a fault's stack */
#define NMI_STACK_SIZE	       4096
#define VECTOR_NMI	       2
#define VECTOR_DOUBLE_FAULT    8
#define VECTOR_MACHINE_CHECK   18

struct idt_gate {
	uint16_t offset_low, selector;
	uint8_t ist, type;
	uint16_t offset_mid;
	uint32_t offset_high, reserved;
} __attribute__((packed));

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3, iomap_base;
} __attribute__((packed));

struct descriptor_pointer {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern uint64_t boot_gdt[];
extern void (*const exception_stubs[32])(void);
extern void irq_wakeup_entry(void), irq_ignore_entry(void);

static struct idt_gate idt[IDT_ENTRIES] __attribute__((aligned(16)));
static struct tss tss __attribute__((aligned(16)));
static uint8_t fault_stack[FAULT_STACK_SIZE] __attribute__((aligned(16)));
static uint8_t nmi_stack[NMI_STACK_SIZE] __attribute__((aligned(16)));

static const char *const exception_names[32] = {
    "divide error",
    "debug",
    "NMI",
    "breakpoint",
    "overflow",
    "bound range",
    "invalid opcode",
    "device not available",
    "double fault",
    "coprocessor overrun",
    "invalid TSS",
    "segment not present",
    "stack fault",
    "general protection",
    "page fault",
    "reserved",
    "x87 FPU error",
    "alignment check",
    "machine check",
    "SIMD exception",
    "virtualization",
    "control protection",
};

void cpu_set_interrupt_gate(uint8_t vector, void (*entry)(void), int ist)
{
	uint64_t a = (uint64_t)entry;
	idt[vector] = (struct idt_gate){
	    .offset_low = (uint16_t)a,
	    .selector = GDT_KERNEL_CODE,
	    .ist = (uint8_t)ist,
	    .type = GATE_INTERRUPT_PRESENT,
	    .offset_mid = (uint16_t)(a >> 16),
	    .offset_high = (uint32_t)(a >> 32),
	};
}

static void tss_load(void)
{
	uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;
	tss.ist[IST_FAULT - 1] = (uint64_t)(fault_stack + sizeof(fault_stack));
	tss.ist[IST_NMI - 1] = (uint64_t)(nmi_stack + sizeof(nmi_stack));
	tss.iomap_base = sizeof(tss); /* no I/O bitmap */
	/* A 16-byte system descriptor in boot_gdt[3..4] (GDT_TSS). */
	boot_gdt[GDT_TSS / 8] = (limit & 0xffff) | (base & 0xffffff) << 16 |
				(uint64_t)TSS_AVAILABLE_PRESENT << 40 |
				((limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xff) << 56;
	boot_gdt[GDT_TSS / 8 + 1] = base >> 32;
	__asm__ volatile("ltr %w0" : : "r"(GDT_TSS));
}

void cpu_init(void)
{
	tss_load();
	for (int v = 0; v < 32; v++) {
		bool own_stack =
		    v == VECTOR_NMI || v == VECTOR_DOUBLE_FAULT || v == VECTOR_MACHINE_CHECK;
		cpu_set_interrupt_gate((uint8_t)v, exception_stubs[v], own_stack ? IST_FAULT : 0);
	}
	for (int v = VECTOR_PIC_BASE; v < VECTOR_PIC_BASE + 16; v++)
		cpu_set_interrupt_gate((uint8_t)v, irq_ignore_entry, 0);
	cpu_set_interrupt_gate(VECTOR_WAKEUP, irq_wakeup_entry, 0);
	cpu_set_interrupt_gate(VECTOR_WAKEUP_LEVEL, irq_wakeup_entry, 0);
	cpu_set_interrupt_gate(VECTOR_SPURIOUS, irq_ignore_entry, 0);
	struct descriptor_pointer p = {sizeof(idt) - 1, (uint64_t)idt};
	__asm__ volatile("lidt %0" : : "m"(p));
}

void cpu_set_nmi_handler(void (*entry)(void))
{
	cpu_set_interrupt_gate(VECTOR_NMI, entry, IST_NMI);
}

_Noreturn void exception_report(const struct exception_frame *f)
{
	uint64_t cr2;
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	const char *name =
	    f->vector < 32 && exception_names[f->vector] ? exception_names[f->vector] : "?";
	console_puts("\nqedbox: fatal CPU exception: ");
	console_puts(name);
	console_hex("vector", f->vector);
	console_hex("error", f->error);
	console_hex("rip", f->rip);
	console_hex("cr2", cr2);
	console_puts("\n");
	console_hex("rax", f->rax), console_hex("rbx", f->rbx), console_hex("rcx", f->rcx);
	console_hex("rdx", f->rdx), console_puts("\n");
	console_hex("rsi", f->rsi), console_hex("rdi", f->rdi), console_hex("rbp", f->rbp);
	console_hex("rsp", f->rsp), console_puts("\n");
	console_hex("r8", f->r8), console_hex("r9", f->r9), console_hex("r10", f->r10);
	console_hex("r11", f->r11), console_puts("\n");
	console_hex("r12", f->r12), console_hex("r13", f->r13), console_hex("r14", f->r14);
	console_hex("r15", f->r15), console_puts("\n");
	console_hex("cs", f->cs), console_hex("rflags", f->rflags), console_hex("ss", f->ss);
	console_puts("\n");
	platform_poweroff(PLATFORM_EXIT_PANIC);
}
