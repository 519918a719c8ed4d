/* Host tests of the switchable volume (lib/volume_gate.c): operations pass through to
 * the volume below; closing waits for the ones in flight and holds new ones back (they
 * wait, never fail); opening sends them to the new volume below. */
#include <errno.h>

#include "check.h"
#include "task.h"
#include "volume_gate.h"

/* A volume below that holds each operation until the test releases it. */
struct fake_vol {
	struct volume vol;
	unsigned reads, writes, flushes, held;
	bool hold;
	struct waitq release;
};

static void maybe_hold(struct fake_vol *f)
{
	if (!f->hold)
		return;
	f->held++;
	waitq_sleep(&f->release);
	f->held--;
}

static int fake_read(struct volume *v, uint64_t off, void *buf, size_t len)
{
	struct fake_vol *f = v->priv;
	(void)off, (void)buf, (void)len;
	f->reads++;
	maybe_hold(f);
	return 0;
}

static int fake_write(struct volume *v, uint64_t off, const void *buf, size_t len)
{
	struct fake_vol *f = v->priv;
	(void)off, (void)buf, (void)len;
	f->writes++;
	maybe_hold(f);
	return 0;
}

static int fake_flush(struct volume *v)
{
	struct fake_vol *f = v->priv;
	f->flushes++;
	return -EIO; /* results pass through unchanged */
}

static size_t saved_len;

static int fake_save(struct volume *v, const void *blob, size_t len)
{
	(void)v, (void)blob;
	saved_len = len;
	return 0;
}

static int fake_load(struct volume *v, void *buf, size_t cap, size_t *len)
{
	(void)v, (void)buf, (void)cap;
	*len = saved_len;
	return saved_len ? 0 : -ENOENT;
}

static const struct volume_ops fake_ops = {
	.read = fake_read, .write = fake_write, .flush = fake_flush,
};

/* A volume below that keeps reservations (APTPL), as a QED image with a record area. */
static const struct volume_ops fake_ops_reservations = {
	.read = fake_read, .write = fake_write, .flush = fake_flush,
	.save_reservations = fake_save, .load_reservations = fake_load,
};

static struct fake_vol a, b;
static struct volume_gate gate;
static int results[4];
static unsigned done;
static bool closed_returned;

static void init_fake(struct fake_vol *f, bool read_only)
{
	*f = (struct fake_vol){ .vol = { .ops = &fake_ops, .size = 1 << 20, .block_size = 512,
					 .read_only = read_only, .serial = "below" } };
	f->vol.priv = f;
	f->release = (struct waitq)WAITQ_INIT;
}

static void setup(void)
{
	task_reset();
	init_fake(&a, false);
	init_fake(&b, true);
	volume_gate_init(&gate, &a.vol, "vol0");
	done = 0;
	closed_returned = false;
}

static void reader(void *arg)
{
	char buf[512];
	results[(size_t)arg] = gate.vol.ops->read(&gate.vol, 0, buf, sizeof(buf));
	done++;
}

static void writer(void *arg)
{
	char buf[512] = { 0 };
	results[(size_t)arg] = gate.vol.ops->write(&gate.vol, 512, buf, sizeof(buf));
	done++;
}

static void closer(void *arg)
{
	(void)arg;
	volume_gate_close(&gate);
	closed_returned = true;
}

static bool no_poll(void *ctx)
{
	(void)ctx;
	return false;
}

static void test_pass_through_and_identity(void)
{
	setup();
	CHECK_STR_EQ("vol0", gate.vol.serial);
	CHECK_EQ(1 << 20, gate.vol.size);
	CHECK(!gate.vol.read_only);
	CHECK(gate.vol.ops->unmap != NULL);
	CHECK_EQ(-EOPNOTSUPP, gate.vol.ops->unmap(&gate.vol, 0, 512));
	task_spawn(reader, (void *)0);
	task_run_ready();
	CHECK_EQ(1, a.reads);
	CHECK_EQ(0, results[0]);
	CHECK_EQ(0, gate.in_flight);
}

static void flusher(void *arg)
{
	results[(size_t)arg] = gate.vol.ops->flush(&gate.vol);
}

static void test_errors_pass_through(void)
{
	setup();
	task_spawn(flusher, (void *)1);
	task_run_ready();
	CHECK_EQ(1, a.flushes);
	CHECK_EQ(-EIO, results[1]);
}

static void test_close_drains_holds_and_switches(void)
{
	setup();
	a.hold = true;
	task_spawn(reader, (void *)0);
	task_run_ready();
	CHECK_EQ(1, a.held);
	task_spawn(closer, NULL);
	task_run_ready();
	CHECK(!closed_returned); /* the read is still in flight below */
	task_spawn(writer, (void *)1);
	task_run_ready();
	CHECK_EQ(0, a.writes); /* held at the gate, not failed */
	CHECK_EQ(0, done);
	waitq_wake_all(&a.release);
	task_run_ready();
	CHECK(closed_returned);
	CHECK_EQ(1, done);      /* the read */
	CHECK_EQ(0, a.writes);  /* the write still waits */
	volume_gate_open(&gate, &b.vol);
	CHECK(gate.vol.read_only); /* takes the new volume's flags */
	task_run_ready();
	CHECK_EQ(2, done);
	CHECK_EQ(0, a.writes);
	CHECK_EQ(1, b.writes);  /* went to the new volume */
	CHECK_EQ(0, results[1]);
	CHECK(task_run_all(no_poll, NULL));
}

static void test_close_with_nothing_in_flight_returns_at_once(void)
{
	setup();
	task_spawn(closer, NULL);
	task_run_ready();
	CHECK(closed_returned);
	volume_gate_open(&gate, &a.vol);
	task_spawn(reader, (void *)0);
	task_run_ready();
	CHECK_EQ(1, a.reads);
}

static int save_result;

static void saver(void *arg)
{
	(void)arg;
	save_result = gate.vol.ops->save_reservations(&gate.vol, "blob", 4);
}

/* The gate keeps reservations exactly when the volume below does, and follows a switch. */
static void test_reservations_follow_the_volume_below(void)
{
	setup();
	CHECK(gate.vol.ops->save_reservations == NULL);
	b.vol.ops = &fake_ops_reservations;
	saved_len = 0;
	task_spawn(closer, NULL);
	task_run_ready();
	volume_gate_open(&gate, &b.vol);
	CHECK(gate.vol.ops->save_reservations != NULL);
	task_spawn(saver, NULL);
	task_run_ready();
	CHECK_EQ(0, save_result);
	CHECK_EQ(4, saved_len);
	CHECK_EQ(0, gate.in_flight);
	task_spawn(closer, NULL);
	task_run_ready();
	volume_gate_open(&gate, &a.vol);
	CHECK(gate.vol.ops->save_reservations == NULL);
}

/* write_cache=off: every write is flushed below before it completes (its error too), and
 * the served volume reports no volatile cache. */
static void test_write_through(void)
{
	setup();
	a.vol.write_cache = true;
	volume_gate_set_write_through(&gate, false);
	CHECK(gate.vol.write_cache);
	task_spawn(writer, (void *)0);
	task_run_ready();
	CHECK_EQ(0, a.flushes);
	CHECK_EQ(0, results[0]);
	volume_gate_set_write_through(&gate, true);
	CHECK(!gate.vol.write_cache);
	task_spawn(writer, (void *)1);
	task_run_ready();
	CHECK_EQ(2, a.writes);
	CHECK_EQ(1, a.flushes);
	CHECK_EQ(-EIO, results[1]); /* the flush's error is the write's */
	a.vol.write_cache = false;  /* nothing volatile below: nothing to flush */
	task_spawn(writer, (void *)2);
	task_run_ready();
	CHECK_EQ(1, a.flushes);
	CHECK_EQ(0, results[2]);
}

int main(void)
{
	RUN(test_pass_through_and_identity);
	RUN(test_errors_pass_through);
	RUN(test_close_drains_holds_and_switches);
	RUN(test_close_with_nothing_in_flight_returns_at_once);
	RUN(test_reservations_follow_the_volume_below);
	RUN(test_write_through);
	return check_report("test_volume_gate");
}
