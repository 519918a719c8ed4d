/* Host tests of GET LBA STATUS (net/scsi_lba_status.c) over a RAM volume whose
 * block_status op calls a block deallocated when it holds only zeros, and of ORWRITE (16)
 * (net/scsi_caw.c). */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "scsi_test_support.h"

#define BLOCKS 64
#define BS 512

static struct scsi_fixture f;
static uint8_t buf[4096];
static struct volume_ops ops_with_status;
static unsigned status_calls;
static int status_error;

static bool block_is_zero(uint64_t lba)
{
	for (uint32_t i = 0; i < BS; i++)
		if (f.rv.data[lba * BS + i])
			return false;
	return true;
}

static int ram_block_status(struct volume *v, uint64_t offset, uint64_t len, bool *mapped,
			    uint64_t *bytes)
{
	(void)v;
	status_calls++;
	if (status_error)
		return status_error;
	uint64_t lba = offset / BS, n = 0;
	*mapped = !block_is_zero(lba);
	while (n < len / BS && !block_is_zero(lba + n) == *mapped)
		n++;
	*bytes = n * BS;
	return 0;
}

/* Blocks 0-9 hold data, 10-63 are zeros. */
static void setup(bool with_status)
{
	fixture_init(&f, BLOCKS, BS, true);
	memset(f.rv.data, 0, BLOCKS * BS);
	memset(f.rv.data, 0x5a, 10 * BS);
	if (with_status) {
		ops_with_status = *f.rv.vol.ops;
		ops_with_status.block_status = ram_block_status;
		f.rv.vol.ops = &ops_with_status;
	}
	status_calls = 0;
	status_error = 0;
}

static uint8_t get_lba_status(uint64_t lba, uint32_t alloc_len)
{
	uint8_t cdb[16];
	cdb16(cdb, SERVICE_ACTION_IN_16, SAI_GET_LBA_STATUS, lba, alloc_len);
	memset(buf, 0xee, sizeof(buf));
	return run_cdb(&f, cdb, 16, buf, sizeof(buf));
}

static void test_descriptors_follow_the_volume(void)
{
	setup(true);
	CHECK_EQ(SAM_STAT_GOOD, get_lba_status(4, 4096));
	CHECK_EQ(4 + 2 * 16, get_be32(buf)); /* PARAMETER DATA LENGTH: n - 3 */
	CHECK_EQ(4, get_be64(buf + 8));
	CHECK_EQ(6, get_be32(buf + 16));
	CHECK_EQ(PROVISIONING_STATUS_MAPPED, buf[20]);
	CHECK_EQ(10, get_be64(buf + 24));
	CHECK_EQ(54, get_be32(buf + 32));
	CHECK_EQ(PROVISIONING_STATUS_DEALLOCATED, buf[36]);
	fixture_fini(&f);
}

static void test_one_descriptor_fits_24_bytes(void)
{
	setup(true);
	CHECK_EQ(SAM_STAT_GOOD, get_lba_status(0, 24));
	CHECK_EQ(24, f.cmd.data_produced);
	CHECK_EQ(4 + 16, get_be32(buf));
	CHECK_EQ(10, get_be32(buf + 16));
	CHECK_EQ(0xee, buf[24]); /* nothing past the allocation length */
	fixture_fini(&f);
}

static void test_last_block(void)
{
	setup(true);
	CHECK_EQ(SAM_STAT_GOOD, get_lba_status(BLOCKS - 1, 24));
	CHECK_EQ(BLOCKS - 1, get_be64(buf + 8));
	CHECK_EQ(1, get_be32(buf + 16));
	fixture_fini(&f);
}

static void test_beyond_the_end_is_out_of_range(void)
{
	static const uint64_t lbas[] = { BLOCKS, BLOCKS + 1, 1ull << 63, ~0ull };
	setup(true);
	for (unsigned i = 0; i < 4; i++) {
		CHECK_EQ(SAM_STAT_CHECK_CONDITION, get_lba_status(lbas[i], 24));
		CHECK_EQ(ASC_LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE, sense_asc(&f.cmd));
	}
	CHECK_EQ(0, status_calls);
	fixture_fini(&f);
}

static void test_volume_without_block_status_is_mapped(void)
{
	setup(false);
	CHECK_EQ(SAM_STAT_GOOD, get_lba_status(0, 4096));
	CHECK_EQ(4 + 16, get_be32(buf));
	CHECK_EQ(BLOCKS, get_be32(buf + 16));
	CHECK_EQ(PROVISIONING_STATUS_MAPPED, buf[20]);
	fixture_fini(&f);
}

static void test_block_status_error_is_reported(void)
{
	setup(true);
	status_error = -EIO;
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, get_lba_status(0, 24));
	CHECK_EQ(MEDIUM_ERROR, sense_key(&f.cmd));
	CHECK_EQ(0, f.cmd.data_produced);
	fixture_fini(&f);
}

/* ---- ORWRITE (16) ---- */

static uint8_t orwrite(uint64_t lba, uint32_t blocks, uint8_t fill, uint32_t data_len)
{
	uint8_t cdb[16];
	cdb16(cdb, ORWRITE_16, 0, lba, blocks);
	memset(buf, fill, sizeof(buf));
	return run_cdb(&f, cdb, 16, buf, data_len);
}

static void test_orwrite_ors_the_data_in(void)
{
	setup(false);
	CHECK_EQ(SAM_STAT_GOOD, orwrite(9, 2, 0x81, 2 * BS));
	for (uint32_t i = 0; i < BS; i++) {
		CHECK_EQ(0x5a | 0x81, f.rv.data[9 * BS + i]);
		CHECK_EQ(0x81, f.rv.data[10 * BS + i]);
	}
	fixture_fini(&f);
}

static void test_orwrite_beyond_the_end(void)
{
	setup(false);
	orwrite(BLOCKS - 1, 2, 0x81, 2 * BS);
	CHECK_EQ(ASC_LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE, sense_asc(&f.cmd));
	CHECK_EQ(0, f.rv.writes);
	fixture_fini(&f);
}

static void test_orwrite_zero_blocks_is_good(void)
{
	setup(false);
	CHECK_EQ(SAM_STAT_GOOD, orwrite(0, 0, 0x81, 0));
	CHECK_EQ(0, f.rv.writes);
	fixture_fini(&f);
}

static void test_orwrite_read_only(void)
{
	setup(false);
	f.rv.vol.read_only = true;
	orwrite(0, 1, 0x81, BS);
	CHECK_EQ(ASC_WRITE_PROTECTED, sense_asc(&f.cmd));
	fixture_fini(&f);
}

static void test_orwrite_read_error_writes_nothing(void)
{
	setup(false);
	f.rv.read_error = -EIO;
	orwrite(0, 1, 0x81, BS);
	CHECK_EQ(MEDIUM_ERROR, sense_key(&f.cmd));
	CHECK_EQ(ASC_UNRECOVERED_READ_ERROR, sense_asc(&f.cmd));
	CHECK_EQ(0, f.rv.writes);
	fixture_fini(&f);
}

int main(void)
{
	RUN(test_descriptors_follow_the_volume);
	RUN(test_one_descriptor_fits_24_bytes);
	RUN(test_last_block);
	RUN(test_beyond_the_end_is_out_of_range);
	RUN(test_volume_without_block_status_is_mapped);
	RUN(test_block_status_error_is_reported);
	RUN(test_orwrite_ors_the_data_in);
	RUN(test_orwrite_beyond_the_end);
	RUN(test_orwrite_zero_blocks_is_good);
	RUN(test_orwrite_read_only);
	RUN(test_orwrite_read_error_writes_nothing);
	return check_report("test_scsi_lba_status");
}
