/* Host tests of INQUIRY (net/scsi_inquiry.c) and of the LUN identity (scsi_lun_init). */
#include "check.h"
#include "scsi_test_support.h"

#define BLOCKS 2048
#define BS 512

static struct scsi_fixture f;
static uint8_t buf[512];

static uint8_t inquiry(bool evpd, uint8_t page, uint16_t alloc_len, uint32_t data_len)
{
	uint8_t cdb[6] = { INQUIRY, evpd ? 1 : 0, page, (uint8_t)(alloc_len >> 8),
			   (uint8_t)alloc_len, 0 };
	memset(buf, 0xee, sizeof(buf));
	return run_cdb(&f, cdb, 6, buf, data_len);
}

static void test_standard_inquiry(void)
{
	fixture_init(&f, BLOCKS, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, inquiry(false, 0, 255, sizeof(buf)));
	CHECK_EQ(74, f.cmd.data_produced);
	CHECK_EQ(0x00, buf[0]);        /* qualifier 0, direct access block device */
	CHECK_EQ(0x06, buf[2]);        /* SPC-4 */
	CHECK_EQ(0x02, buf[3] & 0x0f); /* response data format 2 */
	CHECK_EQ(74 - 5, buf[4]);
	CHECK(buf[7] & 0x02);          /* CMDQUE */
	CHECK_MEM_EQ("QEDBOX  ", buf + 8, 8);
	CHECK_MEM_EQ("QED VOLUME      ", buf + 16, 16);
	CHECK_EQ(0x0460, get_be16(buf + 62)); /* SPC-4 version descriptor */
	CHECK_EQ(0x04c0, get_be16(buf + 64)); /* SBC-3 */
	fixture_fini(&f);
}

static void test_standard_inquiry_ascii_fields_printable(void)
{
	fixture_init(&f, BLOCKS, BS, true);
	inquiry(false, 0, 255, sizeof(buf));
	for (int i = 8; i < 36; i++)
		CHECK(buf[i] >= 0x20 && buf[i] <= 0x7e);
	fixture_fini(&f);
}

static void test_standard_inquiry_truncated_by_allocation_length(void)
{
	fixture_init(&f, BLOCKS, BS, true);
	for (uint16_t len = 0; len < 80; len++) {
		CHECK_EQ(SAM_STAT_GOOD, inquiry(false, 0, len, sizeof(buf)));
		CHECK_EQ(len < 74 ? len : 74, f.cmd.data_produced);
		CHECK_EQ(len < 74 ? len : 74, f.cmd.transfer_len);
		CHECK_EQ(0xee, buf[f.cmd.data_produced]);
	}
	fixture_fini(&f);
}

static void test_standard_inquiry_truncated_by_expected_length(void)
{
	fixture_init(&f, BLOCKS, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, inquiry(false, 0, 255, 36));
	CHECK_EQ(36, f.cmd.data_produced);
	CHECK_EQ(74, f.cmd.transfer_len);
	CHECK_EQ(0xee, buf[36]);
	fixture_fini(&f);
}

static void test_allocation_length_511_and_512_agree(void)
{
	fixture_init(&f, BLOCKS, BS, true);
	uint8_t first[128];
	inquiry(false, 0, 511, sizeof(buf));
	uint32_t n = f.cmd.data_produced;
	memcpy(first, buf, n);
	inquiry(false, 0, 512, sizeof(buf));
	CHECK_EQ(n, f.cmd.data_produced);
	CHECK_MEM_EQ(first, buf, n);
	fixture_fini(&f);
}

static void test_page_code_without_evpd_is_invalid(void)
{
	fixture_init(&f, BLOCKS, BS, true);
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, inquiry(false, 0x80, 255, sizeof(buf)));
	CHECK_EQ(ILLEGAL_REQUEST, sense_key(&f.cmd));
	CHECK_EQ(ASC_INVALID_FIELD_IN_CDB, sense_asc(&f.cmd));
	CHECK_EQ(2, sense_field_pointer(&f.cmd));
	fixture_fini(&f);
}

static void test_cmddt_is_invalid(void)
{
	fixture_init(&f, BLOCKS, BS, true);
	uint8_t cdb[6] = { INQUIRY, 0x02, 0, 0, 255, 0 };
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, run_cdb(&f, cdb, 6, buf, sizeof(buf)));
	CHECK_EQ(ASC_INVALID_FIELD_IN_CDB, sense_asc(&f.cmd));
	fixture_fini(&f);
}

static void test_unknown_vpd_page_is_invalid(void)
{
	fixture_init(&f, BLOCKS, BS, true);
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, inquiry(true, 0x87, 255, sizeof(buf)));
	CHECK_EQ(ASC_INVALID_FIELD_IN_CDB, sense_asc(&f.cmd));
	fixture_fini(&f);
}

static void test_supported_pages_sorted_and_each_served(void)
{
	fixture_init(&f, BLOCKS, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, inquiry(true, 0x00, 255, sizeof(buf)));
	uint8_t pages[32];
	uint16_t n = get_be16(buf + 2);
	CHECK_EQ(7, n);
	memcpy(pages, buf + 4, n);
	for (uint16_t i = 0; i < n; i++) {
		if (i)
			CHECK(pages[i] > pages[i - 1]);
		CHECK_EQ(SAM_STAT_GOOD, inquiry(true, pages[i], 255, sizeof(buf)));
		CHECK_EQ(pages[i], buf[1]);
		CHECK_EQ(get_be16(buf + 2) + 4, f.cmd.data_produced);
	}
	CHECK_MEM_EQ("\x00\x80\x83\x86\xb0\xb1\xb2", pages, 7);
	fixture_fini(&f);
}

static void test_unit_serial_page(void)
{
	fixture_init(&f, BLOCKS, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, inquiry(true, 0x80, 255, sizeof(buf)));
	CHECK_EQ(10, get_be16(buf + 2));
	CHECK_MEM_EQ("RAMVOL0001", buf + 4, 10);
	fixture_fini(&f);
}

static void test_device_identification_naa_and_t10(void)
{
	fixture_init(&f, BLOCKS, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, inquiry(true, 0x83, 255, sizeof(buf)));
	const uint8_t *d = buf + 4;
	CHECK_EQ(0x01, d[0] & 0x0f);  /* binary */
	CHECK_EQ(0x03, d[1] & 0x0f);  /* NAA */
	CHECK_EQ(0x00, d[1] & 0x30);  /* associated with the logical unit */
	CHECK_EQ(16, d[3]);
	CHECK_EQ(6, d[4] >> 4);       /* IEEE Registered Extended */
	CHECK_MEM_EQ(f.lun.naa_id, d + 4, 16);
	d += 20;
	CHECK_EQ(0x02, d[0] & 0x0f);  /* ASCII */
	CHECK_EQ(0x01, d[1] & 0x0f);  /* T10 vendor id */
	CHECK_EQ(18, d[3]);
	CHECK_MEM_EQ("QEDBOX  RAMVOL0001", d + 4, 18);
	CHECK_EQ(20 + 22, get_be16(buf + 2));
	fixture_fini(&f);
}

static void test_naa_stable_and_unique(void)
{
	struct ram_volume a, b;
	struct scsi_lun la, la2, lb, lc;
	ram_volume_init(&a, 8, BS, true);
	ram_volume_init(&b, 8, BS, true);
	strcpy(b.vol.serial, "RAMVOL0002");
	scsi_lun_init(&la, &a.vol, "iqn.x:t");
	scsi_lun_init(&la2, &a.vol, "iqn.x:t");
	scsi_lun_init(&lb, &b.vol, "iqn.x:t");
	scsi_lun_init(&lc, &a.vol, "iqn.x:u");
	CHECK_MEM_EQ(la.naa_id, la2.naa_id, 16);
	CHECK(memcmp(la.naa_id, lb.naa_id, 16) != 0);
	CHECK(memcmp(la.naa_id, lc.naa_id, 16) != 0);
	/* a pinned value: the designator must not change between releases either */
	static const uint8_t expected[16] = {
		0x60, 0xae, 0x0d, 0xb1, 0x31, 0xb7, 0x91, 0x0d,
		0x86, 0xa0, 0x14, 0xbb, 0x8c, 0xed, 0x26, 0x30,
	};
	CHECK_MEM_EQ(expected, la.naa_id, 16);
	ram_volume_fini(&a);
	ram_volume_fini(&b);
}

static void test_empty_serial_gets_one_from_identity(void)
{
	struct ram_volume a;
	struct scsi_lun l;
	ram_volume_init(&a, 8, BS, true);
	a.vol.serial[0] = 0;
	scsi_lun_init(&l, &a.vol, "iqn.x:t");
	CHECK_EQ(12, strlen(l.unit_serial));
	ram_volume_fini(&a);
}

static void test_block_limits(void)
{
	fixture_init(&f, BLOCKS, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, inquiry(true, 0xb0, 255, sizeof(buf)));
	CHECK_EQ(0x3c, get_be16(buf + 2));
	CHECK_EQ(64, f.cmd.data_produced);
	CHECK_EQ(0, buf[4] & 1);                   /* WSNZ: 0 blocks = to the end */
	CHECK_EQ(1, buf[5]);                       /* COMPARE AND WRITE: one block */
	CHECK_EQ(128, get_be16(buf + 6));              /* 64 KiB granularity */
	CHECK_EQ(SCSI_MAX_TRANSFER_BYTES / BS, get_be32(buf + 8));
	CHECK_EQ(1024 * 1024, get_be32(buf + 20));     /* 512 MiB of 512-byte blocks */
	CHECK_EQ(256, get_be32(buf + 24));
	CHECK_EQ(128, get_be32(buf + 28));
	CHECK_EQ(512 * 1024, get_be32(buf + 40));      /* max write same: 256 MiB */
	fixture_fini(&f);
}

static void test_block_limits_not_thin_has_no_unmap_limits(void)
{
	fixture_init(&f, BLOCKS, BS, false);
	inquiry(true, 0xb0, 255, sizeof(buf));
	CHECK_EQ(0, get_be32(buf + 20));
	CHECK_EQ(0, get_be32(buf + 24));
	fixture_fini(&f);
}

static void test_block_device_characteristics_non_rotating(void)
{
	fixture_init(&f, BLOCKS, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, inquiry(true, 0xb1, 255, sizeof(buf)));
	CHECK_EQ(0x3c, get_be16(buf + 2));
	CHECK_EQ(1, get_be16(buf + 4));
	fixture_fini(&f);
}

static void test_provisioning_thin(void)
{
	fixture_init(&f, BLOCKS, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, inquiry(true, 0xb2, 255, sizeof(buf)));
	CHECK_EQ(4, get_be16(buf + 2));
	CHECK_EQ(0xe4, buf[5]); /* LBPU, LBPWS, LBPWS10, LBPRZ */
	CHECK_EQ(2, buf[6] & 7);
	fixture_fini(&f);
}

static void test_provisioning_thick(void)
{
	fixture_init(&f, BLOCKS, BS, false);
	CHECK_EQ(SAM_STAT_GOOD, inquiry(true, 0xb2, 255, sizeof(buf)));
	CHECK_EQ(0, buf[5]);
	CHECK_EQ(0, buf[6]);
	fixture_fini(&f);
}

static void test_extended_inquiry_page(void)
{
	fixture_init(&f, BLOCKS, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, inquiry(true, 0x86, 255, sizeof(buf)));
	CHECK_EQ(60, get_be16(buf + 2));
	CHECK_EQ(1, buf[5] & 1); /* SIMPSUP */
	fixture_fini(&f);
}

static void test_vpd_truncated_by_allocation_length(void)
{
	fixture_init(&f, BLOCKS, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, inquiry(true, 0x83, 6, sizeof(buf)));
	CHECK_EQ(6, f.cmd.data_produced);
	CHECK_EQ(0xee, buf[6]);
	fixture_fini(&f);
}

static void test_absent_lun_standard_inquiry(void)
{
	fixture_init(&f, BLOCKS, BS, true);
	uint8_t cdb[6] = { INQUIRY, 0, 0, 0, 255, 0 };
	CHECK_EQ(SAM_STAT_GOOD, run_cdb_no_lun(&f, cdb, 6, buf, sizeof(buf)));
	CHECK_EQ(0x7f, buf[0]); /* qualifier 3, type 1Fh */
	fixture_fini(&f);
}

static void test_absent_lun_vpd_is_lun_not_supported(void)
{
	fixture_init(&f, BLOCKS, BS, true);
	uint8_t cdb[6] = { INQUIRY, 1, 0x80, 0, 255, 0 };
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, run_cdb_no_lun(&f, cdb, 6, buf, sizeof(buf)));
	CHECK_EQ(ASC_LOGICAL_UNIT_NOT_SUPPORTED, sense_asc(&f.cmd));
	fixture_fini(&f);
}

int main(void)
{
	RUN(test_standard_inquiry);
	RUN(test_standard_inquiry_ascii_fields_printable);
	RUN(test_standard_inquiry_truncated_by_allocation_length);
	RUN(test_standard_inquiry_truncated_by_expected_length);
	RUN(test_allocation_length_511_and_512_agree);
	RUN(test_page_code_without_evpd_is_invalid);
	RUN(test_cmddt_is_invalid);
	RUN(test_unknown_vpd_page_is_invalid);
	RUN(test_supported_pages_sorted_and_each_served);
	RUN(test_unit_serial_page);
	RUN(test_device_identification_naa_and_t10);
	RUN(test_naa_stable_and_unique);
	RUN(test_empty_serial_gets_one_from_identity);
	RUN(test_block_limits);
	RUN(test_block_limits_not_thin_has_no_unmap_limits);
	RUN(test_block_device_characteristics_non_rotating);
	RUN(test_provisioning_thin);
	RUN(test_provisioning_thick);
	RUN(test_extended_inquiry_page);
	RUN(test_vpd_truncated_by_allocation_length);
	RUN(test_absent_lun_standard_inquiry);
	RUN(test_absent_lun_vpd_is_lun_not_supported);
	return check_report("test_scsi_inquiry");
}
