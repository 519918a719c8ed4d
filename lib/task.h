/*
 * Cooperative tasks: the runtime model of qedbox (docs/DESIGN.md, "Runtime model").
 *
 * One CPU, one event loop, no preemption. Each SCSI command and each internal job runs as
 * a task with its own stack, written as straight-line code: when it submits I/O it waits
 * on a completion, and the loop runs other tasks until the completion arrives. The same
 * code runs in the firmware and in host tests.
 *
 * Use:
 *     task_spawn(fn, arg);          // runnable at the next task_run_ready()
 *     task_run_ready();             // from the event loop: run every runnable task
 *                                   // until it blocks, yields or returns
 * Inside a task:
 *     struct completion c; completion_init(&c);
 *     submit_io(..., &c);           // the I/O's callback calls completion_done(&c, rc)
 *     rc = completion_wait(&c);     // blocks this task only
 *
 * Callbacks (device completions, lwIP) run in the loop, outside any task: they may wake
 * tasks (completion_done, waitq_wake_*) but never block.
 */
#ifndef QEDBOX_TASK_H
#define QEDBOX_TASK_H

#include <stdbool.h>
#include <stddef.h>

struct task;
typedef void (*task_fn)(void *arg);

/* Default stack size of a task; big enough for the QED paths and SCSI emulation. */
#define TASK_STACK_SIZE (64 * 1024)

/* Creates a runnable task. Returns NULL when out of memory. The task is freed when fn
 * returns. */
struct task *task_spawn(task_fn fn, void *arg);

/* The running task, or NULL when called from the loop. */
struct task *task_current(void);

/* Lets the other runnable tasks run; the caller stays runnable. */
void task_yield(void);

/* Blocks the running task until task_wake(). A wake that comes first is remembered. */
void task_block(void);
void task_wake(struct task *t);

/* Runs runnable tasks until none is left runnable. Returns how many task switches
 * were made (0: nothing was runnable). Never call from inside a task. */
unsigned task_run_ready(void);

/* Tasks alive (runnable or blocked). */
unsigned task_count(void);

/*
 * Runs the loop until every task has returned: runnable tasks first, then poll(ctx)
 * when none is runnable, which must complete some outstanding I/O (host tests and tools,
 * where devices complete from a poll function). Returns false if poll reported no
 * progress while tasks were still blocked (a deadlock).
 */
bool task_run_all(bool (*poll)(void *ctx), void *ctx);

/* Frees every task and resets the scheduler (between tests). Only from outside tasks. */
void task_reset(void);

/* ---- completions: one result delivered once to one waiting task --------------------- */
struct completion {
	bool done;
	int status;
	struct task *waiter;
};

void completion_init(struct completion *c);
void completion_done(struct completion *c, int status);
int completion_wait(struct completion *c);

/* ---- wait queues and locks ------------------------------------------------------------ */
struct waitq {
	struct task *head, *tail;
};

#define WAITQ_INIT { NULL, NULL }

/* Blocks the running task on wq until waitq_wake_one/all picks it. */
void waitq_sleep(struct waitq *wq);
/* Wakes the task waiting longest; returns false when none waits. */
bool waitq_wake_one(struct waitq *wq);
void waitq_wake_all(struct waitq *wq);
static inline bool waitq_empty(const struct waitq *wq) { return wq->head == NULL; }

/* A sleeping lock between tasks, handed over in FIFO order. */
struct task_lock {
	bool held;
	struct waitq waiters;
};

#define TASK_LOCK_INIT { false, WAITQ_INIT }

void task_lock(struct task_lock *l);
void task_unlock(struct task_lock *l);

#endif
