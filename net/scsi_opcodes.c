/*
 * The commands we serve, one entry per operation code: handler, CDB length, flags, the
 * one service action of a service-action opcode, and the CDB USAGE DATA of SPC-4 6.35.3
 * (a 1 for every CDB bit the command examines). scsi_exec() uses the usage data to
 * reject set reserved bits with the field pointer; REPORT SUPPORTED OPERATION CODES
 * (MAINTENANCE IN, SPC-4 6.35) reports the same table, so the two never disagree.
 * The control byte is reported as unused and never checked (NACA and LINK ignored).
 */
#include <string.h>

#include "scsi_priv.h"

/* Usage data: the opcode, then the mask of each further byte. */
#define U(...) (const uint8_t[]){ __VA_ARGS__ }
#define FF4 0xff, 0xff, 0xff, 0xff
#define FF8 FF4, FF4

#define R OP_CONFLICT_READ
#define W OP_CONFLICT_WRITE

static const struct scsi_op service_action_in_16[] = {
	{ scsi_read_capacity_16, 16, 0, SAI_READ_CAPACITY_16,
	  U(SERVICE_ACTION_IN_16, 0x1f, FF8, FF4, 0, 0), NULL },
	{ scsi_get_lba_status, 16, R, SAI_GET_LBA_STATUS,
	  U(SERVICE_ACTION_IN_16, 0x1f, FF8, FF4, 0, 0), NULL },
	{ 0 },
};

static const struct scsi_op maintenance_in[] = {
	{ scsi_report_supported_opcodes, 12, OP_RESERVE6_OK, MI_REPORT_SUPPORTED_OPERATION_CODES,
	  U(MAINTENANCE_IN, 0x1f, 0x87, 0xff, 0xff, 0xff, FF4, 0, 0), NULL },
	{ 0 },
};

#define PRIN_USAGE U(PERSISTENT_RESERVE_IN, 0x1f, 0, 0, 0, 0, 0, 0xff, 0xff, 0)
static const struct scsi_op persistent_reserve_in[] = {
	{ scsi_prin_read_keys, 10, OP_RESERVE6_OK, PRIN_READ_KEYS, PRIN_USAGE, NULL },
	{ scsi_prin_read_reservation, 10, OP_RESERVE6_OK, PRIN_READ_RESERVATION, PRIN_USAGE,
	  NULL },
	{ scsi_prin_report_capabilities, 10, OP_RESERVE6_OK, PRIN_REPORT_CAPABILITIES,
	  PRIN_USAGE, NULL },
	{ scsi_prin_read_full_status, 10, OP_RESERVE6_OK, PRIN_READ_FULL_STATUS, PRIN_USAGE,
	  NULL },
	{ 0 },
};

#define PROUT_USAGE U(PERSISTENT_RESERVE_OUT, 0x1f, 0xff, 0, 0, FF4, 0)
static const struct scsi_op persistent_reserve_out[] = {
	{ scsi_prout, 10, 0, PROUT_REGISTER, PROUT_USAGE, NULL },
	{ scsi_prout, 10, 0, PROUT_RESERVE, PROUT_USAGE, NULL },
	{ scsi_prout, 10, 0, PROUT_RELEASE, PROUT_USAGE, NULL },
	{ scsi_prout, 10, 0, PROUT_CLEAR, PROUT_USAGE, NULL },
	{ scsi_prout, 10, 0, PROUT_PREEMPT, PROUT_USAGE, NULL },
	{ scsi_prout, 10, 0, PROUT_PREEMPT_AND_ABORT, PROUT_USAGE, NULL },
	{ scsi_prout, 10, 0, PROUT_REGISTER_AND_IGNORE_EXISTING_KEY, PROUT_USAGE, NULL },
	{ 0 },
};

/* A service-action opcode: the CDB length its actions share, and the list. */
#define ACTIONS(len, list) { NULL, len, OP_SERVICE_ACTION, 0, NULL, list }

static const struct scsi_op scsi_ops[256] = {
	[TEST_UNIT_READY] = { scsi_test_unit_ready, 6, 0, 0, U(TEST_UNIT_READY, 0, 0, 0, 0, 0) },
	[REQUEST_SENSE] = { scsi_request_sense, 6, OP_UA_EXEMPT | OP_NO_LUN_OK | OP_RESERVE6_OK,
			    0, U(REQUEST_SENSE, 0x01, 0, 0, 0xff, 0) },
	[READ_6] = { scsi_read, 6, R, 0, U(READ_6, 0x1f, 0xff, 0xff, 0xff, 0) },
	[WRITE_6] = { scsi_write, 6, W, 0, U(WRITE_6, 0x1f, 0xff, 0xff, 0xff, 0) },
	[INQUIRY] = { scsi_inquiry, 6, OP_UA_EXEMPT | OP_NO_LUN_OK | OP_RESERVE6_OK, 0,
		      U(INQUIRY, 0x01, 0xff, 0xff, 0xff, 0) },
	[MODE_SELECT_6] = { scsi_mode_select, 6, W, 0, U(MODE_SELECT_6, 0x11, 0, 0, 0xff, 0) },
	[RESERVE_6] = { scsi_reserve6, 6, 0, 0, U(RESERVE_6, 0, 0, 0, 0, 0) },
	[RELEASE_6] = { scsi_release6, 6, OP_RESERVE6_OK, 0, U(RELEASE_6, 0, 0, 0, 0, 0) },
	[MODE_SENSE_6] = { scsi_mode_sense, 6, R, 0, U(MODE_SENSE_6, 0x08, 0xff, 0xff, 0xff, 0) },
	[START_STOP_UNIT] = { scsi_start_stop_unit, 6, W, 0,
			      U(START_STOP_UNIT, 0x01, 0, 0x0f, 0xf7, 0) },
	[PREVENT_ALLOW_MEDIUM_REMOVAL] = { scsi_prevent_allow, 6, R, 0,
					   U(PREVENT_ALLOW_MEDIUM_REMOVAL, 0, 0, 0, 0x03, 0) },
	[READ_CAPACITY_10] = { scsi_read_capacity_10, 10, 0, 0,
			       U(READ_CAPACITY_10, 0, FF4, 0, 0, 0x01, 0) },
	[READ_10] = { scsi_read, 10, R, 0, U(READ_10, 0x1a, FF4, 0x1f, 0xff, 0xff, 0) },
	[WRITE_10] = { scsi_write, 10, W, 0, U(WRITE_10, 0x1a, FF4, 0x1f, 0xff, 0xff, 0) },
	[WRITE_AND_VERIFY_10] = { scsi_write, 10, W, 0,
				  U(WRITE_AND_VERIFY_10, 0x12, FF4, 0x1f, 0xff, 0xff, 0) },
	[VERIFY_10] = { scsi_verify, 10, R, 0, U(VERIFY_10, 0x16, FF4, 0x1f, 0xff, 0xff, 0) },
	[PRE_FETCH_10] = { scsi_prefetch, 10, R, 0,
			   U(PRE_FETCH_10, 0x02, FF4, 0x1f, 0xff, 0xff, 0) },
	[SYNCHRONIZE_CACHE_10] = { scsi_synchronize_cache, 10, W, 0,
				   U(SYNCHRONIZE_CACHE_10, 0x06, FF4, 0x1f, 0xff, 0xff, 0) },
	[WRITE_SAME_10] = { scsi_write_same, 10, W, 0,
			    U(WRITE_SAME_10, 0x08, FF4, 0x1f, 0xff, 0xff, 0) },
	[UNMAP] = { scsi_unmap, 10, W, 0, U(UNMAP, 0, 0, 0, 0, 0, 0x1f, 0xff, 0xff, 0) },
	[MODE_SELECT_10] = { scsi_mode_select, 10, W, 0,
			     U(MODE_SELECT_10, 0x11, 0, 0, 0, 0, 0, 0xff, 0xff, 0) },
	[MODE_SENSE_10] = { scsi_mode_sense, 10, R, 0,
			    U(MODE_SENSE_10, 0x18, 0xff, 0xff, 0, 0, 0, 0xff, 0xff, 0) },
	[PERSISTENT_RESERVE_IN] = ACTIONS(10, persistent_reserve_in),
	[PERSISTENT_RESERVE_OUT] = ACTIONS(10, persistent_reserve_out),
	[READ_16] = { scsi_read, 16, R, 0, U(READ_16, 0x1a, FF8, FF4, 0x1f, 0) },
	[COMPARE_AND_WRITE] = { scsi_compare_and_write, 16, W, 0,
				U(COMPARE_AND_WRITE, 0x18, FF8, 0, 0, 0, 0xff, 0x1f, 0) },
	[WRITE_16] = { scsi_write, 16, W, 0, U(WRITE_16, 0x1a, FF8, FF4, 0x1f, 0) },
	[ORWRITE_16] = { scsi_orwrite, 16, W, 0, U(ORWRITE_16, 0x18, FF8, FF4, 0x1f, 0) },
	[WRITE_AND_VERIFY_16] = { scsi_write, 16, W, 0,
				  U(WRITE_AND_VERIFY_16, 0x12, FF8, FF4, 0x1f, 0) },
	[VERIFY_16] = { scsi_verify, 16, R, 0, U(VERIFY_16, 0x16, FF8, FF4, 0x1f, 0) },
	[PRE_FETCH_16] = { scsi_prefetch, 16, R, 0, U(PRE_FETCH_16, 0x02, FF8, FF4, 0x1f, 0) },
	[SYNCHRONIZE_CACHE_16] = { scsi_synchronize_cache, 16, W, 0,
				   U(SYNCHRONIZE_CACHE_16, 0x06, FF8, FF4, 0x1f, 0) },
	[WRITE_SAME_16] = { scsi_write_same, 16, W, 0,
			    U(WRITE_SAME_16, 0x09, FF8, FF4, 0x1f, 0) },
	[SERVICE_ACTION_IN_16] = ACTIONS(16, service_action_in_16),
	[REPORT_LUNS] = { scsi_report_luns, 12, OP_UA_EXEMPT | OP_NO_LUN_OK | OP_RESERVE6_OK, 0,
			  U(REPORT_LUNS, 0, 0xff, 0, 0, 0, FF4, 0, 0) },
	[MAINTENANCE_IN] = ACTIONS(12, maintenance_in),
	[READ_12] = { scsi_read, 12, R, 0, U(READ_12, 0x1a, FF4, FF4, 0x1f, 0) },
	[WRITE_12] = { scsi_write, 12, W, 0, U(WRITE_12, 0x1a, FF4, FF4, 0x1f, 0) },
	[WRITE_AND_VERIFY_12] = { scsi_write, 12, W, 0,
				  U(WRITE_AND_VERIFY_12, 0x12, FF4, FF4, 0x1f, 0) },
	[VERIFY_12] = { scsi_verify, 12, R, 0, U(VERIFY_12, 0x16, FF4, FF4, 0x1f, 0) },
};

const struct scsi_op *scsi_op_lookup(uint8_t opcode)
{
	const struct scsi_op *op = &scsi_ops[opcode];
	return op->handler || op->actions ? op : NULL;
}

const struct scsi_op *scsi_op_action(const struct scsi_op *op, unsigned sa)
{
	if (!op || !(op->flags & OP_SERVICE_ACTION))
		return op;
	for (const struct scsi_op *a = op->actions; a->handler; a++)
		if (a->service_action == sa)
			return a;
	return NULL;
}

/* The first CDB bit set outside the usage data, bytes 1 .. length - 2 (the control byte
 * is not checked); false when there is none. */
bool scsi_find_reserved_bit(const struct scsi_op *op, const uint8_t *cdb, unsigned *byte,
			    int *bit)
{
	for (unsigned i = 1; i + 1 < op->cdb_len; i++) {
		uint8_t bad = cdb[i] & (uint8_t)~op->usage[i];
		if (bad) {
			*byte = i;
			*bit = 7;
			while (!(bad & (1u << *bit)))
				(*bit)--;
			return true;
		}
	}
	return false;
}

#define RSOC_DESCRIPTOR_LEN 8
#define RSOC_TIMEOUTS_LEN 12
#define RSOC_CTDP_ALL 0x02      /* byte 5 of an all-commands descriptor */
#define RSOC_SERVACTV 0x01
#define RSOC_CTDP_ONE 0x80      /* byte 1 of a one-command answer */
#define RSOC_SUPPORT_NO 0x01
#define RSOC_SUPPORT_YES 0x03
#define RSOC_RCTD 0x80
#define RSOC_OPTIONS_MASK 0x07
#define RSOC_ALL 0
#define RSOC_ONE_OPCODE 1
#define RSOC_ONE_OPCODE_SA 2
#define RSOC_MAX_COMMANDS 64 /* room to grow: the table serves under 40 */
#define RSOC_BUF_MAX (4 + RSOC_MAX_COMMANDS * (RSOC_DESCRIPTOR_LEN + RSOC_TIMEOUTS_LEN))

/* A command timeouts descriptor: 0 means "not specified" for both timeouts. */
static uint32_t put_timeouts(uint8_t *p)
{
	memset(p, 0, RSOC_TIMEOUTS_LEN);
	put_be16(p, RSOC_TIMEOUTS_LEN - 2);
	return RSOC_TIMEOUTS_LEN;
}

static uint32_t put_descriptor(uint8_t *buf, uint32_t n, unsigned code,
			       const struct scsi_op *op, bool rctd)
{
	if (n + RSOC_DESCRIPTOR_LEN + RSOC_TIMEOUTS_LEN > RSOC_BUF_MAX)
		return n;
	uint8_t *d = buf + n;
	memset(d, 0, RSOC_DESCRIPTOR_LEN);
	d[0] = (uint8_t)code;
	if (scsi_ops[code].flags & OP_SERVICE_ACTION) {
		put_be16(d + 2, op->service_action);
		d[5] = RSOC_SERVACTV;
	}
	if (rctd)
		d[5] |= RSOC_CTDP_ALL;
	put_be16(d + 6, op->cdb_len);
	n += RSOC_DESCRIPTOR_LEN;
	if (rctd)
		n += put_timeouts(buf + n);
	return n;
}

static uint32_t report_all(uint8_t *buf, bool rctd)
{
	uint32_t n = 4;
	for (unsigned code = 0; code < 256; code++) {
		const struct scsi_op *op = &scsi_ops[code];
		if (op->handler)
			n = put_descriptor(buf, n, code, op, rctd);
		for (const struct scsi_op *a = op->actions; a && a->handler; a++)
			n = put_descriptor(buf, n, code, a, rctd);
	}
	put_be32(buf, n - 4);
	return n;
}

static uint32_t report_one(uint8_t *buf, const struct scsi_op *op, bool rctd)
{
	memset(buf, 0, 4);
	if (!op) {
		buf[1] = RSOC_SUPPORT_NO;
		return 4;
	}
	buf[1] = RSOC_SUPPORT_YES | (rctd ? RSOC_CTDP_ONE : 0);
	put_be16(buf + 2, op->cdb_len);
	memcpy(buf + 4, op->usage, op->cdb_len);
	uint32_t n = 4u + op->cdb_len;
	return rctd ? n + put_timeouts(buf + n) : n;
}

void scsi_report_supported_opcodes(struct scsi_lun *lun, struct scsi_nexus *nexus,
				   struct scsi_cmd *cmd)
{
	(void)lun;
	(void)nexus;
	uint8_t buf[RSOC_BUF_MAX];
	const uint8_t *cdb = cmd->cdb;
	bool rctd = cdb[2] & RSOC_RCTD;
	unsigned options = cdb[2] & RSOC_OPTIONS_MASK;
	const struct scsi_op *op = scsi_op_lookup(cdb[3]);
	bool has_sa = op && (op->flags & OP_SERVICE_ACTION);
	uint32_t len;
	switch (options) {
	case RSOC_ALL:
		len = report_all(buf, rctd);
		break;
	case RSOC_ONE_OPCODE:
		if (has_sa) { /* the opcode needs a service action to name a command */
			scsi_invalid_cdb_field(cmd, 2, 2);
			return;
		}
		len = report_one(buf, op, rctd);
		break;
	case RSOC_ONE_OPCODE_SA:
		if (op && !has_sa) {
			scsi_invalid_cdb_field(cmd, 2, 2);
			return;
		}
		len = report_one(buf, op ? scsi_op_action(op, get_be16(cdb + 4)) : NULL, rctd);
		break;
	default:
		scsi_invalid_cdb_field(cmd, 2, 2);
		return;
	}
	scsi_data_in(cmd, buf, len, get_be32(cdb + 6));
}
