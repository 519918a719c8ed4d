/* Host tests of scsi_exec() itself (net/scsi.c): the opcode table, CDB length checks,
 * absent LUNs, and the unit attention lifecycle. */
#include "check.h"
#include "scsi_test_support.h"

#define BS 512

static struct scsi_fixture f;
static uint8_t buf[512];

static void test_unknown_opcode(void)
{
	fixture_init(&f, 64, BS, true);
	uint8_t cdb[6] = { 0x02 };
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, run_cdb(&f, cdb, 6, buf, sizeof(buf)));
	CHECK_EQ(ILLEGAL_REQUEST, sense_key(&f.cmd));
	CHECK_EQ(ASC_INVALID_COMMAND_OPERATION_CODE, sense_asc(&f.cmd));
	CHECK_EQ(18, f.cmd.sense_len);
	CHECK_EQ(0x70, f.cmd.sense[0]);
	CHECK_EQ(10, f.cmd.sense[7]);
	CHECK_EQ(0, f.cmd.data_produced);
	fixture_fini(&f);
}

static void test_empty_cdb(void)
{
	fixture_init(&f, 64, BS, true);
	uint8_t cdb[1] = { INQUIRY };
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, run_cdb(&f, cdb, 0, buf, sizeof(buf)));
	CHECK_EQ(ASC_INVALID_COMMAND_OPERATION_CODE, sense_asc(&f.cmd));
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, run_cdb(&f, NULL, 16, buf, sizeof(buf)));
	fixture_fini(&f);
}

static void test_short_cdb_is_invalid_field(void)
{
	fixture_init(&f, 64, BS, true);
	uint8_t cdb[16];
	cdb16(cdb, READ_16, 0, 0, 1);
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, run_cdb(&f, cdb, 10, buf, sizeof(buf)));
	CHECK_EQ(ASC_INVALID_FIELD_IN_CDB, sense_asc(&f.cmd));
	CHECK_EQ(0, f.rv.reads);
	fixture_fini(&f);
}

static void test_longer_cdb_is_fine(void)
{
	fixture_init(&f, 64, BS, true);
	uint8_t cdb[16] = { TEST_UNIT_READY };
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 16, NULL, 0));
	fixture_fini(&f);
}

static void test_absent_lun_rejects_block_commands(void)
{
	fixture_init(&f, 64, BS, true);
	uint8_t cdb[10];
	cdb10(cdb, READ_10, 0, 0, 1);
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, run_cdb_no_lun(&f, cdb, 10, buf, BS));
	CHECK_EQ(ILLEGAL_REQUEST, sense_key(&f.cmd));
	CHECK_EQ(ASC_LOGICAL_UNIT_NOT_SUPPORTED, sense_asc(&f.cmd));
	uint8_t tur[6] = { TEST_UNIT_READY };
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, run_cdb_no_lun(&f, tur, 6, NULL, 0));
	CHECK_EQ(ASC_LOGICAL_UNIT_NOT_SUPPORTED, sense_asc(&f.cmd));
	fixture_fini(&f);
}

static void test_absent_lun_does_not_consume_unit_attention(void)
{
	fixture_init(&f, 64, BS, true);
	f.nexus.unit_attention_reset = true;
	uint8_t tur[6] = { TEST_UNIT_READY };
	run_cdb_no_lun(&f, tur, 6, NULL, 0);
	CHECK(f.nexus.unit_attention_reset);
	fixture_fini(&f);
}

static void test_unit_attention_reported_once(void)
{
	fixture_init(&f, 64, BS, true);
	f.nexus.unit_attention_reset = true;
	uint8_t tur[6] = { TEST_UNIT_READY };
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, run_cdb(&f, tur, 6, NULL, 0));
	CHECK_EQ(UNIT_ATTENTION, sense_key(&f.cmd));
	CHECK_EQ(ASC_POWER_ON_RESET_OR_BUS_DEVICE_RESET_OCCURRED, sense_asc(&f.cmd));
	CHECK(!f.nexus.unit_attention_reset);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, tur, 6, NULL, 0));
	fixture_fini(&f);
}

static void test_unit_attention_blocks_a_read(void)
{
	fixture_init(&f, 64, BS, true);
	f.nexus.unit_attention_reset = true;
	uint8_t cdb[10];
	cdb10(cdb, READ_10, 0, 0, 1);
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, run_cdb(&f, cdb, 10, buf, BS));
	CHECK_EQ(UNIT_ATTENTION, sense_key(&f.cmd));
	CHECK_EQ(0, f.rv.reads);
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 10, buf, BS));
	fixture_fini(&f);
}

static void test_unit_attention_does_not_block_inquiry(void)
{
	fixture_init(&f, 64, BS, true);
	f.nexus.unit_attention_reset = true;
	uint8_t cdb[6] = { INQUIRY, 0, 0, 0, 36, 0 };
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 6, buf, sizeof(buf)));
	CHECK(f.nexus.unit_attention_reset);
	fixture_fini(&f);
}

static void test_unit_attention_does_not_block_report_luns(void)
{
	fixture_init(&f, 64, BS, true);
	f.nexus.unit_attention_reset = true;
	uint8_t cdb[12] = { REPORT_LUNS, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0 };
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 12, buf, sizeof(buf)));
	CHECK(f.nexus.unit_attention_reset);
	fixture_fini(&f);
}

static void test_unit_attention_per_nexus(void)
{
	fixture_init(&f, 64, BS, true);
	struct scsi_nexus other = { .unit_attention_reset = true };
	f.nexus.unit_attention_reset = true;
	uint8_t tur[6] = { TEST_UNIT_READY };
	run_cdb(&f, tur, 6, NULL, 0);   /* consumes f.nexus's only */
	CHECK(other.unit_attention_reset);
	struct scsi_cmd cmd = { .cdb = tur, .cdb_len = 6 };
	scsi_exec(&f.lun, &other, &cmd);
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, cmd.status);
	CHECK_EQ(UNIT_ATTENTION, sense_key(&cmd));
	fixture_fini(&f);
}

static void test_null_nexus_has_no_unit_attention(void)
{
	fixture_init(&f, 64, BS, true);
	uint8_t tur[6] = { TEST_UNIT_READY };
	struct scsi_cmd cmd = { .cdb = tur, .cdb_len = 6 };
	scsi_exec(&f.lun, NULL, &cmd);
	CHECK_EQ(SAM_STAT_GOOD, cmd.status);
	fixture_fini(&f);
}

static void test_outputs_reset_on_good(void)
{
	fixture_init(&f, 64, BS, true);
	uint8_t tur[6] = { TEST_UNIT_READY };
	run_cdb(&f, tur, 6, NULL, 0); /* run_cdb fills the outputs with 0xee first */
	CHECK_EQ(0, f.cmd.sense_len);
	CHECK_EQ(0, f.cmd.data_produced);
	CHECK_EQ(0, f.cmd.transfer_len);
	CHECK_EQ(0, f.cmd.sense[0]);
	fixture_fini(&f);
}

static void test_read_sent_as_write_still_reads(void)
{
	fixture_init(&f, 64, BS, true);
	uint8_t cdb[10];
	cdb10(cdb, READ_10, 0, 0, 1);
	f.cmd.dir = SCSI_DIR_WRITE;
	struct scsi_cmd cmd = { .cdb = cdb, .cdb_len = 10, .dir = SCSI_DIR_WRITE,
				.data = buf, .data_len = BS };
	scsi_exec(&f.lun, &f.nexus, &cmd);
	CHECK_EQ(SAM_STAT_GOOD, cmd.status);
	fixture_fini(&f);
}

int main(void)
{
	RUN(test_unknown_opcode);
	RUN(test_empty_cdb);
	RUN(test_short_cdb_is_invalid_field);
	RUN(test_longer_cdb_is_fine);
	RUN(test_absent_lun_rejects_block_commands);
	RUN(test_absent_lun_does_not_consume_unit_attention);
	RUN(test_unit_attention_reported_once);
	RUN(test_unit_attention_blocks_a_read);
	RUN(test_unit_attention_does_not_block_inquiry);
	RUN(test_unit_attention_does_not_block_report_luns);
	RUN(test_unit_attention_per_nexus);
	RUN(test_null_nexus_has_no_unit_attention);
	RUN(test_outputs_reset_on_good);
	RUN(test_read_sent_as_write_still_reads);
	return check_report("test_scsi_dispatch");
}
