/*
 * The sampling profiler (platform.h): PIT channel 0 in periodic mode, routed through the
 * I/O APIC as an NMI; the NMI handler (vectors.S, then profile_nmi_sample() here) counts
 * the interrupted RIP in the histogram of profile_priv.h.
 *
 * Why an NMI from the PIT:
 *   - The loop runs everything with interrupts disabled (loop.c): handlers only wake the
 *     CPU from its halt, nothing is preempted, nothing needs a lock. A maskable sampling
 *     interrupt would need IF set while code runs, and then every device interrupt too
 *     would land in running code (the wake-up handler clears IF on return, for INTx lines
 *     still asserted: sampling would stop at the first one), unless TPR games hold them
 *     back. An NMI lands whatever IF says: the runtime model stays as it is, and the
 *     samples cover all of the code, the part that runs with interrupts off included.
 *   - The LAPIC timer is the loop's one-shot wake-up (apic.c): sharing it would tie the
 *     sampling rate to the loop's deadlines. The PIT is on every PC QEMU emulates, pc
 *     and q35 alike (HPET is not on microvm-like machines), its channel 0 is otherwise
 *     unused (apic.c stops it), and its IRQ 0 reaches the I/O APIC (GSI 2 through the
 *     MADT's override), which can deliver any edge pin as an NMI.
 * NMIs are not acknowledged (no EOI) and cannot nest; the handler runs on a stack of its
 * own (cpu.c) and touches only the histogram. While the profiler is off none of this
 * exists: vector 2 stays the fatal exception report and the PIT stays stopped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "boot_priv.h"
#include "platform.h"
#include "profile_priv.h"

#define PIT_HZ		   1193182
#define PIT_CHANNEL0	   0x40
#define PIT_COMMAND	   0x43
#define PIT_CH0_RATE_LOHI  0x34 /* channel 0, lobyte/hibyte, mode 2 (rate generator), binary */
#define PIT_DIVISOR_MAX	   65535
#define PIT_ISA_IRQ	   0

_Static_assert(PROFILER_LINE_MAX == PROF_LINE_MAX, "platform.h and profile_priv.h agree");

extern void profile_nmi_entry(void);
void profile_nmi_sample(uint64_t rip);

static struct {
	bool running;
	unsigned hz;
	struct prof_hist hist;
	uint32_t *snapshot; /* the window last taken */
	uint64_t window_start_ns;
} profiler;

/* From the NMI: general registers only, vectors.S saves no SSE state. */
__attribute__((target("general-regs-only"))) void profile_nmi_sample(uint64_t rip)
{
	if (profiler.running)
		prof_hist_record(&profiler.hist, rip);
}

static unsigned pit_start_periodic(unsigned hz)
{
	unsigned divisor = (PIT_HZ + hz / 2) / hz;
	outb(PIT_COMMAND, PIT_CH0_RATE_LOHI);
	outb(PIT_CHANNEL0, (uint8_t)divisor);
	outb(PIT_CHANNEL0, (uint8_t)(divisor >> 8));
	return (PIT_HZ + divisor / 2) / divisor;
}

int profiler_start(unsigned hz)
{
	if (profiler.running)
		return -EALREADY;
	if (hz == 0 || hz > PIT_HZ / 2 || PIT_HZ / hz > PIT_DIVISOR_MAX)
		return -EINVAL;
	uint64_t code_start = (uintptr_t)__text_start, code_end = (uintptr_t)__text_end;
	size_t n = prof_hist_buckets_for(code_start, code_end);
	uint32_t *buckets = calloc(n, sizeof(*buckets));
	profiler.snapshot = calloc(n, sizeof(*profiler.snapshot));
	if (!buckets || !profiler.snapshot) {
		free(buckets);
		free(profiler.snapshot);
		profiler.snapshot = NULL;
		return -ENOMEM;
	}
	prof_hist_init(&profiler.hist, code_start, code_end, (uintptr_t)cpu_halt_idle,
		       (uintptr_t)cpu_halt_idle_end, buckets);
	/* Routed first, so that a failure leaves vector 2 the fatal exception report: the PIT
	 * makes no edge before pit_start_periodic (channel 0's one-shot expired at boot). */
	int rc = ioapic_route_nmi(PIT_ISA_IRQ);
	if (rc < 0) {
		free(buckets);
		free(profiler.snapshot);
		profiler.snapshot = NULL;
		return rc;
	}
	cpu_set_nmi_handler(profile_nmi_entry);
	profiler.running = true; /* before the first NMI can come */
	profiler.hz = pit_start_periodic(hz);
	profiler.window_start_ns = clock_ns();
	printf("qedbox: profiler: %u Hz, %lu buckets of %d bytes over the code\n", profiler.hz,
	       (unsigned long)n, PROF_BUCKET_BYTES); /* newlib's printf has no %zu */
	return 0;
}

bool profiler_take_window(struct profiler_window *w)
{
	if (!profiler.running)
		return false;
	struct prof_counts counts;
	uint64_t now = clock_ns();
	size_t lines = prof_hist_take(&profiler.hist, profiler.snapshot, &counts);
	*w = (struct profiler_window){
		.hz = profiler.hz,
		.ns = now - profiler.window_start_ns,
		.samples = counts.total,
		.idle = counts.idle,
		.outside = counts.outside,
		.lines = lines,
	};
	profiler.window_start_ns = now;
	return true;
}

size_t profiler_format_window(char *buf, size_t cap)
{
	if (!profiler.running) {
		if (cap)
			buf[0] = '\0';
		return 0;
	}
	return prof_hist_format(&profiler.hist, profiler.snapshot, buf, cap);
}
