/* Host tests of the full feature phase outside SCSI data: CmdSN ordering and window, NOP,
 * task management, logout, Reject, discovery and SendTargets, liveness, backpressure and
 * connection ends (net/iscsi_conn.c, iscsi_session.c, iscsi_tmf.c, iscsi_text.c). */
#include "check.h"
#include "iscsi_test_support.h"

#include <errno.h>
#include <stdlib.h>

static void tur(struct iscsi_fixture *f, uint32_t itt, uint32_t cmdsn)
{
	uint8_t cdb[16] = { 0 };
	uint32_t saved = f->cmdsn;
	f->cmdsn = cmdsn;
	fx_scsi_cmd(f, ISCSI_FLAG_FINAL, itt, 0, cdb, NULL, 0);
	f->cmdsn = saved;
}

static void test_nop_out_ping_answered_with_echo(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	fx_init(&f);
	fx_ready(&f, NULL);
	uint32_t statsn = f.expstatsn;
	fx_nop_out(&f, 0x40, ISCSI_RESERVED_TAG, "hello", 5);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_NOP_IN, r.opcode);
	CHECK_EQ(0x40, r.itt);
	CHECK_EQ(ISCSI_RESERVED_TAG, r.ttt);
	CHECK_EQ(statsn, r.statsn);
	CHECK_EQ(5, r.data_len);
	CHECK_MEM_EQ("hello", r.data, 5);
	fx_nop_out(&f, 0x41, ISCSI_RESERVED_TAG, NULL, 0);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(statsn + 1, r.statsn); /* StatSN advances per response */
	fx_fini(&f);
}

static void test_nop_out_without_task_tag_gets_no_answer(void)
{
	struct iscsi_fixture f;
	fx_init(&f);
	fx_ready(&f, NULL);
	fx_nop_out(&f, ISCSI_RESERVED_TAG, ISCSI_RESERVED_TAG, NULL, 0);
	CHECK_EQ(0, fx_pending(&f));
	fx_fini(&f);
}

static void test_tick_pings_idle_connection_and_answer_keeps_it(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	fx_init(&f);
	fx_ready(&f, NULL);
	iscsi_server_tick(&f.srv); /* the login counts as traffic */
	fx_run();
	CHECK_EQ(0, fx_pending(&f));
	iscsi_server_tick(&f.srv);
	fx_run();
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_NOP_IN, r.opcode);
	CHECK_EQ(ISCSI_RESERVED_TAG, r.itt);
	CHECK(r.ttt != ISCSI_RESERVED_TAG);
	CHECK_EQ(f.expstatsn - 1, r.statsn); /* a ping does not advance StatSN... */
	f.expstatsn = r.statsn;              /* ...so ExpStatSN stays */
	fx_nop_out(&f, ISCSI_RESERVED_TAG, r.ttt, NULL, 0);
	CHECK(!f.c->ping_outstanding);
	iscsi_server_tick(&f.srv);
	fx_run();
	CHECK(!f.link.closed);
	fx_fini(&f);
}

static void test_tick_closes_silent_connection(void)
{
	struct iscsi_fixture f;
	fx_init(&f);
	fx_ready(&f, NULL);
	iscsi_server_tick(&f.srv);
	iscsi_server_tick(&f.srv); /* ping */
	fx_run();
	CHECK(!f.link.closed);
	iscsi_server_tick(&f.srv); /* no answer */
	fx_run();
	CHECK(f.link.closed);
	fx_fini(&f);
}

static void test_tick_closes_stalled_login(void)
{
	struct iscsi_fixture f;
	fx_init(&f);
	iscsi_server_tick(&f.srv); /* connected, nothing sent for a whole period */
	fx_run();
	CHECK(f.link.closed);
	fx_fini(&f);
}

static void test_tick_keeps_login_in_progress(void)
{
	struct iscsi_fixture f;
	fx_init(&f);
	fx_login_req(&f, 1 << ISCSI_FLAG_LOGIN_CSG_SHIFT, 0,
		     "InitiatorName=" FX_INITIATOR "\nTargetName=" FX_TARGET);
	iscsi_server_tick(&f.srv);
	fx_run();
	CHECK(!f.link.closed);
	fx_fini(&f);
}

static void test_out_of_order_commands_wait_for_the_gap(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	fx_init(&f);
	fx_ready(&f, NULL);
	tur(&f, 0x51, 2);
	tur(&f, 0x52, 3);
	CHECK_EQ(0, fx_pending(&f));
	CHECK_EQ(2, f.c->sess.pending_count);
	tur(&f, 0x50, 1);
	for (uint32_t i = 0; i < 3; i++) {
		CHECK(fx_next(&f, &r));
		CHECK_EQ(0x50 + i, r.itt);
	}
	CHECK_EQ(4, r.expcmdsn);
	fx_fini(&f);
}

static void test_commands_outside_window_dropped(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	fx_init(&f);
	fx_ready(&f, NULL);
	tur(&f, 0x60, 1);
	CHECK(fx_next(&f, &r));
	tur(&f, 0x61, 1);          /* already used */
	tur(&f, 0x62, 1 + 1000);   /* beyond MaxCmdSN */
	tur(&f, 0x63, 0x80000001); /* far away */
	CHECK_EQ(0, fx_pending(&f));
	CHECK_EQ(0, f.c->sess.pending_count);
	CHECK_EQ(2, f.c->sess.exp_cmdsn);
	fx_fini(&f);
}

static void test_cmdsn_wraps_around(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	fx_init(&f);
	f.cmdsn = 0xfffffffe;
	fx_ready(&f, NULL);
	CHECK_EQ(0xfffffffe, f.last.expcmdsn);
	tur(&f, 0x72, 0);          /* ahead, across the wrap: waits */
	tur(&f, 0x70, 0xfffffffe);
	tur(&f, 0x71, 0xffffffff);
	for (uint32_t i = 0; i < 3; i++) {
		CHECK(fx_next(&f, &r));
		CHECK_EQ(0x70 + i, r.itt);
	}
	CHECK_EQ(1, r.expcmdsn);
	CHECK(sn_lt(r.expcmdsn, r.maxcmdsn));
	fx_fini(&f);
}

static void test_immediate_command_does_not_advance_cmdsn(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t cdb[16] = { 0 };
	fx_init(&f);
	fx_ready(&f, NULL);
	uint8_t bhs[ISCSI_BHS_LEN] = { ISCSI_OP_SCSI_CMD | ISCSI_IMMEDIATE, ISCSI_FLAG_FINAL };
	put_be32(bhs + ISCSI_BHS_INITIATOR_TASK_TAG, 0x80);
	put_be32(bhs + ISCSI_BHS_CMDSN, 1);
	memcpy(bhs + ISCSI_BHS_CDB, cdb, 16);
	fx_send(&f, bhs, NULL, 0);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(0x80, r.itt);
	CHECK_EQ(1, r.expcmdsn);
	fx_fini(&f);
}

static void test_window_closes_when_buffers_exceed_budget(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t cdb[16];
	fx_setup(&f);
	f.cfg.session_buffer_bytes = 4096;
	fx_start(&f);
	fx_ready(&f, NULL);
	f.gate_closed = true;
	fx_read10_cdb(cdb, 0, 8);
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_READ, 0x90, 4096, cdb, NULL, 0);
	fx_nop_out(&f, 0x91, ISCSI_RESERVED_TAG, NULL, 0);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_NOP_IN, r.opcode);
	CHECK_EQ(r.expcmdsn - 1, r.maxcmdsn); /* closed */
	f.gate_closed = false;
	waitq_wake_all(&f.gate);
	fx_run();
	CHECK(fx_next(&f, &r));
	CHECK(sn_lt(r.expcmdsn, r.maxcmdsn)); /* open again */
	fx_fini(&f);
}

static void test_unknown_opcode_rejected_connection_stays(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	fx_init(&f);
	fx_ready(&f, NULL);
	uint8_t bhs[ISCSI_BHS_LEN] = { 0x1c, ISCSI_FLAG_FINAL };
	put_be32(bhs + ISCSI_BHS_INITIATOR_TASK_TAG, 0xa0);
	fx_send(&f, bhs, NULL, 0);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_REJECT, r.opcode);
	CHECK_EQ(ISCSI_REASON_COMMAND_NOT_SUPPORTED, r.bhs[ISCSI_BHS_REJECT_REASON]);
	CHECK_EQ(ISCSI_RESERVED_TAG, r.itt);
	CHECK_EQ(ISCSI_BHS_LEN, r.data_len);
	CHECK_EQ(0x1c, r.data[0]); /* the rejected header comes back */
	CHECK(!f.link.closed);
	fx_nop_out(&f, 0xa1, ISCSI_RESERVED_TAG, NULL, 0);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_NOP_IN, r.opcode);
	fx_fini(&f);
}

static void test_snack_rejected_at_erl0(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	fx_init(&f);
	fx_ready(&f, NULL);
	uint8_t bhs[ISCSI_BHS_LEN] = { ISCSI_OP_SNACK_REQ, ISCSI_FLAG_FINAL };
	fx_send(&f, bhs, NULL, 0);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_REASON_SNACK_REJECT, r.bhs[ISCSI_BHS_REJECT_REASON]);
	fx_fini(&f);
}

static void logout(struct iscsi_fixture *f, uint8_t reason)
{
	uint8_t bhs[ISCSI_BHS_LEN] = { ISCSI_OP_LOGOUT_REQ | ISCSI_IMMEDIATE,
				       (uint8_t)(ISCSI_FLAG_FINAL | reason) };
	put_be32(bhs + ISCSI_BHS_INITIATOR_TASK_TAG, 0xb0);
	put_be32(bhs + ISCSI_BHS_CMDSN, f->cmdsn);
	fx_send(f, bhs, NULL, 0);
}

static void test_logout_closes_session(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	fx_init(&f);
	fx_ready(&f, NULL);
	logout(&f, ISCSI_LOGOUT_CLOSE_SESSION);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_LOGOUT_RSP, r.opcode);
	CHECK_EQ(ISCSI_LOGOUT_RSP_SUCCESS, r.bhs[ISCSI_BHS_RESPONSE]);
	CHECK_EQ(0xb0, r.itt);
	CHECK(f.link.closed);
	CHECK_EQ(0, f.srv.sessions_open);
	fx_fini(&f);
}

/* A logout that fills the CmdSN gap before commands already waiting in the ordering: it
 * ends the session, and the waiting commands are freed unanswered (found by fuzzing:
 * the first of them was taken out of the ordering and lost). LeakSanitizer checks it. */
static void test_logout_before_waiting_commands_frees_them(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	fx_init(&f);
	fx_ready(&f, NULL);
	tur(&f, 0x51, 2);
	tur(&f, 0x52, 3);
	CHECK_EQ(2, f.c->sess.pending_count);
	uint8_t bhs[ISCSI_BHS_LEN] = { ISCSI_OP_LOGOUT_REQ, ISCSI_FLAG_FINAL | ISCSI_LOGOUT_CLOSE_SESSION };
	put_be32(bhs + ISCSI_BHS_INITIATOR_TASK_TAG, 0xb0);
	put_be32(bhs + ISCSI_BHS_CMDSN, 1);
	fx_send(&f, bhs, NULL, 0);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_LOGOUT_RSP, r.opcode);
	CHECK_EQ(ISCSI_LOGOUT_RSP_SUCCESS, r.bhs[ISCSI_BHS_RESPONSE]);
	CHECK(!fx_next(&f, &r)); /* the commands after it get no answer */
	CHECK(f.link.closed);
	fx_fini(&f);
}

static void test_logout_for_recovery_not_supported(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	fx_init(&f);
	fx_ready(&f, NULL);
	logout(&f, ISCSI_LOGOUT_REMOVE_CONNECTION_FOR_RECOVERY);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_LOGOUT_RSP_RECOVERY_NOT_SUPPORTED, r.bhs[ISCSI_BHS_RESPONSE]);
	CHECK(!f.link.closed);
	fx_fini(&f);
}

static void tmf(struct iscsi_fixture *f, uint8_t function, uint32_t rtt, uint32_t refcmdsn, uint8_t lun)
{
	uint8_t bhs[ISCSI_BHS_LEN] = { ISCSI_OP_SCSI_TASK_MGMT_REQ | ISCSI_IMMEDIATE,
				       (uint8_t)(ISCSI_FLAG_FINAL | function) };
	bhs[ISCSI_BHS_LUN + 1] = lun;
	put_be32(bhs + ISCSI_BHS_INITIATOR_TASK_TAG, 0xc0);
	put_be32(bhs + ISCSI_BHS_REFERENCED_TASK_TAG, rtt);
	put_be32(bhs + ISCSI_BHS_CMDSN, f->cmdsn);
	put_be32(bhs + ISCSI_BHS_REFCMDSN, refcmdsn);
	fx_send(f, bhs, NULL, 0);
}

static uint8_t tmf_response(struct iscsi_fixture *f)
{
	struct fx_pdu r;
	if (!fx_next(f, &r))
		return 0xee;
	CHECK_EQ(ISCSI_OP_SCSI_TASK_MGMT_RSP, r.opcode);
	CHECK_EQ(0xc0, r.itt);
	return r.bhs[ISCSI_BHS_RESPONSE];
}

static void test_abort_running_task_no_response_after_tmf(void)
{
	struct iscsi_fixture f;
	uint8_t cdb[16];
	fx_init(&f);
	fx_ready(&f, NULL);
	f.gate_closed = true;
	fx_read10_cdb(cdb, 0, 1);
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_READ, 0xd0, 512, cdb, NULL, 0);
	tmf(&f, ISCSI_TM_FUNC_ABORT_TASK, 0xd0, 1, 0);
	CHECK_EQ(0, fx_pending(&f)); /* the TMF waits for the command to stop */
	f.gate_closed = false;
	waitq_wake_all(&f.gate);
	fx_run();
	CHECK_EQ(1, fx_pending(&f));
	CHECK_EQ(ISCSI_TM_RSP_FUNCTION_COMPLETE, tmf_response(&f));
	fx_fini(&f);
}

static void test_abort_task_waiting_for_data(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t cdb[16], data[512] = { 0 };
	fx_init(&f);
	fx_ready(&f, "ImmediateData=No");
	fx_write10_cdb(cdb, 0, 1);
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_WRITE, 0xd1, 512, cdb, NULL, 0);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_R2T, r.opcode);
	tmf(&f, ISCSI_TM_FUNC_ABORT_TASK, 0xd1, 1, 0);
	CHECK_EQ(ISCSI_TM_RSP_FUNCTION_COMPLETE, tmf_response(&f));
	fx_data_out(&f, 0xd1, r.ttt, 0, 0, true, data, 512); /* late data: dropped */
	CHECK_EQ(0, fx_pending(&f));
	CHECK(!f.link.closed);
	CHECK_EQ(0, f.c->sess.cmds_in_flight);
	fx_fini(&f);
}

static void test_abort_unknown_task_answered(void)
{
	struct iscsi_fixture f;
	fx_init(&f);
	fx_ready(&f, NULL);
	tur(&f, 0xd2, 1);
	f.cmdsn = 2;
	fx_pending(&f);
	struct fx_pdu r;
	CHECK(fx_next(&f, &r));
	tmf(&f, ISCSI_TM_FUNC_ABORT_TASK, 0xd2, 1, 0); /* finished already: its response went */
	CHECK_EQ(ISCSI_TM_RSP_TASK_DOES_NOT_EXIST, tmf_response(&f));
	f.cmdsn = 3;
	tmf(&f, ISCSI_TM_FUNC_ABORT_TASK, 0xd3, 2, 0); /* due before the TMF, not arrived */
	CHECK_EQ(ISCSI_TM_RSP_FUNCTION_COMPLETE, tmf_response(&f));
	tmf(&f, ISCSI_TM_FUNC_ABORT_TASK, 0xd4, 7, 0); /* after the TMF: unknown */
	CHECK_EQ(ISCSI_TM_RSP_TASK_DOES_NOT_EXIST, tmf_response(&f));
	fx_fini(&f);
}

static void test_lun_reset_sets_unit_attention_for_every_session(void)
{
	struct iscsi_fixture f;
	struct fx_link link2;
	struct iscsi_conn *c2;
	struct fx_pdu r;
	fx_init(&f);
	fx_ready(&f, NULL);
	/* a second initiator on the same target */
	fx_open_link(&f, &link2, &c2);
	struct iscsi_conn *c1 = f.c;
	struct fx_link *l1 = f.lk;
	f.c = c2;
	f.lk = &link2;
	CHECK_EQ(0, fx_login(&f, "InitiatorName=iqn.other"));
	c2->sess.nexus.unit_attention_reset = false;
	f.c = c1;
	f.lk = l1;
	tmf(&f, ISCSI_TM_FUNC_LOGICAL_UNIT_RESET, 0, 0, 0);
	CHECK_EQ(ISCSI_TM_RSP_FUNCTION_COMPLETE, tmf_response(&f));
	CHECK(c1->sess.nexus.unit_attention_reset);
	CHECK(c2->sess.nexus.unit_attention_reset);
	tur(&f, 0xd4, 1);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(0x02, r.bhs[ISCSI_BHS_STATUS]);
	CHECK_EQ(0x29, r.data[2 + 12]);
	fx_fini(&f);
	free(link2.out);
}

static void test_lun_reset_of_absent_lun(void)
{
	struct iscsi_fixture f;
	fx_init(&f);
	fx_ready(&f, NULL);
	tmf(&f, ISCSI_TM_FUNC_LOGICAL_UNIT_RESET, 0, 0, 3);
	CHECK_EQ(ISCSI_TM_RSP_LUN_DOES_NOT_EXIST, tmf_response(&f));
	fx_fini(&f);
}

static void test_unsupported_tmf_functions(void)
{
	struct iscsi_fixture f;
	fx_init(&f);
	fx_ready(&f, NULL);
	tmf(&f, ISCSI_TM_FUNC_TARGET_WARM_RESET, 0, 0, 0);
	CHECK_EQ(ISCSI_TM_RSP_FUNCTION_NOT_SUPPORTED, tmf_response(&f));
	tmf(&f, ISCSI_TM_FUNC_CLEAR_ACA, 0, 0, 0);
	CHECK_EQ(ISCSI_TM_RSP_FUNCTION_NOT_SUPPORTED, tmf_response(&f));
	tmf(&f, ISCSI_TM_FUNC_TASK_REASSIGN, 0, 0, 0);
	CHECK_EQ(ISCSI_TM_RSP_TASK_ALLEGIANCE_REASSIGNMENT_NOT_SUPPORTED, tmf_response(&f));
	fx_fini(&f);
}

/* ---- discovery -------------------------------------------------------------------- */

static void text_req(struct iscsi_fixture *f, uint32_t ttt, const char *lines)
{
	char text[512];
	uint8_t bhs[ISCSI_BHS_LEN] = { ISCSI_OP_TEXT_REQ | ISCSI_IMMEDIATE, ISCSI_FLAG_FINAL };
	put_be32(bhs + ISCSI_BHS_INITIATOR_TASK_TAG, 0xe0);
	put_be32(bhs + ISCSI_BHS_TARGET_TRANSFER_TAG, ttt);
	put_be32(bhs + ISCSI_BHS_CMDSN, f->cmdsn);
	fx_send(f, bhs, text, lines ? fx_text(text, sizeof(text), lines) : 0);
}

static void test_send_targets_all_lists_every_target(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	fx_init(&f);
	CHECK_EQ(0, fx_login_discovery(&f, NULL));
	CHECK(fx_key(&f.last, "TargetPortalGroupTag") == NULL);
	text_req(&f, ISCSI_RESERVED_TAG, "SendTargets=All");
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_TEXT_RSP, r.opcode);
	CHECK_EQ(ISCSI_FLAG_FINAL, r.flags);
	CHECK_EQ(ISCSI_RESERVED_TAG, r.ttt);
	static const char expected[] = "TargetName=" FX_TARGET "\0TargetAddress=10.0.2.15:3260,1\0"
				       "TargetName=" FX_TARGET2 "\0TargetAddress=10.0.2.15:3260,1";
	CHECK_EQ(sizeof(expected), r.data_len);
	CHECK_MEM_EQ(expected, r.data, sizeof(expected));
	fx_fini(&f);
}

static void test_send_targets_hides_targets_the_acl_refuses(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	static const struct iscsi_acl_entry allowed[] = { { .initiator = "iqn.someone-else" } };
	fx_init(&f);
	f.targets[0].acl = allowed;
	f.targets[0].n_acl = 1;
	CHECK_EQ(0, fx_login_discovery(&f, NULL));
	text_req(&f, ISCSI_RESERVED_TAG, "SendTargets=All");
	CHECK(fx_next(&f, &r));
	CHECK_STR_EQ(FX_TARGET2, fx_key(&r, "TargetName"));
	CHECK(memmem(r.data, r.data_len, FX_TARGET, strlen(FX_TARGET)) == NULL);
	fx_fini(&f);
}

static void test_long_send_targets_continues_within_tiny_mrdsl(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	struct iscsi_text_buf all;
	struct iscsi_target_config many[12];
	char names[12][64];
	fx_init(&f);
	for (int i = 0; i < 12; i++) {
		snprintf(names[i], sizeof(names[i]), "iqn.2026-11.org.qedbox:volume-number-%02d", i);
		many[i] = (struct iscsi_target_config){ .name = names[i], .lun = &f.sf.lun };
	}
	f.cfg.targets = many;
	f.cfg.n_targets = 12;
	CHECK_EQ(0, fx_login_discovery(&f, "MaxRecvDataSegmentLength=512"));
	iscsi_text_init(&all, 65536);
	text_req(&f, ISCSI_RESERVED_TAG, "SendTargets=All");
	int pieces = 0;
	for (;;) {
		CHECK(fx_next(&f, &r));
		CHECK_EQ(ISCSI_OP_TEXT_RSP, r.opcode);
		CHECK(r.data_len <= 512);
		iscsi_text_append(&all, r.data, r.data_len);
		pieces++;
		if (r.flags & ISCSI_FLAG_FINAL || pieces > 10)
			break;
		CHECK_EQ(ISCSI_FLAG_TEXT_CONTINUE, r.flags);
		CHECK(r.ttt != ISCSI_RESERVED_TAG);
		text_req(&f, r.ttt, NULL);
	}
	CHECK(pieces >= 2);
	CHECK_EQ(ISCSI_RESERVED_TAG, r.ttt);
	struct fx_pdu whole = { .data = (uint8_t *)all.buf, .data_len = all.len };
	CHECK_STR_EQ(names[0], fx_key(&whole, "TargetName"));
	CHECK(all.len > 900); /* 12 targets */
	CHECK(memmem(all.buf, all.len, names[11], strlen(names[11])) != NULL);
	iscsi_text_free(&all);
	fx_fini(&f);
}

static void test_discovery_session_refuses_scsi_and_nop(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t cdb[16] = { 0 };
	fx_init(&f);
	CHECK_EQ(0, fx_login_discovery(&f, NULL));
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL, 0xf0, 0, cdb, NULL, 0);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_REJECT, r.opcode);
	CHECK_EQ(ISCSI_REASON_PROTOCOL_ERROR, r.bhs[ISCSI_BHS_REJECT_REASON]);
	fx_nop_out(&f, 0xf1, ISCSI_RESERVED_TAG, NULL, 0);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_REJECT, r.opcode);
	logout(&f, ISCSI_LOGOUT_CLOSE_SESSION);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_LOGOUT_RSP, r.opcode);
	fx_fini(&f);
}

static void test_send_targets_in_normal_session(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	fx_init(&f);
	fx_ready(&f, NULL);
	text_req(&f, ISCSI_RESERVED_TAG, "SendTargets=");
	CHECK(fx_next(&f, &r));
	CHECK_STR_EQ(FX_TARGET, fx_key(&r, "TargetName"));
	text_req(&f, ISCSI_RESERVED_TAG, "SendTargets=All");
	CHECK(fx_next(&f, &r));
	CHECK_STR_EQ("Reject", fx_key(&r, "SendTargets"));
	fx_fini(&f);
}

static void test_text_request_continued_across_pdus(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	fx_init(&f);
	CHECK_EQ(0, fx_login_discovery(&f, NULL));
	uint8_t bhs[ISCSI_BHS_LEN] = { ISCSI_OP_TEXT_REQ | ISCSI_IMMEDIATE, ISCSI_FLAG_TEXT_CONTINUE };
	put_be32(bhs + ISCSI_BHS_INITIATOR_TASK_TAG, 0xe1);
	put_be32(bhs + ISCSI_BHS_TARGET_TRANSFER_TAG, ISCSI_RESERVED_TAG);
	put_be32(bhs + ISCSI_BHS_CMDSN, f.cmdsn);
	fx_send(&f, bhs, "SendTarg", 8); /* split inside the key */
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_TEXT_RSP, r.opcode);
	CHECK_EQ(0, r.flags);
	CHECK_EQ(0, r.data_len);
	CHECK(r.ttt != ISCSI_RESERVED_TAG);
	bhs[1] = ISCSI_FLAG_FINAL;
	put_be32(bhs + ISCSI_BHS_TARGET_TRANSFER_TAG, r.ttt);
	fx_send(&f, bhs, "ets=All", 8); /* with its NUL */
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_FLAG_FINAL, r.flags);
	CHECK_STR_EQ(FX_TARGET, fx_key(&r, "TargetName"));
	fx_fini(&f);
}

static void test_text_without_equals_rejected(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	fx_init(&f);
	fx_ready(&f, NULL);
	text_req(&f, ISCSI_RESERVED_TAG, "SendTargets");
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_REJECT, r.opcode);
	CHECK(!f.link.closed);
	fx_fini(&f);
}

/* ---- transport ------------------------------------------------------------------- */

static void test_full_input_queue_consumes_less_then_resumes(void)
{
	struct iscsi_fixture f;
	fx_init(&f);
	fx_ready(&f, NULL);
	enum { N = ISCSI_INPUT_QUEUE_MAX + 8 };
	static uint8_t wire[N * ISCSI_BHS_LEN];
	for (int i = 0; i < N; i++) {
		uint8_t *b = wire + i * ISCSI_BHS_LEN;
		memset(b, 0, ISCSI_BHS_LEN);
		b[0] = ISCSI_OP_NOP_OUT | ISCSI_IMMEDIATE;
		b[1] = ISCSI_FLAG_FINAL;
		put_be32(b + ISCSI_BHS_INITIATOR_TASK_TAG, (uint32_t)i);
		put_be32(b + ISCSI_BHS_TARGET_TRANSFER_TAG, ISCSI_RESERVED_TAG);
		put_be32(b + ISCSI_BHS_CMDSN, 1);
	}
	size_t used = iscsi_conn_input(f.c, wire, sizeof(wire));
	CHECK_EQ(ISCSI_INPUT_QUEUE_MAX * ISCSI_BHS_LEN, used);
	fx_run();
	CHECK_EQ(1, f.link.resumes);
	CHECK_EQ(sizeof(wire) - used, iscsi_conn_input(f.c, wire + used, sizeof(wire) - used));
	fx_run();
	CHECK_EQ(N, fx_pending(&f));
	fx_fini(&f);
}

static void test_transport_closed_during_command(void)
{
	struct iscsi_fixture f;
	uint8_t cdb[16];
	fx_init(&f);
	fx_ready(&f, NULL);
	f.gate_closed = true;
	fx_read10_cdb(cdb, 0, 1);
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_READ, 0x100, 512, cdb, NULL, 0);
	size_t sent = f.link.out_len;
	f.link.transport_gone = true;
	iscsi_conn_closed(f.c);
	fx_run();
	CHECK_EQ(1, f.srv.conns_open); /* kept until the command returns */
	f.gate_closed = false;
	waitq_wake_all(&f.gate);
	fx_run();
	CHECK_EQ(0, f.srv.conns_open);
	CHECK_EQ(sent, f.link.out_len); /* nothing sent after the end */
	fx_fini(&f);
}

static void test_send_error_closes_connection(void)
{
	struct iscsi_fixture f;
	fx_init(&f);
	fx_ready(&f, NULL);
	f.link.send_error = -ECONNRESET;
	fx_nop_out(&f, 0x101, ISCSI_RESERVED_TAG, NULL, 0);
	CHECK(f.link.closed);
	fx_fini(&f);
}

static void test_bad_header_digest_drops_only_that_connection(void)
{
	struct iscsi_fixture f;
	struct fx_link link2;
	struct iscsi_conn *c2;
	struct fx_pdu r;
	fx_init(&f);
	fx_ready(&f, "HeaderDigest=CRC32C");
	fx_open_link(&f, &link2, &c2);
	struct iscsi_conn *c1 = f.c;
	struct fx_link *l1 = f.lk;
	f.c = c2;
	f.lk = &link2;
	CHECK_EQ(0, fx_login(&f, "InitiatorName=iqn.other"));
	f.c = c1;
	f.lk = l1;
	uint8_t bad[ISCSI_BHS_LEN + 4] = { ISCSI_OP_NOP_OUT | ISCSI_IMMEDIATE, ISCSI_FLAG_FINAL };
	fx_send_raw(&f, bad, sizeof(bad)); /* digest of zeros: wrong */
	CHECK(f.link.closed);
	f.c = c2;
	f.lk = &link2;
	fx_nop_out(&f, 0x102, ISCSI_RESERVED_TAG, NULL, 0);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_NOP_IN, r.opcode);
	CHECK(!link2.closed);
	fx_fini(&f);
	free(link2.out);
}

int main(void)
{
	RUN(test_nop_out_ping_answered_with_echo);
	RUN(test_nop_out_without_task_tag_gets_no_answer);
	RUN(test_tick_pings_idle_connection_and_answer_keeps_it);
	RUN(test_tick_closes_silent_connection);
	RUN(test_tick_closes_stalled_login);
	RUN(test_tick_keeps_login_in_progress);
	RUN(test_out_of_order_commands_wait_for_the_gap);
	RUN(test_commands_outside_window_dropped);
	RUN(test_cmdsn_wraps_around);
	RUN(test_immediate_command_does_not_advance_cmdsn);
	RUN(test_window_closes_when_buffers_exceed_budget);
	RUN(test_unknown_opcode_rejected_connection_stays);
	RUN(test_snack_rejected_at_erl0);
	RUN(test_logout_closes_session);
	RUN(test_logout_before_waiting_commands_frees_them);
	RUN(test_logout_for_recovery_not_supported);
	RUN(test_abort_running_task_no_response_after_tmf);
	RUN(test_abort_task_waiting_for_data);
	RUN(test_abort_unknown_task_answered);
	RUN(test_lun_reset_sets_unit_attention_for_every_session);
	RUN(test_lun_reset_of_absent_lun);
	RUN(test_unsupported_tmf_functions);
	RUN(test_send_targets_all_lists_every_target);
	RUN(test_send_targets_hides_targets_the_acl_refuses);
	RUN(test_long_send_targets_continues_within_tiny_mrdsl);
	RUN(test_discovery_session_refuses_scsi_and_nop);
	RUN(test_send_targets_in_normal_session);
	RUN(test_text_request_continued_across_pdus);
	RUN(test_text_without_equals_rejected);
	RUN(test_full_input_queue_consumes_less_then_resumes);
	RUN(test_transport_closed_during_command);
	RUN(test_send_error_closes_connection);
	RUN(test_bad_header_digest_drops_only_that_connection);
	return check_report("test_iscsi_session");
}
