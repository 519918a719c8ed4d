/*
 * Device errors at every step: each crash workload (crash_workloads.h) runs again and
 * again with the Nth device request failing with -EIO (once, or from then on: a dying
 * disk), for every N the clean run issues; and once on a disk that runs out of space
 * (-ENOSPC). Nothing may crash or hang; the operations hit report the error; then, with
 * the device healthy again (a restart with every completed write on the disk), the image
 * must open (boot-time check), check clean after repair, and read back every write a
 * completed flush covered exactly and every other sector as its old or new content
 * (tests/support/guest_model.h). FAULT_TRACE=1 prints the trace of each failing run.
 */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "crash_workloads.h"
#include "support/memdisk.h"

static struct volume backing_volume;

static int open_backing(void *ctx, const char *name, const char *fmt, struct volume **out)
{
	(void)ctx; (void)name; (void)fmt;
	backing_volume = guest_backing_volume(IMAGE_SIZE);
	*out = &backing_volume;
	return 0;
}

static const struct qed_open_opts open_opts = {
	.check_on_open = true, .open_backing = open_backing,
};

struct run {
	const struct workload *w;
	struct memdisk *md;
	struct guest_model g;
	int errors;             /* operations that reported an error */
	int bad_status;         /* errors other than the injected kind */
	int expect_err;
	bool ok;
	char why[256];
};

static void create_task(void *p)
{
	struct run *r = p;
	struct qed_create_opts o = { .image_size = IMAGE_SIZE, .cluster_size = CLUSTER,
		.table_size = TABLE_SIZE };
	if (r->w->backing) {
		o.backing_file = "backing.img";
		o.backing_fmt = "raw";
	}
	r->ok = qed_create(memdisk_blkdev(r->md), &o) == 0;
}

static void workload_task(void *p)
{
	struct run *r = p;
	struct wl_ctx c = { .g = &r->g, .rng = r->w->seed };
	int rc = qed_open(memdisk_blkdev(r->md), &open_opts, &c.img);
	if (rc) { /* the failure hit the open itself: nothing was written */
		r->errors++;
		r->bad_status += rc != r->expect_err;
		return;
	}
	r->w->run(&c);
	r->errors += c.errors;
	rc = guest_close(&r->g, c.img);
	r->errors += rc != 0;
	r->bad_status += rc != 0 && rc != r->expect_err;
}

static void verify_task(void *p)
{
	struct run *r = p;
	struct qed_image *img;
	int rc = qed_open(memdisk_blkdev(r->md), &open_opts, &img);
	if (rc) {
		snprintf(r->why, sizeof(r->why), "reopen failed: %d", rc);
		r->ok = false;
		return;
	}
	struct qed_check_result c1 = { 0 }, c2 = { 0 };
	rc = qed_check(img, true, &c1);
	if (rc || c1.corruptions > c1.corruptions_fixed) {
		snprintf(r->why, sizeof(r->why), "check -r: rc %d, %llu corruptions left", rc,
			 (unsigned long long)(c1.corruptions - c1.corruptions_fixed));
		r->ok = false;
	} else if ((rc = qed_check(img, false, &c2)) != 0 || c2.corruptions) {
		snprintf(r->why, sizeof(r->why), "second check: rc %d, %llu corruptions", rc,
			 (unsigned long long)c2.corruptions);
		r->ok = false;
	} else if (!guest_verify_image(&r->g, img, CLUSTER, r->why, sizeof(r->why))) {
		r->ok = false;
	}
	rc = qed_close(img);
	if (r->ok && rc) {
		snprintf(r->why, sizeof(r->why), "close after recovery failed: %d", rc);
		r->ok = false;
	}
}

/* One run: create, arm the fault, run the workload, heal, verify. Returns the number of
 * device requests the workload issued (to size the sweep). */
static uint64_t run_once(const struct workload *w, uint64_t fail_at, bool sticky,
			 uint64_t space_limit, int *errors)
{
	struct memdisk_opts mo = { .capacity = DISK_CAPACITY, .trace = true, .seed = w->seed };
	struct run r = { .w = w, .md = memdisk_new(&mo), .expect_err = space_limit ? -ENOSPC : -EIO };
	CHECK(r.md != NULL);
	if (!r.md)
		return 0;
	CHECK_EQ(0, guest_model_init(&r.g, IMAGE_SIZE, w->backing, r.md));
	task_spawn(create_task, &r);
	CHECK(task_run_all(memdisk_poll, r.md));
	CHECK(r.ok);
	memdisk_trace_reset(r.md);
	struct memdisk_stats before, after;
	memdisk_get_stats(r.md, &before);
	if (fail_at)
		memdisk_fail_request(r.md, fail_at, -EIO, sticky);
	if (space_limit)
		memdisk_set_space_limit(r.md, space_limit);
	task_spawn(workload_task, &r);
	bool finished = task_run_all(memdisk_poll, r.md);
	CHECK(finished);
	memdisk_get_stats(r.md, &after);
	memdisk_fail_request(r.md, 0, 0, false);
	memdisk_set_space_limit(r.md, 0);

	/* The model follows the whole trace. The restart is a crash with every completed
	 * write on the disk: what a completed flush covered must be there, the rest may be
	 * old or new (an acknowledged write is only durable after a flush, so the boot-time
	 * check may drop clusters past the durable end). */
	guest_model_reset(&r.g);
	for (size_t i = 0; i < memdisk_trace_len(r.md); i++)
		guest_model_apply(&r.g, memdisk_trace_event(r.md, i));
	r.ok = true;
	if (finished) {
		task_spawn(verify_task, &r);
		CHECK(task_run_all(memdisk_poll, r.md));
	}
	if (!r.ok && getenv("FAULT_TRACE"))
		guest_print_trace(&r.g, memdisk_trace_len(r.md));
	if (!r.ok || r.bad_status)
		fprintf(stderr, "%s: fail request %llu%s, space limit %llu: %s%s\n", w->name,
			(unsigned long long)fail_at, sticky ? " and after" : "",
			(unsigned long long)space_limit, r.ok ? "" : r.why,
			r.bad_status ? " (an operation failed with an unexpected errno)" : "");
	CHECK(r.ok);
	CHECK_EQ(0, r.bad_status);
	*errors = r.errors;
	task_reset();
	guest_model_free(&r.g);
	memdisk_free(r.md);
	return (after.reads + after.writes + after.flushes) -
	       (before.reads + before.writes + before.flushes);
}

static void test_eio_at_every_request(void)
{
	uint64_t runs = 0, reported = 0;
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
		int errors;
		uint64_t requests = run_once(&workloads[i], 0, false, 0, &errors);
		CHECK_EQ(0, errors); /* the clean run sees no error */
		/* Every request once; the dying-disk variant on every third. */
		for (uint64_t n = 1; n <= requests; n++) {
			run_once(&workloads[i], n, false, 0, &errors);
			reported += errors > 0;
			runs++;
			if (n % 3 == 0) {
				run_once(&workloads[i], n, true, 0, &errors);
				CHECK(errors > 0); /* a dead disk cannot go unnoticed */
				runs++;
			}
		}
	}
	/* Reads that fail are retried by nobody: most injected faults must surface. */
	CHECK(reported > runs / 2);
	printf("# device errors: %llu runs with a failing request (every request of %zu "
	       "workloads), %llu reported an error\n", (unsigned long long)runs,
	       sizeof(workloads) / sizeof(workloads[0]), (unsigned long long)reported);
}

static void test_enospc(void)
{
	/* The disk fills after the metadata and a few data clusters. */
	int errors = 0, total = 0, runs = 0;
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
		for (uint64_t limit = 24 * 1024; limit <= 96 * 1024; limit += 24 * 1024) {
			run_once(&workloads[i], 0, false, limit, &errors);
			total += errors;
			runs++;
		}
	}
	CHECK(total > 0);
	printf("# disk full: %d operations failed with -ENOSPC over %d runs\n", total, runs);
}

int main(void)
{
	RUN(test_eio_at_every_request);
	RUN(test_enospc);
	return check_report("test_qed_faults");
}
