/* Host tests of the receive data path: SCSI data received straight into the command's
 * buffer (net/iscsi_rx.c's place hook, iscsi_cmd_place in net/iscsi_cmd.c). A command is
 * admitted at its header, so Data-Out may land in its buffer before the worker handled
 * the command PDU; every abort must leave a buffer alone while a PDU being received or
 * queued points into it; data that does not fit goes nowhere. Run under AddressSanitizer
 * by make unit-test: a buffer freed too early or written out of bounds fails there. */
#include "check.h"
#include "iscsi_test_support.h"

#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "scsi_spec.h"

#define BYTES 4096
#define BLOCKS (BYTES / FX_BLOCK_SIZE)
#define ITT 0x30

static uint8_t pattern[BYTES];

static void make_pattern(void)
{
	for (unsigned i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7 + 3 + (i >> 8));
}

static bool disk_untouched(struct iscsi_fixture *f)
{
	for (unsigned i = 0; i < BYTES; i++)
		if (f->sf.rv.data[i])
			return false;
	return true;
}

/* The bytes of a Data-Out PDU as the initiator sends them (no digests), for tests that
 * feed part of one. Returns the length; buf has room for BHS + BYTES. */
static size_t data_out_bytes(uint8_t *buf, uint32_t itt, uint32_t datasn, uint32_t offset,
			     bool final, const void *data, uint32_t len)
{
	memset(buf, 0, ISCSI_BHS_LEN + iscsi_pad4(len));
	buf[0] = ISCSI_OP_SCSI_DATA_OUT;
	buf[1] = final ? ISCSI_FLAG_FINAL : 0;
	put_be24(buf + ISCSI_BHS_DATA_SEGMENT_LENGTH, len);
	put_be32(buf + ISCSI_BHS_INITIATOR_TASK_TAG, itt);
	put_be32(buf + ISCSI_BHS_TARGET_TRANSFER_TAG, ISCSI_RESERVED_TAG);
	put_be32(buf + ISCSI_BHS_DATASN, datasn);
	put_be32(buf + ISCSI_BHS_BUFFER_OFFSET, offset);
	memcpy(buf + ISCSI_BHS_LEN, data, len);
	return ISCSI_BHS_LEN + iscsi_pad4(len);
}

static void tmf(struct iscsi_fixture *f, uint8_t function, uint32_t rtt)
{
	uint8_t bhs[ISCSI_BHS_LEN] = { ISCSI_OP_SCSI_TASK_MGMT_REQ | ISCSI_IMMEDIATE,
				       (uint8_t)(ISCSI_FLAG_FINAL | function) };
	put_be32(bhs + ISCSI_BHS_INITIATOR_TASK_TAG, 0xc0);
	put_be32(bhs + ISCSI_BHS_REFERENCED_TASK_TAG, rtt);
	put_be32(bhs + ISCSI_BHS_CMDSN, f->cmdsn);
	put_be32(bhs + ISCSI_BHS_REFCMDSN, f->cmdsn);
	fx_send(f, bhs, NULL, 0);
}

static void logout(struct iscsi_fixture *f)
{
	uint8_t bhs[ISCSI_BHS_LEN] = { ISCSI_OP_LOGOUT_REQ | ISCSI_IMMEDIATE,
				       ISCSI_FLAG_FINAL | ISCSI_LOGOUT_CLOSE_SESSION };
	put_be32(bhs + ISCSI_BHS_INITIATOR_TASK_TAG, 0xb0);
	put_be32(bhs + ISCSI_BHS_CMDSN, f->cmdsn);
	fx_send(f, bhs, NULL, 0);
}

/* A session where a WRITE may send all its data unsolicited (no R2T for BYTES). */
static void ready_unsolicited(struct iscsi_fixture *f)
{
	make_pattern();
	fx_init(f);
	fx_ready(f, "ImmediateData=Yes\nInitialR2T=No");
}

/* A WRITE of BYTES at LBA 0 whose data follows as unsolicited Data-Out (no F bit). */
static void write_cmd(struct iscsi_fixture *f, uint32_t itt, const void *imm, uint32_t imm_len)
{
	uint8_t cdb[16];
	fx_write10_cdb(cdb, 0, BLOCKS);
	fx_scsi_cmd(f, ISCSI_FLAG_CMD_WRITE, itt, BYTES, cdb, imm, imm_len);
}

/* The worker sits in a send (a NOP-In the test holds back): PDUs fed now are received
 * and queued by the loop, not handled. */
static void block_worker(struct iscsi_fixture *f)
{
	f->lk->hold = true;
	fx_nop_out(f, 0x77, ISCSI_RESERVED_TAG, NULL, 0);
}

static void expect_nop_in(struct iscsi_fixture *f)
{
	struct fx_pdu r;
	CHECK(fx_next(f, &r));
	CHECK_EQ(ISCSI_OP_NOP_IN, r.opcode);
}

static void expect_status(struct iscsi_fixture *f, uint32_t itt, uint8_t status)
{
	struct fx_pdu r;
	CHECK(fx_next(f, &r));
	CHECK_EQ(ISCSI_OP_SCSI_RSP, r.opcode);
	CHECK_EQ(itt, r.itt);
	CHECK_EQ(status, r.bhs[ISCSI_BHS_STATUS]);
}

static void test_data_out_lands_before_worker_handles_command(void)
{
	struct iscsi_fixture f;
	ready_unsolicited(&f);
	struct iscsi_data_counters before = f.srv.data;
	block_worker(&f);
	write_cmd(&f, ITT, pattern, 1024);
	fx_data_out(&f, ITT, ISCSI_RESERVED_TAG, 0, 1024, true, pattern + 1024, BYTES - 1024);
	/* Admitted at its header, not started: its data is already in its buffer. */
	struct iscsi_cmd *cmd = f.c->cmds;
	CHECK(cmd != NULL);
	CHECK(!cmd->started);
	CHECK_EQ(1, cmd->holds); /* the queued Data-Out */
	CHECK_MEM_EQ(pattern, cmd->buf, BYTES);
	fx_release(f.lk);
	expect_nop_in(&f);
	expect_status(&f, ITT, SAM_STAT_GOOD);
	CHECK_MEM_EQ(pattern, f.sf.rv.data, BYTES);
	CHECK_EQ(BYTES, f.srv.data.rx_copied_bytes - before.rx_copied_bytes); /* once */
	CHECK_EQ(0, f.srv.data.rx_discarded_bytes - before.rx_discarded_bytes);
	CHECK(f.c->cmds == NULL);
	fx_fini(&f);
}

/* The command PDU waits for a lower CmdSN; its Data-Out arrives and is checked before it
 * starts, and the command completes once the gap is filled. */
static void test_data_out_before_command_due_in_cmdsn_order(void)
{
	struct iscsi_fixture f;
	uint8_t cdb[16];
	ready_unsolicited(&f);
	uint32_t first = f.cmdsn++;
	write_cmd(&f, ITT, NULL, 0); /* CmdSN first + 1: waits */
	CHECK_EQ(1, f.c->sess.pending_count);
	fx_data_out(&f, ITT, ISCSI_RESERVED_TAG, 0, 0, true, pattern, BYTES);
	CHECK_EQ(0, fx_pending(&f));
	CHECK_MEM_EQ(pattern, f.c->cmds->buf, BYTES);
	CHECK_EQ(BYTES, f.c->cmds->received);
	uint32_t next = f.cmdsn;
	f.cmdsn = first;
	memset(cdb, 0, sizeof(cdb)); /* TEST UNIT READY fills the gap */
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL, 0x31, 0, cdb, NULL, 0);
	f.cmdsn = next;
	expect_status(&f, 0x31, SAM_STAT_GOOD);
	expect_status(&f, ITT, SAM_STAT_GOOD);
	CHECK_MEM_EQ(pattern, f.sf.rv.data, BYTES);
	fx_fini(&f);
}

static void test_tmf_abort_while_data_out_half_received(void)
{
	struct iscsi_fixture f;
	uint8_t raw[ISCSI_BHS_LEN + BYTES];
	struct fx_pdu r;
	ready_unsolicited(&f);
	write_cmd(&f, ITT, NULL, 0);
	struct iscsi_cmd *cmd = f.c->cmds;
	CHECK(cmd && cmd->started);
	block_worker(&f);
	tmf(&f, ISCSI_TM_FUNC_ABORT_TASK, ITT); /* queued: the worker aborts it later */
	size_t n = data_out_bytes(raw, ITT, 0, 0, true, pattern, BYTES);
	fx_send_raw(&f, raw, n / 2);
	CHECK_EQ(1, cmd->holds);
	fx_release(f.lk); /* the abort comes while the Data-Out is half received */
	expect_nop_in(&f);
	CHECK(f.c->cmds == cmd); /* aborted, but held: not freed */
	CHECK(cmd->aborted);
	CHECK_EQ(0, fx_pending(&f)); /* the TMF answers once the command is gone */
	fx_send_raw(&f, raw + n / 2, n - n / 2);
	CHECK(f.c->cmds == NULL);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_SCSI_TASK_MGMT_RSP, r.opcode);
	CHECK_EQ(ISCSI_TM_RSP_FUNCTION_COMPLETE, r.bhs[ISCSI_BHS_RESPONSE]);
	CHECK_EQ(0, fx_pending(&f)); /* no response for the aborted command */
	CHECK(disk_untouched(&f));
	CHECK(!f.link.closed);
	fx_fini(&f);
}

static void test_tmf_abort_while_data_out_queued(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	ready_unsolicited(&f);
	write_cmd(&f, ITT, NULL, 0);
	block_worker(&f);
	tmf(&f, ISCSI_TM_FUNC_ABORT_TASK, ITT);
	fx_data_out(&f, ITT, ISCSI_RESERVED_TAG, 0, 0, true, pattern, BYTES);
	CHECK_EQ(1, f.c->cmds->holds);
	fx_release(f.lk);
	expect_nop_in(&f);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_SCSI_TASK_MGMT_RSP, r.opcode);
	CHECK_EQ(0, fx_pending(&f));
	CHECK(f.c->cmds == NULL);
	CHECK(disk_untouched(&f));
	fx_fini(&f);
}

/* A second session of another initiator on the same target. */
static void second_session(struct iscsi_fixture *f, struct fx_link *link2, const char *name)
{
	struct iscsi_conn *c2;
	char keys[128];
	fx_open_link(f, link2, &c2);
	fx_use(f, link2);
	snprintf(keys, sizeof(keys), "InitiatorName=%s", name);
	f->expstatsn = 0;
	CHECK_EQ(0, fx_login(f, keys));
}

static void test_lun_reset_from_other_session_while_data_out_half_received(void)
{
	struct iscsi_fixture f;
	struct fx_link link2;
	uint8_t raw[ISCSI_BHS_LEN + BYTES];
	ready_unsolicited(&f);
	struct fx_link *l1 = f.lk;
	struct iscsi_conn *c1 = f.c;
	write_cmd(&f, ITT, NULL, 0);
	struct iscsi_cmd *cmd = c1->cmds;
	size_t n = data_out_bytes(raw, ITT, 0, 0, true, pattern, BYTES);
	fx_send_raw(&f, raw, n / 2);
	second_session(&f, &link2, "iqn.other");
	tmf(&f, ISCSI_TM_FUNC_LOGICAL_UNIT_RESET, 0);
	CHECK(cmd->aborted);
	CHECK(c1->cmds == cmd); /* the half-received Data-Out still points into it */
	fx_use(&f, l1);
	fx_send_raw(&f, raw + n / 2, n - n / 2);
	CHECK(c1->cmds == NULL);
	CHECK_EQ(0, c1->sess.cmds_in_flight);
	CHECK(disk_untouched(&f));
	fx_fini(&f);
	free(link2.out);
}

static void test_lun_reset_from_other_session_while_data_out_queued(void)
{
	struct iscsi_fixture f;
	struct fx_link link2;
	ready_unsolicited(&f);
	struct fx_link *l1 = f.lk;
	struct iscsi_conn *c1 = f.c;
	write_cmd(&f, ITT, NULL, 0);
	block_worker(&f);
	fx_data_out(&f, ITT, ISCSI_RESERVED_TAG, 0, 0, true, pattern, BYTES);
	second_session(&f, &link2, "iqn.other");
	tmf(&f, ISCSI_TM_FUNC_LOGICAL_UNIT_RESET, 0);
	CHECK(c1->cmds != NULL && c1->cmds->aborted);
	fx_release(l1);
	CHECK(c1->cmds == NULL);
	CHECK(disk_untouched(&f));
	fx_fini(&f);
	free(link2.out);
}

/* Reinstatement by the same initiator ends the session whose Data-Out is half in. */
static void test_reinstatement_while_data_out_half_received(void)
{
	struct iscsi_fixture f;
	struct fx_link link2;
	uint8_t raw[ISCSI_BHS_LEN + BYTES];
	ready_unsolicited(&f);
	struct fx_link *l1 = f.lk;
	write_cmd(&f, ITT, NULL, 0);
	size_t n = data_out_bytes(raw, ITT, 0, 0, true, pattern, BYTES);
	fx_send_raw(&f, raw, n / 2);
	second_session(&f, &link2, FX_INITIATOR);
	CHECK(l1->closed);
	CHECK(disk_untouched(&f));
	fx_fini(&f);
	free(link2.out);
}

static void test_logout_while_data_out_queued(void)
{
	struct iscsi_fixture f;
	ready_unsolicited(&f);
	write_cmd(&f, ITT, NULL, 0);
	block_worker(&f);
	logout(&f);
	fx_data_out(&f, ITT, ISCSI_RESERVED_TAG, 0, 0, true, pattern, BYTES);
	fx_release(f.lk);
	CHECK(f.link.closed);
	CHECK(disk_untouched(&f));
	fx_fini(&f);
}

static void test_logout_while_data_out_half_received(void)
{
	struct iscsi_fixture f;
	uint8_t raw[ISCSI_BHS_LEN + BYTES];
	ready_unsolicited(&f);
	write_cmd(&f, ITT, NULL, 0);
	block_worker(&f);
	logout(&f);
	size_t n = data_out_bytes(raw, ITT, 0, 0, true, pattern, BYTES);
	fx_send_raw(&f, raw, n / 2);
	fx_release(f.lk); /* logout, close, teardown with the Data-Out half in */
	CHECK(f.link.closed);
	CHECK(disk_untouched(&f));
	fx_fini(&f);
}

/* The transport goes away mid-PDU: a Data-Out into a started command, or the immediate
 * data of a command admitted at its header and never started. */
static void test_connection_lost_while_data_out_half_received(void)
{
	struct iscsi_fixture f;
	uint8_t raw[ISCSI_BHS_LEN + BYTES];
	ready_unsolicited(&f);
	write_cmd(&f, ITT, NULL, 0);
	size_t n = data_out_bytes(raw, ITT, 0, 0, true, pattern, BYTES);
	fx_send_raw(&f, raw, n / 2);
	CHECK_EQ(1, f.c->cmds->holds);
	f.link.transport_gone = true;
	iscsi_conn_closed(f.c);
	fx_run();
	CHECK_EQ(0, f.srv.conns_open);
	CHECK(disk_untouched(&f));
	fx_fini(&f);
}

static void test_connection_lost_while_immediate_data_half_received(void)
{
	struct iscsi_fixture f;
	uint8_t raw[ISCSI_BHS_LEN + BYTES];
	uint8_t cdb[16];
	ready_unsolicited(&f);
	fx_write10_cdb(cdb, 0, BLOCKS);
	memset(raw, 0, sizeof(raw));
	raw[0] = ISCSI_OP_SCSI_CMD;
	raw[1] = ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_WRITE;
	put_be24(raw + ISCSI_BHS_DATA_SEGMENT_LENGTH, 2048);
	put_be32(raw + ISCSI_BHS_INITIATOR_TASK_TAG, ITT);
	put_be32(raw + ISCSI_BHS_EXPECTED_DATA_TRANSFER_LENGTH, BYTES);
	put_be32(raw + ISCSI_BHS_CMDSN, f.cmdsn++);
	memcpy(raw + ISCSI_BHS_CDB, cdb, 16);
	memcpy(raw + ISCSI_BHS_LEN, pattern, 2048);
	fx_send_raw(&f, raw, ISCSI_BHS_LEN + 1000);
	CHECK(f.c->cmds != NULL && !f.c->cmds->started);
	f.link.transport_gone = true;
	iscsi_conn_closed(f.c);
	fx_run();
	CHECK_EQ(0, f.srv.conns_open);
	fx_fini(&f);
}

/* Offsets and lengths past the command's buffer are written nowhere (ASan watches the
 * buffer's end) and end the connection, as a broken sequence did before. */
static void test_data_out_past_edtl_discarded(void)
{
	static const uint32_t offsets[] = { BYTES - 512, BYTES + 4, 0xfffffe00u };
	for (unsigned i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		struct iscsi_fixture f;
		ready_unsolicited(&f);
		write_cmd(&f, ITT, NULL, 0);
		struct iscsi_data_counters before = f.srv.data;
		fx_data_out(&f, ITT, ISCSI_RESERVED_TAG, 0, offsets[i], true, pattern, 1024);
		CHECK_EQ(1024, f.srv.data.rx_discarded_bytes - before.rx_discarded_bytes);
		CHECK_EQ(0, f.srv.data.rx_copied_bytes - before.rx_copied_bytes);
		CHECK(f.link.closed);
		CHECK(disk_untouched(&f));
		fx_fini(&f);
	}
}

/* A second command with the ITT of one still collecting is rejected, and its immediate
 * data goes nowhere: the first command's buffer keeps what its own Data-Out brings. */
static void test_duplicate_itt_data_not_placed(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t junk[1024];
	ready_unsolicited(&f);
	memset(junk, 0xee, sizeof(junk));
	write_cmd(&f, ITT, pattern, 1024);
	struct iscsi_data_counters before = f.srv.data;
	write_cmd(&f, ITT, junk, sizeof(junk));
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_REJECT, r.opcode);
	CHECK_EQ(ISCSI_REASON_TASK_IN_PROGRESS, r.bhs[ISCSI_BHS_REJECT_REASON]);
	CHECK_EQ(sizeof(junk), f.srv.data.rx_discarded_bytes - before.rx_discarded_bytes);
	CHECK_MEM_EQ(pattern, f.c->cmds->buf, 1024);
	fx_data_out(&f, ITT, ISCSI_RESERVED_TAG, 0, 1024, true, pattern + 1024, BYTES - 1024);
	expect_status(&f, ITT, SAM_STAT_GOOD);
	CHECK_MEM_EQ(pattern, f.sf.rv.data, BYTES);
	fx_fini(&f);
}

/* An ITT is free again once its command began its last response: the initiator may
 * reuse it as soon as that response arrives, before the old command is freed. */
static void test_itt_reused_while_old_command_responds(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t cdb[16];
	make_pattern();
	fx_init(&f);
	fx_ready(&f, NULL);
	fx_read10_cdb(cdb, 0, 1);
	f.lk->hold = true; /* the first read's task blocks sending its Data-In */
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_READ, 0x50, 512, cdb, NULL, 0);
	CHECK(f.c->cmds != NULL && f.c->cmds->released);
	uint64_t commands = f.srv.data.commands;
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_READ, 0x50, 512, cdb, NULL, 0);
	CHECK_EQ(commands + 1, f.srv.data.commands); /* admitted, not TASK IN PROGRESS */
	fx_release(f.lk);
	for (int i = 0; i < 2; i++) {
		CHECK(fx_next(&f, &r));
		CHECK_EQ(ISCSI_OP_SCSI_DATA_IN, r.opcode);
		CHECK_EQ(0x50, r.itt);
	}
	CHECK_EQ(0, fx_pending(&f));
	fx_fini(&f);
}

/* A command refused for want of budget: TASK SET FULL in order, its unsolicited Data-Out
 * discarded (counted) and dropped silently; the session goes on. */
static void test_refused_command_then_its_data_out(void)
{
	struct iscsi_fixture f;
	uint8_t cdb[16];
	make_pattern();
	fx_setup(&f);
	f.cfg.session_buffer_bytes = 4096;
	fx_start(&f);
	fx_ready(&f, "ImmediateData=Yes\nInitialR2T=No");
	struct iscsi_data_counters before = f.srv.data;
	uint64_t charged = f.c->sess.budget.charged;
	fx_write10_cdb(cdb, 0, 64);
	fx_scsi_cmd(&f, ISCSI_FLAG_CMD_WRITE, 0x40, 64 * FX_BLOCK_SIZE * 1024, cdb, pattern, 1024);
	expect_status(&f, 0x40, SAM_STAT_TASK_SET_FULL);
	CHECK_EQ(charged, f.c->sess.budget.charged); /* nothing was allocated for it */
	fx_data_out(&f, 0x40, ISCSI_RESERVED_TAG, 0, 1024, false, pattern, 2048);
	CHECK_EQ(0, fx_pending(&f));
	CHECK(!f.link.closed);
	CHECK_EQ(1024 + 2048, f.srv.data.rx_discarded_bytes - before.rx_discarded_bytes);
	write_cmd(&f, ITT, pattern, BYTES);
	expect_status(&f, ITT, SAM_STAT_GOOD);
	CHECK_MEM_EQ(pattern, f.sf.rv.data, BYTES);
	fx_fini(&f);
}

/* A Data-Out beyond a command's data that is still being received when the command's
 * data is complete: the buffer is not handed to the disk while it points into it, and
 * the broken sequence ends the connection. */
static void test_stray_data_out_keeps_complete_command_from_executing(void)
{
	struct iscsi_fixture f;
	uint8_t raw[ISCSI_BHS_LEN + BYTES];
	uint8_t junk[512];
	ready_unsolicited(&f);
	memset(junk, 0xee, sizeof(junk));
	block_worker(&f);
	write_cmd(&f, ITT, pattern, BYTES); /* all its data, immediate */
	size_t n = data_out_bytes(raw, ITT, 0, 0, true, junk, sizeof(junk));
	fx_send_raw(&f, raw, n - 100);
	fx_release(f.lk); /* the worker starts the command: complete, but held */
	expect_nop_in(&f);
	CHECK(!f.c->cmds->executing);
	fx_send_raw(&f, raw + n - 100, 100);
	CHECK(f.link.closed);
	CHECK(disk_untouched(&f));
	fx_fini(&f);
}

/* Every part of a write (immediate, unsolicited, solicited) fed one byte at a time, also
 * into a command not yet started. */
static void test_write_in_one_byte_chunks(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	make_pattern();
	fx_init(&f);
	fx_ready(&f, "ImmediateData=Yes\nInitialR2T=No\nFirstBurstLength=2048");
	f.chunk = 1;
	struct iscsi_data_counters before = f.srv.data;
	write_cmd(&f, ITT, pattern, 512);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_R2T, r.opcode);
	CHECK_EQ(2048, r.offset);
	fx_data_out(&f, ITT, ISCSI_RESERVED_TAG, 0, 512, true, pattern + 512, 1536);
	fx_data_out(&f, ITT, r.ttt, 0, 2048, true, pattern + 2048, BYTES - 2048);
	expect_status(&f, ITT, SAM_STAT_GOOD);
	CHECK_MEM_EQ(pattern, f.sf.rv.data, BYTES);
	CHECK_EQ(BYTES, f.srv.data.rx_copied_bytes - before.rx_copied_bytes);
	fx_fini(&f);
}

/* With digests: a stray Data-Out with a bad data digest is rejected, not fatal; the
 * complete command it held executes once it is gone. */
static void test_rejected_stray_data_out_releases_complete_command(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t cdb[16];
	uint8_t raw[ISCSI_BHS_LEN + 4 + 512 + 4];
	make_pattern();
	fx_init(&f);
	CHECK_EQ(0, fx_login(&f, "HeaderDigest=CRC32C\nDataDigest=CRC32C\nImmediateData=Yes\n"
				 "InitialR2T=No"));
	f.digests = true;
	memset(cdb, 0, sizeof(cdb)); /* TEST UNIT READY takes the unit attention */
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL, 0x20, 0, cdb, NULL, 0);
	CHECK(fx_next(&f, &r));
	block_worker(&f);
	write_cmd(&f, ITT, pattern, BYTES);
	memset(raw, 0, sizeof(raw));
	data_out_bytes(raw, ITT, 0, 0, true, pattern, 512);
	memmove(raw + ISCSI_BHS_LEN + 4, raw + ISCSI_BHS_LEN, 512);
	put_le32(raw + ISCSI_BHS_LEN, crc32c(0, raw, ISCSI_BHS_LEN));
	put_le32(raw + ISCSI_BHS_LEN + 4 + 512, 0xbad); /* wrong data digest */
	fx_send_raw(&f, raw, sizeof(raw) - 1);
	fx_release(f.lk);
	expect_nop_in(&f);
	CHECK(!f.c->cmds->executing);
	fx_send_raw(&f, raw + sizeof(raw) - 1, 1);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_REJECT, r.opcode);
	CHECK_EQ(ISCSI_REASON_DATA_DIGEST_ERROR, r.bhs[ISCSI_BHS_REJECT_REASON]);
	expect_status(&f, ITT, SAM_STAT_GOOD);
	CHECK_MEM_EQ(pattern, f.sf.rv.data, BYTES);
	fx_fini(&f);
}

int main(void)
{
	RUN(test_data_out_lands_before_worker_handles_command);
	RUN(test_data_out_before_command_due_in_cmdsn_order);
	RUN(test_tmf_abort_while_data_out_half_received);
	RUN(test_tmf_abort_while_data_out_queued);
	RUN(test_lun_reset_from_other_session_while_data_out_half_received);
	RUN(test_lun_reset_from_other_session_while_data_out_queued);
	RUN(test_reinstatement_while_data_out_half_received);
	RUN(test_logout_while_data_out_queued);
	RUN(test_logout_while_data_out_half_received);
	RUN(test_connection_lost_while_data_out_half_received);
	RUN(test_connection_lost_while_immediate_data_half_received);
	RUN(test_data_out_past_edtl_discarded);
	RUN(test_duplicate_itt_data_not_placed);
	RUN(test_itt_reused_while_old_command_responds);
	RUN(test_refused_command_then_its_data_out);
	RUN(test_stray_data_out_keeps_complete_command_from_executing);
	RUN(test_write_in_one_byte_chunks);
	RUN(test_rejected_stray_data_out_releases_complete_command);
	return check_report("test_iscsi_rxpath");
}
