/* Host tests of concurrent requests on one image: allocating writers of the same cluster
 * and of the same (new) L2 table, requests not held behind allocations, and many
 * requests in flight at once. The test disk completes each batch in reverse order. */
#include "qedtest_util.h"

#define MiB (1024ull * 1024)
#define CS (64u * 1024)
#define NWRITERS 8

static struct testdisk *disk;
static struct qed_image *img;

/* ---- running several requests as tasks --------------------------------------------- */
struct job {
	enum { JOB_WRITE, JOB_READ } kind;
	uint64_t off;
	size_t len;
	uint8_t *buf;
	int rc;
	int finished_as;       /* order of completion, from 1 */
};

static int finished;
static unsigned running;
static struct completion all_done;

static void job_task(void *arg)
{
	struct job *j = arg;
	j->rc = j->kind == JOB_WRITE ? qed_write(img, j->off, j->buf, j->len)
				     : qed_read(img, j->off, j->buf, j->len);
	j->finished_as = ++finished;
	if (--running == 0)
		completion_done(&all_done, 0);
}

/* From inside a task: runs the jobs concurrently and waits for all of them. */
static void run_jobs(struct job *jobs, int n)
{
	finished = 0;
	running = (unsigned)n;
	completion_init(&all_done);
	for (int i = 0; i < n; i++)
		task_spawn(job_task, &jobs[i]);
	completion_wait(&all_done);
}

static void open_fresh(void)
{
	struct qed_create_opts c = { .image_size = 4096 * MiB };
	CHECK_EQ(0, qed_create(&disk->dev, &c));
	struct qed_open_opts o = test_opts();
	CHECK_EQ(0, qed_open(&disk->dev, &o, &img));
}

static void expect_clean(uint64_t data_clusters)
{
	struct qed_check_result r;
	CHECK_EQ(0, qed_check(img, false, &r));
	CHECK_EQ(0, r.corruptions);
	CHECK_EQ(0, r.leaks); /* nothing allocated twice */
	CHECK_EQ(data_clusters, r.allocated_clusters);
}

static void writers_into_one_cluster(uint64_t cluster_off)
{
	static uint8_t bufs[NWRITERS][4096], back[4096];
	struct job jobs[NWRITERS];
	for (int i = 0; i < NWRITERS; i++) {
		fill_pattern(bufs[i], 4096, (uint32_t)(i + 100));
		jobs[i] = (struct job){ JOB_WRITE, cluster_off + (uint64_t)i * 4096, 4096, bufs[i], 1, 0 };
	}
	run_jobs(jobs, NWRITERS);
	for (int i = 0; i < NWRITERS; i++) {
		CHECK_EQ(0, jobs[i].rc);
		CHECK_EQ(0, qed_read(img, cluster_off + (uint64_t)i * 4096, back, 4096));
		CHECK_MEM_EQ(bufs[i], back, 4096);
	}
	CHECK_EQ(0, qed_read(img, cluster_off + NWRITERS * 4096, back, 4096));
	CHECK(is_zero(back, 4096));
}

static void case_same_cluster_new_table(void *arg)
{
	(void)arg;
	open_fresh();
	writers_into_one_cluster(3 * CS);
	expect_clean(1);
	CHECK_EQ(0, qed_close(img));
}

static void case_same_cluster_existing_table(void *arg)
{
	(void)arg;
	open_fresh();
	static uint8_t b[4096];
	CHECK_EQ(0, qed_write(img, 0, b, sizeof(b))); /* makes the L2 table */
	writers_into_one_cluster(5 * CS);
	expect_clean(2);
	CHECK_EQ(0, qed_close(img));
}

static void case_same_new_l2_table(void *arg)
{
	(void)arg;
	open_fresh();
	static uint8_t bufs[NWRITERS][4096], back[4096];
	struct job jobs[NWRITERS];
	for (int i = 0; i < NWRITERS; i++) {
		fill_pattern(bufs[i], 4096, (uint32_t)(i + 200));
		jobs[i] = (struct job){ JOB_WRITE, (uint64_t)i * 3 * CS, 4096, bufs[i], 1, 0 };
	}
	run_jobs(jobs, NWRITERS);
	for (int i = 0; i < NWRITERS; i++) {
		CHECK_EQ(0, jobs[i].rc);
		CHECK_EQ(0, qed_read(img, (uint64_t)i * 3 * CS, back, 4096));
		CHECK_MEM_EQ(bufs[i], back, 4096);
	}
	expect_clean(NWRITERS); /* one L2 table, else the others would be leaks */
	CHECK_EQ(0, qed_close(img));
}

static void case_overlapping_writers_one_wins(void *arg)
{
	(void)arg;
	open_fresh();
	static uint8_t a[2 * CS], b[2 * CS], back[2 * CS];
	fill_pattern(a, sizeof(a), 1);
	fill_pattern(b, sizeof(b), 2);
	struct job jobs[2] = {
		{ JOB_WRITE, CS / 2, CS, a, 1, 0 },
		{ JOB_WRITE, CS / 2, CS, b, 1, 0 },
	};
	run_jobs(jobs, 2);
	CHECK_EQ(0, jobs[0].rc);
	CHECK_EQ(0, jobs[1].rc);
	CHECK_EQ(0, qed_read(img, CS / 2, back, CS));
	/* The later one overwrote the earlier one whole. */
	const uint8_t *last = jobs[0].finished_as > jobs[1].finished_as ? a : b;
	CHECK_MEM_EQ(last, back, CS);
	expect_clean(2);
	CHECK_EQ(0, qed_close(img));
}

static void case_in_place_and_reads_not_held_behind_allocation(void *arg)
{
	(void)arg;
	open_fresh();
	static uint8_t x[4096], y[4096], r[4096];
	fill_pattern(y, sizeof(y), 3);
	CHECK_EQ(0, qed_write(img, 0, y, sizeof(y)));
	CHECK_EQ(0, qed_flush(img));
	fill_pattern(x, sizeof(x), 4);
	struct job jobs[3] = {
		{ JOB_WRITE, 3072 * MiB, 4096, x, 1, 0 }, /* needs a new L2 table: slow */
		{ JOB_WRITE, 4096, 4096, y, 1, 0 },      /* in place */
		{ JOB_READ, 0, 4096, r, 1, 0 },
	};
	run_jobs(jobs, 3);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(0, jobs[i].rc);
	CHECK(jobs[1].finished_as < jobs[0].finished_as);
	CHECK(jobs[2].finished_as < jobs[0].finished_as);
	CHECK_MEM_EQ(y, r, 4096);
	CHECK_EQ(0, qed_close(img));
}

static void case_allocating_writers_run_in_parallel(void *arg)
{
	(void)arg;
	open_fresh();
	static uint8_t b[NWRITERS][4096];
	CHECK_EQ(0, qed_write(img, 0, b[0], 4096));
	struct job jobs[NWRITERS];
	for (int i = 0; i < NWRITERS; i++)
		jobs[i] = (struct job){ JOB_WRITE, (uint64_t)(i + 1) * CS + 512, 4096, b[i], 1, 0 };
	disk->max_in_flight = 0;
	run_jobs(jobs, NWRITERS);
	/* Each writes its cluster (data and fill in one request): all of them at once. */
	CHECK(disk->max_in_flight >= NWRITERS);
	expect_clean(NWRITERS + 1);
	CHECK_EQ(0, qed_close(img));
}

/* A 1 MiB allocating write whose data write is slow, and a reader reading the same range
 * again and again meanwhile: not held behind it, it finds the clusters unallocated
 * (zeros) until their data is written, never the device's stale bytes; once the write
 * has returned, its data. */
static uint8_t stale_data[MiB], stale_back[MiB];
static bool stale_writer_done, stale_reader_done;
static int stale_reads, stale_bad;

static void stale_writer(void *arg)
{
	(void)arg;
	CHECK_EQ(0, qed_write(img, 16 * CS, stale_data, MiB));
	stale_writer_done = true;
}

static void stale_reader(void *arg)
{
	(void)arg;
	while (!stale_writer_done) {
		CHECK_EQ(0, qed_read(img, 16 * CS, stale_back, MiB));
		stale_reads++;
		if (!is_zero(stale_back, MiB) && memcmp(stale_back, stale_data, MiB) != 0)
			stale_bad++;
		static uint8_t sector[512]; /* waits for one poll of the disk */
		CHECK_EQ(0, qed_read(img, 0, sector, sizeof(sector)));
	}
	stale_reader_done = true;
}

static void case_reader_never_sees_clusters_before_their_data(void *arg)
{
	(void)arg;
	open_fresh();
	static uint8_t first[4096];
	CHECK_EQ(0, qed_write(img, 0, first, sizeof(first))); /* cluster 5, table 6..9 */
	fill_pattern(stale_data, sizeof(stale_data), 9);
	disk->hold_off = 10 * CS; /* the 16 new clusters */
	disk->hold_len = 16 * CS;
	disk->hold_polls = 10;
	stale_writer_done = stale_reader_done = false;
	stale_reads = stale_bad = 0;
	task_spawn(stale_writer, NULL);
	task_spawn(stale_reader, NULL);
	while (!stale_writer_done || !stale_reader_done) {
		static uint8_t sector[512];
		CHECK_EQ(0, qed_read(img, 0, sector, sizeof(sector)));
	}
	CHECK(stale_reads >= 3); /* it read all along, not held behind the write */
	CHECK_EQ(0, stale_bad);
	CHECK_EQ(0, qed_read(img, 16 * CS, stale_back, MiB));
	CHECK_MEM_EQ(stale_data, stale_back, MiB);
	expect_clean(1 + 16);
	CHECK_EQ(0, qed_close(img));
}

static void case_fragmented_read_and_write_overlap(void *arg)
{
	(void)arg;
	open_fresh();
	static uint8_t data[8 * CS], back[8 * CS];
	fill_pattern(data, sizeof(data), 7);
	/* Allocated in reverse order: the guest range maps to 8 separate device runs. */
	for (int i = 7; i >= 0; i--)
		CHECK_EQ(0, qed_write(img, (uint64_t)i * CS, data + (size_t)i * CS, CS));
	disk->max_in_flight = 0;
	CHECK_EQ(0, qed_read(img, 0, back, sizeof(back)));
	CHECK_MEM_EQ(data, back, sizeof(back));
	CHECK(disk->max_in_flight >= 8);
	fill_pattern(data, sizeof(data), 8);
	disk->max_in_flight = 0;
	CHECK_EQ(0, qed_write(img, 0, data, sizeof(data)));
	CHECK(disk->max_in_flight >= 8);
	CHECK_EQ(0, qed_read(img, 0, back, sizeof(back)));
	CHECK_MEM_EQ(data, back, sizeof(back));
	CHECK_EQ(0, qed_close(img));
}

#define RUN_TASK(fn) RUN_DISK_CASE(256 * MiB, disk->reverse = true, fn)

int main(void)
{
	RUN_TASK(case_same_cluster_new_table);
	RUN_TASK(case_same_cluster_existing_table);
	RUN_TASK(case_same_new_l2_table);
	RUN_TASK(case_overlapping_writers_one_wins);
	RUN_TASK(case_in_place_and_reads_not_held_behind_allocation);
	RUN_TASK(case_allocating_writers_run_in_parallel);
	RUN_TASK(case_reader_never_sees_clusters_before_their_data);
	RUN_TASK(case_fragmented_read_and_write_overlap);
	return check_report("test_qed_concurrency");
}
