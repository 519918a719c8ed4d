/*
 * Commands about the unit rather than its blocks: TEST UNIT READY, REQUEST SENSE,
 * START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL, REPORT LUNS, READ CAPACITY (10) and
 * (16) (a service action of SERVICE ACTION IN (16), checked by scsi_exec()),
 * SYNCHRONIZE CACHE (10) and (16).
 *
 * The medium is not removable and always ready, so START STOP UNIT and PREVENT ALLOW
 * MEDIUM REMOVAL change nothing and succeed, as on tgt's disks.
 */
#include <string.h>

#include "scsi_priv.h"

#define REPORT_LUNS_HEADER_LEN 8
#define READ_CAPACITY_10_LEN 8
#define READ_CAPACITY_16_LEN 32

void scsi_test_unit_ready(struct scsi_lun *lun, struct scsi_nexus *nexus,
			  struct scsi_cmd *cmd)
{
	(void)lun;
	(void)nexus;
	scsi_good(cmd);
}

/* Returns the sense data a CHECK CONDITION would have carried (SPC-4 6.29): a pending
 * unit attention (which this consumes), else NO SENSE. */
void scsi_request_sense(struct scsi_lun *lun, struct scsi_nexus *nexus,
			struct scsi_cmd *cmd)
{
	uint8_t alloc_len = cmd->cdb[4];
	if (cmd->cdb[1] & REQUEST_SENSE_DESC) { /* descriptor format: not supported */
		scsi_invalid_cdb_field(cmd, 1, 0);
		return;
	}
	/* Build the sense in cmd's own sense buffer, then move it to Data-In. */
	if (!lun)
		scsi_check(cmd, ILLEGAL_REQUEST, ASC_LOGICAL_UNIT_NOT_SUPPORTED);
	else if (nexus && nexus->unit_attention_reset) {
		nexus->unit_attention_reset = false;
		scsi_check(cmd, UNIT_ATTENTION, ASC_POWER_ON_RESET_OR_BUS_DEVICE_RESET_OCCURRED);
	} else
		scsi_check(cmd, NO_SENSE, ASC_NO_ADDITIONAL_SENSE);
	uint8_t sense[SENSE_FIXED_LEN];
	memcpy(sense, cmd->sense, sizeof(sense));
	scsi_data_in(cmd, sense, sizeof(sense), alloc_len);
	memset(cmd->sense, 0, sizeof(cmd->sense));
}

void scsi_start_stop_unit(struct scsi_lun *lun, struct scsi_nexus *nexus,
			  struct scsi_cmd *cmd)
{
	(void)lun;
	(void)nexus;
	scsi_good(cmd);
}

void scsi_prevent_allow(struct scsi_lun *lun, struct scsi_nexus *nexus,
			struct scsi_cmd *cmd)
{
	(void)lun;
	(void)nexus;
	scsi_good(cmd);
}

/* One LUN, LUN 0, whichever LUN the command was addressed to (SPC-4 6.33). */
void scsi_report_luns(struct scsi_lun *lun, struct scsi_nexus *nexus, struct scsi_cmd *cmd)
{
	(void)lun;
	(void)nexus;
	uint8_t buf[REPORT_LUNS_HEADER_LEN + 8] = { 0 };
	if (cmd->cdb[2] > REPORT_LUNS_SELECT_ALL) {
		scsi_invalid_cdb_field(cmd, 2, -1);
		return;
	}
	put_be32(buf, 8); /* LUN LIST LENGTH: one 8-byte LUN, all zeros for LUN 0 */
	scsi_data_in(cmd, buf, sizeof(buf), get_be32(cmd->cdb + 6));
}

void scsi_read_capacity_10(struct scsi_lun *lun, struct scsi_nexus *nexus,
			   struct scsi_cmd *cmd)
{
	(void)nexus;
	uint8_t buf[READ_CAPACITY_10_LEN];
	if (!(cmd->cdb[8] & READ_CAPACITY_PMI) && get_be32(cmd->cdb + 2)) {
		scsi_invalid_cdb_field(cmd, 2, -1);
		return;
	}
	uint64_t last = lun_blocks(lun) - 1;
	/* 0xffffffff tells the initiator to use READ CAPACITY (16). */
	put_be32(buf, last > 0xfffffffe ? 0xffffffff : (uint32_t)last);
	put_be32(buf + 4, lun->vol->block_size);
	scsi_data_in(cmd, buf, sizeof(buf), sizeof(buf));
}

/* READ CAPACITY (16), service action 10h of SERVICE ACTION IN (16). */
void scsi_read_capacity_16(struct scsi_lun *lun, struct scsi_nexus *nexus,
			   struct scsi_cmd *cmd)
{
	(void)nexus;
	uint8_t buf[READ_CAPACITY_16_LEN] = { 0 };
	put_be64(buf, lun_blocks(lun) - 1);
	put_be32(buf + 8, lun->vol->block_size);
	if (lun_is_thin(lun))
		buf[14] = READ_CAPACITY_LBPME | READ_CAPACITY_LBPRZ;
	scsi_data_in(cmd, buf, sizeof(buf), get_be32(cmd->cdb + 10));
}

/* Completes only when everything written before is durable (docs/DESIGN.md, "Crash
 * safety"), the whole volume being flushed whatever range the CDB names. */
void scsi_synchronize_cache(struct scsi_lun *lun, struct scsi_nexus *nexus,
			    struct scsi_cmd *cmd)
{
	(void)nexus;
	const uint8_t *cdb = cmd->cdb;
	bool is16 = cdb[0] == SYNCHRONIZE_CACHE_16;
	uint64_t lba = is16 ? get_be64(cdb + 2) : get_be32(cdb + 2);
	uint32_t blocks = is16 ? get_be32(cdb + 10) : get_be16(cdb + 7);
	if (!scsi_check_range(lun, cmd, lba, blocks))
		return;
	int rc = lun->vol->ops->flush(lun->vol);
	if (rc)
		scsi_volume_error(cmd, rc, true);
	else
		scsi_good(cmd);
}
