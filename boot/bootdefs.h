/*
 * Constants shared by the assembly entry code and C (boot/start.S, boot/vectors.S,
 * boot/cpu.c): boot protocol kinds, GDT selectors, stack sizes, interrupt vectors.
 * Plain #defines only: this header is included from assembly.
 */
#ifndef QEDBOX_BOOTDEFS_H
#define QEDBOX_BOOTDEFS_H

/* How we were booted: the first argument of boot_main(). */
#define BOOT_KIND_PVH	     1
#define BOOT_KIND_MULTIBOOT2 2

/* GDT selectors (boot_gdt in start.S). */
#define GDT_KERNEL_CODE 0x08
#define GDT_KERNEL_DATA 0x10
#define GDT_TSS		0x18

#define BOOT_STACK_SIZE	 (64 * 1024)
#define FAULT_STACK_SIZE (16 * 1024) /* IST stack for double faults, NMI, machine checks */

/* Interrupt vectors. The legacy PICs are remapped above the CPU exceptions and masked;
 * their spurious interrupts (IRQ 7 and 15) still arrive and are ignored. */
#define VECTOR_PIC_BASE 0x20
#define VECTOR_WAKEUP	0x40 /* device MSI-X, LAPIC timer: only wakes the CPU */
/* PCI INTx through the I/O APIC, same handler. Level-triggered interrupts need a vector
 * of their own: the LAPIC records the trigger mode per vector as it accepts each
 * interrupt (TMR), so an edge one accepted while a level one is pending would keep the
 * EOI from reaching the I/O APIC, whose pin would then stay blocked (Remote IRR). */
#define VECTOR_WAKEUP_LEVEL 0x41
#define VECTOR_SPURIOUS 0xff /* LAPIC spurious interrupts */

#define RFLAGS_IF 0x200 /* interrupts enabled */

#endif
