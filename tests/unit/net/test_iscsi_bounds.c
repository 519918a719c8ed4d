/* Host tests of what one admitted initiator may cost the target: who frees a command
 * when another session or a reinstatement aborts it while its owner is blocked in a send
 * (net/iscsi_cmd.c, iscsi_tmf.c, iscsi_session.c), and the bounds on commands, TMFs,
 * tasks and buffer bytes (net/iscsi_budget.c). Run under AddressSanitizer by make test. */
#include "check.h"
#include "iscsi_test_support.h"

#include <stdlib.h>
#include <string.h>

#include "scsi_spec.h"

#define WRITE_BYTES 4096

static void tmf_on(struct iscsi_fixture *f, uint8_t function, uint32_t itt, uint32_t rtt)
{
	uint8_t bhs[ISCSI_BHS_LEN] = { ISCSI_OP_SCSI_TASK_MGMT_REQ | ISCSI_IMMEDIATE,
				       (uint8_t)(ISCSI_FLAG_FINAL | function) };
	put_be32(bhs + ISCSI_BHS_INITIATOR_TASK_TAG, itt);
	put_be32(bhs + ISCSI_BHS_REFERENCED_TASK_TAG, rtt);
	put_be32(bhs + ISCSI_BHS_CMDSN, f->cmdsn);
	put_be32(bhs + ISCSI_BHS_REFCMDSN, f->cmdsn);
	fx_send(f, bhs, NULL, 0);
}

/* A WRITE without immediate data on f's connection whose R2T send blocks: the worker
 * sits in send_r2ts() holding the command. */
static void write_blocked_in_r2t(struct iscsi_fixture *f)
{
	uint8_t cdb[16];
	f->lk->hold = true;
	fx_write10_cdb(cdb, 0, WRITE_BYTES / FX_BLOCK_SIZE);
	fx_scsi_cmd(f, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_WRITE, 0x10, WRITE_BYTES, cdb, NULL, 0);
	CHECK_EQ(1, f->c->sess.cmds_in_flight);
}

/* A second session on the same target; name NULL: another initiator (no reinstatement),
 * else the first session's own name (and ISID): it reinstates the first. */
static void second_session(struct iscsi_fixture *f, struct fx_link *link2, const char *name)
{
	struct iscsi_conn *c2;
	char keys[128];
	fx_open_link(f, link2, &c2);
	fx_use(f, link2);
	snprintf(keys, sizeof(keys), "InitiatorName=%s", name ? name : "iqn.other");
	f->expstatsn = 0;
	CHECK_EQ(0, fx_login(f, keys));
}

/* Another initiator on the same target resets the LUN: every session's commands abort. */
static void lun_reset_from_other_session(struct iscsi_fixture *f, struct fx_link *link2)
{
	second_session(f, link2, NULL);
	tmf_on(f, ISCSI_TM_FUNC_LOGICAL_UNIT_RESET, 0xc0, 0);
}

static void fini_two(struct iscsi_fixture *f, struct fx_link *link2)
{
	fx_fini(f);
	free(link2->out);
}

static void test_lun_reset_while_r2t_send_blocks(void)
{
	struct iscsi_fixture f;
	struct fx_link link2;
	fx_init(&f);
	fx_ready(&f, "ImmediateData=No");
	struct fx_link *l1 = f.lk;
	struct iscsi_conn *c1 = f.c;
	write_blocked_in_r2t(&f);
	lun_reset_from_other_session(&f, &link2);
	fx_release(l1); /* the worker goes on with the command the reset aborted */
	CHECK_EQ(0, c1->sess.cmds_in_flight);
	CHECK(c1->cmds == NULL); /* freed by its owner, the worker */
	fini_two(&f, &link2);
}

static void test_reinstatement_while_r2t_send_blocks(void)
{
	struct iscsi_fixture f;
	struct fx_link link2;
	fx_init(&f);
	fx_ready(&f, "ImmediateData=No");
	struct fx_link *l1 = f.lk;
	write_blocked_in_r2t(&f);
	second_session(&f, &link2, FX_INITIATOR); /* same name and ISID: reinstates */
	CHECK(l1->closed);
	fx_release(l1);
	fini_two(&f, &link2);
}

static void test_lun_reset_while_data_in_send_blocks(void)
{
	struct iscsi_fixture f;
	struct fx_link link2;
	uint8_t cdb[16];
	fx_init(&f);
	fx_ready(&f, "MaxRecvDataSegmentLength=512");
	struct fx_link *l1 = f.lk;
	struct iscsi_conn *c1 = f.c;
	fx_read10_cdb(cdb, 0, 8);
	l1->hold = true;
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_READ, 0x11, 4096, cdb, NULL, 0);
	lun_reset_from_other_session(&f, &link2);
	size_t before = l1->out_len;
	fx_release(l1);
	CHECK(c1->cmds == NULL);
	CHECK(l1->out_len - before <= ISCSI_BHS_LEN + 512); /* the PDU in progress, no more */
	fini_two(&f, &link2);
}

static void test_lun_reset_frees_collecting_command_of_idle_worker(void)
{
	struct iscsi_fixture f;
	struct fx_link link2;
	fx_init(&f);
	fx_ready(&f, "ImmediateData=No");
	struct iscsi_conn *c1 = f.c;
	write_blocked_in_r2t(&f);
	fx_release(f.lk); /* the R2T left: the worker waits for input, idle */
	lun_reset_from_other_session(&f, &link2);
	CHECK(c1->cmds == NULL); /* the abort woke the worker, which freed it */
	CHECK_EQ(0, c1->sess.cmds_in_flight);
	fini_two(&f, &link2);
}

static void test_teardown_while_r2t_send_blocks(void)
{
	struct iscsi_fixture f;
	fx_init(&f);
	fx_ready(&f, "ImmediateData=No");
	write_blocked_in_r2t(&f);
	f.lk->transport_gone = true;
	iscsi_conn_closed(f.c); /* the peer went away while the worker waits in send */
	fx_run();
	fx_fini(&f); /* releases the send: the worker ends with the command aborted */
}

/* ---- the bounds ------------------------------------------------------------------- */

#define MIB (1024u * 1024)

static void open_gate(struct iscsi_fixture *f)
{
	f->gate_closed = false;
	waitq_wake_all(&f->gate);
	fx_run();
}

/* A command with the given CmdSN (the test's own numbering is left alone), or immediate. */
static void cmd_at(struct iscsi_fixture *f, uint8_t flags, uint32_t itt, uint32_t cmdsn,
		   bool immediate, uint32_t edtl, const uint8_t *cdb)
{
	uint8_t bhs[ISCSI_BHS_LEN] = { ISCSI_OP_SCSI_CMD, (uint8_t)(flags | ISCSI_FLAG_FINAL) };
	if (immediate)
		bhs[0] |= ISCSI_IMMEDIATE;
	put_be32(bhs + ISCSI_BHS_INITIATOR_TASK_TAG, itt);
	put_be32(bhs + ISCSI_BHS_EXPECTED_DATA_TRANSFER_LENGTH, edtl);
	put_be32(bhs + ISCSI_BHS_CMDSN, cmdsn);
	put_be32(bhs + ISCSI_BHS_EXPSTATSN, f->expstatsn);
	memcpy(bhs + ISCSI_BHS_CDB, cdb, 16);
	fx_send(f, bhs, NULL, 0);
}

/* Reads every PDU the target sent; counts the statuses equal to status (SCSI Responses
 * and Data-In with S). */
static unsigned count_status(struct iscsi_fixture *f, uint8_t status, struct fx_pdu *last)
{
	struct fx_pdu r;
	unsigned n = 0;
	while (fx_next(f, &r)) {
		*last = r;
		bool has_status = r.opcode == ISCSI_OP_SCSI_RSP ||
				  (r.opcode == ISCSI_OP_SCSI_DATA_IN && (r.flags & ISCSI_FLAG_DATA_STATUS));
		if (has_status && r.bhs[ISCSI_BHS_STATUS] == status)
			n++;
	}
	return n;
}

static void test_commands_beyond_max_cmdsn_dropped(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t cdb[16] = { 0 };
	fx_init(&f);
	fx_ready(&f, NULL);
	uint32_t max = f.last.maxcmdsn; /* from the login response */
	/* The window of 64, less a slot for the login request's data still charged. */
	CHECK(sn_le(f.cmdsn + 62, max));
	cmd_at(&f, 0, 0x20, max + 1, false, 0, cdb);
	cmd_at(&f, 0, 0x21, f.cmdsn - 1, false, 0, cdb); /* behind ExpCmdSN */
	CHECK_EQ(0, fx_pending(&f));
	CHECK_EQ(2, f.srv.cmds_dropped);
	CHECK_EQ(0, f.c->sess.pending_count);
	cmd_at(&f, 0, 0x22, f.cmdsn, false, 0, cdb); /* the one due: answered */
	CHECK(fx_next(&f, &r));
	CHECK_EQ(0x22, r.itt);
	fx_fini(&f);
}

static void test_immediate_flood_bounded(void)
{
	struct iscsi_fixture f;
	struct fx_pdu last;
	uint8_t cdb[16];
	enum { FLOOD = 100, WINDOW = 64 };
	fx_init(&f);
	fx_ready(&f, NULL);
	f.gate_closed = true; /* every READ stays in the volume */
	fx_read10_cdb(cdb, 0, 1);
	for (uint32_t i = 0; i < FLOOD; i++)
		cmd_at(&f, ISCSI_FLAG_CMD_READ, 0x100 + i, f.cmdsn, true, 512, cdb);
	CHECK_EQ(WINDOW, f.c->sess.cmds_in_flight);
	CHECK_EQ(WINDOW, f.srv.tasks);
	CHECK_EQ(FLOOD - WINDOW, count_status(&f, SAM_STAT_TASK_SET_FULL, &last));
	CHECK_EQ(FLOOD - WINDOW, f.srv.task_set_full);
	CHECK_EQ(last.expcmdsn - 1, last.maxcmdsn); /* no slot left: the window is shut */
	open_gate(&f);
	CHECK_EQ(WINDOW, count_status(&f, SAM_STAT_GOOD, &last));
	CHECK(sn_lt(last.expcmdsn, last.maxcmdsn));
	CHECK_EQ(0, f.srv.tasks);
	fx_fini(&f);
}

static void test_huge_writes_without_data_stay_within_budget(void)
{
	struct iscsi_fixture f;
	struct fx_pdu last;
	uint8_t cdb[16];
	fx_init(&f);
	fx_ready(&f, "ImmediateData=No");
	uint64_t limit = f.c->sess.budget.limit;
	fx_write10_cdb(cdb, 0, 1);
	/* Each asks for 32 MiB and never sends a byte; immediate ones ignore the window. */
	for (uint32_t i = 0; i < 40; i++)
		cmd_at(&f, ISCSI_FLAG_CMD_WRITE, 0x200 + i, f.cmdsn, true, SCSI_MAX_TRANSFER_BYTES, cdb);
	for (uint32_t i = 0; i < 40; i++)
		fx_scsi_cmd(&f, ISCSI_FLAG_CMD_WRITE, 0x300 + i, SCSI_MAX_TRANSFER_BYTES, cdb, NULL, 0);
	CHECK(f.c->sess.budget.high_water <= limit);
	CHECK(f.srv.budget.high_water <= limit);
	CHECK_EQ(limit / SCSI_MAX_TRANSFER_BYTES, f.c->sess.cmds_in_flight);
	/* all within the window advertised at login: refused, never allocated */
	CHECK_EQ(80 - limit / SCSI_MAX_TRANSFER_BYTES, count_status(&f, SAM_STAT_TASK_SET_FULL, &last));
	CHECK_EQ(last.expcmdsn - 1, last.maxcmdsn); /* the budget is spent: closed */
	fx_fini(&f);
	CHECK_EQ(0, f.srv.budget.charged);
}

/* A session that floods the shared pool does not starve another one: the other's
 * commands are paid from its guarantee (ISCSI_SESSION_GUARANTEED_BYTES). */
static void test_flooded_pool_leaves_others_their_guarantee(void)
{
	struct iscsi_fixture f;
	struct fx_link link2;
	struct fx_pdu last;
	uint8_t cdb[16];
	fx_setup(&f);
	/* A shared pool of 16 MiB; the guarantees of four connection slots come on top. */
	f.cfg.max_connections = 4;
	f.cfg.global_buffer_bytes = (16ull << 20) + 4 * ISCSI_SESSION_GUARANTEED_BYTES;
	fx_start(&f);
	fx_ready(&f, "ImmediateData=No");
	fx_write10_cdb(cdb, 0, 1);
	for (uint32_t i = 0; i < 40; i++) /* 1 MiB each, no data: the pool and more */
		fx_scsi_cmd(&f, ISCSI_FLAG_CMD_WRITE, 0x700 + i, 1u << 20, cdb, NULL, 0);
	CHECK(iscsi_budget_room(&f.srv.budget) == 0);
	second_session(&f, &link2, NULL);
	uint8_t tur[16] = { 0 };
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL, 0x7ff, 0, tur, NULL, 0);
	CHECK_EQ(1, count_status(&f, SAM_STAT_CHECK_CONDITION, &last)); /* power-on attention */
	uint8_t data[WRITE_BYTES];
	memset(data, 0x5a, sizeof(data));
	fx_write10_cdb(cdb, 8, WRITE_BYTES / FX_BLOCK_SIZE);
	for (uint32_t i = 0; i < 8; i++)
		fx_scsi_cmd(&f, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_WRITE, 0x800 + i, WRITE_BYTES, cdb,
			    data, sizeof(data));
	CHECK_EQ(8, count_status(&f, SAM_STAT_GOOD, &last));
	CHECK(sn_lt(last.expcmdsn - 1, last.maxcmdsn)); /* its window stays open */
	fini_two(&f, &link2);
}

static void test_window_closes_and_reopens_with_budget(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r, last;
	uint8_t cdb[16];
	fx_setup(&f);
	f.cfg.session_buffer_bytes = 8 * 4096; /* eight 4 KiB READs */
	fx_start(&f);
	fx_ready(&f, NULL);
	f.gate_closed = true;
	fx_read10_cdb(cdb, 0, 8);
	uint32_t max = f.last.maxcmdsn;
	for (uint32_t i = 0; i < 8; i++)
		fx_scsi_cmd(&f, ISCSI_FLAG_CMD_READ, 0x400 + i, 4096, cdb, NULL, 0);
	CHECK_EQ(f.c->sess.budget.limit, f.c->sess.budget.charged);
	/* Within the window advertised at login, but no budget: TASK SET FULL, no buffer. */
	CHECK(sn_le(f.cmdsn, max));
	fx_scsi_cmd(&f, ISCSI_FLAG_CMD_READ, 0x410, 4096, cdb, NULL, 0);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(SAM_STAT_TASK_SET_FULL, r.bhs[ISCSI_BHS_STATUS]);
	CHECK_EQ(r.expcmdsn - 1, r.maxcmdsn); /* closed */
	CHECK_EQ(8, f.c->sess.cmds_in_flight);
	open_gate(&f);
	CHECK_EQ(8, count_status(&f, SAM_STAT_GOOD, &last));
	CHECK_EQ(last.expcmdsn + 63, last.maxcmdsn); /* open again, wholly */
	CHECK_EQ(0, f.c->sess.budget.charged);
	fx_fini(&f);
}

static void test_tmf_flood_bounded(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t cdb[16];
	enum { FLOOD = 10, TMF_MAX = 4 };
	fx_init(&f);
	fx_ready(&f, NULL);
	f.gate_closed = true;
	fx_read10_cdb(cdb, 0, 1);
	fx_scsi_cmd(&f, ISCSI_FLAG_CMD_READ, 0x500, 512, cdb, NULL, 0);
	for (uint32_t i = 0; i < FLOOD; i++) /* each waits for the running READ to stop */
		tmf_on(&f, ISCSI_TM_FUNC_ABORT_TASK, 0x510 + i, 0x500);
	CHECK_EQ(TMF_MAX, f.c->sess.tmfs);
	CHECK_EQ(FLOOD - TMF_MAX, f.srv.tmfs_refused);
	for (uint32_t i = 0; i < FLOOD - TMF_MAX; i++) {
		CHECK(fx_next(&f, &r));
		CHECK_EQ(ISCSI_OP_SCSI_TASK_MGMT_RSP, r.opcode);
		CHECK_EQ(ISCSI_TM_RSP_FUNCTION_REJECTED, r.bhs[ISCSI_BHS_RESPONSE]);
	}
	open_gate(&f);
	CHECK_EQ(TMF_MAX, fx_pending(&f)); /* the admitted ones answer once the READ ended */
	CHECK_EQ(0, f.c->sess.tmfs);
	CHECK_EQ(0, f.srv.tasks);
	fx_fini(&f);
}

static void test_global_task_cap(void)
{
	struct iscsi_fixture f;
	struct fx_pdu last;
	uint8_t cdb[16];
	fx_setup(&f);
	f.cfg.max_tasks = 5;
	fx_start(&f);
	fx_ready(&f, NULL);
	f.gate_closed = true;
	fx_read10_cdb(cdb, 0, 1);
	for (uint32_t i = 0; i < 8; i++)
		fx_scsi_cmd(&f, ISCSI_FLAG_CMD_READ, 0x600 + i, 512, cdb, NULL, 0);
	CHECK_EQ(5, f.srv.tasks);
	CHECK_EQ(3, count_status(&f, SAM_STAT_TASK_SET_FULL, &last));
	tmf_on(&f, ISCSI_TM_FUNC_ABORT_TASK, 0x610, 0x600);
	CHECK_EQ(1, f.srv.tmfs_refused);
	open_gate(&f);
	CHECK_EQ(0, f.srv.tasks);
	fx_fini(&f);
}

/* An initiator that keeps to the window: WRITE then READ back, many times, in a window
 * of 16 at once; every command succeeds and nothing stays charged. */
static void test_honest_sequence_completes(void)
{
	struct iscsi_fixture f;
	struct fx_pdu last;
	uint8_t cdb[16], data[4096];
	enum { ROUNDS = 20, DEPTH = 16 };
	fx_init(&f);
	fx_ready(&f, NULL); /* ImmediateData=Yes: each WRITE carries its 4 KiB */
	unsigned good = 0;
	for (uint32_t round = 0; round < ROUNDS; round++) {
		for (uint32_t i = 0; i < DEPTH; i++) {
			memset(data, (int)(round * DEPTH + i), sizeof(data));
			fx_write10_cdb(cdb, i * 8, 8);
			fx_scsi_cmd(&f, ISCSI_FLAG_CMD_WRITE, 0x1000 + i, 4096, cdb, data, 4096);
		}
		good += count_status(&f, SAM_STAT_GOOD, &last);
		CHECK(sn_le(f.cmdsn + DEPTH - 1, last.maxcmdsn));
	}
	CHECK_EQ(ROUNDS * DEPTH, good);
	CHECK_EQ(0, f.srv.task_set_full);
	CHECK_EQ(0, f.srv.cmds_dropped);
	CHECK_EQ(0, f.c->sess.budget.charged);
	CHECK(f.srv.budget.high_water > 0);
	fx_fini(&f);
}

int main(void)
{
	RUN(test_lun_reset_while_r2t_send_blocks);
	RUN(test_reinstatement_while_r2t_send_blocks);
	RUN(test_lun_reset_while_data_in_send_blocks);
	RUN(test_lun_reset_frees_collecting_command_of_idle_worker);
	RUN(test_teardown_while_r2t_send_blocks);
	RUN(test_commands_beyond_max_cmdsn_dropped);
	RUN(test_immediate_flood_bounded);
	RUN(test_huge_writes_without_data_stay_within_budget);
	RUN(test_flooded_pool_leaves_others_their_guarantee);
	RUN(test_window_closes_and_reopens_with_budget);
	RUN(test_tmf_flood_bounded);
	RUN(test_global_task_cap);
	RUN(test_honest_sequence_completes);
	return check_report("test_iscsi_bounds");
}
