/*
 * The platform: what boot/ gives the layers above it (firmware only). drivers/, the
 * lwIP port and the firmware bindings of net/, and the appliance (app/) include it;
 * qed/ and the protocol code of net/ never do, so they build on the host. Memory is identity-mapped: a pointer is its physical
 * address, so buffers can be handed to devices as they are.
 */
#ifndef QEDBOX_PLATFORM_H
#define QEDBOX_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- port I/O --------------------------------------------------------------------- */
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }
/* len bytes from one port into buf (rep insb): a hypervisor serves the whole string in
 * one exit or a few, where an inb loop takes one exit per byte. */
static inline void insb(uint16_t port, void *buf, size_t len)
{
	__asm__ volatile("rep insb" : "+D"(buf), "+c"(len) : "d"(port) : "memory");
}

/* ---- memory ----------------------------------------------------------------------- */
/* Makes [phys, phys+len) of device memory accessible (uncached), returns its pointer. */
volatile void *mmio_map(uint64_t phys, uint64_t len);
/* The heap (malloc's arena, grown by sbrk): bytes allocated now, the most the arena ever
 * took from the heap (its high-water mark: malloc reuses freed memory before growing),
 * and the heap's size (the appliance sizes its budgets from it). */
void heap_usage(uint64_t *in_use, uint64_t *high_water, uint64_t *size);

/* ---- time ------------------------------------------------------------------------- */
/* Monotonic nanoseconds since boot. */
uint64_t clock_ns(void);

/* ---- entropy (boot/entropy.c) ------------------------------------------------------ */
/* Fills buf with up to len bytes from the CPU's RDSEED (or RDRAND when the CPU lacks
 * RDSEED, or RDSEED stays empty); returns the bytes delivered: 0 when the CPU has
 * neither instruction, fewer than len when the hardware keeps failing. RDSEED bytes are
 * full entropy; RDRAND bytes come from a DRBG the hardware source reseeds. */
size_t cpu_entropy(void *buf, size_t len);
/* "rdseed", "rdrand" or "none": what cpu_entropy() draws from first. */
const char *cpu_entropy_source(void);

/* ---- interrupts -------------------------------------------------------------------- */
/* The interrupt vector devices signal by MSI-X; its handler only acknowledges the local
 * APIC: interrupts exist to wake the CPU from hlt, the loop does the work. */
uint8_t irq_wakeup_vector(void);
/* MSI address that targets this CPU. */
uint64_t irq_msi_address(void);
/* Routes legacy interrupt line irq (a PCI function's Interrupt Line register as the
 * firmware set it: an ISA IRQ, which the ACPI overrides map to a GSI) through the I/O
 * APIC to this CPU, to wake it as irq_wakeup_vector() does. Lines may be shared. A PCI
 * line is level-triggered: it stays asserted until the device is acknowledged (virtio:
 * its ISR status read), which its driver must do before the loop halts (in its halt
 * hook, or its poller), before looking for work a last time. 0, or -ENODEV when no I/O
 * APIC pin serves the line. */
int irq_route_legacy(unsigned irq);

/* ---- the event loop (boot/loop.c) ---------------------------------------------------- */
/* A poller looks at its device (used rings, timers) and returns true when it made
 * progress. The loop runs tasks and pollers until nothing progresses, then halts with
 * interrupts enabled until the next interrupt. */
void loop_add_poller(bool (*poll)(void *ctx), void *ctx);
/* before_halt runs, with interrupts off, after the pollers' last look and just before
 * the CPU halts: a device that interrupts only on request (virtio event suppression)
 * asks for its interrupt here, then looks at its rings once more and returns true when
 * work came meanwhile (the loop then runs again instead of halting). */
void loop_add_halt_hook(bool (*before_halt)(void *ctx), void *ctx);
/* Runs until loop_stop(); returns its status. */
int loop_run(void);
void loop_stop(int status);
/* Wakes the loop from its halt no later than about clock_ns() == ns (LAPIC timer). A
 * request lasts until the loop next halts: a poller with a timer asks each time it runs. */
void loop_wake_at(uint64_t ns);
/* Makes loop_run() return status the first time no task is left and nothing progresses
 * (the poweroff=idle key; system tests whose work runs as tasks). */
void loop_stop_when_idle(int status);

/* What the platform counted since boot, for the profiler's dump. */
struct platform_counters {
	uint64_t interrupts; /* wake-up interrupts taken: device MSI-X or INTx, LAPIC timer */
	uint64_t halts;      /* times the loop halted the CPU */
};
void platform_get_counters(struct platform_counters *out);

/* ---- the sampling profiler (boot/profile.c) ----------------------------------------- */
/* Off unless started: then PIT channel 0 raises an NMI hz times a second, whose handler
 * counts the interrupted RIP in a histogram of the code (16-byte buckets, allocated
 * here once) or as idle when the loop was halted. Interrupts stay disabled while code
 * runs: an NMI needs no sti. 0, -EINVAL (hz outside what the PIT can do), -ENOMEM,
 * -ENODEV (no I/O APIC pin for the PIT), -EALREADY. */
int profiler_start(unsigned hz);

/* A window of samples: from the start, or the previous profiler_take_window(), to now. */
struct profiler_window {
	unsigned hz;	  /* the PIT's actual rate */
	uint64_t ns;	  /* the window's length */
	uint64_t samples; /* all of them, idle and outside included */
	uint64_t idle;	  /* in the loop's halt */
	uint64_t outside; /* outside the code (none expected) */
	size_t lines;	  /* "sample" lines profiler_format_window() has to write */
};
/* Ends the current window and starts the next one (its samples start from zero); false
 * when the profiler is off. */
bool profiler_take_window(struct profiler_window *w);
/* The window last taken, one line per 16-byte bucket with samples, in address order:
 * "sample 0xADDRESS COUNT\n"; as many whole lines as fit in cap bytes (with the NUL);
 * returns the length. A buffer of lines * PROFILER_LINE_MAX + 1 bytes takes them all. */
#define PROFILER_LINE_MAX 40
size_t profiler_format_window(char *buf, size_t cap);

/* ---- start-up ---------------------------------------------------------------------- */
/* The command line the boot loader gave (the appliance parses it). */
const char *platform_cmdline(void);
/* Prints what we booted on: loader, clock, memory map, power-off, I/O APICs. */
void platform_report(void);

/* ---- tests of the platform (crashtest=, mmiotest, looptest=) ------------------------- */
/* Raises the CPU fault named by kind (ud2, pf, null, stack, de): the exception report
 * follows and the VM stops. Returns only for an unknown kind. */
void platform_crash_test(const char *kind);
/* Maps device memory at the top of the physical address space and reports it. */
void platform_mmio_test(void);
/* A task and a poller that wakes wakeups times on a 20 ms timer, then stops the loop. */
void looptest_start(unsigned wakeups);

/* ---- power --------------------------------------------------------------------------- */
/* Stops the VM. After platform_set_debug_exit(true) (the exit=debug key), with an
 * isa-debug-exit device at 0xf4, QEMU exits with status (code << 1) | 1; otherwise ACPI power-off
 * (QEMU exits 0). PLATFORM_EXIT_PANIC (fatal CPU exceptions) never powers off by ACPI:
 * without the debug exit the VM halts with its report on the console. */
#define PLATFORM_EXIT_SUCCESS 0 /* QEMU status 1 with exit=debug */
#define PLATFORM_EXIT_FAILURE 1 /* QEMU status 3 */
#define PLATFORM_EXIT_PANIC 2   /* QEMU status 5 */
_Noreturn void platform_poweroff(int code);
void platform_set_debug_exit(bool on);

#endif
