/* Host tests of what one admitted initiator may cost the target: who frees a command
 * when another session or a reinstatement aborts it while its owner is blocked in a send
 * (net/iscsi_cmd.c, iscsi_tmf.c, iscsi_session.c), and the bounds on commands, TMFs,
 * tasks and buffer bytes (net/iscsi_budget.c). Run under AddressSanitizer by make test. */
#include "check.h"
#include "iscsi_test_support.h"

#include <stdlib.h>

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

static void test_lun_reset_while_r2t_send_blocks(void)
{
	struct iscsi_fixture f;
	struct fx_link link2;
	fx_init(&f);
	fx_ready(&f, "ImmediateData=No");
	struct fx_link *l1 = f.lk;
	struct iscsi_conn *c1 = f.c;
	write_blocked_in_r2t(&f);
	second_session(&f, &link2, NULL);
	tmf_on(&f, ISCSI_TM_FUNC_LOGICAL_UNIT_RESET, 0xc0, 0);
	fx_release(l1); /* the worker goes on with the command the reset aborted */
	CHECK_EQ(0, c1->sess.cmds_in_flight);
	CHECK(c1->cmds == NULL); /* freed by its owner, the worker */
	fx_fini(&f);
	free(link2.out);
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
	fx_fini(&f);
	free(link2.out);
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
	second_session(&f, &link2, NULL);
	tmf_on(&f, ISCSI_TM_FUNC_LOGICAL_UNIT_RESET, 0xc0, 0);
	size_t before = l1->out_len;
	fx_release(l1);
	CHECK(c1->cmds == NULL);
	CHECK(l1->out_len - before <= ISCSI_BHS_LEN + 512); /* the PDU in progress, no more */
	fx_fini(&f);
	free(link2.out);
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
	second_session(&f, &link2, NULL);
	tmf_on(&f, ISCSI_TM_FUNC_LOGICAL_UNIT_RESET, 0xc0, 0);
	CHECK(c1->cmds == NULL); /* the abort woke the worker, which freed it */
	CHECK_EQ(0, c1->sess.cmds_in_flight);
	fx_fini(&f);
	free(link2.out);
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

int main(void)
{
	RUN(test_lun_reset_while_r2t_send_blocks);
	RUN(test_reinstatement_while_r2t_send_blocks);
	RUN(test_lun_reset_while_data_in_send_blocks);
	RUN(test_lun_reset_frees_collecting_command_of_idle_worker);
	RUN(test_teardown_while_r2t_send_blocks);
	return check_report("test_iscsi_bounds");
}
