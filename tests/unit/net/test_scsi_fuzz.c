/* Fuzz-style test of scsi_exec(): seeded random CDBs (mostly known opcodes with random
 * fields), random expected lengths, random LUN state and injected errors. Each must
 * finish with a valid status and well-formed sense, never write past the buffer, and
 * never produce more than it may. Bounded: a fixed number of commands. */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "scsi_priv.h"
#include "scsi_test_support.h"

#define ITERATIONS 20000
#define BLOCKS 256
#define BS 512
#define MAX_DATA (16 * 1024)
#define CANARY 64

static uint64_t rng_state;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13; /* xorshift64 */
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static const uint8_t known_ops[] = {
	TEST_UNIT_READY, REQUEST_SENSE, READ_6, WRITE_6, INQUIRY, MODE_SELECT_6,
	MODE_SENSE_6, START_STOP_UNIT, PREVENT_ALLOW_MEDIUM_REMOVAL, READ_CAPACITY_10,
	READ_10, WRITE_10, WRITE_AND_VERIFY_10, VERIFY_10, PRE_FETCH_10,
	SYNCHRONIZE_CACHE_10, WRITE_SAME_10, UNMAP, MODE_SELECT_10, MODE_SENSE_10, READ_16,
	COMPARE_AND_WRITE, WRITE_16, WRITE_AND_VERIFY_16, VERIFY_16, PRE_FETCH_16,
	SYNCHRONIZE_CACHE_16, WRITE_SAME_16, SERVICE_ACTION_IN_16, REPORT_LUNS, READ_12,
	WRITE_12, WRITE_AND_VERIFY_12, VERIFY_12,
};

/* Random CDB bytes, with the length fields often small so that commands get past the
 * range checks and do I/O. */
static void random_cdb(uint8_t *cdb)
{
	for (int i = 0; i < 16; i++)
		cdb[i] = (uint8_t)rnd();
	cdb[0] = rnd() % 4 ? known_ops[rnd() % sizeof(known_ops)] : (uint8_t)rnd();
	if (rnd() % 2) { /* small LBA and length in the 10- and 16-byte layouts */
		unsigned mode = rnd() % 3;
		if (mode == 0) {
			memset(cdb + 2, 0, 4);
			cdb[5] = (uint8_t)(rnd() % BLOCKS);
			cdb[7] = 0;
			cdb[8] = (uint8_t)(rnd() % 8);
		} else if (mode == 1) {
			memset(cdb + 2, 0, 12);
			cdb[9] = (uint8_t)(rnd() % BLOCKS);
			cdb[13] = (uint8_t)(rnd() % 8);
		}
	}
	/* Mostly keep to the bits the command uses, so that it gets past the reserved-bit
	 * check into the handler; sometimes leave reserved bits set. */
	const struct scsi_op *op = scsi_op_lookup(cdb[0]);
	if (op && (op->flags & OP_SERVICE_ACTION)) { /* one of its actions, at random */
		unsigned n = 0;
		while (op->actions[n].handler)
			n++;
		op = &op->actions[rnd() % n];
		if (rnd() % 4)
			cdb[1] = op->service_action;
	}
	if (op && rnd() % 4)
		for (unsigned i = 1; i < op->cdb_len; i++)
			cdb[i] &= op->usage[i];
}

static void random_volume_state(struct scsi_fixture *f)
{
	static const int errors[] = { 0, 0, 0, 0, -EIO, -ENOSPC, -ENOMEM, -EINVAL, -EBADMSG };
	f->rv.vol.read_only = rnd() % 8 == 0;
	f->rv.read_error = errors[rnd() % 9];
	f->rv.write_error = errors[rnd() % 9];
	f->rv.flush_error = errors[rnd() % 9];
	f->rv.unmap_error = errors[rnd() % 9];
	f->nexus.unit_attention_reset = rnd() % 16 == 0;
}

static unsigned counts[256];

static void check_outcome(const struct scsi_cmd *cmd, const uint8_t *data, uint32_t data_len)
{
	uint8_t st = cmd->status;
	counts[st]++;
	CHECK(st == SAM_STAT_GOOD || st == SAM_STAT_CHECK_CONDITION || st == SAM_STAT_BUSY);
	CHECK(cmd->data_produced <= data_len);
	if (st == SAM_STAT_CHECK_CONDITION) {
		CHECK_EQ(18, cmd->sense_len);
		CHECK_EQ(0x70, cmd->sense[0] & 0x7f);
		CHECK_EQ(10, cmd->sense[7]);
		CHECK(sense_key(cmd) != NO_SENSE);
		CHECK_EQ(0, cmd->data_produced);
	} else {
		CHECK_EQ(0, cmd->sense_len);
		if (st == SAM_STAT_GOOD)
			CHECK(cmd->data_produced <= cmd->transfer_len);
	}
	for (int i = 0; i < CANARY; i++)
		CHECK_EQ(0xc5, data[data_len + i]);
}

static void test_random_cdbs(void)
{
	static struct scsi_fixture f;
	static uint8_t data[MAX_DATA + CANARY];
	uint8_t cdb[16];
	rng_state = 0x5eed5eed12345678ull;
	fixture_init(&f, BLOCKS, BS, true);
	for (unsigned it = 0; it < ITERATIONS && !check_failed; it++) {
		random_cdb(cdb);
		random_volume_state(&f);
		size_t cdb_len = rnd() % 8 ? 16 : rnd() % 17;
		uint32_t data_len = rnd() % 4 ? rnd() % (MAX_DATA + 1) : (rnd() % 8) * BS;
		for (uint32_t i = 0; i < data_len; i++)
			data[i] = rnd() % 4 ? 0 : (uint8_t)rnd();
		memset(data + data_len, 0xc5, CANARY);
		if (rnd() % 32 == 0)
			run_cdb_no_lun(&f, cdb, cdb_len, data, data_len);
		else
			run_cdb(&f, cdb, cdb_len, data, data_len);
		check_outcome(&f.cmd, data, data_len);
		CHECK(f.lun.busy_ranges == NULL);
	}
	fixture_fini(&f);
	printf("# scsi fuzz: %d cdbs: %u good, %u check condition, %u busy\n", ITERATIONS,
	       counts[SAM_STAT_GOOD], counts[SAM_STAT_CHECK_CONDITION], counts[SAM_STAT_BUSY]);
	CHECK(counts[SAM_STAT_GOOD] > ITERATIONS / 10); /* the fuzzer reaches the I/O paths */
}

int main(void)
{
	RUN(test_random_cdbs);
	return check_report("test_scsi_fuzz");
}
