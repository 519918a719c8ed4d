/*
 * Device errors at every step: each crash workload (crash_workloads.h) runs again and
 * again with the Nth device request failing with -EIO (once, or from then on: a dying
 * disk), for every N the clean run issues; and once on a disk that runs out of space
 * (-ENOSPC). Nothing may crash or hang; every single fault is reported by the operation
 * it hit, and every operation that fails returns the injected errno (-EIO, or -ENOSPC);
 * then, with the device healthy again (a restart with every completed write on the disk),
 * the image must pass what test_crash asks of a recovered image (recovery_verify in
 * crash_workloads.h): open with the boot-time check, check clean read-only, check clean
 * after repair and again, read back every write a completed flush covered exactly and
 * every other sector as its old or new content (tests/support/guest_model.h), close, and
 * reopen without a check. FAULT_TRACE=1 prints the trace of each failing run.
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
	bool ok;                /* the image was created */
	enum recovery_stage failed;
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

/* Every operation's status is counted (wl_status): the open, each workload operation,
 * the close; a failure with another errno than the injected one is a bad status. */
static void workload_task(void *p)
{
	struct run *r = p;
	struct wl_ctx c = { .g = &r->g, .rng = r->w->seed, .expect_err = r->expect_err };
	int rc = qed_open(memdisk_blkdev(r->md), &open_opts, &c.img);
	if (rc == 0) {
		r->w->run(&c);
		rc = guest_close(&r->g, c.img);
	} /* else the failure hit the open itself: nothing was written */
	wl_status(&c, rc);
	r->errors = c.errors;
	r->bad_status = c.bad_status;
}

static void verify_task(void *p)
{
	struct run *r = p;
	r->failed = recovery_verify(memdisk_blkdev(r->md), &open_opts, &r->g, r->why,
				    sizeof(r->why));
}

struct outcome {
	uint64_t requests;      /* device requests the workload issued */
	int errors;             /* operations that reported an error */
	int fault_op;           /* enum blkdev_op the injected fault hit, -1 none */
};

/* One run: create, arm the fault, run the workload, heal, verify. */
static struct outcome run_once(const struct workload *w, uint64_t fail_at, bool sticky,
			       uint64_t space_limit)
{
	struct outcome out = { 0, 0, -1 };
	struct memdisk_opts mo = { .capacity = DISK_CAPACITY, .trace = true, .seed = w->seed };
	struct run r = { .w = w, .md = memdisk_new(&mo), .expect_err = space_limit ? -ENOSPC : -EIO };
	CHECK(r.md != NULL);
	if (!r.md)
		return out;
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
	out.fault_op = memdisk_fault_op(r.md);
	memdisk_fail_request(r.md, 0, 0, false);
	memdisk_set_space_limit(r.md, 0);

	/* The model follows the whole trace. The restart is a crash with every completed
	 * write on the disk: what a completed flush covered must be there, the rest may be
	 * old or new (an acknowledged write is only durable after a flush, so the boot-time
	 * check may drop clusters past the durable end). */
	guest_model_reset(&r.g);
	for (size_t i = 0; i < memdisk_trace_len(r.md); i++)
		guest_model_apply(&r.g, memdisk_trace_event(r.md, i));
	if (finished) {
		task_spawn(verify_task, &r);
		CHECK(task_run_all(memdisk_poll, r.md));
	}
	if (r.failed && getenv("FAULT_TRACE"))
		guest_print_trace(&r.g, memdisk_trace_len(r.md));
	if (r.failed || r.bad_status)
		fprintf(stderr, "%s: fail request %llu%s, space limit %llu: recovery %s%s%s%s%s\n",
			w->name, (unsigned long long)fail_at, sticky ? " and after" : "",
			(unsigned long long)space_limit, r.failed ? "failed at " : "ok",
			r.failed ? recovery_stage_names[r.failed] : "", r.failed ? ": " : "", r.failed ? r.why : "",
			r.bad_status ? "; an operation failed with an unexpected errno" : "");
	CHECK_EQ(REC_OK, r.failed);
	CHECK_EQ(0, r.bad_status);
	out.errors = r.errors;
	out.requests = (after.reads + after.writes + after.flushes) -
		       (before.reads + before.writes + before.flushes);
	task_reset();
	guest_model_free(&r.g);
	memdisk_free(r.md);
	return out;
}

static const char *const op_names[] = { "read", "write", "flush", "discard", "write zeroes" };

/* Every request of every workload fails once, in turn; every third also from then on.
 * Each single fault must surface: every request the workloads issue belongs to an
 * operation that returns its status to the guest (the open's reads; a write's reads,
 * data, table and header writes and flushes; a flush's flushes and header write; the
 * close's), and none is retried or issued in the background. So no fault is exempt: a
 * fault that no operation reports is a failure. (Were a request ever unobservable by
 * design, e.g. a write nobody waits for, it would have to be listed here with why.) */
static void test_eio_at_every_request(void)
{
	uint64_t runs = 0, singles = 0, unreported = 0, sticky_runs = 0;
	uint64_t hit[5] = { 0 };
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
		struct outcome clean = run_once(&workloads[i], 0, false, 0);
		CHECK_EQ(0, clean.errors); /* the clean run sees no error */
		for (uint64_t n = 1; n <= clean.requests; n++) {
			struct outcome o = run_once(&workloads[i], n, false, 0);
			runs++, singles++;
			/* The run is the clean one up to the nth request: the fault hits it. */
			CHECK(o.fault_op >= 0 && o.fault_op < 5);
			if (o.fault_op >= 0 && o.fault_op < 5)
				hit[o.fault_op]++;
			if (o.errors == 0 && ++unreported <= 10)
				fprintf(stderr, "%s: request %llu (a %s) failed and no operation "
					"reported it\n", workloads[i].name, (unsigned long long)n,
					o.fault_op >= 0 && o.fault_op < 5 ? op_names[o.fault_op] : "?");
			if (n % 3 == 0) {
				o = run_once(&workloads[i], n, true, 0);
				CHECK(o.fault_op >= 0);
				CHECK(o.errors > 0); /* a dead disk cannot go unnoticed */
				runs++, sticky_runs++;
			}
		}
	}
	CHECK_EQ(0, unreported);
	printf("# device errors: %llu runs over every request of %zu workloads: %llu single "
	       "faults (%llu reads, %llu writes, %llu flushes), %llu unreported; %llu dying-disk "
	       "runs\n", (unsigned long long)runs, sizeof(workloads) / sizeof(workloads[0]),
	       (unsigned long long)singles, (unsigned long long)hit[BLKDEV_READ],
	       (unsigned long long)hit[BLKDEV_WRITE], (unsigned long long)hit[BLKDEV_FLUSH],
	       (unsigned long long)unreported, (unsigned long long)sticky_runs);
}

static void test_enospc(void)
{
	/* The disk fills after the metadata and a few data clusters. */
	int total = 0, runs = 0;
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
		for (uint64_t limit = 24 * 1024; limit <= 96 * 1024; limit += 24 * 1024) {
			total += run_once(&workloads[i], 0, false, limit).errors;
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
