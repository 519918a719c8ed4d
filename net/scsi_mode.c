/*
 * MODE SENSE (6)/(10) and MODE SELECT (6)/(10) (SPC-4 6.11-6.14, SBC-3 6.4): the caching
 * page 08h (WCE mirrors volume->write_cache) and the control page 0Ah, alone or as all
 * pages (3Fh), with an optional short or long LBA block descriptor; the device-specific
 * parameter carries WP on a read-only volume and DPOFUA. Nothing is changeable and
 * nothing saveable: MODE SELECT accepts a parameter list that restates the current
 * values and rejects any change as INVALID FIELD IN PARAMETER LIST.
 */
#include <string.h>

#include "scsi_priv.h"

#define CACHING_PAGE_LEN 20
#define CONTROL_PAGE_LEN 12
#define MODE_HEADER_6_LEN 4
#define MODE_HEADER_10_LEN 8
#define SHORT_BLOCK_DESCRIPTOR_LEN 8
#define LONG_BLOCK_DESCRIPTOR_LEN 16
#define MODE_BUF_MAX 128

/* Builds one page as page control pc asks; returns its length, 0 if unknown. */
static uint32_t build_page(const struct scsi_lun *lun, uint8_t code, unsigned pc, uint8_t *p)
{
	bool changeable = pc == MODE_PC_CHANGEABLE;
	switch (code) {
	case MODE_PAGE_CACHING:
		memset(p, 0, CACHING_PAGE_LEN);
		p[0] = MODE_PAGE_CACHING;
		p[1] = CACHING_PAGE_LEN - 2;
		if (!changeable && lun->vol->write_cache)
			p[2] = CACHING_WCE;
		return CACHING_PAGE_LEN;
	case MODE_PAGE_CONTROL:
		memset(p, 0, CONTROL_PAGE_LEN);
		p[0] = MODE_PAGE_CONTROL;
		p[1] = CONTROL_PAGE_LEN - 2;
		if (!changeable) {
			p[3] = CONTROL_QAM_UNRESTRICTED; /* commands may be reordered */
			put_be16(p + 8, 0xffff);          /* busy timeout: unlimited */
		}
		return CONTROL_PAGE_LEN;
	default:
		return 0;
	}
}

static uint32_t build_pages(const struct scsi_lun *lun, uint8_t code, unsigned pc, uint8_t *p)
{
	if (code != MODE_PAGE_ALL)
		return build_page(lun, code, pc, p);
	uint32_t n = build_page(lun, MODE_PAGE_CACHING, pc, p);
	return n + build_page(lun, MODE_PAGE_CONTROL, pc, p + n);
}

static uint32_t build_block_descriptor(const struct scsi_lun *lun, bool long_lba, uint8_t *d)
{
	uint64_t blocks = lun_blocks(lun);
	if (long_lba) {
		memset(d, 0, LONG_BLOCK_DESCRIPTOR_LEN);
		put_be64(d, blocks);
		put_be32(d + 12, lun->vol->block_size);
		return LONG_BLOCK_DESCRIPTOR_LEN;
	}
	memset(d, 0, SHORT_BLOCK_DESCRIPTOR_LEN);
	put_be32(d, blocks > 0xffffffff ? 0xffffffff : (uint32_t)blocks);
	put_be24(d + 5, lun->vol->block_size);
	return SHORT_BLOCK_DESCRIPTOR_LEN;
}

static uint8_t device_specific_parameter(const struct scsi_lun *lun)
{
	return (uint8_t)((lun->vol->read_only ? MODE_DSP_WP : 0) | MODE_DSP_DPOFUA);
}

void scsi_mode_sense(struct scsi_lun *lun, struct scsi_nexus *nexus, struct scsi_cmd *cmd)
{
	(void)nexus;
	const uint8_t *cdb = cmd->cdb;
	bool ten = cdb[0] == MODE_SENSE_10;
	unsigned pc = cdb[2] >> MODE_PC_SHIFT;
	uint8_t code = cdb[2] & MODE_PAGE_CODE_MASK, subpage = cdb[3];
	bool long_lba = ten && (cdb[1] & MODE_LLBAA);
	uint32_t header = ten ? MODE_HEADER_10_LEN : MODE_HEADER_6_LEN;
	uint8_t buf[MODE_BUF_MAX] = { 0 };

	if (pc == MODE_PC_SAVED) {
		scsi_check(cmd, ILLEGAL_REQUEST, ASC_SAVING_PARAMETERS_NOT_SUPPORTED);
		return;
	}
	if (subpage && !(code == MODE_PAGE_ALL && subpage == MODE_SUBPAGE_ALL)) {
		scsi_invalid_cdb_field(cmd, 3, -1);
		return;
	}
	uint32_t bd = (cdb[1] & MODE_DBD) ? 0 : build_block_descriptor(lun, long_lba, buf + header);
	uint32_t pages = build_pages(lun, code, pc, buf + header + bd);
	if (!pages) {
		scsi_invalid_cdb_field(cmd, 2, 5);
		return;
	}
	uint32_t total = header + bd + pages;
	if (ten) {
		put_be16(buf, (uint16_t)(total - 2));
		buf[3] = device_specific_parameter(lun);
		buf[4] = long_lba ? MODE_LONGLBA : 0;
		put_be16(buf + 6, (uint16_t)bd);
		scsi_data_in(cmd, buf, total, get_be16(cdb + 7));
	} else {
		buf[0] = (uint8_t)(total - 1);
		buf[2] = device_specific_parameter(lun);
		buf[3] = (uint8_t)bd;
		scsi_data_in(cmd, buf, total, cdb[4]);
	}
}

/* Accepts pages equal to the current ones; returns false with sense set otherwise.
 * at is the offset of pages within the parameter list, for the field pointer. */
static bool check_pages_unchanged(struct scsi_lun *lun, struct scsi_cmd *cmd,
				  const uint8_t *p, uint32_t len, uint32_t at)
{
	uint8_t current[MODE_BUF_MAX];
	while (len) {
		if (len < 2 || (uint32_t)p[1] + 2 > len) {
			scsi_check(cmd, ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
			return false;
		}
		uint32_t page_len = (uint32_t)p[1] + 2;
		uint32_t want = build_page(lun, p[0] & MODE_PAGE_CODE_MASK, MODE_PC_CURRENT,
					   current);
		/* SPF (subpages) unsupported; PS is reserved in MODE SELECT data. */
		if (!want || (p[0] & ~MODE_PS) != current[0] || page_len != want) {
			scsi_invalid_param_field(cmd, at);
			return false;
		}
		for (uint32_t i = 2; i < page_len; i++) {
			if (p[i] != current[i]) {
				scsi_invalid_param_field(cmd, at + i);
				return false;
			}
		}
		p += page_len;
		at += page_len;
		len -= page_len;
	}
	return true;
}

void scsi_mode_select(struct scsi_lun *lun, struct scsi_nexus *nexus, struct scsi_cmd *cmd)
{
	(void)nexus;
	const uint8_t *cdb = cmd->cdb;
	bool ten = cdb[0] == MODE_SELECT_10;
	uint32_t param_len = ten ? get_be16(cdb + 7) : cdb[4];
	uint32_t header = ten ? MODE_HEADER_10_LEN : MODE_HEADER_6_LEN;
	if (cdb[1] & MODE_SELECT_SP) {
		scsi_invalid_cdb_field(cmd, 1, 0);
		return;
	}
	if (param_len == 0) {
		scsi_good(cmd);
		return;
	}
	if (!scsi_data_out_complete(cmd, param_len))
		return;
	const uint8_t *p = cmd->data;
	if (param_len < header) {
		scsi_check(cmd, ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
		return;
	}
	uint32_t bd = ten ? get_be16(p + 6) : p[3];
	if (bd > param_len - header) {
		scsi_check(cmd, ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
		return;
	}
	/* The block descriptor restates the geometry, which cannot change: skip it. */
	uint32_t at = header + bd;
	if (check_pages_unchanged(lun, cmd, p + at, param_len - at, at))
		scsi_good(cmd);
}
