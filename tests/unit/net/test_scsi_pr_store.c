/* Host tests of persistent reservations that persist (APTPL, net/scsi_pr_store.c and the
 * APTPL paths of net/scsi_pr.c): the encoding round trip and its bounds, the decoder
 * against corrupt blobs, REPORT CAPABILITIES, a store before GOOD on every change while
 * APTPL is in force, a failed store failing the command, and the state restored on a
 * fresh LUN over the same volume (a reboot). Nexuses "A" and "B" share one LUN. */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "scsi_priv.h"
#include "scsi_test_support.h"

#define BLOCKS 64
#define BS 512

static struct scsi_fixture f;
static uint8_t buf[4096];

/* What the volume keeps: the last blob stored, and how the store behaves. */
static struct {
	uint8_t blob[SCSI_PR_STORE_MAX];
	size_t len;
	bool kept;
	unsigned saves;
	int save_error;
	/* what other commands saw of the LUN while each of the first saves ran */
	bool a_registered_seen[4];
	uint8_t type_seen[4];
	struct volume_ops ops;
} store;

static int save(struct volume *v, const void *blob, size_t len)
{
	(void)v;
	if (store.saves < 4) {
		store.a_registered_seen[store.saves] = scsi_pr_find(&f.lun, "A") >= 0;
		store.type_seen[store.saves] = f.lun.res.type;
	}
	store.saves++;
	if (store.save_error)
		return store.save_error;
	CHECK(len <= sizeof(store.blob));
	memcpy(store.blob, blob, len);
	store.len = len;
	store.kept = true;
	return 0;
}

static int load(struct volume *v, void *out, size_t cap, size_t *len)
{
	(void)v;
	if (!store.kept)
		return -ENOENT;
	if (store.len > cap)
		return -EMSGSIZE;
	memcpy(out, store.blob, store.len);
	*len = store.len;
	return 0;
}

static void as(const char *nexus)
{
	snprintf(f.nexus.id, sizeof(f.nexus.id), "%s", nexus);
}

/* A LUN over a volume that keeps reservations (with_store) or not. */
static void setup(bool with_store)
{
	memset(&store, 0, sizeof(store));
	fixture_init(&f, BLOCKS, BS, true);
	if (with_store) {
		store.ops = *f.rv.vol.ops;
		store.ops.save_reservations = save;
		store.ops.load_reservations = load;
		f.rv.vol.ops = &store.ops;
	}
	as("A");
}

/* A power cycle: a fresh LUN over the same volume, restored. */
static int reboot(void)
{
	scsi_lun_init(&f.lun, &f.rv.vol, "iqn.2026-11.test:target");
	return scsi_lun_restore(&f.lun);
}

static uint8_t prout_flags(uint8_t sa, uint8_t type, uint64_t key, uint64_t sa_key,
			   uint8_t flags)
{
	uint8_t cdb[10] = { PERSISTENT_RESERVE_OUT, sa, type, 0, 0, 0, 0, 0, PROUT_PARAM_LEN, 0 };
	uint8_t param[PROUT_PARAM_LEN] = { 0 };
	put_be64(param, key);
	put_be64(param + 8, sa_key);
	param[20] = flags;
	return run_cdb(&f, cdb, 10, param, sizeof(param));
}

static uint8_t prout(uint8_t sa, uint8_t type, uint64_t key, uint64_t sa_key)
{
	return prout_flags(sa, type, key, sa_key, 0);
}

static uint8_t prin(uint8_t sa)
{
	uint8_t cdb[10] = { PERSISTENT_RESERVE_IN, sa, 0, 0, 0, 0, 0, 0x10, 0, 0 };
	memset(buf, 0xee, sizeof(buf));
	return run_cdb(&f, cdb, 10, buf, sizeof(buf));
}

static uint8_t write1(void)
{
	uint8_t cdb[10];
	uint8_t data[BS] = { 0x3c };
	cdb10(cdb, WRITE_10, 0, 1, 1);
	return run_cdb(&f, cdb, 10, data, BS);
}

/* B registers 0xb, A registers 0xa with APTPL and reserves Write Exclusive. */
static void a_reserves_with_aptpl(void)
{
	as("B");
	CHECK_EQ(SAM_STAT_GOOD, prout(PROUT_REGISTER, 0, 0, 0xb));
	as("A");
	CHECK_EQ(SAM_STAT_GOOD, prout_flags(PROUT_REGISTER, 0, 0, 0xa, PROUT_APTPL));
	CHECK_EQ(SAM_STAT_GOOD, prout(PROUT_RESERVE, PR_TYPE_WRITE_EXCLUSIVE, 0xa, 0));
}

/* ---- the encoding ---- */

static void fill_state(struct scsi_reservations *r, unsigned n, size_t name_len)
{
	memset(r, 0, sizeof(*r));
	for (unsigned i = 0; i < n; i++) {
		unsigned slot = (i * 5) % SCSI_PR_MAX_REGISTRATIONS; /* with holes */
		r->reg[slot].used = true;
		r->reg[slot].key = 0x1000 + i;
		memset(r->reg[slot].nexus, 'a' + (int)i, name_len);
		r->reg[slot].nexus[name_len] = 0;
	}
}

static void test_round_trip(void)
{
	static struct scsi_reservations r, back;
	fill_state(&r, 3, 20);
	r.type = PR_TYPE_EXCLUSIVE_ACCESS;
	r.holder = 10; /* slot of the third registration */
	r.generation = 77;
	r.aptpl = true;
	static uint8_t blob[SCSI_PR_STORE_MAX];
	size_t len = scsi_pr_encode(&r, blob);
	CHECK_EQ(16 + 3 * (10 + 20), len);
	CHECK_EQ(0, scsi_pr_decode(blob, len, &back));
	CHECK(back.aptpl);
	CHECK_EQ(77, back.generation);
	CHECK_EQ(PR_TYPE_EXCLUSIVE_ACCESS, back.type);
	CHECK_EQ(2, back.holder); /* entries are compacted: the third */
	CHECK_EQ(0x1002, back.reg[back.holder].key);
	CHECK_STR_EQ(r.reg[10].nexus, back.reg[2].nexus);
	CHECK(!back.reg[3].used);
}

static void test_largest_encoding_fits(void)
{
	static struct scsi_reservations r, back;
	fill_state(&r, 0, 0);
	for (int i = 0; i < SCSI_PR_MAX_REGISTRATIONS; i++) {
		r.reg[i].used = true;
		r.reg[i].key = (uint64_t)i + 1;
		memset(r.reg[i].nexus, 'x', SCSI_NEXUS_ID_MAX - 1);
		r.reg[i].nexus[SCSI_NEXUS_ID_MAX - 1] = 0;
		r.reg[i].nexus[0] = (char)('A' + i); /* names differ */
	}
	r.type = PR_TYPE_WRITE_EXCLUSIVE_ALL_REGISTRANTS;
	r.aptpl = true;
	static uint8_t blob[SCSI_PR_STORE_MAX];
	size_t len = scsi_pr_encode(&r, blob);
	CHECK_EQ(SCSI_PR_STORE_MAX, len);
	CHECK_EQ(0, scsi_pr_decode(blob, len, &back));
	CHECK_EQ(-1, back.holder);
	CHECK_EQ(SCSI_NEXUS_ID_MAX - 1, strlen(back.reg[15].nexus));
}

/* A valid blob of two entries ("A" key 0xa holding Write Exclusive, "B" key 0xb). */
static size_t sample_blob(uint8_t *blob)
{
	static struct scsi_reservations r;
	fill_state(&r, 0, 0);
	r.reg[0] = (struct scsi_pr_registration){ .used = true, .key = 0xa, .nexus = "A" };
	r.reg[1] = (struct scsi_pr_registration){ .used = true, .key = 0xb, .nexus = "B" };
	r.type = PR_TYPE_WRITE_EXCLUSIVE;
	r.holder = 0;
	r.aptpl = true;
	return scsi_pr_encode(&r, blob);
}

static void test_corrupt_blobs_refused(void)
{
	static uint8_t good[SCSI_PR_STORE_MAX], b[SCSI_PR_STORE_MAX];
	static struct scsi_reservations r;
	size_t len = sample_blob(good);
	CHECK_EQ(16 + 2 * 11, len);
	CHECK_EQ(0, scsi_pr_decode(good, len, &r));
	for (size_t n = 0; n < len; n++) /* every truncation */
		CHECK_EQ(-EINVAL, scsi_pr_decode(good, n, &r));
	struct { size_t at; uint8_t value; const char *what; } bad[] = {
		{ 0, 'X', "magic" }, { 4, 2, "version" }, { 5, 0x03, "unknown flag" },
		{ 6, 0x2, "type" }, { 6, 0x0, "no type with a holder" },
		{ 7, 2, "holder past the entries" }, { 12, 17, "count over the limit" },
		{ 12, 3, "count over the entries" }, { 13, 1, "reserved" },
		{ 23, 0, "key 0" }, { 25, 0, "name length 0" }, { 25, 2, "name length" },
		{ 26, 0, "NUL in the name" }, { 37, 'A', "the same nexus twice" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(b, good, len);
		b[bad[i].at] = bad[i].value;
		if (scsi_pr_decode(b, len, &r) != -EINVAL)
			fprintf(stderr, "accepted: %s\n", bad[i].what);
		CHECK_EQ(-EINVAL, scsi_pr_decode(b, len, &r));
	}
	memcpy(b, good, len);
	put_be16(b + 24, 300); /* a name longer than the largest nexus identity */
	CHECK_EQ(-EINVAL, scsi_pr_decode(b, len, &r));
	memcpy(b, good, len);
	b[6] = PR_TYPE_EXCLUSIVE_ACCESS_ALL_REGISTRANTS; /* all registrants: no holder */
	CHECK_EQ(-EINVAL, scsi_pr_decode(b, len, &r));
	b[7] = 0xff;
	CHECK_EQ(0, scsi_pr_decode(b, len, &r));
	memcpy(b, good, len);
	CHECK_EQ(-EINVAL, scsi_pr_decode(b, len + 1, &r)); /* trailing bytes */
}

/* Random corruption: the decoder refuses, or yields a state that keeps our invariants. */
static void test_random_corruption(void)
{
	static uint8_t good[SCSI_PR_STORE_MAX], b[SCSI_PR_STORE_MAX];
	static struct scsi_reservations r;
	size_t len = sample_blob(good);
	srand(11);
	unsigned accepted = 0;
	for (int round = 0; round < 20000; round++) {
		memcpy(b, good, len);
		for (int k = 1 + rand() % 3; k > 0; k--)
			b[rand() % len] = (uint8_t)rand();
		size_t n = len - (size_t)(rand() % 4 == 0 ? rand() % 8 : 0);
		if (scsi_pr_decode(b, n, &r))
			continue;
		accepted++;
		CHECK(r.type == 0 || scsi_pr_valid_type(r.type));
		if (r.type && !scsi_pr_all_registrants(r.type))
			CHECK(r.holder >= 0 && r.holder < SCSI_PR_MAX_REGISTRATIONS &&
			      r.reg[r.holder].used);
		for (int i = 0; i < SCSI_PR_MAX_REGISTRATIONS; i++)
			if (r.reg[i].used)
				CHECK(r.reg[i].key != 0 && r.reg[i].nexus[0] != 0);
	}
	printf("# pr store: %u of 20000 corrupted blobs decoded as valid states\n", accepted);
}

/* ---- APTPL through PERSISTENT RESERVE OUT and IN ---- */

static void test_capabilities(void)
{
	setup(false);
	CHECK_EQ(SAM_STAT_GOOD, prin(PRIN_REPORT_CAPABILITIES));
	CHECK_EQ(0, buf[2] & PR_CAPS_PTPL_C); /* a volume that cannot keep them */
	fixture_fini(&f);

	setup(true);
	CHECK_EQ(SAM_STAT_GOOD, prin(PRIN_REPORT_CAPABILITIES));
	CHECK_EQ(PR_CAPS_PTPL_C, buf[2] & PR_CAPS_PTPL_C);
	CHECK_EQ(0, buf[3] & PR_CAPS_PTPL_A);
	CHECK_EQ(SAM_STAT_GOOD, prout_flags(PROUT_REGISTER, 0, 0, 0xa, PROUT_APTPL));
	CHECK_EQ(SAM_STAT_GOOD, prin(PRIN_REPORT_CAPABILITIES));
	CHECK_EQ(PR_CAPS_PTPL_A, buf[3] & PR_CAPS_PTPL_A);
	CHECK_EQ(PR_CAPS_TMV, buf[3] & PR_CAPS_TMV);
	fixture_fini(&f);
}

static void test_aptpl_survives_reboot(void)
{
	setup(true);
	a_reserves_with_aptpl();
	CHECK_EQ(2, store.saves); /* REGISTER with APTPL, RESERVE */
	/* the old state stays visible until the new one is durable */
	CHECK(!store.a_registered_seen[0]);
	CHECK_EQ(0, store.type_seen[1]);
	CHECK_EQ(SAM_STAT_GOOD, prin(PRIN_READ_KEYS));
	uint32_t generation = get_be32(buf);

	CHECK_EQ(2, reboot());
	as("A");
	CHECK_EQ(SAM_STAT_GOOD, prin(PRIN_READ_KEYS));
	CHECK_EQ(generation, get_be32(buf));
	CHECK_EQ(16, get_be32(buf + 4));
	CHECK_EQ(0xb, get_be64(buf + 8));
	CHECK_EQ(0xa, get_be64(buf + 16));
	CHECK_EQ(SAM_STAT_GOOD, prin(PRIN_READ_RESERVATION));
	CHECK_EQ(16, get_be32(buf + 4));
	CHECK_EQ(0xa, get_be64(buf + 8));
	CHECK_EQ(PR_TYPE_WRITE_EXCLUSIVE, buf[21]);
	CHECK_EQ(SAM_STAT_GOOD, prin(PRIN_REPORT_CAPABILITIES));
	CHECK_EQ(PR_CAPS_PTPL_A, buf[3] & PR_CAPS_PTPL_A);
	CHECK_EQ(SAM_STAT_GOOD, write1()); /* the holder writes */
	as("B");
	CHECK_EQ(SAM_STAT_RESERVATION_CONFLICT, write1());
	as("A");
	CHECK_EQ(SAM_STAT_GOOD, prout(PROUT_RELEASE, PR_TYPE_WRITE_EXCLUSIVE, 0xa, 0));
	CHECK_EQ(3, store.saves);
	as("B");
	CHECK_EQ(SAM_STAT_GOOD, write1());
	CHECK_EQ(2, reboot()); /* released, still registered */
	CHECK_EQ(SAM_STAT_GOOD, prin(PRIN_READ_RESERVATION));
	CHECK_EQ(0, get_be32(buf + 4));
	fixture_fini(&f);
}

static void test_without_aptpl_nothing_is_stored(void)
{
	setup(true);
	as("B");
	CHECK_EQ(SAM_STAT_GOOD, prout(PROUT_REGISTER, 0, 0, 0xb));
	as("A");
	CHECK_EQ(SAM_STAT_GOOD, prout(PROUT_REGISTER, 0, 0, 0xa));
	CHECK_EQ(SAM_STAT_GOOD, prout(PROUT_RESERVE, PR_TYPE_EXCLUSIVE_ACCESS, 0xa, 0));
	CHECK_EQ(0, store.saves);
	CHECK_EQ(0, reboot());
	CHECK_EQ(SAM_STAT_GOOD, prin(PRIN_READ_KEYS));
	CHECK_EQ(0, get_be32(buf + 4));
	fixture_fini(&f);
}

static void test_turning_aptpl_off_stores_once(void)
{
	setup(true);
	a_reserves_with_aptpl();
	/* REGISTER again without APTPL: the last valid APTPL bit counts */
	CHECK_EQ(SAM_STAT_GOOD, prout(PROUT_REGISTER, 0, 0xa, 0xa2));
	CHECK_EQ(3, store.saves);
	CHECK_EQ(SAM_STAT_GOOD, prout(PROUT_RELEASE, PR_TYPE_WRITE_EXCLUSIVE, 0xa2, 0));
	CHECK_EQ(3, store.saves); /* APTPL is off: nothing stored */
	CHECK_EQ(0, reboot());    /* the stored state says APTPL off: nothing survives */
	CHECK_EQ(SAM_STAT_GOOD, prin(PRIN_READ_KEYS));
	CHECK_EQ(0, get_be32(buf + 4));
	fixture_fini(&f);
}

static void test_failed_store_fails_the_command(void)
{
	setup(true);
	a_reserves_with_aptpl();
	store.save_error = -EIO;
	as("B");
	CHECK_EQ(SAM_STAT_CHECK_CONDITION,
		 prout(PROUT_PREEMPT, PR_TYPE_EXCLUSIVE_ACCESS, 0xb, 0xa));
	CHECK_EQ(MEDIUM_ERROR, sense_key(&f.cmd));
	CHECK_EQ(SAM_STAT_GOOD, prin(PRIN_READ_RESERVATION)); /* as it was */
	CHECK_EQ(0xa, get_be64(buf + 8));
	CHECK_EQ(PR_TYPE_WRITE_EXCLUSIVE, buf[21]);
	CHECK_EQ(SAM_STAT_GOOD, prin(PRIN_READ_KEYS));
	CHECK_EQ(16, get_be32(buf + 4));
	/* a failed REGISTER with APTPL leaves no registration and APTPL as it was */
	as("C");
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, prout_flags(PROUT_REGISTER, 0, 0, 0xc, PROUT_APTPL));
	CHECK_EQ(-1, scsi_pr_find(&f.lun, "C"));
	store.save_error = 0;
	CHECK_EQ(2, reboot());
	CHECK_EQ(SAM_STAT_GOOD, prin(PRIN_READ_RESERVATION));
	CHECK_EQ(0xa, get_be64(buf + 8));
	fixture_fini(&f);
}

static void test_aptpl_needs_a_volume_that_keeps_it(void)
{
	setup(false);
	CHECK_EQ(SAM_STAT_CHECK_CONDITION, prout_flags(PROUT_REGISTER, 0, 0, 0xa, PROUT_APTPL));
	CHECK_EQ(ASC_INVALID_FIELD_IN_PARAMETER_LIST, sense_asc(&f.cmd));
	CHECK_EQ(SAM_STAT_GOOD, prout(PROUT_REGISTER, 0, 0, 0xa));
	/* other service actions ignore the bit (SPC-4 6.16.3) */
	CHECK_EQ(SAM_STAT_GOOD,
		 prout_flags(PROUT_RESERVE, PR_TYPE_WRITE_EXCLUSIVE, 0xa, 0, PROUT_APTPL));
	CHECK_EQ(0, reboot()); /* no load operation: nothing */
	fixture_fini(&f);
}

static void test_corrupt_record_ignored_at_restore(void)
{
	setup(true);
	a_reserves_with_aptpl();
	store.blob[0] ^= 0xff;
	CHECK_EQ(-EINVAL, reboot());
	CHECK_EQ(SAM_STAT_GOOD, prin(PRIN_READ_KEYS));
	CHECK_EQ(0, get_be32(buf + 4));
	CHECK_EQ(SAM_STAT_GOOD, prin(PRIN_REPORT_CAPABILITIES));
	CHECK_EQ(0, buf[3] & PR_CAPS_PTPL_A);
	fixture_fini(&f);
}

/* A snapshot moves the LUN to a new volume below: the state is stored again there, and
 * only while APTPL is in force. */
static void test_store_again_after_a_switch(void)
{
	setup(true);
	CHECK_EQ(0, scsi_lun_store_reservations(&f.lun));
	CHECK_EQ(0, store.saves); /* nothing in force: nothing stored */
	a_reserves_with_aptpl();
	memset(&store.blob, 0, sizeof(store.blob));
	store.kept = false;
	unsigned saves = store.saves;
	CHECK_EQ(0, scsi_lun_store_reservations(&f.lun));
	CHECK_EQ(saves + 1, store.saves);
	CHECK_EQ(2, reboot());
	CHECK_EQ(SAM_STAT_GOOD, prin(PRIN_READ_RESERVATION));
	CHECK_EQ(0xa, get_be64(buf + 8));
	store.save_error = -EIO;
	CHECK_EQ(-EIO, scsi_lun_store_reservations(&f.lun));
	fixture_fini(&f);
}

int main(void)
{
	RUN(test_round_trip);
	RUN(test_largest_encoding_fits);
	RUN(test_corrupt_blobs_refused);
	RUN(test_random_corruption);
	RUN(test_capabilities);
	RUN(test_aptpl_survives_reboot);
	RUN(test_without_aptpl_nothing_is_stored);
	RUN(test_turning_aptpl_off_stores_once);
	RUN(test_failed_store_fails_the_command);
	RUN(test_aptpl_needs_a_volume_that_keeps_it);
	RUN(test_corrupt_record_ignored_at_restore);
	RUN(test_store_again_after_a_switch);
	return check_report("test_scsi_pr_store");
}
