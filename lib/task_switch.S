/*
 * task_switch(void **save_sp, void *next_sp): saves the callee-saved registers of the
 * System V x86_64 ABI on the current stack, stores the stack pointer in *save_sp, and
 * resumes the context saved at next_sp. The same file serves the firmware and the host.
 */
	.text
	.globl task_switch
	.type task_switch, @function
task_switch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
	.size task_switch, . - task_switch

	.section .note.GNU-stack, "", @progbits
