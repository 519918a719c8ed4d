/* Host tests of MODE SENSE and MODE SELECT (net/scsi_mode.c). */
#include "check.h"
#include "scsi_test_support.h"

#define BS 512

static struct scsi_fixture f;
static uint8_t buf[512];

static uint8_t sense6(uint8_t b1, uint8_t pc_page, uint8_t subpage, uint8_t alloc_len)
{
	uint8_t cdb[6] = { MODE_SENSE_6, b1, pc_page, subpage, alloc_len, 0 };
	memset(buf, 0xee, sizeof(buf));
	return run_cdb(&f, cdb, 6, buf, sizeof(buf));
}

static uint8_t sense10(uint8_t b1, uint8_t pc_page, uint16_t alloc_len)
{
	uint8_t cdb[10] = { MODE_SENSE_10, b1, pc_page, 0, 0, 0, 0,
			    (uint8_t)(alloc_len >> 8), (uint8_t)alloc_len, 0 };
	memset(buf, 0xee, sizeof(buf));
	return run_cdb(&f, cdb, 10, buf, sizeof(buf));
}

static void test_sense6_caching_page_with_block_descriptor(void)
{
	fixture_init(&f, 1000, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, sense6(0, 0x08, 0, 255));
	CHECK_EQ(4 + 8 + 20, f.cmd.data_produced);
	CHECK_EQ(4 + 8 + 20 - 1, buf[0]);
	CHECK_EQ(0x10, buf[2]);                  /* DPOFUA, not WP */
	CHECK_EQ(8, buf[3]);
	CHECK_EQ(1000, get_be32(buf + 4));
	CHECK_EQ(BS, get_be32(buf + 8) & 0xffffff);
	CHECK_EQ(0x08, buf[12]);
	CHECK_EQ(0x12, buf[13]);
	CHECK_EQ(0x04, buf[14] & 0x04);          /* WCE */
	fixture_fini(&f);
}

static void test_sense6_wce_clear_without_write_cache(void)
{
	fixture_init(&f, 1000, BS, true);
	f.rv.vol.write_cache = false;
	sense6(MODE_DBD, 0x08, 0, 255);
	CHECK_EQ(0, buf[3]);
	CHECK_EQ(0x08, buf[4]);
	CHECK_EQ(0, buf[6] & 0x04);
	fixture_fini(&f);
}

static void test_sense6_write_protect_bit(void)
{
	fixture_init(&f, 1000, BS, true);
	f.rv.vol.read_only = true;
	sense6(MODE_DBD, 0x3f, 0, 255);
	CHECK_EQ(0x80, buf[2] & 0x80);
	fixture_fini(&f);
}

static void test_sense6_control_page(void)
{
	fixture_init(&f, 1000, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, sense6(MODE_DBD, 0x0a, 0, 255));
	CHECK_EQ(4 + 12, f.cmd.data_produced);
	CHECK_EQ(0x0a, buf[4]);
	CHECK_EQ(0x0a, buf[5]);
	CHECK_EQ(0, buf[6] & 0xe0);              /* TST 0 */
	CHECK_EQ(1, buf[7] >> 4);                /* QAM unrestricted */
	CHECK_EQ(0xffff, get_be16(buf + 12));        /* busy timeout */
	fixture_fini(&f);
}

static void test_sense6_all_pages_contains_both_in_order(void)
{
	fixture_init(&f, 1000, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, sense6(MODE_DBD, 0x3f, 0, 255));
	CHECK_EQ(4 + 20 + 12, f.cmd.data_produced);
	CHECK_EQ(0x08, buf[4]);
	CHECK_EQ(0x0a, buf[24]);
	fixture_fini(&f);
}

static void test_sense6_all_subpages(void)
{
	fixture_init(&f, 1000, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, sense6(MODE_DBD, 0x3f, 0xff, 255));
	CHECK_EQ(4 + 20 + 12, f.cmd.data_produced);
	fixture_fini(&f);
}

static void test_sense6_unknown_subpage(void)
{
	fixture_init(&f, 1000, BS, true);
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, sense6(0, 0x08, 0x01, 255));
	CHECK_EQ(ASC_INVALID_FIELD_IN_CDB, sense_asc(&f.cmd));
	CHECK_EQ(3, sense_field_pointer(&f.cmd));
	fixture_fini(&f);
}

static void test_sense6_unknown_page(void)
{
	fixture_init(&f, 1000, BS, true);
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, sense6(0, 0x19, 0, 255));
	CHECK_EQ(ASC_INVALID_FIELD_IN_CDB, sense_asc(&f.cmd));
	CHECK_EQ(2, sense_field_pointer(&f.cmd));
	fixture_fini(&f);
}

static void test_sense6_changeable_values_are_zero(void)
{
	fixture_init(&f, 1000, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, sense6(MODE_DBD, 0x40 | 0x08, 0, 255));
	CHECK_EQ(0x08, buf[4]);
	for (int i = 6; i < 24; i++)
		CHECK_EQ(0, buf[i]);
	fixture_fini(&f);
}

static void test_sense6_default_equals_current(void)
{
	fixture_init(&f, 1000, BS, true);
	uint8_t current[64];
	sense6(0, 0x3f, 0, 255);
	uint32_t n = f.cmd.data_produced;
	memcpy(current, buf, n);
	CHECK_EQ(SAM_STAT_GOOD, sense6(0, 0x80 | 0x3f, 0, 255));
	CHECK_EQ(n, f.cmd.data_produced);
	CHECK_MEM_EQ(current, buf, n);
	fixture_fini(&f);
}

static void test_sense6_saved_not_supported(void)
{
	fixture_init(&f, 1000, BS, true);
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, sense6(0, 0xc0 | 0x08, 0, 255));
	CHECK_EQ(ILLEGAL_REQUEST, sense_key(&f.cmd));
	CHECK_EQ(ASC_SAVING_PARAMETERS_NOT_SUPPORTED, sense_asc(&f.cmd));
	fixture_fini(&f);
}

static void test_sense6_allocation_length_truncates(void)
{
	fixture_init(&f, 1000, BS, true);
	for (uint8_t len = 0; len < 40; len++) {
		CHECK_EQ(SAM_STAT_GOOD, sense6(0, 0x3f, 0, len));
		uint32_t want = len < 4 + 8 + 32 ? len : 4 + 8 + 32;
		CHECK_EQ(want, f.cmd.data_produced);
		CHECK_EQ(0xee, buf[want]);
		if (len)
			CHECK_EQ(4 + 8 + 32 - 1, buf[0]); /* the full length, not truncated */
	}
	fixture_fini(&f);
}

static void test_sense6_big_volume_block_count_saturates(void)
{
	fixture_init(&f, 1, BS, true);
	f.rv.vol.size = (1ull << 33) * BS;
	sense6(0, 0x08, 0, 255);
	CHECK_EQ(0xffffffff, get_be32(buf + 4));
	fixture_fini(&f);
}

static void test_sense10_caching_page(void)
{
	fixture_init(&f, 1000, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, sense10(0, 0x08, 512));
	CHECK_EQ(8 + 8 + 20, f.cmd.data_produced);
	CHECK_EQ(8 + 8 + 20 - 2, get_be16(buf));
	CHECK_EQ(0x10, buf[3]);
	CHECK_EQ(0, buf[4]);
	CHECK_EQ(8, get_be16(buf + 6));
	CHECK_EQ(0x08, buf[16]);
	fixture_fini(&f);
}

static void test_sense10_long_lba_descriptor(void)
{
	fixture_init(&f, 1, BS, true);
	f.rv.vol.size = (1ull << 33) * BS;
	CHECK_EQ(SAM_STAT_GOOD, sense10(MODE_LLBAA, 0x0a, 512));
	CHECK_EQ(8 + 16 + 12, f.cmd.data_produced);
	CHECK_EQ(1, buf[4] & 1);                      /* LONGLBA */
	CHECK_EQ(16, get_be16(buf + 6));
	CHECK_EQ(2, get_be32(buf + 8));                   /* 2^33 blocks, high word */
	CHECK_EQ(0, get_be32(buf + 12));
	CHECK_EQ(BS, get_be32(buf + 20));
	CHECK_EQ(0x0a, buf[24]);
	fixture_fini(&f);
}

static void test_sense10_dbd(void)
{
	fixture_init(&f, 1000, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, sense10(MODE_DBD, 0x0a, 512));
	CHECK_EQ(0, get_be16(buf + 6));
	CHECK_EQ(0x0a, buf[8]);
	fixture_fini(&f);
}

static uint8_t select6(uint8_t b1, const uint8_t *list, uint8_t len, uint32_t data_len)
{
	uint8_t cdb[6] = { MODE_SELECT_6, b1, 0, 0, len, 0 };
	if (len)
		memcpy(buf, list, len);
	return run_cdb(&f, cdb, 6, buf, data_len);
}

static void test_select6_zero_length_is_good(void)
{
	fixture_init(&f, 1000, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, select6(0x10, NULL, 0, 0));
	fixture_fini(&f);
}

static void test_select6_restating_current_page_is_good(void)
{
	fixture_init(&f, 1000, BS, true);
	uint8_t list[64];
	sense6(0, 0x08, 0, 255); /* header + block descriptor + caching page, as sent */
	memcpy(list, buf, 32);
	list[0] = 0;             /* MODE DATA LENGTH is reserved in MODE SELECT */
	CHECK_EQ(SAM_STAT_GOOD, select6(0x10, list, 32, 32));
	fixture_fini(&f);
}

static void test_select6_changing_wce_is_rejected(void)
{
	fixture_init(&f, 1000, BS, true);
	uint8_t list[64];
	sense6(MODE_DBD, 0x08, 0, 255);
	memcpy(list, buf, 24);
	list[0] = 0;
	list[6] &= (uint8_t)~0x04; /* WCE off */
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, select6(0x10, list, 24, 24));
	CHECK_EQ(ASC_INVALID_FIELD_IN_PARAMETER_LIST, sense_asc(&f.cmd));
	CHECK_EQ(6, sense_field_pointer(&f.cmd));
	CHECK_EQ(0, f.cmd.sense[15] & 0x40); /* in the data, not the CDB */
	fixture_fini(&f);
}

static void test_select6_unknown_page_rejected(void)
{
	fixture_init(&f, 1000, BS, true);
	uint8_t list[] = { 0, 0, 0, 0, 0x19, 2, 0, 0 };
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, select6(0x10, list, sizeof(list), sizeof(list)));
	CHECK_EQ(ASC_INVALID_FIELD_IN_PARAMETER_LIST, sense_asc(&f.cmd));
	fixture_fini(&f);
}

static void test_select6_truncated_page(void)
{
	fixture_init(&f, 1000, BS, true);
	uint8_t list[] = { 0, 0, 0, 0, 0x08, 0x12, 0, 0 };
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, select6(0x10, list, sizeof(list), sizeof(list)));
	CHECK_EQ(ASC_PARAMETER_LIST_LENGTH_ERROR, sense_asc(&f.cmd));
	fixture_fini(&f);
}

static void test_select6_short_header(void)
{
	fixture_init(&f, 1000, BS, true);
	uint8_t list[] = { 0, 0, 0 };
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, select6(0x10, list, 3, 3));
	CHECK_EQ(ASC_PARAMETER_LIST_LENGTH_ERROR, sense_asc(&f.cmd));
	fixture_fini(&f);
}

static void test_select6_block_descriptor_overruns(void)
{
	fixture_init(&f, 1000, BS, true);
	uint8_t list[] = { 0, 0, 0, 8, 0, 0 };
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, select6(0x10, list, sizeof(list), sizeof(list)));
	CHECK_EQ(ASC_PARAMETER_LIST_LENGTH_ERROR, sense_asc(&f.cmd));
	fixture_fini(&f);
}

static void test_select6_save_pages_rejected(void)
{
	fixture_init(&f, 1000, BS, true);
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, select6(0x11, NULL, 0, 0));
	CHECK_EQ(ASC_INVALID_FIELD_IN_CDB, sense_asc(&f.cmd));
	fixture_fini(&f);
}

static void test_select6_data_shorter_than_list(void)
{
	fixture_init(&f, 1000, BS, true);
	uint8_t list[8] = { 0 };
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, select6(0x10, list, 8, 4));
	CHECK_EQ(ASC_INVALID_FIELD_IN_COMMAND_INFORMATION_UNIT, sense_asc(&f.cmd));
	fixture_fini(&f);
}

static void test_select10_header_only(void)
{
	fixture_init(&f, 1000, BS, true);
	uint8_t cdb[10] = { MODE_SELECT_10, 0x10, 0, 0, 0, 0, 0, 0, 8, 0 };
	memset(buf, 0, 8);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 10, buf, 8));
	cdb[8] = 7;
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, run_cdb(&f, cdb, 10, buf, 8));
	CHECK_EQ(ASC_PARAMETER_LIST_LENGTH_ERROR, sense_asc(&f.cmd));
	fixture_fini(&f);
}

int main(void)
{
	RUN(test_sense6_caching_page_with_block_descriptor);
	RUN(test_sense6_wce_clear_without_write_cache);
	RUN(test_sense6_write_protect_bit);
	RUN(test_sense6_control_page);
	RUN(test_sense6_all_pages_contains_both_in_order);
	RUN(test_sense6_all_subpages);
	RUN(test_sense6_unknown_subpage);
	RUN(test_sense6_unknown_page);
	RUN(test_sense6_changeable_values_are_zero);
	RUN(test_sense6_default_equals_current);
	RUN(test_sense6_saved_not_supported);
	RUN(test_sense6_allocation_length_truncates);
	RUN(test_sense6_big_volume_block_count_saturates);
	RUN(test_sense10_caching_page);
	RUN(test_sense10_long_lba_descriptor);
	RUN(test_sense10_dbd);
	RUN(test_select6_zero_length_is_good);
	RUN(test_select6_restating_current_page_is_good);
	RUN(test_select6_changing_wce_is_rejected);
	RUN(test_select6_unknown_page_rejected);
	RUN(test_select6_truncated_page);
	RUN(test_select6_short_header);
	RUN(test_select6_block_descriptor_overruns);
	RUN(test_select6_save_pages_rejected);
	RUN(test_select6_data_shorter_than_list);
	RUN(test_select10_header_only);
	return check_report("test_scsi_mode");
}
