/*
 * Thin provisioning commands (SBC-3 5.28, 5.42, 5.43): UNMAP and WRITE SAME (10)/(16).
 *
 * UNMAP validates the whole parameter list (lengths, descriptor count, every range)
 * before deallocating anything, so a bad list changes nothing. WRITE SAME deallocates
 * on a thin volume when the UNMAP bit asks for it (whatever the block holds: the blocks
 * then read back as zeros, LBPRZ, as Linux's target does and libiscsi's UnmapUntilEnd
 * expects) or when the block to repeat is all zeros (or NDOB); otherwise it writes the
 * block over the range in chunks. On a volume that is not thin the UNMAP bit is refused
 * (INVALID FIELD IN CDB), as LBPWS = 0 announces.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scsi_priv.h"

#define WRITE_SAME_CHUNK_BYTES SCSI_SCRATCH_MAX_BYTES /* the pattern, repeated */

struct unmap_extent {
	uint64_t lba;
	uint32_t count;
};

/* Checks the descriptors (SBC-3 5.28.2); false with sense set when one is bad. */
static bool check_descriptors(struct scsi_lun *lun, struct scsi_cmd *cmd,
			      const uint8_t *list, unsigned n)
{
	uint64_t max_blocks = SCSI_MAX_UNMAP_BYTES / lun->vol->block_size, total = 0;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *d = list + UNMAP_PARAM_HEADER_LEN + i * UNMAP_BLOCK_DESCRIPTOR_LEN;
		uint64_t lba = get_be64(d);
		uint32_t count = get_be32(d + 8);
		total += count;
		if (total > max_blocks) {
			scsi_invalid_param_field(cmd, (unsigned)(d + 8 - list));
			return false;
		}
		if (!scsi_check_range(lun, cmd, lba, count))
			return false;
	}
	return true;
}

static int unmap_blocks(struct scsi_lun *lun, uint64_t lba, uint64_t count)
{
	struct volume *vol = lun->vol;
	struct scsi_range range;
	scsi_range_lock(lun, &range, lba, count);
	int rc = vol->ops->unmap(vol, lba * vol->block_size, count * vol->block_size);
	scsi_range_unlock(lun, &range);
	return rc;
}

void scsi_unmap(struct scsi_lun *lun, struct scsi_nexus *nexus, struct scsi_cmd *cmd)
{
	(void)nexus;
	const uint8_t *cdb = cmd->cdb;
	uint32_t param_len = get_be16(cdb + 7);
	if (!lun_is_thin(lun)) {
		scsi_check(cmd, ILLEGAL_REQUEST, ASC_INVALID_COMMAND_OPERATION_CODE);
		return;
	}
	if (!scsi_check_writable(lun, cmd))
		return;
	if (param_len == 0) { /* nothing to do, and no Data-Out to expect */
		scsi_good(cmd);
		return;
	}
	if (param_len < UNMAP_PARAM_HEADER_LEN) {
		scsi_check(cmd, ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
		return;
	}
	if (!scsi_data_out_complete(cmd, param_len))
		return;
	const uint8_t *list = cmd->data;
	uint32_t descriptor_bytes = get_be16(list + 2);
	if (descriptor_bytes > param_len - UNMAP_PARAM_HEADER_LEN) {
		scsi_check(cmd, ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
		return;
	}
	/* A partial last descriptor is ignored (SBC-3 5.28.2). */
	unsigned n = descriptor_bytes / UNMAP_BLOCK_DESCRIPTOR_LEN;
	if (n > SCSI_MAX_UNMAP_DESCRIPTORS) {
		scsi_invalid_param_field(cmd, 2);
		return;
	}
	if (!check_descriptors(lun, cmd, list, n))
		return;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *d = list + UNMAP_PARAM_HEADER_LEN + i * UNMAP_BLOCK_DESCRIPTOR_LEN;
		uint32_t count = get_be32(d + 8);
		int rc = count ? unmap_blocks(lun, get_be64(d), count) : 0;
		if (rc) {
			scsi_volume_error(cmd, rc, true);
			return;
		}
	}
	scsi_good(cmd);
}

static bool all_zero(const uint8_t *p, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* Writes block (or zeros if block is NULL) over [lba, lba + count). */
static int write_repeated(struct scsi_cmd *cmd, struct volume *vol, const uint8_t *block,
			  uint64_t lba, uint64_t count)
{
	uint32_t bs = vol->block_size;
	uint64_t chunk_blocks = WRITE_SAME_CHUNK_BYTES / bs ? WRITE_SAME_CHUNK_BYTES / bs : 1;
	if (chunk_blocks > count)
		chunk_blocks = count;
	uint8_t *chunk = scsi_scratch_alloc(cmd, chunk_blocks * bs);
	if (!chunk)
		return -ENOMEM;
	for (uint64_t i = 0; i < chunk_blocks; i++) {
		if (block)
			memcpy(chunk + i * bs, block, bs);
		else
			memset(chunk + i * bs, 0, bs);
	}
	int rc = 0;
	while (!rc && count) {
		uint64_t n = count < chunk_blocks ? count : chunk_blocks;
		rc = vol->ops->write(vol, lba * bs, chunk, n * bs);
		lba += n;
		count -= n;
	}
	scsi_scratch_free(cmd, chunk, chunk_blocks * bs);
	return rc;
}

/* The block count of WRITE SAME: 0 means "up to the last LBA" (WSNZ is 0). False with
 * sense set when the LBA lies outside the volume or the count exceeds MAXIMUM WRITE SAME
 * LENGTH. (WRPROTECT, ANCHOR, PBDATA and LBDATA are outside the usage data: scsi_exec()
 * refused them.) */
static bool write_same_blocks(struct scsi_lun *lun, struct scsi_cmd *cmd, bool is16,
			      uint64_t lba, uint64_t *blocks)
{
	if (*blocks == 0) {
		if (lba >= lun_blocks(lun)) {
			scsi_check(cmd, ILLEGAL_REQUEST, ASC_LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE);
			return false;
		}
		*blocks = lun_blocks(lun) - lba;
	}
	if (*blocks * lun->vol->block_size > SCSI_MAX_WRITE_SAME_BYTES) {
		scsi_invalid_cdb_field(cmd, is16 ? 10 : 7, -1);
		return false;
	}
	return scsi_check_range(lun, cmd, lba, *blocks);
}

void scsi_write_same(struct scsi_lun *lun, struct scsi_nexus *nexus, struct scsi_cmd *cmd)
{
	(void)nexus;
	const uint8_t *cdb = cmd->cdb;
	bool is16 = cdb[0] == WRITE_SAME_16;
	uint64_t lba = is16 ? get_be64(cdb + 2) : get_be32(cdb + 2);
	uint64_t blocks = is16 ? get_be32(cdb + 10) : get_be16(cdb + 7);
	bool ndob = is16 && (cdb[1] & WRITE_SAME_NDOB);
	struct volume *vol = lun->vol;
	if (!write_same_blocks(lun, cmd, is16, lba, &blocks) || !scsi_check_writable(lun, cmd))
		return;
	if ((cdb[1] & WRITE_SAME_UNMAP) && !lun_is_thin(lun)) {
		/* LBPME is 0: an UNMAP request is an invalid field (libiscsi checks that
		 * WRITE SAME with UNMAP works exactly when LBPWS/LBPWS10 say so). */
		scsi_invalid_cdb_field(cmd, 1, 3);
		return;
	}
	if (!ndob && !scsi_data_out_complete(cmd, vol->block_size))
		return;
	const uint8_t *block = ndob ? NULL : cmd->data;
	bool zeros = !block || all_zero(block, vol->block_size);
	bool unmap = (cdb[1] & WRITE_SAME_UNMAP) || zeros;
	int rc;
	if (unmap && lun_is_thin(lun)) {
		rc = unmap_blocks(lun, lba, blocks);
	} else {
		struct scsi_range range;
		scsi_range_lock(lun, &range, lba, blocks);
		rc = write_repeated(cmd, vol, block, lba, blocks);
		scsi_range_unlock(lun, &range);
	}
	if (rc)
		scsi_volume_error(cmd, rc, true);
	else
		scsi_good(cmd);
}
