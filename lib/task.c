/*
 * Cooperative task scheduler. See task.h for the model.
 *
 * A task is either on the run queue (runnable), blocked (on no queue, or on one wait
 * queue), or running. The loop switches into a task with task_switch() and the task
 * switches back to the loop when it blocks, yields or returns; tasks never switch
 * directly to one another, so the loop stays in charge of polling between them.
 */
#include "task.h"

#include <stdint.h>
#include <stdlib.h>

void task_switch(void **save_sp, void *next_sp);

enum task_state { TASK_RUNNABLE, TASK_BLOCKED, TASK_RUNNING, TASK_DEAD };

struct task {
	void *sp;               /* saved stack pointer while not running */
	void *stack;
	task_fn fn;
	void *arg;
	enum task_state state;
	bool wake_pending;      /* task_wake() came before task_block() */
	struct task *next;      /* run queue or wait queue link */
	struct task *all_prev, *all_next; /* every live task, for task_reset() */
};

static struct {
	struct task *run_head, *run_tail;
	struct task *current;
	struct task *all;
	void *loop_sp;
	unsigned count;
} sched;

static void run_queue_push(struct task *t)
{
	t->next = NULL;
	if (sched.run_tail)
		sched.run_tail->next = t;
	else
		sched.run_head = t;
	sched.run_tail = t;
}

static struct task *run_queue_pop(void)
{
	struct task *t = sched.run_head;
	if (t) {
		sched.run_head = t->next;
		if (!sched.run_head)
			sched.run_tail = NULL;
		t->next = NULL;
	}
	return t;
}

static void switch_to_loop(void)
{
	struct task *self = sched.current;
	task_switch(&self->sp, sched.loop_sp);
}

static void task_entry(void)
{
	struct task *self = sched.current;
	self->fn(self->arg);
	self->state = TASK_DEAD;
	switch_to_loop();
	abort(); /* a dead task is never resumed */
}

struct task *task_spawn(task_fn fn, void *arg)
{
	struct task *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->stack = malloc(TASK_STACK_SIZE);
	if (!t->stack) {
		free(t);
		return NULL;
	}
	t->fn = fn;
	t->arg = arg;

	/* Initial frame for task_switch: six saved registers, then the return address
	 * task_entry; the slot above it stands for task_entry's own return address, so the
	 * stack is aligned as after a call. */
	uintptr_t top = ((uintptr_t)t->stack + TASK_STACK_SIZE) & ~(uintptr_t)15;
	void **sp = (void **)top;
	*--sp = NULL;
	*--sp = (void *)(uintptr_t)task_entry;
	for (int i = 0; i < 6; i++)
		*--sp = NULL;
	t->sp = sp;

	t->all_next = sched.all;
	if (sched.all)
		sched.all->all_prev = t;
	sched.all = t;
	sched.count++;
	t->state = TASK_RUNNABLE;
	run_queue_push(t);
	return t;
}

static void task_free(struct task *t)
{
	if (t->all_prev)
		t->all_prev->all_next = t->all_next;
	else
		sched.all = t->all_next;
	if (t->all_next)
		t->all_next->all_prev = t->all_prev;
	sched.count--;
	free(t->stack);
	free(t);
}

struct task *task_current(void)
{
	return sched.current;
}

void task_yield(void)
{
	struct task *self = sched.current;
	self->state = TASK_RUNNABLE;
	run_queue_push(self);
	switch_to_loop();
}

void task_block(void)
{
	struct task *self = sched.current;
	if (self->wake_pending) {
		self->wake_pending = false;
		return;
	}
	self->state = TASK_BLOCKED;
	switch_to_loop();
}

void task_wake(struct task *t)
{
	if (t->state == TASK_BLOCKED) {
		t->state = TASK_RUNNABLE;
		run_queue_push(t);
	} else if (t->state == TASK_RUNNING) {
		t->wake_pending = true;
	}
	/* Already runnable: the wake is not lost, the task will run anyway. */
}

unsigned task_run_ready(void)
{
	unsigned switches = 0;
	struct task *t;

	while ((t = run_queue_pop()) != NULL) {
		sched.current = t;
		t->state = TASK_RUNNING;
		task_switch(&sched.loop_sp, t->sp);
		sched.current = NULL;
		if (t->state == TASK_DEAD)
			task_free(t);
		switches++;
	}
	return switches;
}

unsigned task_count(void)
{
	return sched.count;
}

bool task_run_all(bool (*poll)(void *ctx), void *ctx)
{
	for (;;) {
		task_run_ready();
		if (sched.count == 0)
			return true;
		if (!poll || !poll(ctx))
			return false;
	}
}

void task_reset(void)
{
	while (sched.all)
		task_free(sched.all);
	sched.run_head = sched.run_tail = NULL;
	sched.current = NULL;
}

void completion_init(struct completion *c)
{
	c->done = false;
	c->status = 0;
	c->waiter = NULL;
}

void completion_done(struct completion *c, int status)
{
	c->status = status;
	c->done = true;
	if (c->waiter)
		task_wake(c->waiter);
}

int completion_wait(struct completion *c)
{
	while (!c->done) {
		c->waiter = sched.current;
		task_block();
	}
	c->waiter = NULL;
	return c->status;
}

void waitq_sleep(struct waitq *wq)
{
	struct task *self = sched.current;
	self->next = NULL;
	if (wq->tail)
		wq->tail->next = self;
	else
		wq->head = self;
	wq->tail = self;
	self->state = TASK_BLOCKED;
	switch_to_loop();
}

bool waitq_wake_one(struct waitq *wq)
{
	struct task *t = wq->head;
	if (!t)
		return false;
	wq->head = t->next;
	if (!wq->head)
		wq->tail = NULL;
	t->next = NULL;
	task_wake(t);
	return true;
}

void waitq_wake_all(struct waitq *wq)
{
	while (waitq_wake_one(wq))
		;
}

void task_lock(struct task_lock *l)
{
	if (!l->held) {
		l->held = true;
		return;
	}
	/* task_unlock hands the lock to us directly: held stays true across the handover. */
	waitq_sleep(&l->waiters);
}

void task_unlock(struct task_lock *l)
{
	if (!waitq_wake_one(&l->waiters))
		l->held = false;
}
