/* Host tests of the per-LUN statistics (net/scsi_stats.c): operations, bytes, errors and
 * the latency histogram per class, device and space errors with their events, and the
 * commands in flight. A fake clock moves by a set step at each reading, so a command's
 * latency is that step. */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "event_log.h"
#include "scsi_test_support.h"

#define BLOCKS 1024
#define BS 512

static struct scsi_fixture f;
static uint8_t buf[16 * BS];
static uint64_t fake_now, step_ns;

static uint64_t stepping_clock(void)
{
	fake_now += step_ns;
	return fake_now;
}

static void quiet(const char *line)
{
	(void)line;
}

static void start(void)
{
	fixture_init(&f, BLOCKS, BS, true);
	f.lun.clock_ns = stepping_clock;
	fake_now = 0;
	step_ns = 1000;
	event_log_reset();
	event_log_set_sink(quiet);
}

static uint8_t rw(uint8_t op, uint32_t lba, uint16_t blocks, uint64_t latency_ns)
{
	uint8_t cdb[10];
	cdb10(cdb, op, 0, lba, blocks);
	step_ns = latency_ns;
	return run_cdb(&f, cdb, sizeof(cdb), buf, blocks * BS);
}

static uint8_t flush(uint64_t latency_ns)
{
	uint8_t cdb[10];
	cdb10(cdb, SYNCHRONIZE_CACHE_10, 0, 0, 0);
	step_ns = latency_ns;
	return run_cdb(&f, cdb, sizeof(cdb), NULL, 0);
}

static const struct scsi_class_stats *cls(enum scsi_stat_class c)
{
	return &f.lun.stats.cls[c];
}

static void test_bounds_are_the_documented_ones(void)
{
	static const uint32_t want[] = { 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000,
					 100000, 250000, 1000000 };
	CHECK_EQ(sizeof(want) / sizeof(want[0]), SCSI_LATENCY_BOUNDS);
	for (unsigned i = 0; i < SCSI_LATENCY_BOUNDS; i++)
		CHECK_EQ(want[i], scsi_latency_bounds_us[i]);
}

static void test_reads_and_writes_counted(void)
{
	start();
	CHECK_EQ(SAM_STAT_GOOD, rw(READ_10, 0, 8, 150000));        /* 150 us */
	CHECK_EQ(SAM_STAT_GOOD, rw(READ_10, 8, 1, 2000000000));    /* 2 s: +Inf */
	CHECK_EQ(SAM_STAT_GOOD, rw(WRITE_10, 0, 2, 100000));       /* 100 us: le 100 */
	CHECK_EQ(SAM_STAT_GOOD, rw(WRITE_10, 2, 4, 100001));       /* just past: le 250 */
	CHECK_EQ(2, cls(SCSI_STAT_READ)->ops);
	CHECK_EQ(9 * BS, cls(SCSI_STAT_READ)->bytes);
	CHECK_EQ(0, cls(SCSI_STAT_READ)->errors);
	CHECK_EQ(150000 + 2000000000ull, cls(SCSI_STAT_READ)->latency_ns_sum);
	CHECK_EQ(1, cls(SCSI_STAT_READ)->latency[1]);
	CHECK_EQ(1, cls(SCSI_STAT_READ)->latency[SCSI_LATENCY_BUCKETS - 1]);
	CHECK_EQ(2, cls(SCSI_STAT_WRITE)->ops);
	CHECK_EQ(6 * BS, cls(SCSI_STAT_WRITE)->bytes);
	CHECK_EQ(1, cls(SCSI_STAT_WRITE)->latency[0]);
	CHECK_EQ(1, cls(SCSI_STAT_WRITE)->latency[1]);
	CHECK_EQ(200001, cls(SCSI_STAT_WRITE)->latency_ns_sum);
	CHECK_EQ(0, cls(SCSI_STAT_FLUSH)->ops);
	CHECK_EQ(0, f.lun.in_flight);
	fixture_fini(&f);
}

static void test_flush_and_other_counted(void)
{
	start();
	CHECK_EQ(SAM_STAT_GOOD, flush(7000000));                    /* 7 ms: le 10000 us */
	CHECK_EQ(1, cls(SCSI_STAT_FLUSH)->ops);
	CHECK_EQ(0, cls(SCSI_STAT_FLUSH)->bytes);
	CHECK_EQ(1, cls(SCSI_STAT_FLUSH)->latency[6]);
	uint8_t cdb[10];
	cdb10(cdb, WRITE_SAME_10, 0, 0, 4);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, sizeof(cdb), buf, BS));
	CHECK_EQ(1, cls(SCSI_STAT_OTHER)->ops);
	CHECK_EQ(BS, cls(SCSI_STAT_OTHER)->bytes);
	/* a command of no class: counted nowhere */
	uint8_t tur[6] = { TEST_UNIT_READY };
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, tur, sizeof(tur), NULL, 0));
	uint64_t ops = 0;
	for (unsigned c = 0; c < SCSI_STAT_CLASSES; c++)
		ops += cls(c)->ops;
	CHECK_EQ(2, ops);
	fixture_fini(&f);
}

/* Refused before any I/O (LBA out of range): an error of its class, no device error. */
static void test_refused_command_is_an_error(void)
{
	start();
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, rw(READ_10, BLOCKS, 1, 1000));
	CHECK_EQ(1, cls(SCSI_STAT_READ)->ops);
	CHECK_EQ(1, cls(SCSI_STAT_READ)->errors);
	CHECK_EQ(0, cls(SCSI_STAT_READ)->bytes);
	CHECK_EQ(0, f.lun.stats.device_errors);
	CHECK_EQ(0, event_log_count(EVENT_DEVICE_ERROR));
	fixture_fini(&f);
}

static void test_eio_read_is_a_device_error(void)
{
	start();
	f.rv.read_error = -EIO;
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, rw(READ_10, 0, 4, 1000));
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, rw(READ_10, 0, 4, 1000));
	CHECK_EQ(2, cls(SCSI_STAT_READ)->errors);
	CHECK_EQ(0, cls(SCSI_STAT_READ)->bytes);
	CHECK_EQ(2, f.lun.stats.device_errors);
	CHECK_EQ(0, f.lun.stats.space_errors);
	/* one event while it keeps failing */
	CHECK_EQ(1, event_log_count(EVENT_DEVICE_ERROR));
	struct event_record ev;
	CHECK_EQ(1, event_log_recent(&ev, 1));
	CHECK_EQ(EVENT_DEVICE_ERROR, ev.kind);
	CHECK_STR_EQ("RAMVOL0001: opcode 0x28 failed, sense 3/1100", ev.text);
	/* a success re-arms it */
	f.rv.read_error = 0;
	CHECK_EQ(SAM_STAT_GOOD, rw(READ_10, 0, 4, 1000));
	f.rv.read_error = -EIO;
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, rw(READ_10, 0, 4, 1000));
	CHECK_EQ(2, event_log_count(EVENT_DEVICE_ERROR));
	fixture_fini(&f);
}

static void test_enospc_write_is_a_space_error(void)
{
	start();
	f.rv.write_error = -ENOSPC;
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, rw(WRITE_10, 0, 4, 1000));
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, rw(WRITE_10, 4, 4, 1000));
	CHECK_EQ(2, cls(SCSI_STAT_WRITE)->ops);
	CHECK_EQ(2, cls(SCSI_STAT_WRITE)->errors);
	CHECK_EQ(0, cls(SCSI_STAT_WRITE)->bytes);
	CHECK_EQ(2, cls(SCSI_STAT_WRITE)->latency[0]); /* failures are timed too */
	CHECK_EQ(2, f.lun.stats.space_errors);
	CHECK_EQ(0, f.lun.stats.device_errors);
	CHECK_EQ(1, event_log_count(EVENT_VOLUME_FULL));
	struct event_record ev;
	CHECK_EQ(1, event_log_recent(&ev, 1));
	CHECK_STR_EQ("RAMVOL0001: no space left for a write", ev.text);
	/* a read succeeding says nothing about space; a write does */
	CHECK_EQ(SAM_STAT_GOOD, rw(READ_10, 0, 1, 1000));
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, rw(WRITE_10, 0, 1, 1000));
	CHECK_EQ(1, event_log_count(EVENT_VOLUME_FULL));
	f.rv.write_error = 0;
	CHECK_EQ(SAM_STAT_GOOD, rw(WRITE_10, 0, 1, 1000));
	f.rv.write_error = -ENOSPC;
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, rw(WRITE_10, 0, 1, 1000));
	CHECK_EQ(2, event_log_count(EVENT_VOLUME_FULL));
	fixture_fini(&f);
}

/* Without a clock every command is still counted; the histogram stays empty. */
static void test_no_clock_no_latency(void)
{
	start();
	f.lun.clock_ns = NULL;
	CHECK_EQ(SAM_STAT_GOOD, rw(READ_10, 0, 1, 1000));
	CHECK_EQ(1, cls(SCSI_STAT_READ)->ops);
	CHECK_EQ(0, cls(SCSI_STAT_READ)->latency_ns_sum);
	for (unsigned i = 0; i < SCSI_LATENCY_BUCKETS; i++)
		CHECK_EQ(0, cls(SCSI_STAT_READ)->latency[i]);
	fixture_fini(&f);
}

int main(void)
{
	RUN(test_bounds_are_the_documented_ones);
	RUN(test_reads_and_writes_counted);
	RUN(test_flush_and_other_counted);
	RUN(test_refused_command_is_an_error);
	RUN(test_eio_read_is_a_device_error);
	RUN(test_enospc_write_is_a_space_error);
	RUN(test_no_clock_no_latency);
	event_log_reset();
	return check_report("test_scsi_stats");
}
