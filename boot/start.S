/*
 * From the boot loader to C: the firmware's first instructions.
 *
 * Two 32-bit entries, one per boot protocol, both in protected mode with paging off:
 *   boot_entry32_pvh         QEMU -kernel (PVH ELF note): EBX = struct hvm_start_info
 *   boot_entry32_multiboot2  GRUB multiboot2: EAX = 0x36d76289, EBX = multiboot2 info
 * They share one path: zero .bss, identity-map the first 4 GiB with 2 MiB pages (enough
 * to reach the image, the boot structures and the memory map; boot/paging.c replaces
 * these tables), enable PAE, SSE and long mode, load our GDT, and call
 * boot_main(kind, info) on the boot stack. Nothing here touches memory outside the image.
 */
#include "bootdefs.h"

#define MB2_HEADER_MAGIC 0xE85250D6
#define MB2_ARCH_I386 0
#define MB2_TAG_END 0
#define MB2_TAG_ENTRY_ADDRESS 3
#define MB2_BOOTLOADER_MAGIC 0x36d76289
#define XEN_ELFNOTE_PHYS32_ENTRY 18

#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_EM (1 << 2)
#define CR0_TS (1 << 3)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define CR4_OSFXSR (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define MSR_EFER 0xC0000080
#define EFER_LME (1 << 8)
#define PTE_PRESENT_WRITABLE 0x3
#define PTE_LARGE_PRESENT_WRITABLE 0x83
#define EARLY_MAP_PDS 4 /* page directories: 4 x 1 GiB */

/* ---- headers the boot loaders look for --------------------------------------------- */
	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	.balign 8
	.short MB2_TAG_ENTRY_ADDRESS, 0
	.long 12
	.long boot_entry32_multiboot2
	.balign 8
	.short MB2_TAG_END, 0
	.long 8
mb2_header_end:

	.section .note.pvh, "a"
	.balign 4
	.long 4                         /* name size: "Xen\0" */
	.long 4                         /* descriptor size */
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.long boot_entry32_pvh

/* ---- 32-bit entries -------------------------------------------------------------------- */
	.section .text.boot32, "ax"
	.code32
	.globl boot_entry32_multiboot2
boot_entry32_multiboot2:
	cmp $MB2_BOOTLOADER_MAGIC, %eax
	jne boot_stop32
	mov $BOOT_KIND_MULTIBOOT2, %esi
	jmp boot_common32

	.globl boot_entry32_pvh
boot_entry32_pvh:
	mov $BOOT_KIND_PVH, %esi

boot_common32:
	cli
	cld
	mov %ebx, %ebp                  /* boot information, kept in EBP until C */

	mov $__bss_start, %edi          /* .bss: the loaders should zero it; make sure */
	mov $__bss_end, %ecx
	sub %edi, %ecx
	xor %eax, %eax
	rep stosb

	mov $boot_pdpt, %eax            /* PML4[0] -> PDPT */
	or $PTE_PRESENT_WRITABLE, %eax
	mov %eax, boot_pml4
	mov $boot_pd, %eax              /* PDPT[0..3] -> the four page directories */
	or $PTE_PRESENT_WRITABLE, %eax
	mov $boot_pdpt, %edi
	mov $EARLY_MAP_PDS, %ecx
1:	mov %eax, (%edi)
	add $4096, %eax
	add $8, %edi
	loop 1b
	mov $boot_pd, %edi              /* 2048 x 2 MiB pages: physical 0 .. 4 GiB */
	mov $PTE_LARGE_PRESENT_WRITABLE, %eax
	mov $(EARLY_MAP_PDS * 512), %ecx
2:	mov %eax, (%edi)
	add $0x200000, %eax
	add $8, %edi
	loop 2b

	lgdt boot_gdt_pointer
	mov %cr4, %eax
	or $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	mov %eax, %cr4
	mov $boot_pml4, %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $EFER_LME, %eax
	wrmsr
	mov %cr0, %eax
	and $~(CR0_EM | CR0_TS), %eax
	or $(CR0_PE | CR0_MP | CR0_WP | CR0_PG), %eax
	mov %eax, %cr0
	ljmp $GDT_KERNEL_CODE, $boot_long_mode

boot_stop32:
	cli
	hlt
	jmp boot_stop32

/* ---- 64-bit: segments, stack, C ---------------------------------------------------- */
	.code64
	.text
boot_long_mode:
	mov $GDT_KERNEL_DATA, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	xor %eax, %eax
	mov %ax, %fs
	mov %ax, %gs
	mov $boot_stack_top, %rsp
	mov %esi, %edi                  /* boot_main(kind, info) */
	mov %ebp, %esi
	xor %ebp, %ebp                  /* end of the frame-pointer chain */
	call boot_main
3:	cli
	hlt
	jmp 3b

/* ---- data --------------------------------------------------------------------------- */
	.data
	.balign 16
	.globl boot_gdt
boot_gdt:                               /* indexes match GDT_* in bootdefs.h */
	.quad 0                         /* null */
	.quad 0x00af9a000000ffff        /* 64-bit code, ring 0 */
	.quad 0x00cf92000000ffff        /* data, ring 0 */
	.quad 0, 0                      /* TSS (16 bytes), filled in by cpu.c */
boot_gdt_end:
	.globl boot_gdt_pointer
boot_gdt_pointer:
	.short boot_gdt_end - boot_gdt - 1
	.quad boot_gdt

	.section .bss.pagetables, "aw", @nobits
	.balign 4096
boot_pml4: .skip 4096
boot_pdpt: .skip 4096
boot_pd: .skip 4096 * EARLY_MAP_PDS

	.bss
	.balign 4096
	.globl boot_stack_guard, boot_stack_top
boot_stack_guard: .skip 4096            /* left unmapped by paging.c: overflow faults */
boot_stack: .skip BOOT_STACK_SIZE
boot_stack_top:
