/* Host tests of scsi_exec() itself (net/scsi.c): the opcode table, CDB length checks,
 * absent LUNs, and the unit attention lifecycle. */
#include "check.h"
#include "scsi_test_support.h"

#define BS 512

static struct scsi_fixture f;
static uint8_t buf[8192];

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

static void test_reserved_bit_is_invalid_field_with_bit_pointer(void)
{
	fixture_init(&f, 64, BS, true);
	uint8_t cdb[10];
	cdb10(cdb, READ_10, 0, 0, 1);
	cdb[6] = 0x20; /* reserved bit above GROUP NUMBER */
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, run_cdb(&f, cdb, 10, buf, BS));
	CHECK_EQ(ASC_INVALID_FIELD_IN_CDB, sense_asc(&f.cmd));
	CHECK_EQ(6, sense_field_pointer(&f.cmd));
	CHECK_EQ(0xc8 | 5, f.cmd.sense[15]); /* SKSV, C/D, BPV, bit 5 */
	CHECK_EQ(0, f.rv.reads);
	fixture_fini(&f);
}

static void test_control_byte_is_not_checked(void)
{
	fixture_init(&f, 64, BS, true);
	uint8_t cdb[10];
	cdb10(cdb, READ_10, 0, 0, 1);
	cdb[9] = 0xc4; /* vendor bits and NACA */
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 10, buf, BS));
	fixture_fini(&f);
}

static void test_bad_service_action(void)
{
	fixture_init(&f, 64, BS, true);
	uint8_t cdb[16] = { SERVICE_ACTION_IN_16, 0x13 }; /* not served */
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, run_cdb(&f, cdb, 16, buf, sizeof(buf)));
	CHECK_EQ(ILLEGAL_REQUEST, sense_key(&f.cmd));
	CHECK_EQ(ASC_INVALID_FIELD_IN_CDB, sense_asc(&f.cmd));
	CHECK_EQ(1, sense_field_pointer(&f.cmd));
	fixture_fini(&f);
}

static uint8_t rsoc(uint8_t options, uint8_t opcode, uint16_t sa, uint32_t alloc_len)
{
	uint8_t cdb[12] = { MAINTENANCE_IN, MI_REPORT_SUPPORTED_OPERATION_CODES, options, opcode,
			    (uint8_t)(sa >> 8), (uint8_t)sa, (uint8_t)(alloc_len >> 24),
			    (uint8_t)(alloc_len >> 16), (uint8_t)(alloc_len >> 8),
			    (uint8_t)alloc_len, 0, 0 };
	static uint8_t out[8192];
	memset(out, 0xee, sizeof(out));
	uint8_t st = run_cdb(&f, cdb, 12, out, sizeof(out));
	memcpy(buf, out, sizeof(buf));
	return st;
}

static void test_rsoc_all_commands(void)
{
	fixture_init(&f, 64, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, rsoc(0, 0, 0, 8192));
	uint32_t len = get_be32(buf);
	CHECK_EQ(0, len % 8);
	CHECK_EQ(len + 4, f.cmd.data_produced);
	unsigned n = len / 8, with_sa = 0;
	CHECK(n >= 30);
	for (unsigned i = 0; i < n && 4 + 8 * i + 8 <= sizeof(buf); i++) {
		const uint8_t *d = buf + 4 + 8 * i;
		if (d[5] & 1)
			with_sa++;
		else
			CHECK_EQ(0, get_be16(d + 2));
		CHECK_EQ(0, d[5] & 2);
		uint16_t cdb_len = get_be16(d + 6);
		CHECK(cdb_len == 6 || cdb_len == 10 || cdb_len == 12 || cdb_len == 16);
	}
	/* READ CAPACITY (16), GET LBA STATUS, REPORT SUPPORTED OPERATION CODES, four
	 * PERSISTENT RESERVE IN and seven PERSISTENT RESERVE OUT service actions */
	CHECK_EQ(14, with_sa);
	fixture_fini(&f);
}

static void test_rsoc_all_with_timeouts(void)
{
	fixture_init(&f, 64, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, rsoc(0x80, 0, 0, 8192));
	CHECK_EQ(0, get_be32(buf) % 20);
	CHECK_EQ(2, buf[4 + 5] & 2);        /* CTDP */
	CHECK_EQ(0x0a, get_be16(buf + 4 + 8));  /* timeouts descriptor length */
	fixture_fini(&f);
}

static void test_rsoc_one_command(void)
{
	fixture_init(&f, 64, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, rsoc(1, READ_10, 0, 512));
	CHECK_EQ(4 + 10, f.cmd.data_produced);
	CHECK_EQ(3, buf[1] & 7);            /* supported */
	CHECK_EQ(10, get_be16(buf + 2));
	CHECK_EQ(READ_10, buf[4]);
	CHECK_EQ(0x18, buf[5] & 0x18);      /* DPO and FUA are used */
	CHECK_EQ(0, buf[5] & 0xe0);         /* RDPROTECT is not */
	fixture_fini(&f);
}

static void test_rsoc_unsupported_command(void)
{
	fixture_init(&f, 64, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, rsoc(1, 0x02, 0, 512));
	CHECK_EQ(1, buf[1] & 7);
	CHECK_EQ(0, get_be16(buf + 2));
	fixture_fini(&f);
}

static void test_rsoc_service_action_forms(void)
{
	fixture_init(&f, 64, BS, true);
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, rsoc(1, SERVICE_ACTION_IN_16, 0x10, 512));
	CHECK_EQ(ASC_INVALID_FIELD_IN_CDB, sense_asc(&f.cmd));
	CHECK_EQ(SAM_STAT_GOOD, rsoc(2, SERVICE_ACTION_IN_16, 0x10, 512));
	CHECK_EQ(3, buf[1] & 7);
	CHECK_EQ(16, get_be16(buf + 2));
	CHECK_EQ(SAM_STAT_GOOD, rsoc(2, SERVICE_ACTION_IN_16, 0x11, 512));
	CHECK_EQ(1, buf[1] & 7);
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, rsoc(2, READ_10, 0, 512));
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, rsoc(3, READ_10, 0, 512));
	fixture_fini(&f);
}

static void test_rsoc_truncated(void)
{
	fixture_init(&f, 64, BS, true);
	CHECK_EQ(SAM_STAT_GOOD, rsoc(0, 0, 0, 6));
	CHECK_EQ(6, f.cmd.data_produced);
	CHECK_EQ(0xee, buf[6]);
	fixture_fini(&f);
}

/* For every reported command and every CDB bit its usage data leaves clear (control
 * byte aside), a CDB with just that bit set is refused with a pointer to it. */
static void test_every_unused_bit_is_refused(void)
{
	fixture_init(&f, 64, BS, true);
	uint8_t all[8192];
	rsoc(0, 0, 0, 8192);
	memcpy(all, buf, sizeof(buf));
	unsigned n = get_be32(all) / 8, refused = 0;
	for (unsigned i = 0; i < n && 4 + 8 * i + 8 <= sizeof(buf); i++) {
		const uint8_t *d = all + 4 + 8 * i;
		uint8_t usage[16];
		rsoc((d[5] & 1) ? 2 : 1, d[0], get_be16(d + 2), 512);
		uint16_t len = get_be16(buf + 2);
		memcpy(usage, buf + 4, len);
		for (unsigned byte = 1; byte + 1 < len; byte++) {
			for (int bit = 0; bit < 8; bit++) {
				if (usage[byte] & (1 << bit))
					continue;
				uint8_t cdb[16] = { usage[0] };
				if (d[5] & 1)
					cdb[1] = (uint8_t)get_be16(d + 2);
				cdb[byte] |= (uint8_t)(1 << bit);
				run_cdb(&f, cdb, len, buf, sizeof(buf));
				CHECK_EQ(ASC_INVALID_FIELD_IN_CDB, sense_asc(&f.cmd));
				CHECK_EQ(byte, sense_field_pointer(&f.cmd));
				refused++;
			}
		}
	}
	CHECK(refused > 300);
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
	RUN(test_reserved_bit_is_invalid_field_with_bit_pointer);
	RUN(test_control_byte_is_not_checked);
	RUN(test_bad_service_action);
	RUN(test_rsoc_all_commands);
	RUN(test_rsoc_all_with_timeouts);
	RUN(test_rsoc_one_command);
	RUN(test_rsoc_unsupported_command);
	RUN(test_rsoc_service_action_forms);
	RUN(test_rsoc_truncated);
	RUN(test_every_unused_bit_is_refused);
	return check_report("test_scsi_dispatch");
}
