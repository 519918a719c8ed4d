/* Host tests of the unit commands (net/scsi_unit.c): TEST UNIT READY, REQUEST SENSE,
 * START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL, REPORT LUNS, READ CAPACITY (10)/(16),
 * SYNCHRONIZE CACHE (10)/(16). */
#include <errno.h>

#include "check.h"
#include "scsi_test_support.h"

#define BS 512

static struct scsi_fixture f;
static uint8_t buf[512];

static uint8_t run6(uint8_t op, uint8_t b1, uint8_t b4, uint32_t data_len)
{
	uint8_t cdb[6] = { op, b1, 0, 0, b4, 0 };
	memset(buf, 0xee, sizeof(buf));
	return run_cdb(&f, cdb, 6, buf, data_len);
}

static void test_test_unit_ready_good(void)
{
	fixture_init(&f, 64, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, run6(TEST_UNIT_READY, 0, 0, 0));
	CHECK_EQ(0, f.cmd.sense_len);
	fixture_fini(&f);
}

static void test_request_sense_no_sense(void)
{
	fixture_init(&f, 64, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, run6(REQUEST_SENSE, 0, 252, sizeof(buf)));
	CHECK_EQ(18, f.cmd.data_produced);
	CHECK_EQ(0x70, buf[0]);
	CHECK_EQ(NO_SENSE, buf[2]);
	CHECK_EQ(10, buf[7]);
	CHECK_EQ(0, buf[12]);
	CHECK_EQ(0, f.cmd.sense_len);
	fixture_fini(&f);
}

static void test_request_sense_returns_and_clears_unit_attention(void)
{
	fixture_init(&f, 64, BS, true);
	f.nexus.unit_attention_reset = true;
	CHECK_EQ(SAM_STAT_GOOD, run6(REQUEST_SENSE, 0, 18, sizeof(buf)));
	CHECK_EQ(UNIT_ATTENTION, buf[2]);
	CHECK_EQ(0x29, buf[12]);
	CHECK_EQ(0x00, buf[13]);
	CHECK(!f.nexus.unit_attention_reset);
	run6(REQUEST_SENSE, 0, 18, sizeof(buf));
	CHECK_EQ(NO_SENSE, buf[2]);
	fixture_fini(&f);
}

static void test_request_sense_truncated(void)
{
	fixture_init(&f, 64, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, run6(REQUEST_SENSE, 0, 8, sizeof(buf)));
	CHECK_EQ(8, f.cmd.data_produced);
	CHECK_EQ(0xee, buf[8]);
	fixture_fini(&f);
}

static void test_request_sense_descriptor_format_rejected(void)
{
	fixture_init(&f, 64, BS, true);
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, run6(REQUEST_SENSE, 1, 18, sizeof(buf)));
	CHECK_EQ(ASC_INVALID_FIELD_IN_CDB, sense_asc(&f.cmd));
	fixture_fini(&f);
}

static void test_request_sense_absent_lun(void)
{
	fixture_init(&f, 64, BS, true);
	uint8_t cdb[6] = { REQUEST_SENSE, 0, 0, 0, 18, 0 };
	CHECK_EQ(SAM_STAT_GOOD, run_cdb_no_lun(&f, cdb, 6, buf, sizeof(buf)));
	CHECK_EQ(ILLEGAL_REQUEST, buf[2]);
	CHECK_EQ(0x25, buf[12]);
	fixture_fini(&f);
}

static void test_start_stop_unit_good(void)
{
	fixture_init(&f, 64, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, run6(START_STOP_UNIT, 1, 0x01, 0));
	CHECK_EQ(SAM_STAT_GOOD, run6(START_STOP_UNIT, 0, 0x02, 0)); /* eject: no-op */
	CHECK_EQ(SAM_STAT_GOOD, run6(TEST_UNIT_READY, 0, 0, 0));
	fixture_fini(&f);
}

static void test_prevent_allow_good(void)
{
	fixture_init(&f, 64, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, run6(PREVENT_ALLOW_MEDIUM_REMOVAL, 0, 1, 0));
	CHECK_EQ(SAM_STAT_GOOD, run6(PREVENT_ALLOW_MEDIUM_REMOVAL, 0, 0, 0));
	fixture_fini(&f);
}

static uint8_t report_luns(uint8_t select, uint32_t alloc_len, uint32_t data_len, bool lun)
{
	uint8_t cdb[12] = { REPORT_LUNS, 0, select, 0, 0, 0, (uint8_t)(alloc_len >> 24),
			    (uint8_t)(alloc_len >> 16), (uint8_t)(alloc_len >> 8),
			    (uint8_t)alloc_len, 0, 0 };
	memset(buf, 0xee, sizeof(buf));
	return lun ? run_cdb(&f, cdb, 12, buf, data_len)
		   : run_cdb_no_lun(&f, cdb, 12, buf, data_len);
}

static void test_report_luns_lists_lun0(void)
{
	fixture_init(&f, 64, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, report_luns(0, 512, sizeof(buf), true));
	CHECK_EQ(16, f.cmd.data_produced);
	CHECK_EQ(8, get_be32(buf));
	CHECK_EQ(0, get_be64(buf + 8));
	fixture_fini(&f);
}

static void test_report_luns_truncated(void)
{
	fixture_init(&f, 64, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, report_luns(0, 4, sizeof(buf), true));
	CHECK_EQ(4, f.cmd.data_produced);
	CHECK_EQ(8, get_be32(buf));
	CHECK_EQ(0xee, buf[4]);
	fixture_fini(&f);
}

static void test_report_luns_bad_select_report(void)
{
	fixture_init(&f, 64, BS, true);
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, report_luns(0x10, 512, sizeof(buf), true));
	CHECK_EQ(ASC_INVALID_FIELD_IN_CDB, sense_asc(&f.cmd));
	CHECK_EQ(SAM_STAT_GOOD, report_luns(2, 512, sizeof(buf), true));
	fixture_fini(&f);
}

static void test_report_luns_on_absent_lun(void)
{
	fixture_init(&f, 64, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, report_luns(0, 512, sizeof(buf), false));
	CHECK_EQ(16, f.cmd.data_produced);
	fixture_fini(&f);
}

static uint8_t read_capacity_10(uint32_t lba, uint8_t pmi)
{
	uint8_t cdb[10] = { READ_CAPACITY_10, 0, (uint8_t)(lba >> 24), (uint8_t)(lba >> 16),
			    (uint8_t)(lba >> 8), (uint8_t)lba, 0, 0, pmi, 0 };
	memset(buf, 0xee, sizeof(buf));
	return run_cdb(&f, cdb, 10, buf, sizeof(buf));
}

static void test_read_capacity_10(void)
{
	fixture_init(&f, 1000, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, read_capacity_10(0, 0));
	CHECK_EQ(8, f.cmd.data_produced);
	CHECK_EQ(999, get_be32(buf));
	CHECK_EQ(BS, get_be32(buf + 4));
	fixture_fini(&f);
}

static void test_read_capacity_10_lba_without_pmi_invalid(void)
{
	fixture_init(&f, 1000, BS, true);
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, read_capacity_10(5, 0));
	CHECK_EQ(ASC_INVALID_FIELD_IN_CDB, sense_asc(&f.cmd));
	fixture_fini(&f);
}

/* A volume too big for 32-bit LBAs; never read, so it needs no memory. */
static void test_read_capacity_10_too_big(void)
{
	fixture_init(&f, 1, BS, true);
	f.rv.vol.size = (1ull << 32) * BS + BS;
	CHECK_EQ(SAM_STAT_GOOD, read_capacity_10(0, 0));
	CHECK_EQ(0xffffffff, get_be32(buf));
	fixture_fini(&f);
}

static void test_read_capacity_10_exactly_32_bits(void)
{
	fixture_init(&f, 1, BS, true);
	f.rv.vol.size = 0xffffffffull * BS; /* last LBA 0xfffffffe still fits */
	read_capacity_10(0, 0);
	CHECK_EQ(0xfffffffe, get_be32(buf));
	fixture_fini(&f);
}

static uint8_t read_capacity_16(uint8_t sa, uint32_t alloc_len)
{
	uint8_t cdb[16] = { SERVICE_ACTION_IN_16, sa };
	cdb[10] = (uint8_t)(alloc_len >> 24);
	cdb[11] = (uint8_t)(alloc_len >> 16);
	cdb[12] = (uint8_t)(alloc_len >> 8);
	cdb[13] = (uint8_t)alloc_len;
	memset(buf, 0xee, sizeof(buf));
	return run_cdb(&f, cdb, 16, buf, sizeof(buf));
}

static void test_read_capacity_16_thin(void)
{
	fixture_init(&f, 1, BS, true);
	f.rv.vol.size = (1ull << 33) * BS;
	CHECK_EQ(SAM_STAT_GOOD, read_capacity_16(0x10, 32));
	CHECK_EQ(32, f.cmd.data_produced);
	CHECK_EQ((1ull << 33) - 1, get_be64(buf));
	CHECK_EQ(BS, get_be32(buf + 8));
	CHECK_EQ(0, buf[12]);                /* no protection */
	CHECK_EQ(0xc0, buf[14]);             /* LBPME, LBPRZ */
	fixture_fini(&f);
}

static void test_read_capacity_16_thick(void)
{
	fixture_init(&f, 100, 4096, false);
	CHECK_EQ(SAM_STAT_GOOD, read_capacity_16(0x10, 32));
	CHECK_EQ(99, get_be64(buf));
	CHECK_EQ(4096, get_be32(buf + 8));
	CHECK_EQ(0, buf[14]);
	fixture_fini(&f);
}

static void test_read_capacity_16_allocation_lengths(void)
{
	fixture_init(&f, 100, BS, true);
	for (uint32_t len = 0; len < 40; len++) {
		CHECK_EQ(SAM_STAT_GOOD, read_capacity_16(0x10, len));
		CHECK_EQ(len < 32 ? len : 32, f.cmd.data_produced);
	}
	fixture_fini(&f);
}

static void test_service_action_in_unknown_action(void)
{
	fixture_init(&f, 100, BS, true);
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, read_capacity_16(0x13, 32));
	CHECK_EQ(ASC_INVALID_FIELD_IN_CDB, sense_asc(&f.cmd));
	CHECK_EQ(1, sense_field_pointer(&f.cmd));
	fixture_fini(&f);
}

static void test_synchronize_cache_10_flushes(void)
{
	fixture_init(&f, 100, BS, true);
	f.rv.dirty_bytes = 4096;
	uint8_t cdb[10];
	cdb10(cdb, SYNCHRONIZE_CACHE_10, 0, 0, 0);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 10, NULL, 0));
	CHECK_EQ(1, f.rv.flushes);
	CHECK_EQ(0, f.rv.dirty_bytes);
	fixture_fini(&f);
}

static void test_synchronize_cache_16_beyond_end(void)
{
	fixture_init(&f, 100, BS, true);
	uint8_t cdb[16];
	cdb16(cdb, SYNCHRONIZE_CACHE_16, 0, 99, 2);
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, run_cdb(&f, cdb, 16, NULL, 0));
	CHECK_EQ(ASC_LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE, sense_asc(&f.cmd));
	CHECK_EQ(0, f.rv.flushes);
	fixture_fini(&f);
}

static void test_synchronize_cache_flush_error(void)
{
	fixture_init(&f, 100, BS, true);
	f.rv.flush_error = -EIO;
	uint8_t cdb[16];
	cdb16(cdb, SYNCHRONIZE_CACHE_16, 0, 0, 0);
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, run_cdb(&f, cdb, 16, NULL, 0));
	CHECK_EQ(MEDIUM_ERROR, sense_key(&f.cmd));
	CHECK_EQ(ASC_WRITE_ERROR, sense_asc(&f.cmd));
	fixture_fini(&f);
}

int main(void)
{
	RUN(test_test_unit_ready_good);
	RUN(test_request_sense_no_sense);
	RUN(test_request_sense_returns_and_clears_unit_attention);
	RUN(test_request_sense_truncated);
	RUN(test_request_sense_descriptor_format_rejected);
	RUN(test_request_sense_absent_lun);
	RUN(test_start_stop_unit_good);
	RUN(test_prevent_allow_good);
	RUN(test_report_luns_lists_lun0);
	RUN(test_report_luns_truncated);
	RUN(test_report_luns_bad_select_report);
	RUN(test_report_luns_on_absent_lun);
	RUN(test_read_capacity_10);
	RUN(test_read_capacity_10_lba_without_pmi_invalid);
	RUN(test_read_capacity_10_too_big);
	RUN(test_read_capacity_10_exactly_32_bits);
	RUN(test_read_capacity_16_thin);
	RUN(test_read_capacity_16_thick);
	RUN(test_read_capacity_16_allocation_lengths);
	RUN(test_service_action_in_unknown_action);
	RUN(test_synchronize_cache_10_flushes);
	RUN(test_synchronize_cache_16_beyond_end);
	RUN(test_synchronize_cache_flush_error);
	return check_report("test_scsi_unit");
}
