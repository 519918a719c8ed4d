/* Host tests of reservations (net/scsi_reserve.c, net/scsi_pr.c): RESERVE(6) and
 * RELEASE(6), PERSISTENT RESERVE IN and OUT, RESERVATION CONFLICT per type, and what
 * ends a reservation. Two I_T nexuses, "A" and "B", take turns on one LUN. */
#include <stdlib.h>

#include "check.h"
#include "scsi_test_support.h"

#define BLOCKS 64
#define BS 512

static struct scsi_fixture f;
static uint8_t buf[4096];

static void as(const char *nexus)
{
	snprintf(f.nexus.id, sizeof(f.nexus.id), "%s", nexus);
}

static void setup(void)
{
	fixture_init(&f, BLOCKS, BS, true);
	as("A");
}

static uint8_t cdb6(uint8_t op)
{
	uint8_t cdb[6] = { op };
	return run_cdb(&f, cdb, 6, NULL, 0);
}

static uint8_t read1(void)
{
	uint8_t cdb[10];
	cdb10(cdb, READ_10, 0, 1, 1);
	return run_cdb(&f, cdb, 10, buf, BS);
}

static uint8_t write1(void)
{
	uint8_t cdb[10];
	memset(buf, 0x3c, BS);
	cdb10(cdb, WRITE_10, 0, 1, 1);
	return run_cdb(&f, cdb, 10, buf, BS);
}

static uint8_t prout(uint8_t sa, uint8_t type, uint64_t key, uint64_t sa_key)
{
	uint8_t cdb[10] = { PERSISTENT_RESERVE_OUT, sa, type, 0, 0, 0, 0, 0, PROUT_PARAM_LEN, 0 };
	uint8_t param[PROUT_PARAM_LEN] = { 0 };
	for (int i = 0; i < 8; i++) {
		param[i] = (uint8_t)(key >> (56 - 8 * i));
		param[8 + i] = (uint8_t)(sa_key >> (56 - 8 * i));
	}
	return run_cdb(&f, cdb, 10, param, sizeof(param));
}

static uint8_t prin(uint8_t sa, uint16_t alloc_len)
{
	uint8_t cdb[10] = { PERSISTENT_RESERVE_IN, sa, 0, 0, 0, 0, 0,
			    (uint8_t)(alloc_len >> 8), (uint8_t)alloc_len, 0 };
	memset(buf, 0xee, sizeof(buf));
	return run_cdb(&f, cdb, 10, buf, sizeof(buf));
}

/* A and B registered with keys 0xa and 0xb; A reserved with type. */
static void a_reserves(uint8_t type)
{
	as("B");
	CHECK_EQ(SAM_STAT_GOOD, prout(PROUT_REGISTER, 0, 0, 0xb));
	as("A");
	CHECK_EQ(SAM_STAT_GOOD, prout(PROUT_REGISTER, 0, 0, 0xa));
	CHECK_EQ(SAM_STAT_GOOD, prout(PROUT_RESERVE, type, 0xa, 0));
}

/* ---- RESERVE(6) / RELEASE(6) ---- */

static void test_reserve6_refuses_other_nexus(void)
{
	setup();
	CHECK_EQ(SAM_STAT_GOOD, cdb6(RESERVE_6));
	CHECK_EQ(SAM_STAT_GOOD, cdb6(RESERVE_6)); /* again by the holder */
	CHECK_EQ(SAM_STAT_GOOD, read1());
	as("B");
	CHECK_EQ(SAM_STAT_RESERVATION_CONFLICT, cdb6(RESERVE_6));
	CHECK_EQ(SAM_STAT_RESERVATION_CONFLICT, read1());
	CHECK_EQ(SAM_STAT_RESERVATION_CONFLICT, cdb6(TEST_UNIT_READY));
	CHECK_EQ(0, f.cmd.sense_len);
	fixture_fini(&f);
}

static void test_reserve6_lets_inquiry_through(void)
{
	setup();
	cdb6(RESERVE_6);
	as("B");
	uint8_t cdb[6] = { INQUIRY, 0, 0, 0, 36, 0 };
	CHECK_EQ(SAM_STAT_GOOD, run_cdb(&f, cdb, 6, buf, 36));
	fixture_fini(&f);
}

static void test_release6_by_other_nexus_changes_nothing(void)
{
	setup();
	cdb6(RESERVE_6);
	as("B");
	CHECK_EQ(SAM_STAT_GOOD, cdb6(RELEASE_6));
	CHECK_EQ(SAM_STAT_RESERVATION_CONFLICT, cdb6(RESERVE_6));
	as("A");
	CHECK_EQ(SAM_STAT_GOOD, cdb6(RELEASE_6));
	as("B");
	CHECK_EQ(SAM_STAT_GOOD, cdb6(RESERVE_6));
	fixture_fini(&f);
}

static void test_nexus_lost_releases_reserve6(void)
{
	setup();
	cdb6(RESERVE_6);
	struct scsi_nexus other = { .id = "B" };
	scsi_nexus_lost(&f.lun, &other); /* not the holder: nothing */
	as("B");
	CHECK_EQ(SAM_STAT_RESERVATION_CONFLICT, cdb6(RESERVE_6));
	as("A");
	scsi_nexus_lost(&f.lun, &f.nexus);
	as("B");
	CHECK_EQ(SAM_STAT_GOOD, cdb6(RESERVE_6));
	fixture_fini(&f);
}

static void test_lun_reset_releases_reserve6(void)
{
	setup();
	cdb6(RESERVE_6);
	scsi_lun_reset(&f.lun);
	as("B");
	CHECK_EQ(SAM_STAT_GOOD, write1());
	fixture_fini(&f);
}

static void test_reserve6_under_persistent_reservation_conflicts(void)
{
	setup();
	a_reserves(PR_TYPE_WRITE_EXCLUSIVE);
	CHECK_EQ(SAM_STAT_RESERVATION_CONFLICT, cdb6(RESERVE_6));
	fixture_fini(&f);
}

/* ---- registration ---- */

static void test_register_then_read_keys(void)
{
	setup();
	CHECK_EQ(SAM_STAT_GOOD, prout(PROUT_REGISTER, 0, 0, 0x1122334455667788ull));
	CHECK_EQ(SAM_STAT_GOOD, prin(PRIN_READ_KEYS, 4096));
	CHECK_EQ(1, get_be32(buf));     /* PRgeneration */
	CHECK_EQ(8, get_be32(buf + 4)); /* one key */
	CHECK_EQ(0x1122334455667788ull, get_be64(buf + 8));
	CHECK_EQ(16, f.cmd.data_produced);
	fixture_fini(&f);
}

static void test_read_keys_truncated_to_allocation_length(void)
{
	setup();
	a_reserves(PR_TYPE_WRITE_EXCLUSIVE);
	CHECK_EQ(SAM_STAT_GOOD, prin(PRIN_READ_KEYS, 12));
	CHECK_EQ(12, f.cmd.data_produced);
	CHECK_EQ(16, get_be32(buf + 4)); /* the length of all the keys, not of what was sent */
	fixture_fini(&f);
}

static void test_register_with_wrong_key_conflicts(void)
{
	setup();
	CHECK_EQ(SAM_STAT_RESERVATION_CONFLICT, prout(PROUT_REGISTER, 0, 0x99, 0xa));
	prout(PROUT_REGISTER, 0, 0, 0xa);
	CHECK_EQ(SAM_STAT_RESERVATION_CONFLICT, prout(PROUT_REGISTER, 0, 0x99, 0xc));
	CHECK_EQ(SAM_STAT_GOOD, prout(PROUT_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0x99, 0xc));
	prin(PRIN_READ_KEYS, 4096);
	CHECK_EQ(0xc, get_be64(buf + 8));
	fixture_fini(&f);
}

static void test_unregister_with_zero_key(void)
{
	setup();
	prout(PROUT_REGISTER, 0, 0, 0xa);
	CHECK_EQ(SAM_STAT_GOOD, prout(PROUT_REGISTER, 0, 0xa, 0));
	prin(PRIN_READ_KEYS, 4096);
	CHECK_EQ(0, get_be32(buf + 4));
	fixture_fini(&f);
}

static void test_prout_parameter_list_length_checked(void)
{
	setup();
	uint8_t cdb[10] = { PERSISTENT_RESERVE_OUT, PROUT_REGISTER, 0, 0, 0, 0, 0, 0, 16, 0 };
	uint8_t param[24] = { 0 };
	run_cdb(&f, cdb, 10, param, 16);
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, f.cmd.status);
	CHECK_EQ(ASC_PARAMETER_LIST_LENGTH_ERROR, sense_asc(&f.cmd));
	fixture_fini(&f);
}

static void test_aptpl_refused(void)
{
	setup();
	uint8_t cdb[10] = { PERSISTENT_RESERVE_OUT, PROUT_REGISTER, 0, 0, 0, 0, 0, 0, 24, 0 };
	uint8_t param[24] = { 0 };
	param[15] = 1;
	param[20] = PROUT_APTPL; /* we cannot persist through power loss */
	run_cdb(&f, cdb, 10, param, 24);
	CHECK_EQ(ASC_INVALID_FIELD_IN_PARAMETER_LIST, sense_asc(&f.cmd));
	fixture_fini(&f);
}

/* ---- reservation ---- */

static void test_reserve_then_read_reservation(void)
{
	setup();
	a_reserves(PR_TYPE_EXCLUSIVE_ACCESS);
	CHECK_EQ(SAM_STAT_GOOD, prin(PRIN_READ_RESERVATION, 4096));
	CHECK_EQ(16, get_be32(buf + 4));
	CHECK_EQ(0xa, get_be64(buf + 8));
	CHECK_EQ(PR_TYPE_EXCLUSIVE_ACCESS, buf[21]);
	fixture_fini(&f);
}

static void test_all_registrants_reservation_reads_key_zero(void)
{
	setup();
	a_reserves(PR_TYPE_WRITE_EXCLUSIVE_ALL_REGISTRANTS);
	prin(PRIN_READ_RESERVATION, 4096);
	CHECK_EQ(0, get_be64(buf + 8));
	CHECK_EQ(PR_TYPE_WRITE_EXCLUSIVE_ALL_REGISTRANTS, buf[21]);
	fixture_fini(&f);
}

static void test_reserve_needs_registration(void)
{
	setup();
	CHECK_EQ(SAM_STAT_RESERVATION_CONFLICT, prout(PROUT_RESERVE, PR_TYPE_WRITE_EXCLUSIVE, 0, 0));
	fixture_fini(&f);
}

static void test_reserve_by_other_registrant_conflicts(void)
{
	setup();
	a_reserves(PR_TYPE_WRITE_EXCLUSIVE);
	as("B");
	CHECK_EQ(SAM_STAT_RESERVATION_CONFLICT, prout(PROUT_RESERVE, PR_TYPE_WRITE_EXCLUSIVE, 0xb, 0));
	fixture_fini(&f);
}

static void test_reserve_bad_type_is_invalid(void)
{
	setup();
	prout(PROUT_REGISTER, 0, 0, 0xa);
	prout(PROUT_RESERVE, 2, 0xa, 0);
	CHECK_EQ(ASC_INVALID_FIELD_IN_CDB, sense_asc(&f.cmd));
	CHECK_EQ(2, sense_field_pointer(&f.cmd));
	fixture_fini(&f);
}

static void test_write_exclusive_access(void)
{
	setup();
	a_reserves(PR_TYPE_WRITE_EXCLUSIVE);
	CHECK_EQ(SAM_STAT_GOOD, write1());
	as("B"); /* registered, not the holder */
	CHECK_EQ(SAM_STAT_GOOD, read1());
	CHECK_EQ(SAM_STAT_RESERVATION_CONFLICT, write1());
	as("C"); /* not registered */
	CHECK_EQ(SAM_STAT_GOOD, read1());
	CHECK_EQ(SAM_STAT_RESERVATION_CONFLICT, write1());
	fixture_fini(&f);
}

static void test_exclusive_access_access(void)
{
	setup();
	a_reserves(PR_TYPE_EXCLUSIVE_ACCESS);
	as("B");
	CHECK_EQ(SAM_STAT_RESERVATION_CONFLICT, read1());
	CHECK_EQ(SAM_STAT_RESERVATION_CONFLICT, write1());
	CHECK_EQ(SAM_STAT_GOOD, cdb6(TEST_UNIT_READY)); /* allowed under any type */
	fixture_fini(&f);
}

static void test_registrants_only_access(void)
{
	setup();
	a_reserves(PR_TYPE_EXCLUSIVE_ACCESS_REGISTRANTS_ONLY);
	as("B");
	CHECK_EQ(SAM_STAT_GOOD, read1());
	CHECK_EQ(SAM_STAT_GOOD, write1());
	as("C");
	CHECK_EQ(SAM_STAT_RESERVATION_CONFLICT, read1());
	CHECK_EQ(SAM_STAT_RESERVATION_CONFLICT, write1());
	fixture_fini(&f);
}

static void test_write_exclusive_registrants_only_lets_others_read(void)
{
	setup();
	a_reserves(PR_TYPE_WRITE_EXCLUSIVE_REGISTRANTS_ONLY);
	as("C");
	CHECK_EQ(SAM_STAT_GOOD, read1());
	CHECK_EQ(SAM_STAT_RESERVATION_CONFLICT, write1());
	fixture_fini(&f);
}

static void test_release_ends_reservation(void)
{
	setup();
	a_reserves(PR_TYPE_EXCLUSIVE_ACCESS);
	CHECK_EQ(SAM_STAT_GOOD, prout(PROUT_RELEASE, PR_TYPE_EXCLUSIVE_ACCESS, 0xa, 0));
	as("C");
	CHECK_EQ(SAM_STAT_GOOD, write1());
	prin(PRIN_READ_RESERVATION, 4096);
	CHECK_EQ(0, get_be32(buf + 4));
	fixture_fini(&f);
}

static void test_release_with_other_type_is_invalid(void)
{
	setup();
	a_reserves(PR_TYPE_EXCLUSIVE_ACCESS);
	prout(PROUT_RELEASE, PR_TYPE_WRITE_EXCLUSIVE, 0xa, 0);
	CHECK_EQ(ASC_INVALID_RELEASE_OF_PERSISTENT_RESERVATION, sense_asc(&f.cmd));
	as("B");
	CHECK_EQ(SAM_STAT_RESERVATION_CONFLICT, read1()); /* still reserved */
	fixture_fini(&f);
}

static void test_release_by_non_holder_changes_nothing(void)
{
	setup();
	a_reserves(PR_TYPE_EXCLUSIVE_ACCESS);
	as("B");
	CHECK_EQ(SAM_STAT_GOOD, prout(PROUT_RELEASE, PR_TYPE_EXCLUSIVE_ACCESS, 0xb, 0));
	CHECK_EQ(SAM_STAT_RESERVATION_CONFLICT, read1());
	fixture_fini(&f);
}

static void test_holder_unregistering_releases(void)
{
	setup();
	a_reserves(PR_TYPE_EXCLUSIVE_ACCESS);
	prout(PROUT_REGISTER, 0, 0xa, 0);
	as("B");
	CHECK_EQ(SAM_STAT_GOOD, read1());
	fixture_fini(&f);
}

static void test_all_registrants_reservation_outlives_the_reserver(void)
{
	setup();
	a_reserves(PR_TYPE_EXCLUSIVE_ACCESS_ALL_REGISTRANTS);
	prout(PROUT_REGISTER, 0, 0xa, 0); /* A leaves; B still holds it */
	as("C");
	CHECK_EQ(SAM_STAT_RESERVATION_CONFLICT, read1());
	as("B");
	prout(PROUT_REGISTER, 0, 0xb, 0); /* the last registrant leaves */
	as("C");
	CHECK_EQ(SAM_STAT_GOOD, read1());
	fixture_fini(&f);
}

static void test_clear_removes_everything(void)
{
	setup();
	a_reserves(PR_TYPE_EXCLUSIVE_ACCESS);
	as("B");
	CHECK_EQ(SAM_STAT_GOOD, prout(PROUT_CLEAR, 0, 0xb, 0));
	prin(PRIN_READ_KEYS, 4096);
	CHECK_EQ(0, get_be32(buf + 4));
	as("C");
	CHECK_EQ(SAM_STAT_GOOD, write1());
	fixture_fini(&f);
}

static void test_preempt_takes_the_reservation(void)
{
	setup();
	a_reserves(PR_TYPE_EXCLUSIVE_ACCESS);
	as("B");
	CHECK_EQ(SAM_STAT_GOOD, prout(PROUT_PREEMPT, PR_TYPE_WRITE_EXCLUSIVE, 0xb, 0xa));
	prin(PRIN_READ_RESERVATION, 4096);
	CHECK_EQ(0xb, get_be64(buf + 8));
	CHECK_EQ(PR_TYPE_WRITE_EXCLUSIVE, buf[21]);
	prin(PRIN_READ_KEYS, 4096);
	CHECK_EQ(8, get_be32(buf + 4)); /* A's registration is gone */
	CHECK_EQ(0xb, get_be64(buf + 8));
	fixture_fini(&f);
}

static void test_preempt_registration_only(void)
{
	setup();
	as("B");
	prout(PROUT_REGISTER, 0, 0, 0xb);
	as("A");
	prout(PROUT_REGISTER, 0, 0, 0xa);
	CHECK_EQ(SAM_STAT_GOOD, prout(PROUT_PREEMPT, PR_TYPE_WRITE_EXCLUSIVE, 0xa, 0xb));
	prin(PRIN_READ_KEYS, 4096);
	CHECK_EQ(8, get_be32(buf + 4));
	prin(PRIN_READ_RESERVATION, 4096);
	CHECK_EQ(0, get_be32(buf + 4)); /* no reservation was created */
	CHECK_EQ(SAM_STAT_RESERVATION_CONFLICT,
		 prout(PROUT_PREEMPT, PR_TYPE_WRITE_EXCLUSIVE, 0xa, 0x77)); /* no such key */
	fixture_fini(&f);
}

static void test_report_capabilities(void)
{
	setup();
	CHECK_EQ(SAM_STAT_GOOD, prin(PRIN_REPORT_CAPABILITIES, 4096));
	CHECK_EQ(PR_CAPS_LEN, f.cmd.data_produced);
	CHECK_EQ(PR_CAPS_LEN, buf[1]);
	CHECK_EQ(PR_CAPS_TMV, buf[3] & PR_CAPS_TMV);
	CHECK_EQ(0xea, buf[4]); /* the six types */
	CHECK_EQ(0x01, buf[5]);
	fixture_fini(&f);
}

static void test_read_full_status(void)
{
	setup();
	a_reserves(PR_TYPE_WRITE_EXCLUSIVE);
	CHECK_EQ(SAM_STAT_GOOD, prin(PRIN_READ_FULL_STATUS, 4096));
	CHECK_EQ(2 * (24 + 24), get_be32(buf + 4)); /* two descriptors, minimum TransportIDs */
	const uint8_t *b = buf + 8, *a = b + 48; /* B registered first */
	CHECK_EQ(0xb, get_be64(b));
	CHECK_EQ(0, b[12]);
	CHECK_EQ(0xa, get_be64(a));
	CHECK_EQ(PR_FULL_STATUS_R_HOLDER, a[12]);
	CHECK_EQ(PR_TYPE_WRITE_EXCLUSIVE, a[13]);
	CHECK_EQ(TRANSPORT_ID_ISCSI_PORT, a[24]);
	CHECK_EQ('A', a[28]);
	fixture_fini(&f);
}

int main(void)
{
	RUN(test_reserve6_refuses_other_nexus);
	RUN(test_reserve6_lets_inquiry_through);
	RUN(test_release6_by_other_nexus_changes_nothing);
	RUN(test_nexus_lost_releases_reserve6);
	RUN(test_lun_reset_releases_reserve6);
	RUN(test_reserve6_under_persistent_reservation_conflicts);
	RUN(test_register_then_read_keys);
	RUN(test_read_keys_truncated_to_allocation_length);
	RUN(test_register_with_wrong_key_conflicts);
	RUN(test_unregister_with_zero_key);
	RUN(test_prout_parameter_list_length_checked);
	RUN(test_aptpl_refused);
	RUN(test_reserve_then_read_reservation);
	RUN(test_all_registrants_reservation_reads_key_zero);
	RUN(test_reserve_needs_registration);
	RUN(test_reserve_by_other_registrant_conflicts);
	RUN(test_reserve_bad_type_is_invalid);
	RUN(test_write_exclusive_access);
	RUN(test_exclusive_access_access);
	RUN(test_registrants_only_access);
	RUN(test_write_exclusive_registrants_only_lets_others_read);
	RUN(test_release_ends_reservation);
	RUN(test_release_with_other_type_is_invalid);
	RUN(test_release_by_non_holder_changes_nothing);
	RUN(test_holder_unregistering_releases);
	RUN(test_all_registrants_reservation_outlives_the_reserver);
	RUN(test_clear_removes_everything);
	RUN(test_preempt_takes_the_reservation);
	RUN(test_preempt_registration_only);
	RUN(test_report_capabilities);
	RUN(test_read_full_status);
	return check_report("test_scsi_pr");
}
