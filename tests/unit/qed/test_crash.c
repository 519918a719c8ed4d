/*
 * Crash enumeration (docs/DESIGN.md, "Crash safety"): each workload runs once on a
 * memdisk with a volatile cache; then power is cut after every event of its trace, and
 * at each cut the image is rebuilt with every subset of the writes still in doubt (a
 * sample when there are many) and with torn writes. Each recovered image must: open
 * (with the boot-time check) and then check clean read-only (whatever the boot path let
 * through is reported here, not repaired away), check clean after repair (and again),
 * show every write acknowledged before a completed flush, show every other sector as
 * either its old or one of its new contents (never stale disk content or another
 * cluster's data), have no allocated extent outside the clusters of the operations
 * started before the cut, and close clean (it reopens without a check). Each workload
 * must reach its committed minimum of states (crash_workloads.h), so an enumeration that
 * shrinks fails. `qemu-img check` (required: its absence is a failure) runs on at least
 * QEMU_SAMPLES states per workload, spread over the whole trace, before and after
 * recovery.
 *
 * CRASH_SCALE=N multiplies the sampling; CRASH_TRACE=1 prints the trace up to the first
 * failing cut of each workload (guest operations and device requests).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "crash_workloads.h"
#include "support/memdisk.h"

#define ENUM_ALL_MAX 8      /* up to 2^8 subsets enumerated at one cut */
#define SAMPLES 128         /* subsets sampled where more writes are in doubt */
#define TORN_MAX 6          /* writes torn per cut */
#define QEMU_SAMPLES 12     /* states per workload checked with qemu-img, over the trace */

struct crash_run {
	const struct workload *w;
	struct memdisk *md, *crashed;
	struct guest_model g;
	uint64_t *seen;          /* hash set of crash-state keys already checked */
	size_t seen_cap;
	uint64_t states, qemu_checked, qemu_failed;
	uint64_t qemu_states;    /* states sampled for qemu-img */
	size_t next_sample;      /* sample the first new state at or past this event */
	int failures;            /* recovered images that broke an invariant */
	int failed_at[REC_STAGES]; /* ... by the first check that failed */
	uint64_t rng;
};

/* ---- the backing file (guest_backing_volume) ------------------------------------------ */
static struct volume backing_volume;

static int open_backing(void *ctx, const char *name, const char *fmt, struct volume **out)
{
	(void)ctx; (void)fmt;
	if (strcmp(name, "backing.img") != 0)
		return -ENOENT;
	backing_volume = guest_backing_volume(IMAGE_SIZE);
	*out = &backing_volume;
	return 0;
}

static const struct qed_open_opts open_opts = {
	.check_on_open = true, .open_backing = open_backing,
};

/* ---- running the workload once ---------------------------------------------------- */
struct setup_job {
	struct crash_run *cr;
	int rc;
};

static void create_task(void *p)
{
	struct setup_job *j = p;
	struct qed_create_opts o = { .image_size = IMAGE_SIZE, .cluster_size = CLUSTER,
		.table_size = TABLE_SIZE };
	if (j->cr->w->backing) {
		o.backing_file = "backing.img";
		o.backing_fmt = "raw";
	}
	j->rc = qed_create(memdisk_blkdev(j->cr->md), &o);
}

static void workload_task(void *p)
{
	struct setup_job *j = p;
	struct wl_ctx c = { .g = &j->cr->g, .rng = j->cr->w->seed };
	j->rc = qed_open(memdisk_blkdev(j->cr->md), &open_opts, &c.img);
	if (j->rc)
		return;
	j->cr->w->run(&c);
	int rc = guest_close(&j->cr->g, c.img);
	j->rc = c.errors ? -EIO : rc;
}

static int record_workload(struct crash_run *cr)
{
	struct memdisk_opts mo = { .capacity = DISK_CAPACITY, .trace = true,
		.seed = cr->w->seed };
	struct memdisk_opts co = { .capacity = DISK_CAPACITY };
	cr->md = memdisk_new(&mo);
	cr->crashed = memdisk_new(&co);
	if (!cr->md || !cr->crashed || guest_model_init(&cr->g, IMAGE_SIZE, cr->w->backing, cr->md))
		return -ENOMEM;
	struct setup_job j = { cr, 0 };
	task_spawn(create_task, &j);
	if (!task_run_all(memdisk_poll, cr->md) || j.rc)
		return j.rc ? j.rc : -EDEADLK;
	memdisk_trace_reset(cr->md);
	task_spawn(workload_task, &j);
	if (!task_run_all(memdisk_poll, cr->md) || j.rc)
		return j.rc ? j.rc : -EDEADLK;
	return 0;
}

/* ---- checking one recovered image -------------------------------------------------- */
struct verify_job {
	struct crash_run *cr;
	char why[256];
	enum recovery_stage failed;
};

static void verify_task(void *p)
{
	struct verify_job *v = p;
	v->failed = recovery_verify(memdisk_blkdev(v->cr->crashed), &open_opts, &v->cr->g,
				    v->why, sizeof(v->why));
}

/* ---- qemu-img check of a sample of recovered images -------------------------------- */
static bool qemu_img_available(void)
{
	return system("qemu-img --version >/dev/null 2>&1") == 0;
}

/* A scratch directory holding backing.img, the backing pattern as a raw file, so
 * that qemu-img finds the backing file of the recovered images beside them. */
static char scratch_dir[] = "/tmp/qedbox-crash-XXXXXX";

static bool make_scratch(void)
{
	static int made; /* 1 made, -1 failed */
	if (made)
		return made > 0;
	made = -1;
	if (!mkdtemp(scratch_dir))
		return false;
	char path[64];
	snprintf(path, sizeof(path), "%s/backing.img", scratch_dir);
	FILE *f = fopen(path, "wb");
	uint8_t sector[GUEST_SECTOR];
	for (uint64_t s = 0; f && s < IMAGE_SIZE / GUEST_SECTOR; s++) {
		guest_backing_pattern(s, sector);
		fwrite(sector, 1, sizeof(sector), f);
	}
	if (f && fclose(f) == 0)
		made = 1;
	return made > 0;
}

static void remove_scratch(void)
{
	char path[64];
	snprintf(path, sizeof(path), "%s/backing.img", scratch_dir);
	unlink(path);
	rmdir(scratch_dir);
}

/* The disk as a file, the way the host keeps it; exit 0 (clean) or 3 (leaks, which a
 * power cut may leave) pass, 2 (corruption) or anything else fails. */
static void qemu_img_check(struct crash_run *cr, const char *stage)
{
	cr->qemu_checked++;
	if (!make_scratch()) {
		cr->qemu_failed++;
		fprintf(stderr, "%s: no scratch directory for qemu-img\n", cr->w->name);
		return;
	}
	char path[64];
	snprintf(path, sizeof(path), "%s/image.qed", scratch_dir);
	FILE *f = fopen(path, "wb");
	bool written = f && fwrite(memdisk_data(cr->crashed), 1, DISK_CAPACITY, f) ==
			    DISK_CAPACITY;
	if (f && fclose(f) != 0)
		written = false;
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "qemu-img check -f qed %s >/dev/null 2>&1", path);
	int st = written ? system(cmd) : -1;
	unlink(path);
	int code = st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	if (code != 0 && code != 3) {
		cr->qemu_failed++;
		fprintf(stderr, "%s: qemu-img check of a recovered image (%s) exited %d\n",
			cr->w->name, stage, code);
	}
}

/* ---- enumeration ------------------------------------------------------------------- */
static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

/* True the first time a crash state is seen: same durable image, same writes landed
 * (torn the same way) and same guest expectations give the same check. */
static bool first_time(struct crash_run *cr, const struct memdisk_replay *r,
		       const struct memdisk_cut *cut, uint64_t flush_epoch)
{
	uint64_t h = mix(mix(flush_epoch, cr->g.epoch), (uint64_t)(cut->torn + 1));
	if (cut->torn >= 0)
		h = mix(h, cut->tear_bits);
	for (size_t i = 0; i < r->n_unflushed && i < 64; i++)
		if ((cut->keep >> i) & 1 || cut->torn == (int)i)
			h = mix(h, r->unflushed[i] + 1);
	h |= 1;
	size_t mask = cr->seen_cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		if (cr->seen[i] == h)
			return false;
		if (!cr->seen[i]) {
			cr->seen[i] = h;
			return true;
		}
	}
}

static void check_state(struct crash_run *cr, const struct memdisk_replay *r,
			const struct memdisk_cut *cut, uint64_t flush_epoch)
{
	if (!first_time(cr, r, cut, flush_epoch))
		return;
	memdisk_power_cut(r, cut, cr->crashed);
	cr->states++;
	/* qemu-img at QEMU_SAMPLES points spread evenly over the trace. */
	bool sample = r->events >= cr->next_sample;
	if (sample) {
		size_t len = memdisk_trace_len(cr->md);
		cr->qemu_states++;
		cr->next_sample = len * cr->qemu_states / QEMU_SAMPLES;
		if (cr->next_sample <= r->events)
			cr->next_sample = r->events + 1;
		qemu_img_check(cr, "before recovery");
	}
	struct verify_job v = { .cr = cr };
	task_spawn(verify_task, &v);
	if (!task_run_all(memdisk_poll, cr->crashed)) {
		v.failed = REC_OPEN;
		snprintf(v.why, sizeof(v.why), "recovery deadlocked");
	}
	if (!v.failed && sample)
		qemu_img_check(cr, "after recovery");
	if (v.failed && cr->failures == 0 && getenv("CRASH_TRACE"))
		guest_print_trace(&cr->g, r->events);
	if (v.failed)
		cr->failed_at[v.failed]++;
	if (v.failed && ++cr->failures <= 5)
		fprintf(stderr, "%s: cut after event %zu/%zu, keep 0x%llx of %zu, torn %d/0x%llx: %s\n",
			cr->w->name, r->events, memdisk_trace_len(cr->md),
			(unsigned long long)cut->keep, r->n_unflushed, cut->torn,
			(unsigned long long)cut->tear_bits, v.why);
}

static uint64_t scale(void)
{
	const char *s = getenv("CRASH_SCALE");
	return s && atoi(s) > 0 ? (uint64_t)atoi(s) : 1;
}

static uint64_t rnd(struct crash_run *cr)
{
	cr->rng ^= cr->rng << 13;
	cr->rng ^= cr->rng >> 7;
	cr->rng ^= cr->rng << 17;
	return cr->rng;
}

static void cut_everywhere(struct crash_run *cr, const struct memdisk_replay *r,
			   uint64_t flush_epoch)
{
	size_t n = r->n_unflushed < 64 ? r->n_unflushed : 64;
	uint64_t all = n == 64 ? ~0ull : (1ull << n) - 1;
	struct memdisk_cut cut = { 0, -1, 0 };
	if (n <= ENUM_ALL_MAX) {
		for (uint64_t keep = 0; keep <= all; keep++) {
			cut.keep = keep;
			check_state(cr, r, &cut, flush_epoch);
		}
	} else {
		for (uint64_t i = 0; i < SAMPLES * scale(); i++) {
			cut.keep = i == 0 ? 0 : i == 1 ? all : rnd(cr) & all;
			check_state(cr, r, &cut, flush_epoch);
		}
	}
	/* Torn writes: first half landed, every other sector, or a random set. */
	for (size_t t = 0; t < n && t < TORN_MAX; t++) {
		uint64_t off, len;
		memdisk_replay_write(r, t, &off, &len);
		uint64_t sectors = len / 512;
		if (sectors < 2)
			continue;
		uint64_t half = sectors >= 128 ? ~0ull >> 32 : (1ull << (sectors / 2)) - 1;
		const uint64_t patterns[] = { half, 0xaaaaaaaaaaaaaaaaull, rnd(cr) };
		for (size_t p = 0; p < 3; p++) {
			cut = (struct memdisk_cut){ rnd(cr) & all, (int)t, patterns[p] };
			check_state(cr, r, &cut, flush_epoch);
		}
	}
}

static void run_crash_enumeration(const struct workload *w, uint64_t *total)
{
	struct crash_run cr = { .w = w, .rng = w->seed * 7919 + 1, .seen_cap = 1u << 20 };
	cr.seen = calloc(cr.seen_cap, sizeof(*cr.seen));
	int rc = cr.seen ? record_workload(&cr) : -ENOMEM;
	CHECK_EQ(0, rc);
	if (rc == 0) {
		struct memdisk_replay r;
		CHECK_EQ(0, memdisk_replay_init(&r, cr.md));
		guest_model_reset(&cr.g);
		uint64_t flush_epoch = 0;
		cut_everywhere(&cr, &r, flush_epoch);
		while (memdisk_replay_step(&r)) {
			const struct memdisk_event *ev = memdisk_trace_event(cr.md, r.events - 1);
			guest_model_apply(&cr.g, ev);
			flush_epoch += ev->kind == MEMDISK_EV_FLUSH_DONE;
			cut_everywhere(&cr, &r, flush_epoch);
		}
		memdisk_replay_free(&r);
	}
	CHECK_EQ(0, cr.failures);
	CHECK_EQ(0, cr.qemu_failed);
	CHECK(cr.qemu_states >= QEMU_SAMPLES);
	if (cr.states < w->min_states)
		fprintf(stderr, "%s: %llu states, fewer than the committed minimum %llu\n",
			w->name, (unsigned long long)cr.states, (unsigned long long)w->min_states);
	CHECK(cr.states >= w->min_states);
	for (int s = 0; s < REC_STAGES; s++)
		if (cr.failed_at[s])
			fprintf(stderr, "%s: %d states failed first at: %s\n", w->name,
				cr.failed_at[s], recovery_stage_names[s]);
	printf("# crash %-20s %4zu trace events, %6llu states (min %6llu), %llu failed, "
	       "qemu-img check %llu/%llu ok (%llu states)\n",
	       w->name, cr.md ? memdisk_trace_len(cr.md) : 0, (unsigned long long)cr.states,
	       (unsigned long long)w->min_states, (unsigned long long)cr.failures,
	       (unsigned long long)(cr.qemu_checked - cr.qemu_failed),
	       (unsigned long long)cr.qemu_checked, (unsigned long long)cr.qemu_states);
	*total += cr.states;
	task_reset();
	guest_model_free(&cr.g);
	memdisk_free(cr.md);
	memdisk_free(cr.crashed);
	free(cr.seen);
}

static uint64_t total_states;

static void test_crash_states_all_workloads(void)
{
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
		run_crash_enumeration(&workloads[i], &total_states);
}

int main(void)
{
	struct timespec t0, t1;
	if (!qemu_img_available()) {
		fprintf(stderr, "test_crash: qemu-img not found: it checks a sample of the "
			"recovered images (Debian: qemu-utils)\n");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	RUN(test_crash_states_all_workloads);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	remove_scratch();
	printf("# crash states checked: %llu in %.1f s\n", (unsigned long long)total_states,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return check_report("test_crash");
}
