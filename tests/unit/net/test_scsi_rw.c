/* Host tests of the block I/O commands (net/scsi_rw.c, net/scsi_caw.c): READ, WRITE,
 * WRITE AND VERIFY, VERIFY, PRE-FETCH, COMPARE AND WRITE over a RAM volume. */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "scsi_test_support.h"
#include "task.h"

#define BLOCKS 1024
#define BS 512

static struct scsi_fixture f;
static uint8_t buf[4 * BS], cdb[16];

static void setup(void)
{
	fixture_init(&f, BLOCKS, BS, true);
	for (uint32_t i = 0; i < BLOCKS * BS; i++)
		f.rv.data[i] = (uint8_t)(i / BS + i);
	memset(buf, 0, sizeof(buf));
}

static const uint8_t *block(uint64_t lba)
{
	return f.rv.data + lba * BS;
}

static void check_sense(uint8_t key, uint16_t asc)
{
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, f.cmd.status);
	CHECK_EQ(key, sense_key(&f.cmd));
	CHECK_EQ(asc, sense_asc(&f.cmd));
	CHECK_EQ(0, f.cmd.data_produced);
}

static void test_read10_returns_the_blocks(void)
{
	setup();
	cdb10(cdb, READ_10, 0, 5, 2);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 10, buf, 2 * BS));
	CHECK_EQ(2 * BS, f.cmd.data_produced);
	CHECK_EQ(2 * BS, f.cmd.transfer_len);
	CHECK_EQ(0, f.cmd.sense_len);
	CHECK_MEM_EQ(block(5), buf, 2 * BS);
	fixture_fini(&f);
}

static void test_read16_last_block(void)
{
	setup();
	cdb16(cdb, READ_16, 0, BLOCKS - 1, 1);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 16, buf, BS));
	CHECK_MEM_EQ(block(BLOCKS - 1), buf, BS);
	fixture_fini(&f);
}

static void test_read16_one_past_the_end(void)
{
	setup();
	cdb16(cdb, READ_16, 0, BLOCKS - 1, 2);
	run_cdb(&f, cdb, 16, buf, 2 * BS);
	check_sense(ILLEGAL_REQUEST, ASC_LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE);
	CHECK_EQ(0, f.rv.reads);
	fixture_fini(&f);
}

static void test_read10_zero_blocks_at_the_end_is_good(void)
{
	setup();
	cdb10(cdb, READ_10, 0, BLOCKS, 0);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 10, buf, 0));
	CHECK_EQ(0, f.cmd.data_produced);
	CHECK_EQ(0, f.cmd.transfer_len);
	fixture_fini(&f);
}

static void test_read10_zero_blocks_past_the_end(void)
{
	setup();
	cdb10(cdb, READ_10, 0, BLOCKS + 1, 0);
	run_cdb(&f, cdb, 10, buf, 0);
	check_sense(ILLEGAL_REQUEST, ASC_LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE);
	fixture_fini(&f);
}

static void test_read10_lba_all_ones(void)
{
	setup();
	cdb10(cdb, READ_10, 0, 0xffffffff, 1);
	run_cdb(&f, cdb, 10, buf, BS);
	check_sense(ILLEGAL_REQUEST, ASC_LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE);
	fixture_fini(&f);
}

static void test_read16_lba_wraps_around(void)
{
	setup();
	cdb16(cdb, READ_16, 0, UINT64_MAX, 2); /* lba + count overflows 64 bits */
	run_cdb(&f, cdb, 16, buf, 2 * BS);
	check_sense(ILLEGAL_REQUEST, ASC_LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE);
	fixture_fini(&f);
}

static void test_read16_over_max_transfer_is_invalid_field(void)
{
	setup();
	cdb16(cdb, READ_16, 0, 0, SCSI_MAX_TRANSFER_BYTES / BS + 1);
	run_cdb(&f, cdb, 16, buf, sizeof(buf));
	check_sense(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	CHECK_EQ(10, sense_field_pointer(&f.cmd));
	fixture_fini(&f);
}

static void test_read16_huge_length(void)
{
	setup();
	cdb16(cdb, READ_16, 0, 0, 0xffffffff);
	run_cdb(&f, cdb, 16, buf, sizeof(buf));
	check_sense(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	fixture_fini(&f);
}

static void test_read10_rdprotect_is_invalid_field(void)
{
	setup();
	cdb10(cdb, READ_10, 0x20, 0, 1);
	run_cdb(&f, cdb, 10, buf, BS);
	check_sense(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	CHECK_EQ(1, sense_field_pointer(&f.cmd));
	fixture_fini(&f);
}

static void test_read10_dpo_fua_accepted(void)
{
	setup();
	cdb10(cdb, READ_10, SBC_DPO | SBC_FUA, 0, 1);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 10, buf, BS));
	fixture_fini(&f);
}

static void test_read10_truncated_to_expected_length(void)
{
	setup();
	memset(buf, 0xaa, sizeof(buf));
	cdb10(cdb, READ_10, 0, 3, 1);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 10, buf, 200));
	CHECK_EQ(200, f.cmd.data_produced);
	CHECK_EQ(BS, f.cmd.transfer_len);
	CHECK_MEM_EQ(block(3), buf, 200);
	CHECK_EQ(0xaa, buf[200]); /* nothing past data_len */
	fixture_fini(&f);
}

static void test_read10_two_blocks_into_one(void)
{
	setup();
	memset(buf, 0xaa, sizeof(buf));
	cdb10(cdb, READ_10, 0, 3, 2);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 10, buf, BS));
	CHECK_EQ(BS, f.cmd.data_produced);
	CHECK_EQ(2 * BS, f.cmd.transfer_len);
	CHECK_EQ(0xaa, buf[BS]);
	fixture_fini(&f);
}

static void test_read10_expected_length_zero(void)
{
	setup();
	cdb10(cdb, READ_10, 0, 0, 1);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 10, NULL, 0));
	CHECK_EQ(0, f.cmd.data_produced);
	CHECK_EQ(BS, f.cmd.transfer_len);
	fixture_fini(&f);
}

static void test_read10_expected_length_larger(void)
{
	setup();
	cdb10(cdb, READ_10, 0, 0, 1);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 10, buf, 3 * BS));
	CHECK_EQ(BS, f.cmd.data_produced);
	CHECK_EQ(BS, f.cmd.transfer_len);
	fixture_fini(&f);
}

static void test_read6_zero_means_256_blocks(void)
{
	setup();
	uint8_t c[6] = { READ_6, 0x00, 0x00, 0x02, 0x00, 0x00 };
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, c, 6, buf, BS));
	CHECK_EQ(256 * BS, f.cmd.transfer_len);
	CHECK_MEM_EQ(block(2), buf, BS);
	fixture_fini(&f);
}

static void test_read12_reads(void)
{
	setup();
	uint8_t c[12] = { READ_12, 0, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0 };
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, c, 12, buf, BS));
	CHECK_MEM_EQ(block(7), buf, BS);
	fixture_fini(&f);
}

static void test_read_eio_is_unrecovered_read_error(void)
{
	setup();
	f.rv.read_error = -EIO;
	cdb10(cdb, READ_10, 0, 0, 1);
	run_cdb(&f, cdb, 10, buf, BS);
	check_sense(MEDIUM_ERROR, ASC_UNRECOVERED_READ_ERROR);
	fixture_fini(&f);
}

static void test_write10_then_read_back(void)
{
	setup();
	memset(buf, 0x5a, 2 * BS);
	cdb10(cdb, WRITE_10, 0, 10, 2);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 10, buf, 2 * BS));
	CHECK_EQ(2 * BS, f.cmd.transfer_len);
	CHECK_EQ(0, f.cmd.data_produced);
	CHECK_MEM_EQ(buf, block(10), 2 * BS);
	CHECK_EQ(0, f.rv.flushes);
	fixture_fini(&f);
}

static void test_write16_last_block(void)
{
	setup();
	memset(buf, 0x11, BS);
	cdb16(cdb, WRITE_16, 0, BLOCKS - 1, 1);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 16, buf, BS));
	CHECK_MEM_EQ(buf, block(BLOCKS - 1), BS);
	fixture_fini(&f);
}

static void test_write16_one_past_the_end_writes_nothing(void)
{
	setup();
	cdb16(cdb, WRITE_16, 0, BLOCKS - 1, 2);
	run_cdb(&f, cdb, 16, buf, 2 * BS);
	check_sense(ILLEGAL_REQUEST, ASC_LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE);
	CHECK_EQ(0, f.rv.writes);
	fixture_fini(&f);
}

static void test_write10_short_data_writes_the_blocks_that_came(void)
{
	setup();
	uint8_t second[BS];
	memcpy(second, block(1), BS);
	memset(buf, 0x5b, BS);
	cdb10(cdb, WRITE_10, 0, 0, 2);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 10, buf, BS));
	CHECK_EQ(2 * BS, f.cmd.transfer_len); /* the iSCSI layer reports the overflow */
	CHECK_MEM_EQ(buf, block(0), BS);
	CHECK_MEM_EQ(second, block(1), BS);
	fixture_fini(&f);
}

static void test_write10_partial_block_of_data_writes_nothing(void)
{
	setup();
	cdb10(cdb, WRITE_10, 0, 0, 1);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 10, buf, 200));
	CHECK_EQ(BS, f.cmd.transfer_len);
	CHECK_EQ(0, f.rv.writes);
	fixture_fini(&f);
}

static void test_write10_no_data_writes_nothing(void)
{
	setup();
	cdb10(cdb, WRITE_10, 0, 0, 1);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 10, NULL, 0));
	CHECK_EQ(BS, f.cmd.transfer_len);
	CHECK_EQ(0, f.rv.writes);
	fixture_fini(&f);
}

static void test_write10_extra_data_is_ignored(void)
{
	setup();
	uint8_t next[BS];
	memcpy(next, block(1), BS);
	memset(buf, 0x77, 2 * BS);
	cdb10(cdb, WRITE_10, 0, 0, 1);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 10, buf, 2 * BS));
	CHECK_EQ(BS, f.cmd.transfer_len);
	CHECK_MEM_EQ(next, block(1), BS);
	fixture_fini(&f);
}

static void test_write10_zero_blocks(void)
{
	setup();
	cdb10(cdb, WRITE_10, 0, 0, 0);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 10, NULL, 0));
	CHECK_EQ(0, f.rv.writes);
	fixture_fini(&f);
}

static void test_write10_fua_flushes(void)
{
	setup();
	cdb10(cdb, WRITE_10, SBC_FUA, 0, 1);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 10, buf, BS));
	CHECK_EQ(1, f.rv.flushes);
	CHECK_EQ(0, f.rv.dirty_bytes);
	fixture_fini(&f);
}

static void test_write_fua_flush_error(void)
{
	setup();
	f.rv.flush_error = -EIO;
	cdb10(cdb, WRITE_10, SBC_FUA, 0, 1);
	run_cdb(&f, cdb, 10, buf, BS);
	check_sense(MEDIUM_ERROR, ASC_WRITE_ERROR);
	fixture_fini(&f);
}

static void test_write_eio_is_write_error(void)
{
	setup();
	f.rv.write_error = -EIO;
	cdb10(cdb, WRITE_10, 0, 0, 1);
	run_cdb(&f, cdb, 10, buf, BS);
	check_sense(MEDIUM_ERROR, ASC_WRITE_ERROR);
	fixture_fini(&f);
}

static void test_write_enospc_is_space_allocation_failed(void)
{
	setup();
	f.rv.write_error = -ENOSPC;
	cdb10(cdb, WRITE_10, 0, 0, 1);
	run_cdb(&f, cdb, 10, buf, BS);
	check_sense(DATA_PROTECT, ASC_SPACE_ALLOCATION_FAILED_WRITE_PROTECT);
	fixture_fini(&f);
}

/* A volume stopped after a device error (lib/volume_guard.h) fails reads and writes
 * with NOT READY, MANUAL INTERVENTION REQUIRED. */
static void test_stopped_volume_is_not_ready(void)
{
	setup();
	f.rv.write_error = -ENODEV;
	cdb10(cdb, WRITE_10, 0, 0, 1);
	run_cdb(&f, cdb, 10, buf, BS);
	check_sense(NOT_READY, ASC_LOGICAL_UNIT_NOT_READY_MANUAL_INTERVENTION_REQUIRED);
	fixture_fini(&f);
	setup();
	f.rv.read_error = -ENODEV;
	cdb10(cdb, READ_10, 0, 0, 1);
	run_cdb(&f, cdb, 10, buf, BS);
	check_sense(NOT_READY, ASC_LOGICAL_UNIT_NOT_READY_MANUAL_INTERVENTION_REQUIRED);
	fixture_fini(&f);
}

static void test_write_enomem_is_busy(void)
{
	setup();
	f.rv.write_error = -ENOMEM;
	cdb10(cdb, WRITE_10, 0, 0, 1);
	CHECK_EQ(SAM_STAT_BUSY, run_cdb(&f, cdb, 10, buf, BS));
	CHECK_EQ(0, f.cmd.sense_len);
	fixture_fini(&f);
}

static void test_write_other_errno_is_hardware_error(void)
{
	setup();
	f.rv.write_error = -EBADMSG;
	cdb10(cdb, WRITE_10, 0, 0, 1);
	run_cdb(&f, cdb, 10, buf, BS);
	check_sense(HARDWARE_ERROR, ASC_INTERNAL_TARGET_FAILURE);
	fixture_fini(&f);
}

static void test_write_read_only_is_write_protected(void)
{
	setup();
	f.rv.vol.read_only = true;
	cdb10(cdb, WRITE_10, 0, 0, 1);
	run_cdb(&f, cdb, 10, buf, BS);
	check_sense(DATA_PROTECT, ASC_WRITE_PROTECTED);
	CHECK_EQ(0, f.rv.writes);
	fixture_fini(&f);
}

static void test_write6_and_write12(void)
{
	setup();
	uint8_t c6[6] = { WRITE_6, 0, 0, 4, 1, 0 };
	uint8_t c12[12] = { WRITE_12, 0, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0 };
	memset(buf, 0x66, BS);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, c6, 6, buf, BS));
	CHECK_MEM_EQ(buf, block(4), BS);
	memset(buf, 0x12, BS);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, c12, 12, buf, BS));
	CHECK_MEM_EQ(buf, block(9), BS);
	fixture_fini(&f);
}

static void test_write_and_verify16_writes(void)
{
	setup();
	memset(buf, 0x3c, BS);
	cdb16(cdb, WRITE_AND_VERIFY_16, 0x02, 20, 1);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 16, buf, BS));
	CHECK_MEM_EQ(buf, block(20), BS);
	fixture_fini(&f);
}

static void test_verify10_bytchk0_is_good(void)
{
	setup();
	cdb10(cdb, VERIFY_10, 0, 0, 4);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 10, NULL, 0));
	fixture_fini(&f);
}

/* VERIFY names up to 32 MiB without sending any: it reads in pieces, so the scratch it
 * charges stays at SCSI_SCRATCH_MAX_BYTES. */
static void test_verify_of_32_mib_holds_one_piece(void)
{
	struct scsi_fixture big;
	uint32_t blocks = SCSI_MAX_TRANSFER_BYTES / BS;
	fixture_init(&big, blocks, BS, true);
	cdb16(cdb, VERIFY_16, 0, 0, blocks);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&big, cdb, 16, NULL, 0));
	CHECK_EQ(SCSI_SCRATCH_MAX_BYTES, big.scratch_max);
	CHECK_EQ(0, big.scratch);
	fixture_fini(&big);
}

static void test_verify_miscompare_in_a_later_piece(void)
{
	struct scsi_fixture big;
	uint32_t bytes = 3 * SCSI_SCRATCH_MAX_BYTES, at = SCSI_SCRATCH_MAX_BYTES * 3 / 2 + 3;
	uint8_t *expected = calloc(1, bytes);
	fixture_init(&big, bytes / BS, BS, true);
	expected[at] = 1;
	cdb16(cdb, VERIFY_16, 0x02, 0, bytes / BS);
	run_cdb(&big, cdb, 16, expected, bytes);
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, big.cmd.status);
	CHECK_EQ(MISCOMPARE, sense_key(&big.cmd));
	CHECK_EQ(at, sense_information(&big.cmd));
	free(expected);
	fixture_fini(&big);
}

static void test_scratch_refused_is_busy(void)
{
	setup();
	f.scratch_limit = BS; /* less than the four blocks VERIFY wants */
	cdb10(cdb, VERIFY_10, 0, 0, 4);
	CHECK_EQ(SAM_STAT_BUSY, run_cdb(&f, cdb, 10, NULL, 0));
	CHECK_EQ(0, f.cmd.sense_len);
	CHECK_EQ(0, f.scratch);
	fixture_fini(&f);
}

static void test_verify16_bytchk1_match(void)
{
	setup();
	memcpy(buf, block(8), 2 * BS);
	cdb16(cdb, VERIFY_16, 0x02, 8, 2);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 16, buf, 2 * BS));
	fixture_fini(&f);
}

static void test_verify16_bytchk1_mismatch(void)
{
	setup();
	memcpy(buf, block(8), 2 * BS);
	buf[BS + 7] ^= 1;
	cdb16(cdb, VERIFY_16, 0x02, 8, 2);
	run_cdb(&f, cdb, 16, buf, 2 * BS);
	check_sense(MISCOMPARE, ASC_MISCOMPARE_DURING_VERIFY_OPERATION);
	CHECK_EQ(BS + 7, sense_information(&f.cmd));
	CHECK(f.cmd.sense[0] & 0x80);
	fixture_fini(&f);
}

static void test_verify10_bytchk2_is_invalid(void)
{
	setup();
	cdb10(cdb, VERIFY_10, 0x04, 0, 1);
	run_cdb(&f, cdb, 10, buf, BS);
	check_sense(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	fixture_fini(&f);
}

static void test_verify10_beyond_end(void)
{
	setup();
	cdb10(cdb, VERIFY_10, 0, BLOCKS, 1);
	run_cdb(&f, cdb, 10, NULL, 0);
	check_sense(ILLEGAL_REQUEST, ASC_LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE);
	fixture_fini(&f);
}

static void test_verify10_medium_error(void)
{
	setup();
	f.rv.read_error = -EIO;
	cdb10(cdb, VERIFY_10, 0, 0, 1);
	run_cdb(&f, cdb, 10, NULL, 0);
	check_sense(MEDIUM_ERROR, ASC_UNRECOVERED_READ_ERROR);
	fixture_fini(&f);
}

static void test_prefetch10_in_range_and_beyond(void)
{
	setup();
	cdb10(cdb, PRE_FETCH_10, 0, BLOCKS - 1, 1);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 10, NULL, 0));
	cdb10(cdb, PRE_FETCH_10, 0, BLOCKS - 1, 2);
	run_cdb(&f, cdb, 10, NULL, 0);
	check_sense(ILLEGAL_REQUEST, ASC_LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE);
	fixture_fini(&f);
}

static void caw_cdb(uint64_t lba, uint8_t blocks)
{
	cdb16(cdb, COMPARE_AND_WRITE, 0, lba, 0);
	cdb[13] = blocks;
}

static void test_caw_match_writes(void)
{
	setup();
	memcpy(buf, block(30), BS);
	memset(buf + BS, 0xc4, BS);
	caw_cdb(30, 1);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 16, buf, 2 * BS));
	CHECK_MEM_EQ(buf + BS, block(30), BS);
	fixture_fini(&f);
}

static void test_caw_miscompare_reports_offset(void)
{
	setup();
	uint8_t before[BS];
	memcpy(before, block(30), BS);
	memcpy(buf, block(30), BS);
	buf[100] ^= 0xff;
	memset(buf + BS, 0xc4, BS);
	caw_cdb(30, 1);
	run_cdb(&f, cdb, 16, buf, 2 * BS);
	check_sense(MISCOMPARE, ASC_MISCOMPARE_DURING_VERIFY_OPERATION);
	CHECK_EQ(100, sense_information(&f.cmd));
	CHECK_MEM_EQ(before, block(30), BS);
	fixture_fini(&f);
}

static void test_caw_zero_blocks_is_good(void)
{
	setup();
	caw_cdb(0, 0);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 16, NULL, 0));
	CHECK_EQ(0, f.rv.writes);
	fixture_fini(&f);
}

/* libiscsi asks for 256 blocks, which the 8-bit field holds as 0, with 256 blocks of
 * data: that is a count we refuse, not "nothing to do". */
static void test_caw_zero_blocks_with_data_is_invalid(void)
{
	setup();
	caw_cdb(0, 0);
	run_cdb(&f, cdb, 16, buf, 2 * BS);
	check_sense(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	CHECK_EQ(13, sense_field_pointer(&f.cmd));
	CHECK_EQ(0, f.rv.writes);
	fixture_fini(&f);
}

static void test_caw_too_many_blocks(void)
{
	setup();
	caw_cdb(0, 2);
	run_cdb(&f, cdb, 16, buf, 4 * BS);
	check_sense(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	CHECK_EQ(13, sense_field_pointer(&f.cmd));
	fixture_fini(&f);
}

static void test_caw_short_data(void)
{
	setup();
	caw_cdb(0, 1);
	run_cdb(&f, cdb, 16, buf, BS);
	check_sense(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_COMMAND_INFORMATION_UNIT);
	CHECK_EQ(0, f.rv.writes);
	fixture_fini(&f);
}

static void test_caw_read_only(void)
{
	setup();
	f.rv.vol.read_only = true;
	caw_cdb(0, 1);
	run_cdb(&f, cdb, 16, buf, 2 * BS);
	check_sense(DATA_PROTECT, ASC_WRITE_PROTECTED);
	fixture_fini(&f);
}

static void test_caw_read_error_and_write_error(void)
{
	setup();
	memcpy(buf, block(30), BS);
	caw_cdb(30, 1);
	f.rv.read_error = -EIO;
	run_cdb(&f, cdb, 16, buf, 2 * BS);
	check_sense(MEDIUM_ERROR, ASC_UNRECOVERED_READ_ERROR);
	f.rv.read_error = 0;
	f.rv.write_error = -EIO;
	run_cdb(&f, cdb, 16, buf, 2 * BS);
	check_sense(MEDIUM_ERROR, ASC_WRITE_ERROR);
	f.rv.write_error = -ENOSPC;
	run_cdb(&f, cdb, 16, buf, 2 * BS);
	check_sense(DATA_PROTECT, ASC_SPACE_ALLOCATION_FAILED_WRITE_PROTECT);
	fixture_fini(&f);
}

static void test_caw_fua_flushes(void)
{
	setup();
	memcpy(buf, block(30), BS);
	memset(buf + BS, 1, BS);
	caw_cdb(30, 1);
	cdb[1] = SBC_FUA;
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 16, buf, 2 * BS));
	CHECK_EQ(1, f.rv.flushes);
	fixture_fini(&f);
}

/* Two commands as tasks, the volume yielding in every I/O: a WRITE to the block a
 * COMPARE AND WRITE is working on must wait until the CAW is done. */
struct concurrent {
	struct scsi_cmd cmd;
	uint8_t cdb[16];
	uint8_t data[2 * BS];
};

static void run_task(void *arg)
{
	struct concurrent *c = arg;
	scsi_exec(&f.lun, &f.nexus, &c->cmd);
}

static void test_caw_is_atomic_against_a_write(void)
{
	setup();
	f.rv.yield_in_io = true;
	static struct concurrent caw, wr;
	memset(&caw, 0, sizeof(caw));
	memset(&wr, 0, sizeof(wr));
	memcpy(caw.data, block(40), BS);
	memset(caw.data + BS, 0xca, BS);
	cdb16(caw.cdb, COMPARE_AND_WRITE, 0, 40, 0);
	caw.cdb[13] = 1;
	caw.cmd = (struct scsi_cmd){ .cdb = caw.cdb, .cdb_len = 16, .data = caw.data,
				     .data_len = 2 * BS };
	memset(wr.data, 0xee, BS);
	cdb10(wr.cdb, WRITE_10, 0, 40, 1);
	wr.cmd = (struct scsi_cmd){ .cdb = wr.cdb, .cdb_len = 10, .data = wr.data,
				    .data_len = BS };
	task_spawn(run_task, &caw);
	task_spawn(run_task, &wr);
	CHECK(task_run_all(NULL, NULL));
	CHECK_EQ(SAM_STAT_GOOD, caw.cmd.status);
	CHECK_EQ(SAM_STAT_GOOD, wr.cmd.status);
	CHECK_MEM_EQ(wr.data, block(40), BS); /* the write came after the CAW */
	CHECK(f.lun.busy_ranges == NULL);
	task_reset();
	fixture_fini(&f);
}

static void run_two_writes(uint32_t lba_a, uint32_t lba_b)
{
	static struct concurrent a, b;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	cdb10(a.cdb, WRITE_10, 0, lba_a, 2);
	cdb10(b.cdb, WRITE_10, 0, lba_b, 2);
	a.cmd = (struct scsi_cmd){ .cdb = a.cdb, .cdb_len = 10, .data = a.data,
				   .data_len = 2 * BS };
	b.cmd = (struct scsi_cmd){ .cdb = b.cdb, .cdb_len = 10, .data = b.data,
				   .data_len = 2 * BS };
	task_spawn(run_task, &a);
	task_spawn(run_task, &b);
	CHECK(task_run_all(NULL, NULL));
	CHECK_EQ(SAM_STAT_GOOD, a.cmd.status);
	CHECK_EQ(SAM_STAT_GOOD, b.cmd.status);
	task_reset();
}

static void test_disjoint_writes_run_concurrently(void)
{
	setup();
	f.rv.yield_in_io = true;
	run_two_writes(0, 2);
	CHECK_EQ(2, f.rv.max_writes_in_flight);
	fixture_fini(&f);
}

static void test_overlapping_writes_run_one_at_a_time(void)
{
	setup();
	f.rv.yield_in_io = true;
	run_two_writes(0, 1);
	CHECK_EQ(1, f.rv.max_writes_in_flight);
	CHECK(f.lun.busy_ranges == NULL);
	fixture_fini(&f);
}

int main(void)
{
	RUN(test_read10_returns_the_blocks);
	RUN(test_read16_last_block);
	RUN(test_read16_one_past_the_end);
	RUN(test_read10_zero_blocks_at_the_end_is_good);
	RUN(test_read10_zero_blocks_past_the_end);
	RUN(test_read10_lba_all_ones);
	RUN(test_read16_lba_wraps_around);
	RUN(test_read16_over_max_transfer_is_invalid_field);
	RUN(test_read16_huge_length);
	RUN(test_read10_rdprotect_is_invalid_field);
	RUN(test_read10_dpo_fua_accepted);
	RUN(test_read10_truncated_to_expected_length);
	RUN(test_read10_two_blocks_into_one);
	RUN(test_read10_expected_length_zero);
	RUN(test_read10_expected_length_larger);
	RUN(test_read6_zero_means_256_blocks);
	RUN(test_read12_reads);
	RUN(test_read_eio_is_unrecovered_read_error);
	RUN(test_write10_then_read_back);
	RUN(test_write16_last_block);
	RUN(test_write16_one_past_the_end_writes_nothing);
	RUN(test_write10_short_data_writes_the_blocks_that_came);
	RUN(test_write10_partial_block_of_data_writes_nothing);
	RUN(test_write10_no_data_writes_nothing);
	RUN(test_write10_extra_data_is_ignored);
	RUN(test_write10_zero_blocks);
	RUN(test_write10_fua_flushes);
	RUN(test_write_fua_flush_error);
	RUN(test_stopped_volume_is_not_ready);
	RUN(test_write_eio_is_write_error);
	RUN(test_write_enospc_is_space_allocation_failed);
	RUN(test_write_enomem_is_busy);
	RUN(test_write_other_errno_is_hardware_error);
	RUN(test_write_read_only_is_write_protected);
	RUN(test_write6_and_write12);
	RUN(test_write_and_verify16_writes);
	RUN(test_verify10_bytchk0_is_good);
	RUN(test_verify_of_32_mib_holds_one_piece);
	RUN(test_verify_miscompare_in_a_later_piece);
	RUN(test_scratch_refused_is_busy);
	RUN(test_verify16_bytchk1_match);
	RUN(test_verify16_bytchk1_mismatch);
	RUN(test_verify10_bytchk2_is_invalid);
	RUN(test_verify10_beyond_end);
	RUN(test_verify10_medium_error);
	RUN(test_prefetch10_in_range_and_beyond);
	RUN(test_caw_match_writes);
	RUN(test_caw_miscompare_reports_offset);
	RUN(test_caw_zero_blocks_is_good);
	RUN(test_caw_zero_blocks_with_data_is_invalid);
	RUN(test_caw_too_many_blocks);
	RUN(test_caw_short_data);
	RUN(test_caw_read_only);
	RUN(test_caw_read_error_and_write_error);
	RUN(test_caw_fua_flushes);
	RUN(test_caw_is_atomic_against_a_write);
	RUN(test_disjoint_writes_run_concurrently);
	RUN(test_overlapping_writes_run_one_at_a_time);
	return check_report("test_scsi_rw");
}
