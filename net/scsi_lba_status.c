/*
 * GET LBA STATUS (SBC-3 5.6, SERVICE ACTION IN (16) service action 12h): which blocks
 * from the STARTING LOGICAL BLOCK ADDRESS on are mapped and which deallocated (read back
 * as zeros), as extents from the volume's block_status op; a volume without one is
 * mapped throughout. One descriptor per run of blocks in the same state, as many as the
 * allocation length holds (at least the one that starts at the given LBA, which the
 * initiator is guaranteed), up to LBA_STATUS_MAX_DESCRIPTORS, looking at no more than
 * LBA_STATUS_MAX_LOOKUPS extents.
 */
#include <string.h>

#include "scsi_priv.h"

#define LBA_STATUS_MAX_DESCRIPTORS 64
#define LBA_STATUS_BUF_MAX (LBA_STATUS_HEADER_LEN + \
			    LBA_STATUS_MAX_DESCRIPTORS * LBA_STATUS_DESCRIPTOR_LEN)
#define LBA_STATUS_MAX_BLOCKS 0xffffffffu /* the descriptor's 32-bit block count */
/* Extents looked at per command: bounds the work; a descriptor may legally end before
 * its state changes. */
#define LBA_STATUS_MAX_LOOKUPS 256

/* The state of the blocks at lba and how many from lba share it, at most max. */
static int extent_at(struct volume *vol, uint64_t lba, uint64_t max, bool *mapped,
		     uint64_t *blocks)
{
	uint32_t bs = vol->block_size;
	if (!vol->ops->block_status) {
		*mapped = true;
		*blocks = max;
		return 0;
	}
	uint64_t bytes = 0;
	int rc = vol->ops->block_status(vol, lba * bs, max * bs, mapped, &bytes);
	*blocks = bytes / bs;
	if (!rc && *blocks == 0) /* a volume answering less than a block: take one */
		*blocks = 1;
	return rc;
}

static void put_descriptor(uint8_t *d, uint64_t lba, uint64_t blocks, bool mapped)
{
	memset(d, 0, LBA_STATUS_DESCRIPTOR_LEN);
	put_be64(d, lba);
	put_be32(d + 8, (uint32_t)blocks);
	d[12] = mapped ? PROVISIONING_STATUS_MAPPED : PROVISIONING_STATUS_DEALLOCATED;
}

void scsi_get_lba_status(struct scsi_lun *lun, struct scsi_nexus *nexus,
			 struct scsi_cmd *cmd)
{
	(void)nexus;
	uint64_t lba = get_be64(cmd->cdb + 2);
	uint32_t alloc_len = get_be32(cmd->cdb + 10);
	uint64_t end = lun_blocks(lun);
	if (lba >= end) {
		scsi_check(cmd, ILLEGAL_REQUEST, ASC_LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE);
		return;
	}
	uint8_t buf[LBA_STATUS_BUF_MAX];
	uint32_t room = alloc_len > LBA_STATUS_HEADER_LEN ?
		(alloc_len - LBA_STATUS_HEADER_LEN) / LBA_STATUS_DESCRIPTOR_LEN : 0;
	if (room < 1)
		room = 1;
	if (room > LBA_STATUS_MAX_DESCRIPTORS)
		room = LBA_STATUS_MAX_DESCRIPTORS;
	uint32_t n = 0;
	uint64_t run_lba = lba, run_blocks = 0;
	bool run_mapped = false;
	for (unsigned lookups = 0; lba < end && n < room && lookups < LBA_STATUS_MAX_LOOKUPS;
	     lookups++) {
		uint64_t max = end - lba, blocks;
		bool mapped;
		if (max > LBA_STATUS_MAX_BLOCKS)
			max = LBA_STATUS_MAX_BLOCKS;
		int rc = extent_at(lun->vol, lba, max, &mapped, &blocks);
		if (rc) {
			scsi_volume_error(cmd, rc, false);
			return;
		}
		if (run_blocks && (mapped != run_mapped ||
				   run_blocks + blocks > LBA_STATUS_MAX_BLOCKS)) {
			put_descriptor(buf + LBA_STATUS_HEADER_LEN + n++ * LBA_STATUS_DESCRIPTOR_LEN,
				       run_lba, run_blocks, run_mapped);
			run_lba = lba;
			run_blocks = 0;
		}
		run_mapped = mapped;
		run_blocks += blocks;
		lba += blocks;
	}
	if (run_blocks && n < room)
		put_descriptor(buf + LBA_STATUS_HEADER_LEN + n++ * LBA_STATUS_DESCRIPTOR_LEN,
			       run_lba, run_blocks, run_mapped);
	uint32_t len = LBA_STATUS_HEADER_LEN + n * LBA_STATUS_DESCRIPTOR_LEN;
	memset(buf, 0, LBA_STATUS_HEADER_LEN);
	put_be32(buf, len - 4);
	scsi_data_in(cmd, buf, len, alloc_len);
}
