/*
 * Task management (RFC 7143 11.5-11.6). Each request runs in a task of its own because
 * the response must wait until the commands it ends have stopped: a command already in
 * scsi_exec() cannot be cut short, it is marked aborted and sends nothing when it returns.
 *
 *   ABORT TASK         the referenced command; answered whether or not it still exists:
 *                      Function Complete if it existed, or if it has not arrived yet
 *                      but is due before this request (ExpCmdSN <= RefCmdSN < CmdSN),
 *                      else Task Does Not Exist (it finished: RFC 7143 11.5.1)
 *   ABORT TASK SET,    every command of this session
 *   CLEAR TASK SET
 *   LOGICAL UNIT RESET every command on the LUN from every session, and a unit attention
 *                      (POWER ON, RESET) for every session's next command
 *   others             Function Not Supported (Task Reassign: not supported at ERL 0)
 */
#include "iscsi_priv.h"

#include <stdlib.h>
#include <string.h>

/* TMFs in flight per connection: open-iscsi's error handler and libiscsi send one at a
 * time; 4 leaves room for an ABORT TASK racing a LUN RESET. More are answered Function
 * Rejected at once, as are TMFs that find the server's task cap reached. */
#define ISCSI_TMF_MAX 4

struct tmf {
	struct iscsi_conn *c;
	uint8_t function;
	uint32_t itt, rtt, cmdsn, refcmdsn;
	uint8_t lun[8];
	uint8_t response;
};

static uint8_t abort_task(struct tmf *m)
{
	struct iscsi_cmd *cmd = iscsi_cmd_find(m->c, m->rtt);
	if (cmd) {
		iscsi_cmd_abort(cmd);
		return ISCSI_TM_RSP_FUNCTION_COMPLETE;
	}
	/* Not received yet but due before this request: complete (RFC 7143 11.5.1). A
	 * command that already finished (CmdSN before ExpCmdSN) does not exist any more:
	 * the initiator has or will have its response (libiscsi AbortTaskSimpleAsync). */
	if (sn_le(m->c->sess.exp_cmdsn, m->refcmdsn) && sn_lt(m->refcmdsn, m->cmdsn))
		return ISCSI_TM_RSP_FUNCTION_COMPLETE;
	return ISCSI_TM_RSP_TASK_DOES_NOT_EXIST;
}

static uint8_t abort_task_set(struct tmf *m)
{
	iscsi_cmds_abort_all(m->c);
	return ISCSI_TM_RSP_FUNCTION_COMPLETE;
}

static uint8_t lun_reset(struct tmf *m)
{
	const struct iscsi_target_config *target = m->c->sess.target;
	scsi_lun_reset(target->lun); /* ends a RESERVE(6) reservation */
	for (struct iscsi_conn *o = m->c->srv->conns; o; o = o->next) {
		if (!o->sess.logged_in || o->sess.target != target)
			continue;
		iscsi_cmds_abort_all(o);
		o->sess.nexus.unit_attention_reset = true;
	}
	return ISCSI_TM_RSP_FUNCTION_COMPLETE;
}

static uint8_t run_function(struct tmf *m)
{
	switch (m->function) {
	case ISCSI_TM_FUNC_ABORT_TASK:
	case ISCSI_TM_FUNC_ABORT_TASK_SET:
	case ISCSI_TM_FUNC_CLEAR_TASK_SET:
	case ISCSI_TM_FUNC_LOGICAL_UNIT_RESET:
		if (!iscsi_lun_served(m->lun))
			return ISCSI_TM_RSP_LUN_DOES_NOT_EXIST;
		break;
	}
	switch (m->function) {
	case ISCSI_TM_FUNC_ABORT_TASK: return abort_task(m);
	case ISCSI_TM_FUNC_ABORT_TASK_SET:
	case ISCSI_TM_FUNC_CLEAR_TASK_SET: return abort_task_set(m);
	case ISCSI_TM_FUNC_LOGICAL_UNIT_RESET: return lun_reset(m);
	case ISCSI_TM_FUNC_TASK_REASSIGN: return ISCSI_TM_RSP_TASK_ALLEGIANCE_REASSIGNMENT_NOT_SUPPORTED;
	default: return ISCSI_TM_RSP_FUNCTION_NOT_SUPPORTED;
	}
}

/* Gives back what the TMF took: its slot, its task, its reference to the connection. */
static void tmf_end(struct tmf *m)
{
	struct iscsi_conn *c = m->c;
	c->sess.tmfs--;
	c->srv->tasks--;
	free(m);
	iscsi_conn_put(c);
}

static void tmf_main(void *arg)
{
	struct tmf *m = arg;
	struct iscsi_conn *c = m->c;
	uint8_t bhs[ISCSI_BHS_LEN];

	/* The response follows the end of every command it aborted (RFC 7143 4.2.3.4). */
	while (iscsi_cmds_aborting(c) && !c->closing)
		waitq_sleep(&c->cmds_done);
	iscsi_bhs_init(bhs, ISCSI_OP_SCSI_TASK_MGMT_RSP, ISCSI_FLAG_FINAL, m->itt);
	bhs[ISCSI_BHS_RESPONSE] = m->response;
	iscsi_send_pdu(c, bhs, NULL, 0, ISCSI_STATSN_ADVANCE);
	tmf_end(m);
}

/* A TMF beyond the caps: answered at once, before anything is allocated for it. */
static void refuse(struct iscsi_conn *c, const struct iscsi_pdu *pdu)
{
	uint8_t bhs[ISCSI_BHS_LEN];
	c->srv->tmfs_refused++;
	iscsi_bhs_init(bhs, ISCSI_OP_SCSI_TASK_MGMT_RSP, ISCSI_FLAG_FINAL,
		       pdu_be32(pdu, ISCSI_BHS_INITIATOR_TASK_TAG));
	bhs[ISCSI_BHS_RESPONSE] = ISCSI_TM_RSP_FUNCTION_REJECTED;
	iscsi_send_pdu(c, bhs, NULL, 0, ISCSI_STATSN_ADVANCE);
}

void iscsi_tmf_handle(struct iscsi_conn *c, struct iscsi_pdu *pdu)
{
	if (c->sess.tmfs >= ISCSI_TMF_MAX || c->srv->tasks >= iscsi_server_max_tasks(c->srv->cfg)) {
		refuse(c, pdu);
		return;
	}
	struct tmf *m = calloc(1, sizeof(*m));
	if (!m) {
		iscsi_send_reject(c, pdu->bhs, ISCSI_REASON_LONG_OPERATION_REJECT);
		return;
	}
	m->c = c;
	m->function = pdu->bhs[ISCSI_BHS_FLAGS] & ISCSI_FLAG_FUNCTION_MASK;
	m->itt = pdu_be32(pdu, ISCSI_BHS_INITIATOR_TASK_TAG);
	m->rtt = pdu_be32(pdu, ISCSI_BHS_REFERENCED_TASK_TAG);
	m->cmdsn = pdu_be32(pdu, ISCSI_BHS_CMDSN);
	m->refcmdsn = pdu_be32(pdu, ISCSI_BHS_REFCMDSN);
	memcpy(m->lun, pdu->bhs + ISCSI_BHS_LUN, 8);
	m->response = run_function(m);
	iscsi_conn_get(c);
	c->sess.tmfs++;
	c->srv->tasks++;
	/* The function itself runs now, in order with the commands around it; only the
	 * wait for aborted commands and the response happen in the task. */
	if (!task_spawn(tmf_main, m)) {
		tmf_end(m);
		iscsi_send_reject(c, pdu->bhs, ISCSI_REASON_LONG_OPERATION_REJECT);
	}
}
