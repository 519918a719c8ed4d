/*
 * INQUIRY (SPC-4 6.6): the standard data and the VPD pages 00h (supported pages), 80h
 * (unit serial number), 83h (device identification: NAA + T10 vendor id), 86h (extended
 * INQUIRY data), B0h (block limits), B1h (block device characteristics) and B2h (logical
 * block provisioning). Each page is built whole in a local buffer and then truncated to
 * the ALLOCATION LENGTH (never an error, interop note 6).
 */
#include <string.h>

#include "scsi_priv.h"

#define INQUIRY_STANDARD_LEN 74 /* up to the fourth version descriptor */
#define VPD_BUF_MAX 256

static const uint8_t supported_vpd_pages[] = { /* ascending, as SPC-4 requires */
	VPD_SUPPORTED_VPD_PAGES, VPD_UNIT_SERIAL_NUMBER, VPD_DEVICE_IDENTIFICATION,
	VPD_EXTENDED_INQUIRY_DATA, VPD_BLOCK_LIMITS, VPD_BLOCK_DEVICE_CHARACTERISTICS,
	VPD_LOGICAL_BLOCK_PROVISIONING,
};

/* Copies s into an ASCII field of n bytes, padded with spaces (SPC-4 4.4.1). */
static void put_ascii(uint8_t *dst, const char *s, size_t n)
{
	size_t len = strlen(s);
	memset(dst, ' ', n);
	memcpy(dst, s, len < n ? len : n);
}

static uint32_t standard_inquiry(const struct scsi_lun *lun, uint8_t *b)
{
	static const uint16_t versions[] = { VERSION_DESCRIPTOR_SAM5, VERSION_DESCRIPTOR_ISCSI,
					     VERSION_DESCRIPTOR_SPC4, VERSION_DESCRIPTOR_SBC3 };
	memset(b, 0, INQUIRY_STANDARD_LEN);
	b[0] = lun ? TYPE_DISK : TYPE_NO_LUN;
	b[2] = INQUIRY_VERSION_SPC4;
	b[3] = INQUIRY_HISUP | INQUIRY_RESPONSE_DATA_FORMAT;
	b[4] = INQUIRY_STANDARD_LEN - 5;
	b[7] = INQUIRY_CMDQUE;
	put_ascii(b + 8, SCSI_VENDOR, 8);
	put_ascii(b + 16, lun ? lun->product : "", 16);
	put_ascii(b + 32, SCSI_REVISION, 4);
	for (unsigned i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		put_be16(b + 58 + 2 * i, versions[i]);
	return INQUIRY_STANDARD_LEN;
}

static uint32_t vpd_supported_pages(const struct scsi_lun *lun, uint8_t *b)
{
	(void)lun;
	memcpy(b + 4, supported_vpd_pages, sizeof(supported_vpd_pages));
	return sizeof(supported_vpd_pages);
}

static uint32_t vpd_unit_serial(const struct scsi_lun *lun, uint8_t *b)
{
	size_t len = strlen(lun->unit_serial);
	memcpy(b + 4, lun->unit_serial, len);
	return (uint32_t)len;
}

/* One designation descriptor header (SPC-4 7.8.6.1); returns its total length. */
static uint32_t put_designator(uint8_t *d, uint8_t code_set, uint8_t type,
			       const void *id, uint8_t len)
{
	d[0] = code_set;
	d[1] = DESIG_ASSOC_LOGICAL_UNIT | type;
	d[2] = 0;
	d[3] = len;
	memcpy(d + 4, id, len);
	return 4u + len;
}

static uint32_t vpd_device_identification(const struct scsi_lun *lun, uint8_t *b)
{
	uint8_t t10[8 + BLKDEV_SERIAL_MAX + 1];
	size_t serial_len = strlen(lun->unit_serial);
	uint32_t n = put_designator(b + 4, DESIG_CODE_SET_BINARY, DESIG_TYPE_NAA,
				    lun->naa_id, sizeof(lun->naa_id));
	/* T10 vendor id: the vendor, then the serial, which is unique per vendor. */
	put_ascii(t10, SCSI_VENDOR, 8);
	memcpy(t10 + 8, lun->unit_serial, serial_len);
	n += put_designator(b + 4 + n, DESIG_CODE_SET_ASCII, DESIG_TYPE_T10_VENDOR_ID, t10,
			    (uint8_t)(8 + serial_len));
	return n;
}

static uint32_t vpd_extended_inquiry(const struct scsi_lun *lun, uint8_t *b)
{
	(void)lun;
	memset(b + 4, 0, 60);
	b[5] = EXTENDED_INQUIRY_SIMPSUP; /* SIMPLE task attribute only */
	return 60;
}

static uint32_t vpd_block_limits(const struct scsi_lun *lun, uint8_t *b)
{
	const struct volume *vol = lun->vol;
	uint32_t bs = vol->block_size;
	uint32_t granularity = vol->unmap_granularity > bs ? vol->unmap_granularity / bs : 1;
	memset(b + 4, 0, 0x3c);
	b[5] = SCSI_MAX_COMPARE_AND_WRITE_BLOCKS;
	put_be16(b + 6, (uint16_t)(granularity > 0xffff ? 0xffff : granularity));
	put_be32(b + 8, SCSI_MAX_TRANSFER_BYTES / bs);
	put_be32(b + 12, SCSI_MAX_TRANSFER_BYTES / bs);
	if (lun_is_thin(lun)) {
		put_be32(b + 20, (uint32_t)(SCSI_MAX_UNMAP_BYTES / bs));
		put_be32(b + 24, SCSI_MAX_UNMAP_DESCRIPTORS);
		put_be32(b + 28, granularity);
	}
	put_be64(b + 36, SCSI_MAX_WRITE_SAME_BYTES / bs);
	return 0x3c;
}

static uint32_t vpd_block_characteristics(const struct scsi_lun *lun, uint8_t *b)
{
	(void)lun;
	memset(b + 4, 0, 0x3c);
	put_be16(b + 4, MEDIUM_ROTATION_RATE_NON_ROTATING);
	return 0x3c;
}

static uint32_t vpd_provisioning(const struct scsi_lun *lun, uint8_t *b)
{
	memset(b + 4, 0, 4);
	if (lun_is_thin(lun)) {
		/* Unmapped blocks read back as zeros: the volume contract says so. */
		b[5] = LBP_LBPU | LBP_LBPWS | LBP_LBPWS10 | LBP_LBPRZ;
		b[6] = PROVISIONING_TYPE_THIN;
	}
	return 4;
}

/* Fills the page after its 4-byte header; returns the page length, or -1 if unknown. */
static int build_vpd(const struct scsi_lun *lun, uint8_t page, uint8_t *b)
{
	switch (page) {
	case VPD_SUPPORTED_VPD_PAGES: return (int)vpd_supported_pages(lun, b);
	case VPD_UNIT_SERIAL_NUMBER: return (int)vpd_unit_serial(lun, b);
	case VPD_DEVICE_IDENTIFICATION: return (int)vpd_device_identification(lun, b);
	case VPD_EXTENDED_INQUIRY_DATA: return (int)vpd_extended_inquiry(lun, b);
	case VPD_BLOCK_LIMITS: return (int)vpd_block_limits(lun, b);
	case VPD_BLOCK_DEVICE_CHARACTERISTICS: return (int)vpd_block_characteristics(lun, b);
	case VPD_LOGICAL_BLOCK_PROVISIONING: return (int)vpd_provisioning(lun, b);
	default: return -1;
	}
}

void scsi_inquiry(struct scsi_lun *lun, struct scsi_nexus *nexus, struct scsi_cmd *cmd)
{
	(void)nexus;
	const uint8_t *cdb = cmd->cdb;
	uint8_t buf[VPD_BUF_MAX];
	uint16_t alloc_len = get_be16(cdb + 3);
	if (!(cdb[1] & INQUIRY_EVPD)) {
		if (cdb[2]) { /* a page code without EVPD */
			scsi_invalid_cdb_field(cmd, 2, -1);
			return;
		}
		scsi_data_in(cmd, buf, standard_inquiry(lun, buf), alloc_len);
		return;
	}
	if (!lun) {
		scsi_check(cmd, ILLEGAL_REQUEST, ASC_LOGICAL_UNIT_NOT_SUPPORTED);
		return;
	}
	memset(buf, 0, 4);
	int len = build_vpd(lun, cdb[2], buf);
	if (len < 0) {
		scsi_invalid_cdb_field(cmd, 2, -1);
		return;
	}
	buf[0] = TYPE_DISK;
	buf[1] = cdb[2];
	put_be16(buf + 2, (uint16_t)len);
	scsi_data_in(cmd, buf, 4u + (uint32_t)len, alloc_len);
}
