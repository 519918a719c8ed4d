/*
 * Command outcomes: GOOD, or CHECK CONDITION with fixed-format sense data (SPC-4 4.5.3),
 * the translation of a volume's errno into sense, and the Data-In / Data-Out length
 * rules that scsi.h promises (never past cmd->data_len, transfer_len always set).
 */
#include <errno.h>
#include <string.h>

#include "scsi_priv.h"

void scsi_good(struct scsi_cmd *cmd)
{
	cmd->status = SAM_STAT_GOOD;
	cmd->sense_len = 0;
}

static uint8_t *start_sense(struct scsi_cmd *cmd, uint8_t key, uint16_t asc_ascq)
{
	uint8_t *s = cmd->sense;
	memset(s, 0, SENSE_FIXED_LEN);
	s[0] = SENSE_RESPONSE_CURRENT_FIXED;
	s[2] = key;
	s[7] = SENSE_ADDITIONAL_LEN;
	s[12] = (uint8_t)(asc_ascq >> 8);
	s[13] = (uint8_t)asc_ascq;
	cmd->status = SAM_STAT_CHECK_CONDITION;
	cmd->sense_len = SENSE_FIXED_LEN;
	cmd->data_produced = 0; /* no Data-In goes with a failed command */
	return s;
}

void scsi_check(struct scsi_cmd *cmd, uint8_t key, uint16_t asc_ascq)
{
	start_sense(cmd, key, asc_ascq);
}

/* Sense-key specific FIELD POINTER (SPC-4 4.5.2.4.2). */
static void set_field_pointer(uint8_t *s, bool in_cdb, unsigned byte, int bit)
{
	s[15] = SENSE_SKSV | (in_cdb ? SENSE_SKS_CD : 0);
	if (bit >= 0)
		s[15] |= SENSE_SKS_BPV | (uint8_t)(bit & 7);
	put_be16(s + 16, (uint16_t)byte);
}

void scsi_invalid_cdb_field(struct scsi_cmd *cmd, unsigned byte, int bit)
{
	uint8_t *s = start_sense(cmd, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	set_field_pointer(s, true, byte, bit);
}

void scsi_invalid_param_field(struct scsi_cmd *cmd, unsigned byte)
{
	uint8_t *s = start_sense(cmd, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAMETER_LIST);
	set_field_pointer(s, false, byte, -1);
}

void scsi_miscompare(struct scsi_cmd *cmd, uint32_t offset)
{
	uint8_t *s = start_sense(cmd, MISCOMPARE, ASC_MISCOMPARE_DURING_VERIFY_OPERATION);
	s[0] |= SENSE_VALID;
	put_be32(s + 3, offset);
}

void scsi_volume_error(struct scsi_cmd *cmd, int rc, bool is_write)
{
	switch (rc) {
	case -EIO:
		scsi_check(cmd, MEDIUM_ERROR,
			   is_write ? ASC_WRITE_ERROR : ASC_UNRECOVERED_READ_ERROR);
		break;
	case -ENOSPC:
		scsi_check(cmd, DATA_PROTECT, ASC_SPACE_ALLOCATION_FAILED_WRITE_PROTECT);
		break;
	case -EROFS:
		scsi_check(cmd, DATA_PROTECT, ASC_WRITE_PROTECTED);
		break;
	case -EINVAL:
		scsi_check(cmd, ILLEGAL_REQUEST, ASC_LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE);
		break;
	case -ENODEV:
		/* The volume stopped serving after a device error (lib/volume_guard.h):
		 * it does not come back by itself; another appliance may own the disk. */
		scsi_check(cmd, NOT_READY, ASC_LOGICAL_UNIT_NOT_READY_MANUAL_INTERVENTION_REQUIRED);
		break;
	case -ENOMEM:
		/* Transient: BUSY asks the initiator to retry later. */
		cmd->status = SAM_STAT_BUSY;
		cmd->sense_len = 0;
		cmd->data_produced = 0;
		break;
	default:
		scsi_check(cmd, HARDWARE_ERROR, ASC_INTERNAL_TARGET_FAILURE);
		break;
	}
}

void scsi_data_in(struct scsi_cmd *cmd, const void *buf, uint32_t len, uint32_t alloc_len)
{
	uint32_t n = len < alloc_len ? len : alloc_len;
	cmd->transfer_len = n;
	if (n > cmd->data_len)
		n = cmd->data_len;
	if (n)
		memcpy(cmd->data, buf, n);
	cmd->data_produced = n;
	scsi_good(cmd);
}

bool scsi_data_out_complete(struct scsi_cmd *cmd, uint32_t len)
{
	cmd->transfer_len = len;
	if (cmd->data_len >= len)
		return true;
	scsi_check(cmd, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_COMMAND_INFORMATION_UNIT);
	return false;
}
