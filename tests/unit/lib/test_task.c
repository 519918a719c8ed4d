/* Host tests of the cooperative task runtime (lib/task.c). */
#include "check.h"
#include "task.h"

static char trace[64];
static int trace_len;

static void note(char c)
{
	trace[trace_len++] = c;
	trace[trace_len] = 0;
}

static void yielder(void *arg)
{
	const char *s = arg;
	note(s[0]);
	task_yield();
	note(s[1]);
}

static void test_yield_interleaves_in_fifo_order(void)
{
	trace_len = 0;
	task_spawn(yielder, "ab");
	task_spawn(yielder, "cd");
	CHECK(task_run_ready() > 0);
	CHECK_STR_EQ("acbd", trace);
	CHECK_EQ(0, task_count());
}

struct pending_io {
	struct completion c;
	int result;
};

static void waiter(void *arg)
{
	struct pending_io *io = arg;
	io->result = completion_wait(&io->c);
}

static void test_completion_wakes_blocked_task(void)
{
	struct pending_io io;
	completion_init(&io.c);
	io.result = 1;
	task_spawn(waiter, &io);
	task_run_ready();
	CHECK_EQ(1, task_count()); /* blocked, not finished */
	completion_done(&io.c, -5);
	task_run_ready();
	CHECK_EQ(0, task_count());
	CHECK_EQ(-5, io.result);
}

static void test_completion_done_before_wait(void)
{
	struct pending_io io;
	completion_init(&io.c);
	completion_done(&io.c, 7);
	task_spawn(waiter, &io);
	task_run_ready();
	CHECK_EQ(0, task_count());
	CHECK_EQ(7, io.result);
}

static struct task_lock lock = TASK_LOCK_INIT;
static int in_critical, max_in_critical;

static void locker(void *arg)
{
	task_lock(&lock);
	in_critical++;
	if (in_critical > max_in_critical)
		max_in_critical = in_critical;
	note(*(const char *)arg);
	task_yield();
	task_yield();
	in_critical--;
	task_unlock(&lock);
}

static void test_lock_excludes_and_is_fifo(void)
{
	trace_len = 0;
	max_in_critical = 0;
	task_spawn(locker, "x");
	task_spawn(locker, "y");
	task_spawn(locker, "z");
	task_run_ready();
	CHECK_EQ(1, max_in_critical);
	CHECK_STR_EQ("xyz", trace);
	CHECK(!lock.held);
	CHECK_EQ(0, task_count());
}

static int polls;
static struct completion *poll_target;

static bool poll_completes(void *ctx)
{
	(void)ctx;
	polls++;
	if (poll_target && polls == 3) {
		completion_done(poll_target, 0);
		return true;
	}
	return polls < 3;
}

static void test_run_all_polls_until_done(void)
{
	struct pending_io io;
	completion_init(&io.c);
	poll_target = &io.c;
	polls = 0;
	task_spawn(waiter, &io);
	CHECK(task_run_all(poll_completes, NULL));
	CHECK_EQ(3, polls);
	CHECK_EQ(0, io.result);
}

static void test_run_all_reports_deadlock(void)
{
	struct pending_io io;
	completion_init(&io.c);
	task_spawn(waiter, &io);
	CHECK(!task_run_all(NULL, NULL));
	CHECK_EQ(1, task_count());
	task_reset();
	CHECK_EQ(0, task_count());
}

static void deep(void *arg)
{
	/* Uses most of the stack, then yields: the stack must survive the switch. */
	volatile char buf[48 * 1024];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)i;
	task_yield();
	int ok = 1;
	for (size_t i = 0; i < sizeof(buf); i++)
		ok &= buf[i] == (char)i;
	*(int *)arg = ok;
}

static void test_stack_survives_switches(void)
{
	int ok1 = 0, ok2 = 0;
	task_spawn(deep, &ok1);
	task_spawn(deep, &ok2);
	task_run_ready();
	CHECK_EQ(1, ok1);
	CHECK_EQ(1, ok2);
}

int main(void)
{
	RUN(test_yield_interleaves_in_fifo_order);
	RUN(test_completion_wakes_blocked_task);
	RUN(test_completion_done_before_wait);
	RUN(test_lock_excludes_and_is_fifo);
	RUN(test_run_all_polls_until_done);
	RUN(test_run_all_reports_deadlock);
	RUN(test_stack_survives_switches);
	return check_report("test_task");
}
