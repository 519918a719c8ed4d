/*
 * libFuzzer target: a stored persistent reservation record (APTPL) as read back from a
 * disk, through scsi_lun_restore() (net/scsi_pr_store.c) into a LUN over a RAM volume
 * whose load operation hands out the input.
 *
 * Input: the blob itself.
 *
 * Invariants: restore gives -EINVAL or the number of registrations it installed (and
 * installs nothing on refusal); an installed state encodes to exactly the input (one
 * encoding per state: a record is never trusted beyond what it says); the state serves
 * READ KEYS, READ RESERVATION and READ FULL STATUS, another nexus's write and a
 * REGISTER with APTPL (which stores a record that restores to the same state) without a
 * sanitizer report.
 */
#include "fuzz.h"
#include "scsi_priv.h"
#include "scsi_test_support.h"

#include <errno.h>
#include <string.h>

static struct scsi_fixture f;
static struct volume_ops ops;
static const uint8_t *record;
static size_t record_len;
static uint8_t saved[SCSI_PR_STORE_MAX];
static size_t saved_len;

static int load(struct volume *v, void *buf, size_t cap, size_t *len)
{
	(void)v;
	if (record_len > cap)
		return -EMSGSIZE;
	memcpy(buf, record, record_len);
	*len = record_len;
	return 0;
}

static int save(struct volume *v, const void *blob, size_t len)
{
	(void)v;
	FUZZ_ASSERT(len <= sizeof(saved));
	memcpy(saved, blob, len);
	saved_len = len;
	return 0;
}

static uint8_t run(uint8_t *cdb, uint8_t *data, uint32_t len)
{
	return run_cdb(&f, cdb, 10, data, len);
}

static void serve_restored(void)
{
	static uint8_t buf[8192];
	uint8_t cdb[10] = { PERSISTENT_RESERVE_IN, 0, 0, 0, 0, 0, 0, 0x20, 0, 0 };
	for (uint8_t sa = PRIN_READ_KEYS; sa <= PRIN_READ_FULL_STATUS; sa++) {
		cdb[1] = sa;
		FUZZ_ASSERT(run(cdb, buf, sizeof(buf)) == SAM_STAT_GOOD);
	}
	strcpy(f.nexus.id, "iqn.1994-05.com.example:other,i,0x800000000009");
	uint8_t w[10];
	cdb10(w, WRITE_10, 0, 0, 1);
	uint8_t st = run(w, buf, 512);
	FUZZ_ASSERT(st == SAM_STAT_GOOD || st == SAM_STAT_RESERVATION_CONFLICT);
	uint8_t reg[10] = { PERSISTENT_RESERVE_OUT, PROUT_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0,
			    0, 0, 0, 0, PROUT_PARAM_LEN, 0 };
	uint8_t param[PROUT_PARAM_LEN] = { 0 };
	param[15] = 0x77;
	param[20] = PROUT_APTPL;
	st = run(reg, param, sizeof(param));
	/* GOOD, or INSUFFICIENT REGISTRATION RESOURCES when the record filled every slot */
	FUZZ_ASSERT(st == SAM_STAT_GOOD || st == SAM_STAT_CHECK_CONDITION);
	if (st != SAM_STAT_GOOD)
		return;
	struct scsi_reservations before = f.lun.res;
	record = saved;
	record_len = saved_len;
	scsi_lun_init(&f.lun, &f.rv.vol, "iqn.2026-11.test:target");
	FUZZ_ASSERT(scsi_lun_restore(&f.lun) > 0);
	FUZZ_ASSERT(f.lun.res.generation == before.generation && f.lun.res.type == before.type);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fixture_init(&f, 64, 512, true);
	ops = *f.rv.vol.ops;
	ops.load_reservations = load;
	ops.save_reservations = save;
	f.rv.vol.ops = &ops;
	record = data;
	record_len = size;
	int rc = scsi_lun_restore(&f.lun);
	FUZZ_ASSERT(rc == -EINVAL || (rc >= 0 && rc <= SCSI_PR_MAX_REGISTRATIONS));
	if (rc > 0) {
		static uint8_t again[SCSI_PR_STORE_MAX];
		FUZZ_ASSERT(scsi_pr_encode(&f.lun.res, again) == size);
		FUZZ_ASSERT(memcmp(again, data, size) == 0);
		serve_restored();
	} else {
		FUZZ_ASSERT(scsi_pr_find(&f.lun, "") < 0 && f.lun.res.type == 0);
	}
	fixture_fini(&f);
	return 0;
}
