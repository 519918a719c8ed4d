/*
 * looptest=N on the command line: exercises the event loop before the appliance's own
 * work. A task yields a few times and ends; a poller with a 20 ms timer asks the loop to
 * wake it (loop_wake_at) N times, then stops the loop. Its report line says how long
 * that took and how often the CPU halted: N wakeups with about N halts show the loop
 * slept on the LAPIC timer instead of spinning.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "boot_priv.h"
#include "platform.h"
#include "task.h"

#define LOOPTEST_PERIOD_NS   20000000ull
#define LOOPTEST_TASK_YIELDS 3

struct looptest {
	unsigned left, wakeups, halts_at_start;
	uint64_t start_ns, next_ns;
};

static struct looptest looptest;

static void looptest_task(void *arg)
{
	(void)arg;
	for (int i = 0; i < LOOPTEST_TASK_YIELDS; i++)
		task_yield();
	printf("qedbox: looptest: task ran %d yields and ended\n", LOOPTEST_TASK_YIELDS);
}

static bool looptest_poll(void *ctx)
{
	struct looptest *t = ctx;
	if (t->left == 0)
		return false;
	uint64_t now = clock_ns();
	if (now < t->next_ns) {
		loop_wake_at(t->next_ns);
		return false;
	}
	t->wakeups++;
	t->next_ns = now + LOOPTEST_PERIOD_NS;
	if (--t->left == 0) {
		printf("qedbox: looptest: %u timer wakeups in %" PRIu64 " ms, %u halts\n",
		       t->wakeups, (now - t->start_ns) / 1000000,
		       loop_halt_count() - t->halts_at_start);
		loop_stop(PLATFORM_EXIT_SUCCESS);
	}
	return true;
}

void looptest_start(unsigned wakeups)
{
	looptest = (struct looptest){
	    .left = wakeups,
	    .halts_at_start = loop_halt_count(),
	    .start_ns = clock_ns(),
	};
	if (looptest.left == 0)
		looptest.left = 1;
	looptest.next_ns = looptest.start_ns + LOOPTEST_PERIOD_NS;
	if (!task_spawn(looptest_task, NULL))
		printf("qedbox: looptest: task_spawn failed\n");
	loop_add_poller(looptest_poll, &looptest);
}
