/*
 * Block I/O commands (SBC-3 5.x): READ, WRITE and WRITE AND VERIFY (6, 10, 12, 16),
 * VERIFY (10, 12, 16), PRE-FETCH (10, 16); the LBA range and write-protect checks the
 * other block commands share; and the range locks that make COMPARE AND WRITE atomic
 * against overlapping writes (every write-type command holds its range while it runs).
 *
 * DPO is ignored (we keep no cache to evict from). FUA on a write flushes the volume
 * after the write, so the command completes only once the data is durable.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scsi_priv.h"

struct rw_params {
	uint64_t lba;
	uint32_t blocks;
	uint8_t flags;      /* byte 1: PROTECT, DPO, FUA, BYTCHK */
	unsigned len_byte;  /* where TRANSFER LENGTH starts, for the field pointer */
};

/* Decodes the LBA and TRANSFER LENGTH of the 6/10/12/16-byte CDB forms. */
static void parse_rw(const uint8_t *cdb, struct rw_params *p)
{
	switch (cdb[0] >> 5) { /* the group code gives the CDB length */
	case 0: /* 6 bytes: 21-bit LBA, length 0 means 256 blocks */
		p->lba = (uint64_t)(cdb[1] & 0x1f) << 16 | get_be16(cdb + 2);
		p->blocks = cdb[4] ? cdb[4] : 256;
		p->flags = 0;
		p->len_byte = 4;
		break;
	case 1: /* 10 bytes */
		p->lba = get_be32(cdb + 2);
		p->blocks = get_be16(cdb + 7);
		p->flags = cdb[1];
		p->len_byte = 7;
		break;
	case 5: /* 12 bytes */
		p->lba = get_be32(cdb + 2);
		p->blocks = get_be32(cdb + 6);
		p->flags = cdb[1];
		p->len_byte = 6;
		break;
	default: /* 16 bytes */
		p->lba = get_be64(cdb + 2);
		p->blocks = get_be32(cdb + 10);
		p->flags = cdb[1];
		p->len_byte = 10;
		break;
	}
}

bool scsi_check_range(struct scsi_lun *lun, struct scsi_cmd *cmd, uint64_t lba,
		      uint64_t count)
{
	uint64_t end = lun_blocks(lun);
	if (lba <= end && count <= end - lba)
		return true;
	scsi_check(cmd, ILLEGAL_REQUEST, ASC_LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE);
	return false;
}

bool scsi_check_writable(struct scsi_lun *lun, struct scsi_cmd *cmd)
{
	if (!lun->vol->read_only)
		return true;
	scsi_check(cmd, DATA_PROTECT, ASC_WRITE_PROTECTED);
	return false;
}

/* The checks every READ/WRITE/VERIFY form shares: a transfer we accept, a range inside
 * the volume. (RDPROTECT and the like are outside the usage data: scsi_exec() refused
 * them, since we format without protection information.) */
static bool check_rw(struct scsi_lun *lun, struct scsi_cmd *cmd, struct rw_params *p)
{
	parse_rw(cmd->cdb, p);
	if ((uint64_t)p->blocks * lun->vol->block_size > SCSI_MAX_TRANSFER_BYTES) {
		scsi_invalid_cdb_field(cmd, p->len_byte, -1);
		return false;
	}
	return scsi_check_range(lun, cmd, p->lba, p->blocks);
}

static bool ranges_overlap(const struct scsi_range *r, uint64_t lba, uint64_t count)
{
	return lba < r->lba + r->count && r->lba < lba + count;
}

void scsi_range_lock(struct scsi_lun *lun, struct scsi_range *r, uint64_t lba,
		     uint64_t count)
{
	for (;;) {
		struct scsi_range *it = lun->busy_ranges;
		while (it && !ranges_overlap(it, lba, count))
			it = it->next;
		if (!it)
			break;
		waitq_sleep(&lun->range_waiters);
	}
	r->lba = lba;
	r->count = count;
	r->next = lun->busy_ranges;
	lun->busy_ranges = r;
}

void scsi_range_unlock(struct scsi_lun *lun, struct scsi_range *r)
{
	struct scsi_range **pp = &lun->busy_ranges;
	while (*pp && *pp != r)
		pp = &(*pp)->next;
	if (*pp)
		*pp = r->next;
	waitq_wake_all(&lun->range_waiters);
}

/* Reads what the initiator has room for: whole blocks straight into its buffer, a
 * partial last block through a bounce block. */
static int read_into(struct scsi_cmd *cmd, struct volume *vol, uint64_t offset,
		     uint32_t bytes)
{
	uint8_t *data = cmd->data;
	uint32_t bs = vol->block_size;
	uint32_t whole = bytes / bs * bs;
	int rc = whole ? vol->ops->read(vol, offset, data, whole) : 0;
	if (rc || whole == bytes)
		return rc;
	uint8_t *block = scsi_scratch_alloc(cmd, bs);
	if (!block)
		return -ENOMEM;
	rc = vol->ops->read(vol, offset + whole, block, bs);
	if (!rc)
		memcpy(data + whole, block, bytes - whole);
	scsi_scratch_free(cmd, block, bs);
	return rc;
}

void scsi_read(struct scsi_lun *lun, struct scsi_nexus *nexus, struct scsi_cmd *cmd)
{
	(void)nexus;
	struct rw_params p;
	if (!check_rw(lun, cmd, &p))
		return;
	struct volume *vol = lun->vol;
	cmd->transfer_len = p.blocks * vol->block_size;
	uint32_t bytes = cmd->transfer_len < cmd->data_len ? cmd->transfer_len : cmd->data_len;
	int rc = bytes ? read_into(cmd, vol, p.lba * vol->block_size, bytes) : 0;
	if (rc) {
		scsi_volume_error(cmd, rc, false);
		return;
	}
	cmd->data_produced = bytes;
	scsi_good(cmd);
}

/* WRITE and WRITE AND VERIFY: the volume returns what it stored, so the verify step
 * of the latter would compare the buffer with itself; both only write. When the
 * initiator sent less than the CDB asks for (an iSCSI overflow), the whole blocks that
 * came are written and the command succeeds with the residual, as FCP-4 9.4.2 a) and
 * tgt do (libiscsi's iSCSIResiduals expect it); a partial last block is dropped. */
void scsi_write(struct scsi_lun *lun, struct scsi_nexus *nexus, struct scsi_cmd *cmd)
{
	(void)nexus;
	struct rw_params p;
	if (!check_rw(lun, cmd, &p) || !scsi_check_writable(lun, cmd))
		return;
	struct volume *vol = lun->vol;
	uint32_t bytes = p.blocks * vol->block_size;
	cmd->transfer_len = bytes;
	if (cmd->data_len < bytes) /* overflow: write the whole blocks that came */
		bytes = cmd->data_len / vol->block_size * vol->block_size;
	if (bytes == 0) {
		scsi_good(cmd);
		return;
	}
	struct scsi_range range;
	scsi_range_lock(lun, &range, p.lba, p.blocks);
	int rc = vol->ops->write(vol, p.lba * vol->block_size, cmd->data, bytes);
	if (!rc && (p.flags & SBC_FUA) && vol->write_cache)
		rc = vol->ops->flush(vol);
	scsi_range_unlock(lun, &range);
	if (rc)
		scsi_volume_error(cmd, rc, true);
	else
		scsi_good(cmd);
}

/* Compares bytes of the volume at byte pos with the Data-Out from *at on (BYTCHK 11b:
 * its one block, again for each block). Returns 0 or 1 with *at the first difference. */
static int compare_piece(const uint8_t *got, uint32_t n, const uint8_t *expected,
			 uint32_t pos, uint32_t bs, bool one_block, uint32_t *offset)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t at = one_block ? (pos + i) % bs : pos + i;
		if (got[i] != expected[at]) {
			*offset = at;
			return 1;
		}
	}
	return 0;
}

/* Compares the blocks with the Data-Out: all of it (BYTCHK 01b) or its one block
 * against each block (BYTCHK 11b). Returns 0, a negative errno, or 1 on a miscompare
 * with *offset the first differing byte of the Data-Out. expected NULL: only reads.
 * Reads in pieces of SCSI_SCRATCH_MAX_BYTES: a VERIFY without Data-Out (BYTCHK 0) may
 * name 32 MiB and must not cost that much memory. */
static int compare_blocks(struct scsi_cmd *cmd, struct volume *vol, const struct rw_params *p,
			  const uint8_t *expected, bool one_block, uint32_t *offset)
{
	uint32_t bs = vol->block_size, bytes = p->blocks * bs;
	uint32_t piece = SCSI_SCRATCH_MAX_BYTES > bs ? SCSI_SCRATCH_MAX_BYTES / bs * bs : bs;
	if (piece > bytes)
		piece = bytes;
	uint8_t *buf = scsi_scratch_alloc(cmd, piece);
	if (!buf)
		return -ENOMEM;
	int rc = 0;
	for (uint32_t pos = 0; !rc && pos < bytes; pos += piece) {
		uint32_t n = bytes - pos < piece ? bytes - pos : piece;
		rc = vol->ops->read(vol, p->lba * bs + pos, buf, n);
		if (!rc && expected)
			rc = compare_piece(buf, n, expected, pos, bs, one_block, offset);
	}
	scsi_scratch_free(cmd, buf, piece);
	return rc;
}

void scsi_verify(struct scsi_lun *lun, struct scsi_nexus *nexus, struct scsi_cmd *cmd)
{
	(void)nexus;
	struct rw_params p;
	if (!check_rw(lun, cmd, &p))
		return;
	unsigned bytchk = (p.flags & VERIFY_BYTCHK_MASK) >> VERIFY_BYTCHK_SHIFT;
	if (bytchk == 2) { /* reserved */
		scsi_invalid_cdb_field(cmd, 1, 2);
		return;
	}
	struct volume *vol = lun->vol;
	uint32_t bytes = p.blocks * vol->block_size;
	if (bytchk && !scsi_data_out_complete(cmd, bytchk == 3 ? vol->block_size : bytes))
		return;
	if (bytes == 0) {
		scsi_good(cmd);
		return;
	}
	/* BYTCHK 0 still reads: a medium verification reports unreadable blocks. */
	uint32_t offset = 0;
	int rc = compare_blocks(cmd, vol, &p, bytchk ? cmd->data : NULL, bytchk == 3, &offset);
	if (rc == 1)
		scsi_miscompare(cmd, offset);
	else if (rc < 0)
		scsi_volume_error(cmd, rc, false);
	else
		scsi_good(cmd);
}

void scsi_prefetch(struct scsi_lun *lun, struct scsi_nexus *nexus, struct scsi_cmd *cmd)
{
	(void)nexus;
	const uint8_t *cdb = cmd->cdb;
	bool is16 = cdb[0] == PRE_FETCH_16;
	uint64_t lba = is16 ? get_be64(cdb + 2) : get_be32(cdb + 2);
	uint32_t blocks = is16 ? get_be32(cdb + 10) : get_be16(cdb + 7);
	if (scsi_check_range(lun, cmd, lba, blocks))
		scsi_good(cmd); /* nothing to cache ahead: the volume below has its own */
}
