/*
 * Concurrent requests for the QED unit tests: each job (a write, or a flush when buf is
 * NULL) runs in a task of its own, after another job or event if it names one, and
 * run_jobs() returns when all have.
 *
 *     struct job jobs[2] = { { .off = 0, .len = 4096, .buf = a }, { .after = &event } };
 *     run_jobs(img, jobs, 2);    // from a task; then look at jobs[i].rc
 */
#ifndef QEDBOX_QED_JOBS_H
#define QEDBOX_QED_JOBS_H

#include "qed.h"
#include "task.h"

struct job {
	uint64_t off;
	size_t len;
	const uint8_t *buf;        /* NULL: a flush */
	struct completion *after;  /* waited for before starting, or NULL */
	void (*then)(void);        /* called as soon as the request returned, or NULL */
	struct completion done;
	int rc;
	struct qed_image *img;     /* set by run_jobs() */
};

static unsigned jobs_running;
static struct completion jobs_all_done;

static inline void job_task(void *arg)
{
	struct job *j = arg;
	if (j->after)
		completion_wait(j->after);
	j->rc = j->buf ? qed_write(j->img, j->off, j->buf, j->len) : qed_flush(j->img);
	if (j->then)
		j->then();
	completion_done(&j->done, 0);
	if (--jobs_running == 0)
		completion_done(&jobs_all_done, 0);
}

static inline void run_jobs(struct qed_image *img, struct job *jobs, int n)
{
	jobs_running = (unsigned)n;
	completion_init(&jobs_all_done);
	for (int i = 0; i < n; i++) {
		jobs[i].img = img;
		completion_init(&jobs[i].done);
	}
	for (int i = 0; i < n; i++)
		task_spawn(job_task, &jobs[i]);
	completion_wait(&jobs_all_done);
}

#endif
