/* Host tests of SCSI commands over iSCSI: Data-In splitting, status folding, residuals,
 * the ImmediateData x InitialR2T write paths, R2T and Data-Out checks (net/iscsi_cmd.c,
 * net/iscsi_send.c), against the real SCSI layer on a RAM volume. */
#include "check.h"
#include "iscsi_test_support.h"

static void fill_disk(struct iscsi_fixture *f)
{
	for (uint32_t i = 0; i < FX_BLOCKS * FX_BLOCK_SIZE; i++)
		f->sf.rv.data[i] = (uint8_t)(i * 13 + (i >> 9));
}

static void test_read_single_data_in_with_status(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t cdb[16];
	fx_init(&f);
	fx_ready(&f, NULL);
	fill_disk(&f);
	fx_read10_cdb(cdb, 2, 4);
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_READ, 0x10, 2048, cdb, NULL, 0);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_SCSI_DATA_IN, r.opcode);
	CHECK_EQ(ISCSI_FLAG_FINAL | ISCSI_FLAG_DATA_STATUS, r.flags);
	CHECK_EQ(0, r.bhs[ISCSI_BHS_STATUS]);
	CHECK_EQ(0x10, r.itt);
	CHECK_EQ(0, r.datasn);
	CHECK_EQ(0, r.offset);
	CHECK_EQ(2048, r.data_len);
	CHECK_MEM_EQ(f.sf.rv.data + 2 * 512, r.data, 2048);
	CHECK_EQ(2, r.expcmdsn);
	CHECK(sn_lt(r.expcmdsn, r.maxcmdsn)); /* the window is open */
	CHECK_EQ(0, fx_pending(&f));
	fx_fini(&f);
}

static void test_data_in_split_by_initiator_mrdsl(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t cdb[16];
	fx_init(&f);
	fx_ready(&f, "MaxRecvDataSegmentLength=512");
	fill_disk(&f);
	fx_read10_cdb(cdb, 0, 8);
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_READ, 0x11, 4096, cdb, NULL, 0);
	for (uint32_t i = 0; i < 8; i++) {
		CHECK(fx_next(&f, &r));
		CHECK_EQ(ISCSI_OP_SCSI_DATA_IN, r.opcode);
		CHECK_EQ(512, r.data_len);
		CHECK_EQ(i, r.datasn);
		CHECK_EQ(i * 512, r.offset);
		CHECK_MEM_EQ(f.sf.rv.data + i * 512, r.data, 512);
		CHECK_EQ(i == 7 ? ISCSI_FLAG_FINAL | ISCSI_FLAG_DATA_STATUS : 0, r.flags);
	}
	CHECK_EQ(0, fx_pending(&f));
	fx_fini(&f);
}

static void test_data_in_sequences_bounded_by_max_burst(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t cdb[16];
	fx_init(&f);
	fx_ready(&f, "MaxBurstLength=1024\nFirstBurstLength=1024");
	fx_read10_cdb(cdb, 0, 8);
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_READ, 0x12, 4096, cdb, NULL, 0);
	for (uint32_t i = 0; i < 4; i++) {
		CHECK(fx_next(&f, &r));
		CHECK_EQ(1024, r.data_len);
		CHECK_EQ(i, r.datasn);
		CHECK(r.flags & ISCSI_FLAG_FINAL); /* each PDU ends a 1024-byte sequence */
		CHECK_EQ(i == 3, (r.flags & ISCSI_FLAG_DATA_STATUS) != 0);
	}
	fx_fini(&f);
}

static void test_read_underflow_residual(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t cdb[16];
	fx_init(&f);
	fx_ready(&f, NULL);
	fx_read10_cdb(cdb, 0, 2);
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_READ, 0x13, 4096, cdb, NULL, 0);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(1024, r.data_len);
	CHECK_EQ(ISCSI_FLAG_FINAL | ISCSI_FLAG_DATA_STATUS | ISCSI_FLAG_DATA_UNDERFLOW, r.flags);
	CHECK_EQ(3072, r.residual);
	fx_fini(&f);
}

static void test_read_overflow_residual(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t cdb[16];
	fx_init(&f);
	fx_ready(&f, NULL);
	fx_read10_cdb(cdb, 0, 4);
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_READ, 0x14, 512, cdb, NULL, 0);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(512, r.data_len);
	CHECK_EQ(ISCSI_FLAG_FINAL | ISCSI_FLAG_DATA_STATUS | ISCSI_FLAG_DATA_OVERFLOW, r.flags);
	CHECK_EQ(1536, r.residual);
	fx_fini(&f);
}

static void test_check_condition_sends_response_with_sense(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t cdb[16];
	fx_init(&f);
	fx_ready(&f, NULL);
	fx_read10_cdb(cdb, FX_BLOCKS, 1); /* one past the end */
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_READ, 0x15, 512, cdb, NULL, 0);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_SCSI_RSP, r.opcode);
	CHECK_EQ(0x02, r.bhs[ISCSI_BHS_STATUS]);
	CHECK_EQ(ISCSI_RSP_COMMAND_COMPLETED_AT_TARGET, r.bhs[ISCSI_BHS_RESPONSE]);
	CHECK(r.data_len >= 2 + 14);
	uint16_t sense_len = get_be16(r.data);
	CHECK_EQ(r.data_len - 2, sense_len);
	CHECK_EQ(0x05, r.data[2 + 2] & 0x0f); /* ILLEGAL REQUEST */
	CHECK_EQ(0x21, r.data[2 + 12]);       /* LBA OUT OF RANGE */
	CHECK_EQ(0, fx_pending(&f));
	fx_fini(&f);
}

static void test_unit_attention_reported_once_after_login(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t cdb[16] = { 0 }; /* TEST UNIT READY */
	fx_init(&f);
	CHECK_EQ(0, fx_login(&f, NULL));
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL, 0x16, 0, cdb, NULL, 0);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(0x02, r.bhs[ISCSI_BHS_STATUS]);
	CHECK_EQ(0x29, r.data[2 + 12]);
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL, 0x17, 0, cdb, NULL, 0);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(0x00, r.bhs[ISCSI_BHS_STATUS]);
	CHECK_EQ(0, r.data_len);
	CHECK_EQ(0, r.flags & (ISCSI_FLAG_RSP_UNDERFLOW | ISCSI_FLAG_RSP_OVERFLOW));
	fx_fini(&f);
}

static void test_absent_lun_inquiry_answers_qualifier_3(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t cdb[16] = { 0x12, 0, 0, 0, 36 };
	fx_init(&f);
	fx_ready(&f, NULL);
	uint8_t bhs[ISCSI_BHS_LEN] = { ISCSI_OP_SCSI_CMD, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_READ };
	bhs[ISCSI_BHS_LUN + 1] = 1; /* LUN 1 */
	put_be32(bhs + ISCSI_BHS_INITIATOR_TASK_TAG, 0x18);
	put_be32(bhs + ISCSI_BHS_EXPECTED_DATA_TRANSFER_LENGTH, 36);
	put_be32(bhs + ISCSI_BHS_CMDSN, f.cmdsn++);
	memcpy(bhs + ISCSI_BHS_CDB, cdb, 16);
	fx_send(&f, bhs, NULL, 0);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_SCSI_DATA_IN, r.opcode);
	CHECK(r.data_len >= 1);
	CHECK_EQ(0x7f, r.data[0]);
	fx_fini(&f);
}

/* ---- writes ----------------------------------------------------------------------- */

static uint8_t pattern[8192];

static void make_pattern(void)
{
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7 + 1);
}

static void expect_good_response(struct iscsi_fixture *f, uint32_t itt)
{
	struct fx_pdu r;
	CHECK(fx_next(f, &r));
	CHECK_EQ(ISCSI_OP_SCSI_RSP, r.opcode);
	CHECK_EQ(itt, r.itt);
	CHECK_EQ(0, r.bhs[ISCSI_BHS_STATUS]);
}

static void expect_r2t(struct iscsi_fixture *f, uint32_t itt, uint32_t r2tsn, uint32_t offset,
		       uint32_t len, uint32_t *ttt)
{
	struct fx_pdu r;
	CHECK(fx_next(f, &r));
	CHECK_EQ(ISCSI_OP_R2T, r.opcode);
	CHECK_EQ(itt, r.itt);
	CHECK_EQ(r2tsn, get_be32(r.bhs + ISCSI_BHS_R2TSN));
	CHECK_EQ(offset, r.offset);
	CHECK_EQ(len, r.desired);
	CHECK(r.ttt != ISCSI_RESERVED_TAG);
	*ttt = r.ttt;
}

static void test_write_immediate_yes_initial_r2t_yes_all_immediate(void)
{
	struct iscsi_fixture f;
	uint8_t cdb[16];
	make_pattern();
	fx_init(&f);
	fx_ready(&f, "ImmediateData=Yes\nInitialR2T=Yes");
	fx_write10_cdb(cdb, 10, 2);
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_WRITE, 0x20, 1024, cdb, pattern, 1024);
	expect_good_response(&f, 0x20);
	CHECK_MEM_EQ(pattern, f.sf.rv.data + 10 * 512, 1024);
	fx_fini(&f);
}

/* EDTL short of what the CDB asks (libiscsi's iSCSIResiduals, FCP-4 9.4.2 a): the
 * blocks that came are written, the response is GOOD with the overflow residual. */
static void test_write_overflow_writes_what_came(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t cdb[16], second[512];
	make_pattern();
	fx_init(&f);
	fx_ready(&f, "ImmediateData=Yes\nInitialR2T=Yes");
	memcpy(second, f.sf.rv.data + 11 * 512, 512);
	fx_write10_cdb(cdb, 10, 2);
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_WRITE, 0x2e, 512, cdb, pattern, 512);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_SCSI_RSP, r.opcode);
	CHECK_EQ(0, r.bhs[ISCSI_BHS_STATUS]);
	CHECK(r.flags & ISCSI_FLAG_RSP_OVERFLOW);
	CHECK_EQ(512, r.residual);
	CHECK_MEM_EQ(pattern, f.sf.rv.data + 10 * 512, 512);
	CHECK_MEM_EQ(second, f.sf.rv.data + 11 * 512, 512);
	fx_fini(&f);
}

/* The I_T nexus ends with its connection: so does its RESERVE(6). */
static void test_connection_end_releases_reserve6(void)
{
	struct iscsi_fixture f;
	uint8_t cdb[16] = { RESERVE_6 };
	fx_init(&f);
	fx_ready(&f, NULL);
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL, 0x2f, 0, cdb, NULL, 0);
	expect_good_response(&f, 0x2f);
	CHECK(f.sf.lun.res.reserved6);
	CHECK(strncmp(f.sf.lun.res.reserve6_nexus, FX_INITIATOR ",i,0x",
		      strlen(FX_INITIATOR ",i,0x")) == 0);
	fx_fini(&f); /* the transport goes away */
	CHECK(!f.sf.lun.res.reserved6);
}

static void test_write_immediate_yes_initial_r2t_yes_rest_solicited(void)
{
	struct iscsi_fixture f;
	uint8_t cdb[16];
	uint32_t ttt;
	make_pattern();
	fx_init(&f);
	fx_ready(&f, "ImmediateData=Yes\nInitialR2T=Yes");
	fx_write10_cdb(cdb, 0, 8);
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_WRITE, 0x21, 4096, cdb, pattern, 1024);
	expect_r2t(&f, 0x21, 0, 1024, 3072, &ttt);
	fx_data_out(&f, 0x21, ttt, 0, 1024, false, pattern + 1024, 2048);
	CHECK_EQ(0, fx_pending(&f));
	fx_data_out(&f, 0x21, ttt, 1, 3072, true, pattern + 3072, 1024);
	expect_good_response(&f, 0x21);
	CHECK_MEM_EQ(pattern, f.sf.rv.data, 4096);
	fx_fini(&f);
}

/* StatSN (RFC 7143 11.8, 11.7): an R2T carries the next StatSN without taking it, a
 * Data-In takes one only when it carries the status. */
static void test_statsn_taken_only_by_status(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t cdb[16];
	uint32_t ttt;
	make_pattern();
	fx_init(&f);
	fx_ready(&f, "ImmediateData=No\nInitialR2T=Yes\nMaxRecvDataSegmentLength=512");
	uint32_t next = f.expstatsn;
	fx_write10_cdb(cdb, 0, 2);
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_WRITE, 0x24, 1024, cdb, NULL, 0);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_R2T, r.opcode);
	CHECK_EQ(next, r.statsn);
	ttt = r.ttt;
	fx_data_out(&f, 0x24, ttt, 0, 0, true, pattern, 1024);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_SCSI_RSP, r.opcode);
	CHECK_EQ(next, r.statsn);
	fx_read10_cdb(cdb, 0, 2);
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_READ, 0x25, 1024, cdb, NULL, 0);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(0, r.flags & ISCSI_FLAG_DATA_STATUS);
	CHECK(fx_next(&f, &r));
	CHECK(r.flags & ISCSI_FLAG_DATA_STATUS);
	CHECK_EQ(next + 1, r.statsn);
	CHECK_MEM_EQ(pattern + 512, r.data, 512);
	CHECK_EQ(0, fx_pending(&f));
	fx_fini(&f);
}

static void test_write_immediate_no_initial_r2t_yes(void)
{
	struct iscsi_fixture f;
	uint8_t cdb[16];
	uint32_t ttt;
	make_pattern();
	fx_init(&f);
	fx_ready(&f, "ImmediateData=No\nInitialR2T=Yes");
	fx_write10_cdb(cdb, 4, 4);
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_WRITE, 0x22, 2048, cdb, NULL, 0);
	expect_r2t(&f, 0x22, 0, 0, 2048, &ttt);
	fx_data_out(&f, 0x22, ttt, 0, 0, true, pattern, 2048);
	expect_good_response(&f, 0x22);
	CHECK_MEM_EQ(pattern, f.sf.rv.data + 4 * 512, 2048);
	fx_fini(&f);
}

static void test_immediate_data_when_not_negotiated_is_rejected(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t cdb[16];
	make_pattern();
	fx_init(&f);
	fx_ready(&f, "ImmediateData=No");
	fx_write10_cdb(cdb, 0, 1);
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_WRITE, 0x23, 512, cdb, pattern, 512);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_REJECT, r.opcode);
	CHECK(!f.link.closed);
	fx_fini(&f);
}

static void test_write_immediate_yes_initial_r2t_no(void)
{
	struct iscsi_fixture f;
	uint8_t cdb[16];
	uint32_t ttt;
	make_pattern();
	fx_init(&f);
	fx_ready(&f, "ImmediateData=Yes\nInitialR2T=No\nFirstBurstLength=2048");
	fx_write10_cdb(cdb, 0, 12);
	/* 512 immediate, then unsolicited Data-Out up to FirstBurstLength, then R2T */
	fx_scsi_cmd(&f, ISCSI_FLAG_CMD_WRITE, 0x24, 6144, cdb, pattern, 512);
	expect_r2t(&f, 0x24, 0, 2048, 4096, &ttt);
	fx_data_out(&f, 0x24, ISCSI_RESERVED_TAG, 0, 512, false, pattern + 512, 1024);
	fx_data_out(&f, 0x24, ISCSI_RESERVED_TAG, 1, 1536, true, pattern + 1536, 512);
	CHECK_EQ(0, fx_pending(&f));
	fx_data_out(&f, 0x24, ttt, 0, 2048, true, pattern + 2048, 4096);
	expect_good_response(&f, 0x24);
	CHECK_MEM_EQ(pattern, f.sf.rv.data, 6144);
	fx_fini(&f);
}

/* The data path's counters: one command, its PDUs, and each copy of its payload (once:
 * out of the transport's bytes straight into the command's buffer). */
static void test_counters_count_commands_pdus_and_copies(void)
{
	struct iscsi_fixture f;
	uint8_t cdb[16];
	uint32_t ttt;
	make_pattern();
	fx_init(&f);
	fx_ready(&f, "ImmediateData=Yes\nInitialR2T=No\nFirstBurstLength=2048");
	struct iscsi_data_counters before = f.srv.data;
	fx_write10_cdb(cdb, 0, 12);
	fx_scsi_cmd(&f, ISCSI_FLAG_CMD_WRITE, 0x24, 6144, cdb, pattern, 512);
	expect_r2t(&f, 0x24, 0, 2048, 4096, &ttt);
	fx_data_out(&f, 0x24, ISCSI_RESERVED_TAG, 0, 512, true, pattern + 512, 1536);
	fx_data_out(&f, 0x24, ttt, 0, 2048, true, pattern + 2048, 4096);
	expect_good_response(&f, 0x24);
	const struct iscsi_data_counters *d = &f.srv.data;
	CHECK_EQ(1, d->commands - before.commands);
	CHECK_EQ(3, d->rx_pdus - before.rx_pdus);
	CHECK_EQ(6144, d->rx_payload_bytes - before.rx_payload_bytes);
	CHECK_EQ(6144, d->rx_copied_bytes - before.rx_copied_bytes);
	CHECK_EQ(0, d->rx_discarded_bytes - before.rx_discarded_bytes);
	CHECK_EQ(2, d->tx_pdus - before.tx_pdus); /* the R2T and the response */
	CHECK_EQ(0, d->tx_payload_bytes - before.tx_payload_bytes);
	fx_fini(&f);
}

static void test_write_immediate_no_initial_r2t_no(void)
{
	struct iscsi_fixture f;
	uint8_t cdb[16];
	make_pattern();
	fx_init(&f);
	fx_ready(&f, "ImmediateData=No\nInitialR2T=No");
	fx_write10_cdb(cdb, 0, 4);
	fx_scsi_cmd(&f, ISCSI_FLAG_CMD_WRITE, 0x25, 2048, cdb, NULL, 0);
	CHECK_EQ(0, fx_pending(&f)); /* all of it fits in the first burst: no R2T */
	fx_data_out(&f, 0x25, ISCSI_RESERVED_TAG, 0, 0, false, pattern, 1024);
	fx_data_out(&f, 0x25, ISCSI_RESERVED_TAG, 1, 1024, true, pattern + 1024, 1024);
	expect_good_response(&f, 0x25);
	CHECK_MEM_EQ(pattern, f.sf.rv.data, 2048);
	fx_fini(&f);
}

static void test_unsolicited_burst_ended_early_is_solicited(void)
{
	struct iscsi_fixture f;
	uint8_t cdb[16];
	uint32_t ttt;
	make_pattern();
	fx_init(&f);
	fx_ready(&f, "ImmediateData=No\nInitialR2T=No");
	fx_write10_cdb(cdb, 0, 4);
	fx_scsi_cmd(&f, ISCSI_FLAG_CMD_WRITE, 0x26, 2048, cdb, NULL, 0);
	fx_data_out(&f, 0x26, ISCSI_RESERVED_TAG, 0, 0, true, pattern, 512);
	expect_r2t(&f, 0x26, 0, 512, 1536, &ttt);
	fx_data_out(&f, 0x26, ttt, 0, 512, true, pattern + 512, 1536);
	expect_good_response(&f, 0x26);
	CHECK_MEM_EQ(pattern, f.sf.rv.data, 2048);
	fx_fini(&f);
}

static void test_r2ts_bounded_by_max_burst_and_outstanding(void)
{
	struct iscsi_fixture f;
	uint8_t cdb[16];
	uint32_t ttt0, ttt1, ttt2, ttt3;
	make_pattern();
	fx_init(&f);
	fx_ready(&f, "ImmediateData=No\nMaxBurstLength=1024\nFirstBurstLength=512\nMaxOutstandingR2T=2");
	fx_write10_cdb(cdb, 0, 8);
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_WRITE, 0x27, 4096, cdb, NULL, 0);
	expect_r2t(&f, 0x27, 0, 0, 1024, &ttt0);
	expect_r2t(&f, 0x27, 1, 1024, 1024, &ttt1);
	CHECK(ttt0 != ttt1);
	CHECK_EQ(0, fx_pending(&f)); /* no third while two are outstanding */
	fx_data_out(&f, 0x27, ttt1, 0, 1024, true, pattern + 1024, 1024);
	expect_r2t(&f, 0x27, 2, 2048, 1024, &ttt2);
	fx_data_out(&f, 0x27, ttt0, 0, 0, false, pattern, 512);
	fx_data_out(&f, 0x27, ttt0, 1, 512, true, pattern + 512, 512);
	expect_r2t(&f, 0x27, 3, 3072, 1024, &ttt3);
	fx_data_out(&f, 0x27, ttt3, 0, 3072, true, pattern + 3072, 1024);
	fx_data_out(&f, 0x27, ttt2, 0, 2048, true, pattern + 2048, 1024);
	expect_good_response(&f, 0x27);
	CHECK_MEM_EQ(pattern, f.sf.rv.data, 4096);
	fx_fini(&f);
}

static void data_out_error_closes(uint32_t datasn, uint32_t offset)
{
	struct iscsi_fixture f;
	uint8_t cdb[16];
	uint32_t ttt;
	make_pattern();
	fx_init(&f);
	fx_ready(&f, "ImmediateData=No");
	fx_write10_cdb(cdb, 0, 2);
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_WRITE, 0x28, 1024, cdb, NULL, 0);
	expect_r2t(&f, 0x28, 0, 0, 1024, &ttt);
	fx_data_out(&f, 0x28, ttt, datasn, offset, false, pattern, 512);
	CHECK(f.link.closed);
	CHECK_EQ(0, fx_pending(&f));
	fx_fini(&f);
}

static void test_data_out_wrong_datasn_ends_connection(void) { data_out_error_closes(1, 0); }
static void test_data_out_wrong_offset_ends_connection(void) { data_out_error_closes(0, 512); }
static void test_data_out_datasn_minus_one_ends_connection(void) { data_out_error_closes(0xffffffff, 0); }

static void test_data_out_past_edtl_ends_connection(void)
{
	struct iscsi_fixture f;
	uint8_t cdb[16];
	make_pattern();
	fx_init(&f);
	fx_ready(&f, "InitialR2T=No\nImmediateData=No");
	fx_write10_cdb(cdb, 0, 1);
	fx_scsi_cmd(&f, ISCSI_FLAG_CMD_WRITE, 0x29, 512, cdb, NULL, 0);
	fx_data_out(&f, 0x29, ISCSI_RESERVED_TAG, 0, 0, true, pattern, 1024);
	CHECK(f.link.closed);
	fx_fini(&f);
}

static void test_data_out_for_unknown_task_is_dropped(void)
{
	struct iscsi_fixture f;
	make_pattern();
	fx_init(&f);
	fx_ready(&f, NULL);
	fx_data_out(&f, 0x99, 5, 0, 0, true, pattern, 512);
	CHECK(!f.link.closed);
	CHECK_EQ(0, fx_pending(&f));
	fx_fini(&f);
}

static void test_oversized_transfer_fails_with_check_condition(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t cdb[16];
	fx_init(&f);
	fx_ready(&f, NULL);
	fx_read10_cdb(cdb, 0, 1);
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_READ, 0x2a, SCSI_MAX_TRANSFER_BYTES + 512,
		    cdb, NULL, 0);
	CHECK(fx_next(&f, &r));
	CHECK_EQ(ISCSI_OP_SCSI_RSP, r.opcode);
	CHECK_EQ(0x02, r.bhs[ISCSI_BHS_STATUS]);
	fx_fini(&f);
}

static void test_commands_run_concurrently(void)
{
	struct iscsi_fixture f;
	struct fx_pdu r;
	uint8_t cdb[16];
	fx_init(&f);
	fx_ready(&f, NULL);
	f.gate_closed = true;
	fx_read10_cdb(cdb, 0, 1);
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_READ, 0x30, 512, cdb, NULL, 0);
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_READ, 0x31, 512, cdb, NULL, 0);
	fx_scsi_cmd(&f, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_READ, 0x32, 512, cdb, NULL, 0);
	CHECK_EQ(3, f.c->sess.cmds_in_flight);
	CHECK_EQ(0, fx_pending(&f));
	f.gate_closed = false;
	waitq_wake_all(&f.gate);
	fx_run();
	CHECK_EQ(3, fx_pending(&f));
	uint32_t last_max = 0;
	for (int i = 0; i < 3; i++) {
		CHECK(fx_next(&f, &r));
		CHECK_EQ(ISCSI_OP_SCSI_DATA_IN, r.opcode);
		CHECK(r.maxcmdsn > last_max); /* each completion reopens the window */
		last_max = r.maxcmdsn;
	}
	CHECK_EQ(0, f.c->sess.cmds_in_flight);
	fx_fini(&f);
}

int main(void)
{
	RUN(test_read_single_data_in_with_status);
	RUN(test_data_in_split_by_initiator_mrdsl);
	RUN(test_data_in_sequences_bounded_by_max_burst);
	RUN(test_write_overflow_writes_what_came);
	RUN(test_connection_end_releases_reserve6);
	RUN(test_read_underflow_residual);
	RUN(test_read_overflow_residual);
	RUN(test_check_condition_sends_response_with_sense);
	RUN(test_unit_attention_reported_once_after_login);
	RUN(test_absent_lun_inquiry_answers_qualifier_3);
	RUN(test_write_immediate_yes_initial_r2t_yes_all_immediate);
	RUN(test_write_immediate_yes_initial_r2t_yes_rest_solicited);
	RUN(test_write_immediate_no_initial_r2t_yes);
	RUN(test_statsn_taken_only_by_status);
	RUN(test_immediate_data_when_not_negotiated_is_rejected);
	RUN(test_write_immediate_yes_initial_r2t_no);
	RUN(test_write_immediate_no_initial_r2t_no);
	RUN(test_counters_count_commands_pdus_and_copies);
	RUN(test_unsolicited_burst_ended_early_is_solicited);
	RUN(test_r2ts_bounded_by_max_burst_and_outstanding);
	RUN(test_data_out_wrong_datasn_ends_connection);
	RUN(test_data_out_wrong_offset_ends_connection);
	RUN(test_data_out_datasn_minus_one_ends_connection);
	RUN(test_data_out_past_edtl_ends_connection);
	RUN(test_data_out_for_unknown_task_is_dropped);
	RUN(test_oversized_transfer_fails_with_check_condition);
	RUN(test_commands_run_concurrently);
	return check_report("test_iscsi_cmd");
}
