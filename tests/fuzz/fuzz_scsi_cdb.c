/*
 * libFuzzer target: SCSI commands (net/scsi*.c) through scsi_exec() against a RAM volume
 * (tests/unit/net/scsi_test_support.c), with two initiators (I_T nexuses) so that
 * reservations and unit attentions meet.
 *
 * Input: [setup] then up to 8 commands, each
 *     [flags][cdb_len][16 CDB bytes][data_len, 2 bytes big-endian][data...]
 * setup: bit 0 4096-byte blocks (else 512), bit 1 a thick volume (no unmap), bit 2 the
 * commands run concurrently as tasks with a yield inside every volume I/O, bit 3 a
 * read-only volume. flags: bit 0 the second nexus, bit 1 no LUN, bits 2-4 an error the
 * volume returns, bit 5 a small scratch budget, bit 6 a pending unit attention.
 * The data buffer is exactly data_len bytes: the input's, then zeros.
 *
 * Invariants: a valid SAM status with well-formed sense (18 bytes, fixed format) exactly
 * for CHECK CONDITION; no Data-In past the buffer or past what the CDB asks; scratch
 * memory given back; no range lock or task left behind.
 */
#include "event_log.h"
#include "fuzz.h"
#include "scsi_priv.h"
#include "scsi_test_support.h"

#include <errno.h>
#include <string.h>

#define MAX_CMDS 8
#define VOLUME_BYTES (128 * 1024)

struct fuzz_cmd {
	struct scsi_cmd cmd;
	struct scsi_nexus *nexus;
	bool no_lun;
	int error;
	uint64_t scratch_limit;
	uint8_t cdb[16];
	uint8_t *data;
	bool done;
};

static struct scsi_fixture f;
static struct scsi_nexus nexus_b;
static uint64_t scratch, scratch_limit;

static bool charge(void *ctx, size_t bytes)
{
	(void)ctx;
	FUZZ_ASSERT(bytes <= SCSI_SCRATCH_MAX_BYTES);
	if (scratch_limit && scratch + bytes > scratch_limit)
		return false;
	scratch += bytes;
	return true;
}

static void uncharge(void *ctx, size_t bytes)
{
	(void)ctx;
	FUZZ_ASSERT(bytes <= scratch);
	scratch -= bytes;
}

static void check_outcome(const struct fuzz_cmd *fc)
{
	const struct scsi_cmd *cmd = &fc->cmd;
	uint8_t st = cmd->status;
	FUZZ_ASSERT(st == SAM_STAT_GOOD || st == SAM_STAT_CHECK_CONDITION || st == SAM_STAT_BUSY ||
		    st == SAM_STAT_RESERVATION_CONFLICT);
	FUZZ_ASSERT(cmd->data_produced <= cmd->data_len);
	if (st == SAM_STAT_CHECK_CONDITION) {
		FUZZ_ASSERT(cmd->sense_len == 18);
		FUZZ_ASSERT((cmd->sense[0] & 0x7f) == 0x70 && cmd->sense[7] == 10);
		FUZZ_ASSERT((cmd->sense[2] & 0x0f) != NO_SENSE);
		FUZZ_ASSERT(cmd->data_produced == 0);
	} else {
		FUZZ_ASSERT(cmd->sense_len == 0);
		if (st == SAM_STAT_GOOD)
			FUZZ_ASSERT(cmd->data_produced <= cmd->transfer_len);
		else
			FUZZ_ASSERT(cmd->data_produced == 0);
	}
}

static void exec(struct fuzz_cmd *fc)
{
	f.rv.read_error = f.rv.write_error = f.rv.flush_error = f.rv.unmap_error = fc->error;
	scratch_limit = fc->scratch_limit;
	scsi_exec(fc->no_lun ? NULL : &f.lun, fc->nexus, &fc->cmd);
	check_outcome(fc);
	fc->done = true;
}

static void exec_task(void *arg)
{
	exec(arg);
}

/* Events are formatted (their code runs) but not printed: the console of a fuzzer is
 * its own report. */
static void drop_event(const char *line)
{
	(void)line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int errors[] = { 0, 0, 0, -EIO, -ENOSPC, -ENOMEM, -EINVAL, -EBADMSG };
	struct fuzz_in in = { data, size };
	struct fuzz_cmd cmds[MAX_CMDS];
	unsigned n = 0;

	event_log_reset();
	event_log_set_sink(drop_event);
	uint8_t setup = fuzz_u8(&in);
	uint32_t bs = setup & 1 ? 4096 : 512;
	fixture_init(&f, VOLUME_BYTES / bs, bs, !(setup & 2));
	f.rv.vol.read_only = setup & 8;
	f.rv.yield_in_io = setup & 4;
	memset(&nexus_b, 0, sizeof(nexus_b));
	strcpy(f.nexus.id, "iqn.1994-05.com.example:a,i,0x800000000001");
	strcpy(nexus_b.id, "iqn.1994-05.com.example:b,i,0x800000000002");
	scratch = 0;

	while (in.left && n < MAX_CMDS) {
		struct fuzz_cmd *fc = &cmds[n++];
		uint8_t flags = fuzz_u8(&in);
		uint8_t cdb_len = fuzz_u8(&in) % 17;
		memset(fc, 0, sizeof(*fc));
		for (int i = 0; i < 16; i++)
			fc->cdb[i] = fuzz_u8(&in);
		uint32_t data_len = fuzz_u16(&in);
		fc->data = malloc(data_len ? data_len : 1);
		FUZZ_ASSERT(fc->data);
		memset(fc->data, 0, data_len);
		size_t take = data_len < in.left ? data_len : in.left;
		memcpy(fc->data, in.p, take);
		in.p += take;
		in.left -= take;

		fc->nexus = flags & 1 ? &nexus_b : &f.nexus;
		fc->no_lun = flags & 2;
		fc->error = errors[(flags >> 2) & 7];
		fc->scratch_limit = flags & 0x20 ? 4096 : 0;
		if (flags & 0x40)
			fc->nexus->unit_attention_reset = true;
		memset(&fc->cmd, 0xee, sizeof(fc->cmd)); /* every output must be set */
		fc->cmd.cdb = fc->cdb;
		fc->cmd.cdb_len = cdb_len;
		fc->cmd.dir = SCSI_DIR_NONE;
		fc->cmd.data = fc->data;
		fc->cmd.data_len = data_len;
		fc->cmd.charge = charge;
		fc->cmd.uncharge = uncharge;
		fc->cmd.charge_ctx = NULL;
	}
	if (setup & 4) {
		for (unsigned i = 0; i < n; i++)
			FUZZ_ASSERT(task_spawn(exec_task, &cmds[i]));
		while (task_run_ready() > 0)
			;
		FUZZ_ASSERT(task_count() == 0); /* nothing waits forever on a range */
	} else {
		for (unsigned i = 0; i < n; i++)
			exec(&cmds[i]);
	}
	for (unsigned i = 0; i < n; i++) {
		FUZZ_ASSERT(cmds[i].done);
		free(cmds[i].data);
	}
	FUZZ_ASSERT(f.lun.busy_ranges == NULL);
	FUZZ_ASSERT(scratch == 0);
	fixture_fini(&f);
	return 0;
}
