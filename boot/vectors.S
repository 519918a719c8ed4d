/*
 * Interrupt entry points (64-bit). cpu.c installs them in the IDT:
 *   exception_stubs[32]  CPU exceptions: push a uniform frame (struct exception_frame in
 *                        boot.h) and call exception_report(), which never returns.
 *   irq_wakeup_entry     device MSI-X or INTx, the LAPIC timer: acknowledge the LAPIC
 *                        and return with interrupts disabled. The interrupt only ends
 *                        the loop's "sti; hlt" (the one place interrupts are enabled,
 *                        followed by cli anyway); the loop does the work. Returning with
 *                        IF clear matters for a level-triggered INTx line: it is still
 *                        asserted at the EOI (until the device's poller acknowledges it),
 *                        so the I/O APIC sends the vector again at once; that delivery
 *                        must wait for the loop's next halt, not interrupt the iretq.
 *                        It also counts itself (wakeup_interrupts, for the
 *                        profiler's dump): one add, nothing else shared.
 *   irq_ignore_entry     spurious interrupts (LAPIC, masked legacy PICs): return.
 *   profile_nmi_entry    the profiler's sampling NMI (boot/profile.c), installed only
 *                        when profiling is on: hands the interrupted RIP to
 *                        profile_nmi_sample() and returns. An NMI lands whatever IF says,
 *                        so it samples code that runs with interrupts disabled (all of
 *                        it) without enabling them.
 * None of the handlers that return touch SSE registers, so no FPU state is saved.
 *
 * cpu_halt: the loop's "sti; hlt" (boot/loop.c), here so that the profiler knows the
 * address of the halt: a sample there is idle time.
 */
#include "bootdefs.h"

	.text

/* Exceptions without an error code push a zero so every frame has the same shape. */
.macro EXCEPTION_NOERR vector
exception_\vector:
	pushq $0
	pushq $\vector
	jmp exception_common
.endm
.macro EXCEPTION_ERR vector
exception_\vector:
	pushq $\vector
	jmp exception_common
.endm

EXCEPTION_NOERR 0
EXCEPTION_NOERR 1
EXCEPTION_NOERR 2
EXCEPTION_NOERR 3
EXCEPTION_NOERR 4
EXCEPTION_NOERR 5
EXCEPTION_NOERR 6
EXCEPTION_NOERR 7
EXCEPTION_ERR 8
EXCEPTION_NOERR 9
EXCEPTION_ERR 10
EXCEPTION_ERR 11
EXCEPTION_ERR 12
EXCEPTION_ERR 13
EXCEPTION_ERR 14
EXCEPTION_NOERR 15
EXCEPTION_NOERR 16
EXCEPTION_ERR 17
EXCEPTION_NOERR 18
EXCEPTION_NOERR 19
EXCEPTION_NOERR 20
EXCEPTION_ERR 21
EXCEPTION_NOERR 22
EXCEPTION_NOERR 23
EXCEPTION_NOERR 24
EXCEPTION_NOERR 25
EXCEPTION_NOERR 26
EXCEPTION_NOERR 27
EXCEPTION_NOERR 28
EXCEPTION_ERR 29
EXCEPTION_ERR 30
EXCEPTION_NOERR 31

exception_common:
	push %r15
	push %r14
	push %r13
	push %r12
	push %r11
	push %r10
	push %r9
	push %r8
	push %rbp
	push %rdi
	push %rsi
	push %rdx
	push %rcx
	push %rbx
	push %rax
	mov %rsp, %rdi
	cld
	and $-16, %rsp
	call exception_report
1:	cli
	hlt
	jmp 1b

	.globl irq_wakeup_entry
irq_wakeup_entry:
	incq wakeup_interrupts(%rip)
	push %rax
	mov lapic_eoi_register(%rip), %rax
	movl $0, (%rax)
	andl $~RFLAGS_IF, 24(%rsp) /* the interrupted RFLAGS, above rax, rip and cs */
	pop %rax
	iretq

	.globl irq_ignore_entry
irq_ignore_entry:
	iretq

/* On its own IST stack (cpu.c): an NMI never touches the interrupted stack. The CPU
 * aligned the stack to 16 before pushing its 5-word frame; nine pushes realign it for
 * the call. The C function keeps to general registers (profile.c). cld: the ABI wants
 * DF clear, and the interrupted code may have set it (a backward memmove); iretq
 * restores it. */
	.globl profile_nmi_entry
profile_nmi_entry:
	push %rax
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %r8
	push %r9
	push %r10
	push %r11
	mov 72(%rsp), %rdi /* the interrupted RIP, above the nine registers */
	cld
	call profile_nmi_sample
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rax
	iretq

/* Called with interrupts disabled; returns with them disabled, after an interrupt (or the
 * profiler's NMI) ended the halt. sti enables interrupts only after the next instruction,
 * so one raised before the hlt still ends it. cpu_halt_idle..cpu_halt_idle_end holds the
 * hlt and the instruction it resumes at: where the profiler's samples count as idle. */
	.globl cpu_halt, cpu_halt_idle, cpu_halt_idle_end
cpu_halt:
	sti
cpu_halt_idle:
	hlt
	cli
cpu_halt_idle_end:
	ret

	.bss
	.balign 8
	.globl wakeup_interrupts
wakeup_interrupts:
	.quad 0

	.section .rodata
	.balign 8
	.globl exception_stubs
exception_stubs:
.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad exception_\v
.endr
