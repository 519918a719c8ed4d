/*
 * scsi_exec(): the entry point of SCSI command emulation. It looks the operation code up
 * in the 256-entry table of scsi_opcodes.c (the shape of tgt's usr/sbc.c), checks the
 * CDB's length, service action and reserved bits against it, reports a pending unit
 * attention once per nexus (never in front of INQUIRY, REPORT LUNS or REQUEST SENSE,
 * SAM-5 5.14 / SPC-4 5.11), refuses what another nexus's reservation forbids
 * (RESERVATION CONFLICT, scsi_reserve.c), and calls the handler; every command on a LUN
 * is measured (scsi_stats.c).
 * scsi_lun_init() derives the LUN's identity (NAA designator, serial) from the volume.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scsi_priv.h"

static void reset_outputs(struct scsi_cmd *cmd)
{
	cmd->status = SAM_STAT_GOOD;
	cmd->sense_len = 0;
	memset(cmd->sense, 0, sizeof(cmd->sense));
	cmd->data_produced = 0;
	cmd->transfer_len = 0;
}

/* Reports (and so clears) a pending unit attention; true when one was reported. */
static bool report_unit_attention(struct scsi_nexus *nexus, struct scsi_cmd *cmd)
{
	if (!nexus || !nexus->unit_attention_reset)
		return false;
	nexus->unit_attention_reset = false;
	scsi_check(cmd, UNIT_ATTENTION, ASC_POWER_ON_RESET_OR_BUS_DEVICE_RESET_OCCURRED);
	return true;
}

/* The CDB is long enough, names a service action we serve, and sets no bit outside
 * the command's usage data: returns the entry to run; else NULL with INVALID FIELD IN
 * CDB and the field pointer set. */
static const struct scsi_op *check_cdb(const struct scsi_op *op, struct scsi_cmd *cmd)
{
	unsigned byte;
	int bit;
	if (cmd->cdb_len < op->cdb_len) {
		/* The CDB ends before the fields the command needs. */
		scsi_invalid_cdb_field(cmd, (unsigned)cmd->cdb_len, -1);
		return NULL;
	}
	op = scsi_op_action(op, cmd->cdb[1] & 0x1f);
	if (!op) {
		scsi_invalid_cdb_field(cmd, 1, 4);
		return NULL;
	}
	if (scsi_find_reserved_bit(op, cmd->cdb, &byte, &bit)) {
		scsi_invalid_cdb_field(cmd, byte, bit);
		return NULL;
	}
	return op;
}

void *scsi_scratch_alloc(struct scsi_cmd *cmd, size_t bytes)
{
	if (cmd->charge && !cmd->charge(cmd->charge_ctx, bytes))
		return NULL;
	void *p = malloc(bytes);
	if (!p && cmd->uncharge)
		cmd->uncharge(cmd->charge_ctx, bytes);
	return p;
}

void scsi_scratch_free(struct scsi_cmd *cmd, void *p, size_t bytes)
{
	free(p);
	if (p && cmd->uncharge)
		cmd->uncharge(cmd->charge_ctx, bytes);
}

static void dispatch(struct scsi_lun *lun, struct scsi_nexus *nexus, struct scsi_cmd *cmd)
{
	const struct scsi_op *op = scsi_op_lookup(cmd->cdb[0]);
	if (!lun && !(op && (op->flags & OP_NO_LUN_OK))) {
		scsi_check(cmd, ILLEGAL_REQUEST, ASC_LOGICAL_UNIT_NOT_SUPPORTED);
		return;
	}
	if (!op) {
		scsi_check(cmd, ILLEGAL_REQUEST, ASC_INVALID_COMMAND_OPERATION_CODE);
		return;
	}
	op = check_cdb(op, cmd);
	if (!op)
		return;
	if (lun && !(op->flags & OP_UA_EXEMPT) && report_unit_attention(nexus, cmd))
		return;
	if (lun && scsi_reservation_conflict(lun, nexus, op)) {
		scsi_conflict(cmd);
		return;
	}
	op->handler(lun, nexus, cmd);
}

void scsi_exec(struct scsi_lun *lun, struct scsi_nexus *nexus, struct scsi_cmd *cmd)
{
	reset_outputs(cmd);
	if (!cmd->cdb || cmd->cdb_len == 0) {
		scsi_check(cmd, ILLEGAL_REQUEST, ASC_INVALID_COMMAND_OPERATION_CODE);
		return;
	}
	if (!lun) {
		dispatch(lun, nexus, cmd);
		return;
	}
	uint64_t started = scsi_stats_begin(lun);
	dispatch(lun, nexus, cmd);
	scsi_stats_end(lun, cmd, started);
}

/* FNV-1a, 64 bits: a stable hash, the same on every boot and every machine. */
static uint64_t fnv1a64(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 0x100000001b3ull;
	}
	return h ^ 0xff; /* separates "ab" + "c" from "a" + "bc" */
}

/* NAA 6 (IEEE Registered Extended): 4-bit NAA, 24-bit company id, 100 bits ours. The
 * company id has the locally-administered bit set (IEEE CID range) because qedbox owns
 * no OUI; the rest is a hash of the target name and the volume serial. */
static void make_naa_id(uint8_t naa[16], const char *target_name, const char *serial)
{
	static const uint8_t company_id[3] = { 0x0a, 0xe0, 0xdb };
	uint64_t h1 = fnv1a64(fnv1a64(0xcbf29ce484222325ull, target_name), serial);
	uint64_t h2 = fnv1a64(fnv1a64(h1 ^ 0x9e3779b97f4a7c15ull, serial), target_name);
	naa[0] = (uint8_t)(NAA_IEEE_REGISTERED_EXTENDED << 4 | company_id[0] >> 4);
	naa[1] = (uint8_t)(company_id[0] << 4 | company_id[1] >> 4);
	naa[2] = (uint8_t)(company_id[1] << 4 | company_id[2] >> 4);
	naa[3] = (uint8_t)(company_id[2] << 4 | ((h1 >> 32) & 0x0f));
	put_be32(naa + 4, (uint32_t)h1);
	put_be64(naa + 8, h2);
}

void scsi_lun_init(struct scsi_lun *lun, struct volume *vol, const char *target_name)
{
	memset(lun, 0, sizeof(*lun));
	lun->vol = vol;
	lun->range_waiters = (struct waitq)WAITQ_INIT;
	make_naa_id(lun->naa_id, target_name ? target_name : "", vol->serial);
	snprintf(lun->product, sizeof(lun->product), "%s", "QED VOLUME");
	if (vol->serial[0])
		snprintf(lun->unit_serial, sizeof(lun->unit_serial), "%s", vol->serial);
	else /* a serial from the identity, so that page 80h is never empty */
		snprintf(lun->unit_serial, sizeof(lun->unit_serial), "%02x%02x%02x%02x%02x%02x",
			 lun->naa_id[10], lun->naa_id[11], lun->naa_id[12], lun->naa_id[13],
			 lun->naa_id[14], lun->naa_id[15]);
}
