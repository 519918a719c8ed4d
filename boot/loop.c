/*
 * The event loop: runs the tasks, then the pollers, until nothing progresses; then
 * halts until an interrupt (a device's MSI-X or INTx, or the LAPIC timer armed for the
 * earliest deadline a poller asked for with loop_wake_at()).
 *
 * Interrupts stay disabled except inside the final "sti; hlt": the handlers only wake
 * the CPU. Before halting, the pollers run once more with interrupts off, so a
 * completion that arrived after their last look is seen instead of slept through; an
 * interrupt raised after that look is held pending and ends the hlt at once (sti delays
 * delivery until after the next instruction, so the pair cannot lose it). The pair is
 * cpu_halt() (vectors.S), where the profiler recognises idle time.
 * Devices interrupt only when asked to: while the loop runs, their pollers look anyway.
 * The halt hooks, last before the hlt, ask (each re-checks its rings after asking, and
 * a hook that finds work keeps the loop from halting).
 *
 * The sampling profiler (profile.c) changes none of this: it samples with an NMI, which
 * needs no sti. Its NMIs also end a halt (about every millisecond while profiling);
 * the loop then polls once and halts again, as after any spurious wake-up.
 */
#include <stdio.h>

#include "boot_priv.h"
#include "platform.h"
#include "task.h"

#define LOOP_MAX_POLLERS 32

struct poller {
	bool (*poll)(void *ctx);
	void *ctx;
};

static struct poller pollers[LOOP_MAX_POLLERS];
static unsigned poller_count;
static struct poller halt_hooks[LOOP_MAX_POLLERS];
static unsigned halt_hook_count;
static bool stop_requested, stop_when_idle;
static int stop_status, idle_status;
static unsigned halts;
static uint64_t wake_deadline; /* earliest clock_ns() asked for since the last halt; 0: none */

void loop_add_poller(bool (*poll)(void *ctx), void *ctx)
{
	if (poller_count == LOOP_MAX_POLLERS) {
		printf("qedbox: more than %d pollers\n", LOOP_MAX_POLLERS);
		platform_poweroff(PLATFORM_EXIT_FAILURE);
	}
	pollers[poller_count++] = (struct poller){poll, ctx};
}

void loop_add_halt_hook(bool (*before_halt)(void *ctx), void *ctx)
{
	if (halt_hook_count == LOOP_MAX_POLLERS) {
		printf("qedbox: more than %d halt hooks\n", LOOP_MAX_POLLERS);
		platform_poweroff(PLATFORM_EXIT_FAILURE);
	}
	halt_hooks[halt_hook_count++] = (struct poller){before_halt, ctx};
}

void loop_wake_at(uint64_t ns)
{
	if (ns == 0)
		ns = 1;
	if (wake_deadline == 0 || ns < wake_deadline)
		wake_deadline = ns;
}

void loop_stop(int status)
{
	stop_requested = true;
	stop_status = status;
}

void loop_stop_when_idle(int status)
{
	stop_when_idle = true;
	idle_status = status;
}

static bool run_pollers(void)
{
	bool progress = false;
	for (unsigned i = 0; i < poller_count; i++)
		progress |= pollers[i].poll(pollers[i].ctx);
	return progress;
}

/* Every hook runs (each arms its device), even when an earlier one found work. */
static bool run_halt_hooks(void)
{
	bool work_waiting = false;
	for (unsigned i = 0; i < halt_hook_count; i++)
		work_waiting |= halt_hooks[i].poll(halt_hooks[i].ctx);
	return work_waiting;
}

/* Halts until an interrupt, unless something is already due. */
static void idle_wait(void)
{
	__asm__ volatile("cli" ::: "memory");
	if (run_pollers() || stop_requested || task_run_ready() > 0)
		return;
	if (run_halt_hooks())
		return;
	uint64_t deadline = wake_deadline;
	wake_deadline = 0;
	if (deadline) {
		uint64_t now = clock_ns();
		if (deadline <= now)
			return;
		apic_timer_arm(deadline - now);
	}
	halts++;
	cpu_halt();
	if (deadline)
		apic_timer_arm(0);
}

unsigned loop_halt_count(void)
{
	return halts;
}

void platform_get_counters(struct platform_counters *out)
{
	*out = (struct platform_counters){ .interrupts = wakeup_interrupts, .halts = halts };
}

int loop_run(void)
{
	stop_requested = false;
	while (!stop_requested) {
		bool progress = task_run_ready() > 0;
		progress |= run_pollers();
		if (progress)
			continue;
		if (stop_when_idle && task_count() == 0) {
			loop_stop(idle_status);
			break;
		}
		idle_wait();
	}
	return stop_status;
}
