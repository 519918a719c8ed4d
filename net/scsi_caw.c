/*
 * COMPARE AND WRITE (SBC-3 5.2), VMware's atomic test and set: the Data-Out holds the
 * verify data then the write data, n blocks each. Under the range lock of scsi_rw.c (so
 * no overlapping write slips in between), the blocks are read and compared with the
 * verify data; on a difference the command fails with MISCOMPARE and the INFORMATION
 * field holds the offset of the first differing byte, else the write data is written.
 * ORWRITE (16), the other read-modify-write command, is here too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scsi_priv.h"

#define CAW_BLOCKS_BYTE 13

/* Returns 0 written, 1 miscompare (*offset set), or a negative errno (*in_write tells
 * whether the read or the write failed, for the medium error's ASC). */
static int compare_then_write(struct scsi_cmd *cmd, struct volume *vol, uint64_t lba,
			      uint32_t blocks, bool fua, uint32_t *offset, bool *in_write)
{
	const uint8_t *data = cmd->data;
	uint32_t bytes = blocks * vol->block_size;
	uint64_t at = lba * vol->block_size;
	uint8_t *current = scsi_scratch_alloc(cmd, bytes);
	if (!current)
		return -ENOMEM;
	int rc = vol->ops->read(vol, at, current, bytes);
	for (uint32_t i = 0; !rc && i < bytes; i++) {
		if (current[i] != data[i]) {
			*offset = i;
			rc = 1;
		}
	}
	scsi_scratch_free(cmd, current, bytes);
	if (rc)
		return rc;
	*in_write = true;
	rc = vol->ops->write(vol, at, data + bytes, bytes);
	if (!rc && fua && vol->write_cache)
		rc = vol->ops->flush(vol);
	return rc;
}

void scsi_compare_and_write(struct scsi_lun *lun, struct scsi_nexus *nexus,
			    struct scsi_cmd *cmd)
{
	(void)nexus;
	const uint8_t *cdb = cmd->cdb;
	uint64_t lba = get_be64(cdb + 2);
	uint32_t blocks = cdb[CAW_BLOCKS_BYTE];
	struct volume *vol = lun->vol;
	/* 0 blocks with Data-Out: the initiator meant 256 (an 8-bit field cannot say it). */
	if (blocks > SCSI_MAX_COMPARE_AND_WRITE_BLOCKS || (blocks == 0 && cmd->data_len)) {
		scsi_invalid_cdb_field(cmd, CAW_BLOCKS_BYTE, -1);
		return;
	}
	if (!scsi_check_range(lun, cmd, lba, blocks) || !scsi_check_writable(lun, cmd) ||
	    !scsi_data_out_complete(cmd, 2 * blocks * vol->block_size))
		return;
	if (blocks == 0) { /* SBC-3: not an error, nothing compared or written */
		scsi_good(cmd);
		return;
	}
	struct scsi_range range;
	uint32_t offset = 0;
	bool in_write = false;
	scsi_range_lock(lun, &range, lba, blocks);
	int rc = compare_then_write(cmd, vol, lba, blocks, cdb[1] & SBC_FUA, &offset, &in_write);
	scsi_range_unlock(lun, &range);
	if (rc == 1)
		scsi_miscompare(cmd, offset);
	else if (rc)
		scsi_volume_error(cmd, rc, in_write);
	else
		scsi_good(cmd);
}

/* ORWRITE (16) (SBC-3 5.8, bitmap operation OR): each block becomes itself OR'ed with
 * the Data-Out, read and written under the range lock so that no overlapping write comes
 * in between. */
void scsi_orwrite(struct scsi_lun *lun, struct scsi_nexus *nexus, struct scsi_cmd *cmd)
{
	(void)nexus;
	const uint8_t *cdb = cmd->cdb;
	uint64_t lba = get_be64(cdb + 2);
	uint32_t blocks = get_be32(cdb + 10);
	struct volume *vol = lun->vol;
	if ((uint64_t)blocks * vol->block_size > SCSI_MAX_TRANSFER_BYTES) {
		scsi_invalid_cdb_field(cmd, 10, -1);
		return;
	}
	uint32_t bytes = blocks * vol->block_size;
	if (!scsi_check_range(lun, cmd, lba, blocks) || !scsi_check_writable(lun, cmd) ||
	    !scsi_data_out_complete(cmd, bytes))
		return;
	if (blocks == 0) {
		scsi_good(cmd);
		return;
	}
	uint8_t *current = scsi_scratch_alloc(cmd, bytes);
	if (!current) {
		scsi_volume_error(cmd, -ENOMEM, true);
		return;
	}
	struct scsi_range range;
	bool in_write = false;
	scsi_range_lock(lun, &range, lba, blocks);
	int rc = vol->ops->read(vol, lba * vol->block_size, current, bytes);
	if (!rc) {
		for (uint32_t i = 0; i < bytes; i++)
			current[i] |= cmd->data[i];
		in_write = true;
		rc = vol->ops->write(vol, lba * vol->block_size, current, bytes);
	}
	if (!rc && (cdb[1] & SBC_FUA) && vol->write_cache)
		rc = vol->ops->flush(vol);
	scsi_range_unlock(lun, &range);
	scsi_scratch_free(cmd, current, bytes);
	if (rc)
		scsi_volume_error(cmd, rc, in_write);
	else
		scsi_good(cmd);
}
