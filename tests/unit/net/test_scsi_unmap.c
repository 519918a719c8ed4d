/* Host tests of UNMAP and WRITE SAME (net/scsi_unmap.c). */
#include <errno.h>

#include "check.h"
#include "scsi_test_support.h"

#define BLOCKS 1024
#define BS 512

static struct scsi_fixture f;
static uint8_t list[8 + 16 * 300], cdb[16];

static void setup(bool thin)
{
	fixture_init(&f, BLOCKS, BS, thin);
	memset(f.rv.data, 0xab, BLOCKS * BS);
}

static bool blocks_are(uint64_t lba, uint64_t count, uint8_t value)
{
	for (uint64_t i = lba * BS; i < (lba + count) * BS; i++)
		if (f.rv.data[i] != value)
			return false;
	return true;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

/* Builds a parameter list of n descriptors; returns its length. */
static uint16_t build_list(unsigned n, const uint64_t *lba, const uint32_t *count)
{
	memset(list, 0, sizeof(list));
	uint16_t len = (uint16_t)(8 + 16 * n);
	list[0] = (uint8_t)((len - 2) >> 8);
	list[1] = (uint8_t)(len - 2);
	list[2] = (uint8_t)((16 * n) >> 8);
	list[3] = (uint8_t)(16 * n);
	for (unsigned i = 0; i < n; i++) {
		uint8_t *d = list + 8 + 16 * i;
		put32(d, (uint32_t)(lba[i] >> 32));
		put32(d + 4, (uint32_t)lba[i]);
		put32(d + 8, count[i]);
	}
	return len;
}

static uint8_t unmap(uint8_t b1, uint16_t param_len, uint32_t data_len)
{
	uint8_t c[10] = { UNMAP, b1, 0, 0, 0, 0, 0, (uint8_t)(param_len >> 8),
			  (uint8_t)param_len, 0 };
	return run_cdb(&f, c, 10, list, data_len);
}

static void check_sense(uint8_t key, uint16_t asc)
{
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, f.cmd.status);
	CHECK_EQ(key, sense_key(&f.cmd));
	CHECK_EQ(asc, sense_asc(&f.cmd));
}

static void test_unmap_one_range(void)
{
	setup(true);
	uint64_t lba[] = { 10 };
	uint32_t count[] = { 5 };
	uint16_t len = build_list(1, lba, count);
	CHECK_EQ(SAM_STAT_GOOD, unmap(0, len, len));
	CHECK(blocks_are(10, 5, 0));
	CHECK(blocks_are(9, 1, 0xab));
	CHECK(blocks_are(15, 1, 0xab));
	CHECK_EQ(len, f.cmd.transfer_len);
	fixture_fini(&f);
}

static void test_unmap_several_ranges(void)
{
	setup(true);
	uint64_t lba[] = { 0, 100, BLOCKS - 1 };
	uint32_t count[] = { 1, 3, 1 };
	uint16_t len = build_list(3, lba, count);
	CHECK_EQ(SAM_STAT_GOOD, unmap(0, len, len));
	CHECK_EQ(3, f.rv.unmaps);
	CHECK_EQ(5 * BS, f.rv.unmapped_bytes);
	fixture_fini(&f);
}

static void test_unmap_zero_length_descriptors(void)
{
	setup(true);
	uint64_t lba[] = { 0, BLOCKS };
	uint32_t count[] = { 0, 0 };
	uint16_t len = build_list(2, lba, count);
	CHECK_EQ(SAM_STAT_GOOD, unmap(0, len, len));
	CHECK_EQ(0, f.rv.unmaps);
	fixture_fini(&f);
}

static void test_unmap_parameter_list_length_zero(void)
{
	setup(true);
	CHECK_EQ(SAM_STAT_GOOD, unmap(0, 0, 0));
	fixture_fini(&f);
}

static void test_unmap_header_only(void)
{
	setup(true);
	uint16_t len = build_list(0, NULL, NULL);
	CHECK_EQ(SAM_STAT_GOOD, unmap(0, len, len));
	fixture_fini(&f);
}

static void test_unmap_parameter_list_shorter_than_header(void)
{
	setup(true);
	build_list(0, NULL, NULL);
	unmap(0, 7, 7);
	check_sense(ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
	fixture_fini(&f);
}

static void test_unmap_descriptors_past_parameter_list(void)
{
	setup(true);
	uint64_t lba[] = { 0, 10 };
	uint32_t count[] = { 1, 1 };
	build_list(2, lba, count);
	unmap(0, 8 + 16, 8 + 16); /* the header claims two descriptors */
	check_sense(ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
	CHECK_EQ(0, f.rv.unmaps);
	fixture_fini(&f);
}

static void test_unmap_partial_descriptor_ignored(void)
{
	setup(true);
	uint64_t lba[] = { 3 };
	uint32_t count[] = { 1 };
	build_list(1, lba, count);
	list[3] = 16 + 8; /* one and a half descriptors */
	CHECK_EQ(SAM_STAT_GOOD, unmap(0, 8 + 16 + 8, 8 + 16 + 8));
	CHECK_EQ(1, f.rv.unmaps);
	fixture_fini(&f);
}

static void test_unmap_data_shorter_than_parameter_list(void)
{
	setup(true);
	uint64_t lba[] = { 3 };
	uint32_t count[] = { 1 };
	uint16_t len = build_list(1, lba, count);
	unmap(0, len, len - 1);
	check_sense(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_COMMAND_INFORMATION_UNIT);
	CHECK_EQ(0, f.rv.unmaps);
	fixture_fini(&f);
}

static void test_unmap_too_many_descriptors(void)
{
	setup(true);
	uint64_t lba[257] = { 0 };
	uint32_t count[257] = { 0 };
	uint16_t len = build_list(257, lba, count);
	unmap(0, len, len);
	check_sense(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAMETER_LIST);
	len = build_list(256, lba, count);
	CHECK_EQ(SAM_STAT_GOOD, unmap(0, len, len));
	fixture_fini(&f);
}

static void test_unmap_range_past_end_changes_nothing(void)
{
	setup(true);
	uint64_t lba[] = { 0, BLOCKS - 1 };
	uint32_t count[] = { 4, 2 };
	uint16_t len = build_list(2, lba, count);
	unmap(0, len, len);
	check_sense(ILLEGAL_REQUEST, ASC_LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE);
	CHECK_EQ(0, f.rv.unmaps); /* the good first range was not unmapped either */
	CHECK(blocks_are(0, 4, 0xab));
	fixture_fini(&f);
}

static void test_unmap_lba_wraps(void)
{
	setup(true);
	uint64_t lba[] = { UINT64_MAX };
	uint32_t count[] = { 2 };
	uint16_t len = build_list(1, lba, count);
	unmap(0, len, len);
	check_sense(ILLEGAL_REQUEST, ASC_LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE);
	fixture_fini(&f);
}

static void test_unmap_too_many_blocks(void)
{
	fixture_init(&f, 1, BS, true);
	f.rv.vol.size = 1ull << 40; /* big enough; nothing is ever unmapped */
	uint64_t lba[] = { 0 };
	uint32_t count[] = { 1024 * 1024 + 1 };
	uint16_t len = build_list(1, lba, count);
	unmap(0, len, len);
	check_sense(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAMETER_LIST);
	CHECK_EQ(16, sense_field_pointer(&f.cmd));
	CHECK_EQ(0, f.rv.unmaps);
	fixture_fini(&f);
}

static void test_unmap_anchor_rejected(void)
{
	setup(true);
	uint64_t lba[] = { 0 };
	uint32_t count[] = { 1 };
	uint16_t len = build_list(1, lba, count);
	unmap(UNMAP_ANCHOR, len, len);
	check_sense(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	fixture_fini(&f);
}

static void test_unmap_read_only(void)
{
	setup(true);
	f.rv.vol.read_only = true;
	uint64_t lba[] = { 0 };
	uint32_t count[] = { 1 };
	uint16_t len = build_list(1, lba, count);
	unmap(0, len, len);
	check_sense(DATA_PROTECT, ASC_WRITE_PROTECTED);
	fixture_fini(&f);
}

static void test_unmap_on_thick_volume_is_invalid_opcode(void)
{
	setup(false);
	unmap(0, 0, 0);
	check_sense(ILLEGAL_REQUEST, ASC_INVALID_COMMAND_OPERATION_CODE);
	fixture_fini(&f);
}

static void test_unmap_volume_error(void)
{
	setup(true);
	f.rv.unmap_error = -EIO;
	uint64_t lba[] = { 0 };
	uint32_t count[] = { 1 };
	uint16_t len = build_list(1, lba, count);
	unmap(0, len, len);
	check_sense(MEDIUM_ERROR, ASC_WRITE_ERROR);
	fixture_fini(&f);
}

static uint8_t write_same(bool is16, uint8_t flags, uint64_t lba, uint32_t blocks,
			  uint8_t fill, uint32_t data_len)
{
	static uint8_t block[2 * BS];
	memset(block, fill, sizeof(block));
	if (is16) {
		cdb16(cdb, WRITE_SAME_16, flags, lba, blocks);
		return run_cdb(&f, cdb, 16, block, data_len);
	}
	cdb10(cdb, WRITE_SAME_10, flags, (uint32_t)lba, (uint16_t)blocks);
	return run_cdb(&f, cdb, 10, block, data_len);
}

static void test_write_same10_writes_the_block(void)
{
	setup(true);
	CHECK_EQ(SAM_STAT_GOOD, write_same(false, 0, 20, 3, 0x42, BS));
	CHECK(blocks_are(20, 3, 0x42));
	CHECK(blocks_are(23, 1, 0xab));
	CHECK_EQ(0, f.rv.unmaps);
	CHECK_EQ(BS, f.cmd.transfer_len);
	fixture_fini(&f);
}

static void test_write_same16_many_blocks_in_chunks(void)
{
	fixture_init(&f, 3000, BS, true); /* 1.5 MiB: two 1 MiB chunks */
	CHECK_EQ(SAM_STAT_GOOD, write_same(true, 0, 0, 3000, 0x17, BS));
	CHECK(blocks_are(0, 3000, 0x17));
	CHECK_EQ(2, f.rv.writes);
	fixture_fini(&f);
}

static void test_write_same16_zeros_unmap(void)
{
	setup(true);
	CHECK_EQ(SAM_STAT_GOOD, write_same(true, 0, 50, 8, 0, BS));
	CHECK_EQ(1, f.rv.unmaps);
	CHECK_EQ(8 * BS, f.rv.unmapped_bytes);
	CHECK(blocks_are(50, 8, 0));
	fixture_fini(&f);
}

static void test_write_same16_unmap_bit_with_data_unmaps(void)
{
	setup(true);
	CHECK_EQ(SAM_STAT_GOOD, write_same(true, WRITE_SAME_UNMAP, 50, 2, 0x99, BS));
	CHECK_EQ(1, f.rv.unmaps);
	CHECK(blocks_are(50, 2, 0));
	fixture_fini(&f);
}

static void test_write_same16_unmap_to_last_block(void)
{
	setup(true);
	CHECK_EQ(SAM_STAT_GOOD, write_same(true, WRITE_SAME_UNMAP, BLOCKS - 4, 4, 0, BS));
	CHECK(blocks_are(BLOCKS - 4, 4, 0));
	fixture_fini(&f);
}

static void test_write_same16_ndob_unmaps_without_data(void)
{
	setup(true);
	CHECK_EQ(SAM_STAT_GOOD, write_same(true, WRITE_SAME_UNMAP | WRITE_SAME_NDOB, 0, 4,
					   0x55, 0));
	CHECK(blocks_are(0, 4, 0));
	CHECK_EQ(0, f.cmd.transfer_len);
	fixture_fini(&f);
}

static void test_write_same16_ndob_on_thick_writes_zeros(void)
{
	setup(false);
	CHECK_EQ(SAM_STAT_GOOD, write_same(true, WRITE_SAME_NDOB, 0, 4, 0x55, 0));
	CHECK_EQ(0, f.cmd.transfer_len);
	CHECK(blocks_are(0, 4, 0));
	CHECK_EQ(1, f.rv.writes);
	fixture_fini(&f);
}

static void test_write_same_unmap_bit_on_thick_is_invalid(void)
{
	setup(false);
	write_same(false, WRITE_SAME_UNMAP, 0, 1, 0, BS);
	check_sense(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	CHECK_EQ(1, sense_field_pointer(&f.cmd));
	CHECK_EQ(0, f.rv.writes);
	fixture_fini(&f);
}

static void test_write_same_zeros_on_thick_writes(void)
{
	setup(false);
	CHECK_EQ(SAM_STAT_GOOD, write_same(false, 0, 7, 2, 0, BS));
	CHECK(blocks_are(7, 2, 0));
	CHECK_EQ(1, f.rv.writes);
	fixture_fini(&f);
}

static void test_write_same10_ndob_bit_is_invalid(void)
{
	setup(true);
	write_same(false, WRITE_SAME_NDOB, 0, 1, 0, BS);
	check_sense(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	fixture_fini(&f);
}

static void test_write_same_zero_blocks_writes_to_the_end(void)
{
	setup(true);
	CHECK_EQ(SAM_STAT_GOOD, write_same(true, 0, BLOCKS - 3, 0, 0x42, BS));
	for (uint32_t i = 0; i < 3 * BS; i++)
		CHECK_EQ(0x42, f.rv.data[(BLOCKS - 3) * BS + i]);
	fixture_fini(&f);
}

static void test_write_same_zero_blocks_past_the_end(void)
{
	setup(true);
	write_same(true, 0, BLOCKS, 0, 0x42, BS);
	check_sense(ILLEGAL_REQUEST, ASC_LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE);
	CHECK_EQ(0, f.rv.writes);
	fixture_fini(&f);
}

static void test_write_same_zero_blocks_over_max_length(void)
{
	fixture_init(&f, 1, BS, true);
	f.rv.vol.size = 1ull << 40;
	write_same(true, 0, 0, 0, 0x42, BS);
	check_sense(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	CHECK_EQ(10, sense_field_pointer(&f.cmd));
	fixture_fini(&f);
}

static void test_write_same_over_max_length(void)
{
	fixture_init(&f, 1, BS, true);
	f.rv.vol.size = 1ull << 40;
	write_same(true, 0, 0, 512 * 1024 + 1, 0x42, BS);
	check_sense(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	fixture_fini(&f);
}

static void test_write_same_beyond_end(void)
{
	setup(true);
	write_same(true, 0, BLOCKS - 1, 2, 0x42, BS);
	check_sense(ILLEGAL_REQUEST, ASC_LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE);
	write_same(false, 0, 0xffffffff, 1, 0x42, BS);
	check_sense(ILLEGAL_REQUEST, ASC_LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE);
	CHECK_EQ(0, f.rv.writes);
	fixture_fini(&f);
}

static void test_write_same_short_data(void)
{
	setup(true);
	write_same(true, 0, 0, 1, 0x42, BS / 2);
	check_sense(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_COMMAND_INFORMATION_UNIT);
	fixture_fini(&f);
}

static void test_write_same_wrprotect_anchor_pbdata_lbdata_invalid(void)
{
	setup(true);
	const uint8_t bad[] = { 0x20, WRITE_SAME_ANCHOR, WRITE_SAME_PBDATA, WRITE_SAME_LBDATA };
	for (unsigned i = 0; i < sizeof(bad); i++) {
		write_same(true, bad[i], 0, 1, 0x42, BS);
		check_sense(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
		CHECK_EQ(1, sense_field_pointer(&f.cmd));
	}
	fixture_fini(&f);
}

static void test_write_same_read_only(void)
{
	setup(true);
	f.rv.vol.read_only = true;
	write_same(false, WRITE_SAME_UNMAP, 0, 1, 0, 0); /* protection comes first */
	check_sense(DATA_PROTECT, ASC_WRITE_PROTECTED);
	fixture_fini(&f);
}

static void test_write_same_enospc(void)
{
	setup(false);
	f.rv.write_error = -ENOSPC;
	write_same(true, 0, 0, 4, 0x42, BS);
	check_sense(DATA_PROTECT, ASC_SPACE_ALLOCATION_FAILED_WRITE_PROTECT);
	fixture_fini(&f);
}

int main(void)
{
	RUN(test_unmap_one_range);
	RUN(test_unmap_several_ranges);
	RUN(test_unmap_zero_length_descriptors);
	RUN(test_unmap_parameter_list_length_zero);
	RUN(test_unmap_header_only);
	RUN(test_unmap_parameter_list_shorter_than_header);
	RUN(test_unmap_descriptors_past_parameter_list);
	RUN(test_unmap_partial_descriptor_ignored);
	RUN(test_unmap_data_shorter_than_parameter_list);
	RUN(test_unmap_too_many_descriptors);
	RUN(test_unmap_range_past_end_changes_nothing);
	RUN(test_unmap_lba_wraps);
	RUN(test_unmap_too_many_blocks);
	RUN(test_unmap_anchor_rejected);
	RUN(test_unmap_read_only);
	RUN(test_unmap_on_thick_volume_is_invalid_opcode);
	RUN(test_unmap_volume_error);
	RUN(test_write_same10_writes_the_block);
	RUN(test_write_same16_many_blocks_in_chunks);
	RUN(test_write_same16_zeros_unmap);
	RUN(test_write_same16_unmap_bit_with_data_unmaps);
	RUN(test_write_same16_unmap_to_last_block);
	RUN(test_write_same16_ndob_unmaps_without_data);
	RUN(test_write_same16_ndob_on_thick_writes_zeros);
	RUN(test_write_same_unmap_bit_on_thick_is_invalid);
	RUN(test_write_same_zeros_on_thick_writes);
	RUN(test_write_same10_ndob_bit_is_invalid);
	RUN(test_write_same_zero_blocks_writes_to_the_end);
	RUN(test_write_same_zero_blocks_past_the_end);
	RUN(test_write_same_zero_blocks_over_max_length);
	RUN(test_write_same_over_max_length);
	RUN(test_write_same_beyond_end);
	RUN(test_write_same_short_data);
	RUN(test_write_same_wrprotect_anchor_pbdata_lbdata_invalid);
	RUN(test_write_same_read_only);
	RUN(test_write_same_enospc);
	return check_report("test_scsi_unmap");
}
