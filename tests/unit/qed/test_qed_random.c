/* Randomized model test of the QED core: rounds of concurrent reads, writes, zeroes and
 * flushes on non-overlapping ranges (so the result does not depend on their order),
 * checked against a flat model of the guest bytes; the disk completes each round in
 * forward or reverse order. At the end the image is reopened, read whole, and checked.
 * Deterministic (fixed seeds). */
#include "qedtest_util.h"

#define MiB (1024ull * 1024)
#define ROUNDS 150
#define MAXOPS 8

static struct testdisk *disk;
static struct qed_image *img;
static uint8_t *model;          /* the guest bytes as they must read */
static uint64_t image_size;
static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

enum op_kind { OP_READ, OP_WRITE, OP_ZERO, OP_FLUSH };

struct op {
	enum op_kind kind;
	uint64_t off, len;
	uint8_t *buf;
	int rc;
};

static unsigned running;
static struct completion round_done;

static void op_task(void *arg)
{
	struct op *o = arg;
	switch (o->kind) {
	case OP_READ:
		o->rc = qed_read(img, o->off, o->buf, o->len);
		break;
	case OP_WRITE:
		o->rc = qed_write(img, o->off, o->buf, o->len);
		break;
	case OP_ZERO:
		o->rc = qed_zero(img, o->off, o->len);
		break;
	case OP_FLUSH:
		o->rc = qed_flush(img);
		break;
	}
	if (--running == 0)
		completion_done(&round_done, 0);
}

static bool overlaps_any(const struct op *ops, int n, uint64_t off, uint64_t len)
{
	for (int i = 0; i < n; i++)
		if (ops[i].kind != OP_FLUSH && off < ops[i].off + ops[i].len && ops[i].off < off + len)
			return true;
	return false;
}

/* A range biased to cluster boundaries and sizes, so that whole and partial clusters
 * and table boundaries all come up. */
static uint64_t hot_base; /* a few clusters many ops of a round crowd into */

static void pick_range(uint32_t cs, uint64_t *off, uint64_t *len)
{
	if (rnd() % 2) {
		*len = (1 + rnd() % (cs / 512)) * 512;
		*off = hot_base + (rnd() % (4 * (uint64_t)cs / 512)) * 512;
		if (*off + *len > image_size)
			*off = image_size - *len;
		return;
	}
	uint64_t unit = rnd() % 2 ? cs : 512;
	uint64_t max_units = (rnd() % 4 == 0 ? 4 * cs * 8 : 3 * cs) / unit;
	*len = (1 + rnd() % max_units) * unit;
	if (*len > image_size)
		*len = image_size;
	*off = (rnd() % ((image_size - *len) / 512 + 1)) * 512;
	if (rnd() % 2)
		*off = *off / cs * cs;
	if (*off + *len > image_size)
		*off = image_size - *len;
}

static void one_round(uint32_t cs)
{
	struct op ops[MAXOPS];
	int n = 1 + (int)(rnd() % MAXOPS);
	hot_base = rnd() % (image_size / cs - 3) * cs;
	for (int i = 0; i < n; i++) {
		struct op *o = &ops[i];
		unsigned r = (unsigned)(rnd() % 20);
		o->kind = r < 6 ? OP_READ : r < 15 ? OP_WRITE : r < 19 ? OP_ZERO : OP_FLUSH;
		o->buf = NULL;
		o->rc = 1;
		if (o->kind == OP_FLUSH)
			continue;
		int tries = 0;
		do
			pick_range(cs, &o->off, &o->len);
		while (overlaps_any(ops, i, o->off, o->len) && ++tries < 1000);
		if (tries == 1000) {
			o->kind = OP_FLUSH;
			continue;
		}
		if (o->kind != OP_ZERO)
			o->buf = malloc(o->len);
		if (o->kind == OP_WRITE)
			fill_pattern(o->buf, o->len, (uint32_t)rnd());
	}
	disk->reverse = rnd() % 2;
	running = (unsigned)n;
	completion_init(&round_done);
	for (int i = 0; i < n; i++)
		task_spawn(op_task, &ops[i]);
	completion_wait(&round_done);
	for (int i = 0; i < n; i++) {
		struct op *o = &ops[i];
		CHECK_EQ(0, o->rc);
		if (o->kind == OP_READ)
			CHECK_MEM_EQ(model + o->off, o->buf, o->len);
		else if (o->kind == OP_WRITE)
			memcpy(model + o->off, o->buf, o->len);
		else if (o->kind == OP_ZERO)
			memset(model + o->off, 0, o->len);
		free(o->buf);
	}
}

struct params {
	uint64_t size;
	uint32_t cs, ts;
	uint64_t seed;
	bool backing;
	bool write_zeroes;      /* the device zeroes in place */
};

static struct testdisk *base_disk;
static struct volume base_vol;

static void case_random(void *arg)
{
	const struct params *p = arg;
	image_size = p->size;
	rng_state = p->seed;
	model = calloc(1, image_size);
	if (p->write_zeroes)
		disk->dev.flags |= BLKDEV_F_WRITE_ZEROES;
	struct qed_open_opts o = test_opts();
	struct qed_create_opts c = { .image_size = p->size, .cluster_size = p->cs,
				     .table_size = p->ts };
	if (p->backing) {
		uint64_t bsize = image_size / 2 + 4096; /* ends inside a cluster */
		base_disk = testdisk_new(bsize, 4096);
		fill_pattern(model, bsize, 4242);
		testdisk_poke(base_disk, 0, model, bsize);
		rawvol_init(&base_vol, base_disk, bsize);
		c.backing_file = "base";
		o.open_backing = open_ctx_volume;
		o.backing_ctx = &base_vol;
	}
	CHECK_EQ(0, qed_create(&disk->dev, &c));
	CHECK_EQ(0, qed_open(&disk->dev, &o, &img));
	for (int r = 0; r < ROUNDS; r++)
		one_round(p->cs ? p->cs : QED_DEFAULT_CLUSTER_SIZE);
	CHECK_EQ(0, qed_close(img));

	CHECK_EQ(0, qed_open(&disk->dev, &o, &img));
	uint8_t *all = malloc(image_size);
	CHECK_EQ(0, qed_read(img, 0, all, image_size));
	CHECK_MEM_EQ(model, all, image_size);
	struct qed_check_result res;
	CHECK_EQ(0, qed_check(img, false, &res));
	CHECK_EQ(0, res.corruptions);
	CHECK_EQ(0, res.check_errors);
	CHECK_EQ(0, qed_close(img));
	CHECK(!disk_need_check(disk));
	printf("# random %s: %llu data clusters, %llu leaked, %u writes, %u flushes\n",
	       check_case_name, (unsigned long long)res.allocated_clusters,
	       (unsigned long long)res.leaks, disk->count[BLKDEV_WRITE],
	       disk->count[BLKDEV_FLUSH]);
	free(all);
	free(model);
	if (p->backing)
		testdisk_free(base_disk);
}

static void run(const char *name, struct params p)
{
	disk = testdisk_new(512 * MiB, 512);
	check_case_name = name;
	check_cases++;
	CHECK(run_in_task(case_random, &p));
	testdisk_free(disk);
}

int main(void)
{
	run("64k-clusters", (struct params){ 32 * MiB, 0, 0, 1, false, false });
	run("4k-clusters-table-1", (struct params){ 8 * MiB, 4096, 1, 2, false, false });
	run("4k-clusters-backing", (struct params){ 8 * MiB, 4096, 2, 3, true, false });
	run("64k-clusters-backing", (struct params){ 32 * MiB, 0, 1, 4, true, false });
	run("64k-clusters-write-zeroes", (struct params){ 32 * MiB, 0, 0, 5, false, true });
	run("4k-clusters-backing-write-zeroes", (struct params){ 8 * MiB, 4096, 1, 6, true, true });
	return check_report("test_qed_random");
}
