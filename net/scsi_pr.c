/*
 * Persistent reservations (SPC-4 5.13, 6.15, 6.16): PERSISTENT RESERVE IN (READ KEYS,
 * READ RESERVATION, REPORT CAPABILITIES, READ FULL STATUS) and PERSISTENT RESERVE OUT (REGISTER, REGISTER
 * AND IGNORE EXISTING KEY, RESERVE, RELEASE, CLEAR, PREEMPT, PREEMPT AND ABORT) over the
 * six reservation types, logical unit scope only. What a reservation refuses to other
 * nexuses is decided in scsi_reserve.c.
 *
 * State lives in the LUN, in memory. A REGISTER with APTPL (SPC-4 5.13.5) asks that it
 * survive power loss: when the volume can keep it (save_reservations; PTPL_C 1), every
 * PERSISTENT RESERVE OUT that succeeds while APTPL is in force, and the one that turns
 * it off, stores the new state (scsi_pr_store.c) before it completes GOOD; while the store
 * runs, other commands see the old state, and a failed store keeps it. Without the
 * operation, APTPL is refused. SPEC_I_PT and ALL_TG_PT are refused (one target port).
 * PREEMPT AND ABORT does not abort the preempted nexuses' commands (they complete; our
 * commands are short). No unit attention tells a preempted nexus that its registration
 * is gone.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scsi_priv.h"

#define PRIN_MAX_DATA (8 + 8 * SCSI_PR_MAX_REGISTRATIONS)

/* ---- PERSISTENT RESERVE IN ------------------------------------------------------- */

void scsi_prin_read_keys(struct scsi_lun *lun, struct scsi_nexus *nexus,
			 struct scsi_cmd *cmd)
{
	(void)nexus;
	uint8_t buf[PRIN_MAX_DATA];
	uint32_t n = 8;
	for (int i = 0; i < SCSI_PR_MAX_REGISTRATIONS; i++) {
		if (lun->res.reg[i].used) {
			put_be64(buf + n, lun->res.reg[i].key);
			n += 8;
		}
	}
	put_be32(buf, lun->res.generation);
	put_be32(buf + 4, n - 8);
	scsi_data_in(cmd, buf, n, get_be16(cmd->cdb + 7));
}

void scsi_prin_read_reservation(struct scsi_lun *lun, struct scsi_nexus *nexus,
				struct scsi_cmd *cmd)
{
	(void)nexus;
	const struct scsi_reservations *r = &lun->res;
	uint8_t buf[24];
	memset(buf, 0, sizeof(buf));
	put_be32(buf, r->generation);
	uint32_t n = 8;
	if (r->type) {
		put_be32(buf + 4, 16);
		/* all registrants types: every registrant holds it, the key reads 0 */
		if (!scsi_pr_all_registrants(r->type))
			put_be64(buf + 8, r->reg[r->holder].key);
		buf[21] = PR_SCOPE_LU | r->type;
		n = 24;
	}
	scsi_data_in(cmd, buf, n, get_be16(cmd->cdb + 7));
}

/* One descriptor per registration with its TransportID (SPC-4 6.15.5): for iSCSI the
 * initiator port name, NUL-terminated and padded to a multiple of 4 bytes. */
static uint32_t put_full_status(const struct scsi_lun *lun, int i, uint8_t *d)
{
	const struct scsi_reservations *r = &lun->res;
	uint32_t name_len = (uint32_t)strlen(r->reg[i].nexus) + 1;
	uint32_t id_len = 4 + (name_len + 3) / 4 * 4;
	if (id_len < TRANSPORT_ID_MIN_LEN)
		id_len = TRANSPORT_ID_MIN_LEN;
	memset(d, 0, PR_FULL_STATUS_DESCRIPTOR_LEN + id_len);
	put_be64(d, r->reg[i].key);
	if (scsi_pr_is_holder(lun, i)) {
		d[12] = PR_FULL_STATUS_R_HOLDER;
		d[13] = PR_SCOPE_LU | r->type;
	}
	put_be16(d + 18, 1); /* RELATIVE TARGET PORT IDENTIFIER: our one port */
	put_be32(d + 20, id_len);
	uint8_t *id = d + PR_FULL_STATUS_DESCRIPTOR_LEN;
	id[0] = TRANSPORT_ID_ISCSI_PORT;
	put_be16(id + 2, (uint16_t)(id_len - 4));
	memcpy(id + 4, r->reg[i].nexus, name_len);
	return PR_FULL_STATUS_DESCRIPTOR_LEN + id_len;
}

void scsi_prin_read_full_status(struct scsi_lun *lun, struct scsi_nexus *nexus,
				struct scsi_cmd *cmd)
{
	(void)nexus;
	enum { MAX_DESCRIPTOR = PR_FULL_STATUS_DESCRIPTOR_LEN + 4 + SCSI_NEXUS_ID_MAX + 3 };
	enum { BYTES = 8 + SCSI_PR_MAX_REGISTRATIONS * MAX_DESCRIPTOR };
	uint8_t *buf = scsi_scratch_alloc(cmd, BYTES);
	if (!buf) {
		scsi_volume_error(cmd, -ENOMEM, false);
		return;
	}
	uint32_t n = 8;
	for (int i = 0; i < SCSI_PR_MAX_REGISTRATIONS; i++)
		if (lun->res.reg[i].used)
			n += put_full_status(lun, i, buf + n);
	put_be32(buf, lun->res.generation);
	put_be32(buf + 4, n - 8);
	scsi_data_in(cmd, buf, n, get_be16(cmd->cdb + 7));
	scsi_scratch_free(cmd, buf, BYTES);
}

void scsi_prin_report_capabilities(struct scsi_lun *lun, struct scsi_nexus *nexus,
				   struct scsi_cmd *cmd)
{
	(void)nexus;
	uint8_t buf[PR_CAPS_LEN];
	memset(buf, 0, sizeof(buf));
	put_be16(buf, PR_CAPS_LEN);
	if (lun->vol->ops->save_reservations)
		buf[2] = PR_CAPS_PTPL_C;
	buf[3] = PR_CAPS_TMV; /* ALLOW COMMANDS 0: not reported */
	if (lun->res.aptpl)
		buf[3] |= PR_CAPS_PTPL_A;
	buf[4] = PR_CAPS_WR_EX_AR | PR_CAPS_EX_AC_RO | PR_CAPS_WR_EX_RO | PR_CAPS_EX_AC |
		 PR_CAPS_WR_EX;
	buf[5] = PR_CAPS_EX_AC_AR;
	scsi_data_in(cmd, buf, sizeof(buf), get_be16(cmd->cdb + 7));
}

/* ---- PERSISTENT RESERVE OUT ------------------------------------------------------ */

struct prout {
	struct scsi_lun *lun;
	struct scsi_cmd *cmd;
	const char *me;
	int reg;            /* my registration, -1 none */
	uint64_t key;       /* RESERVATION KEY */
	uint64_t sa_key;    /* SERVICE ACTION RESERVATION KEY */
	uint8_t type;
	bool aptpl;         /* APTPL bit (REGISTER service actions only) */
};

bool scsi_pr_valid_type(uint8_t type)
{
	return type == PR_TYPE_WRITE_EXCLUSIVE || type == PR_TYPE_EXCLUSIVE_ACCESS ||
	       (type >= PR_TYPE_WRITE_EXCLUSIVE_REGISTRANTS_ONLY &&
		type <= PR_TYPE_EXCLUSIVE_ACCESS_ALL_REGISTRANTS);
}

static void release(struct scsi_reservations *r)
{
	r->type = 0;
	r->holder = -1;
}

static void unregister(struct scsi_lun *lun, int reg)
{
	struct scsi_reservations *r = &lun->res;
	r->reg[reg].used = false;
	if (!r->type)
		return;
	if (!scsi_pr_all_registrants(r->type)) {
		if (r->holder == reg)
			release(r);
		return;
	}
	for (int i = 0; i < SCSI_PR_MAX_REGISTRATIONS; i++)
		if (r->reg[i].used)
			return;
	release(r); /* the last registrant of an all registrants reservation left */
}

/* REGISTER and REGISTER AND IGNORE EXISTING KEY. */
static void do_register(struct prout *p, bool ignore_key)
{
	struct scsi_reservations *r = &p->lun->res;
	if (!ignore_key && (p->reg < 0 ? p->key != 0 : p->key != r->reg[p->reg].key)) {
		scsi_conflict(p->cmd);
		return;
	}
	if (p->sa_key == 0) {
		if (p->reg >= 0)
			unregister(p->lun, p->reg);
	} else if (p->reg >= 0) {
		r->reg[p->reg].key = p->sa_key;
	} else {
		int i = 0;
		while (i < SCSI_PR_MAX_REGISTRATIONS && r->reg[i].used)
			i++;
		if (i == SCSI_PR_MAX_REGISTRATIONS) {
			scsi_check(p->cmd, ILLEGAL_REQUEST, ASC_INSUFFICIENT_REGISTRATION_RESOURCES);
			return;
		}
		r->reg[i].used = true;
		r->reg[i].key = p->sa_key;
		strncpy(r->reg[i].nexus, p->me, SCSI_NEXUS_ID_MAX - 1);
		r->reg[i].nexus[SCSI_NEXUS_ID_MAX - 1] = 0;
	}
	r->aptpl = p->aptpl; /* the last valid APTPL bit counts (SPC-4 6.16.3) */
	r->generation++;
	scsi_good(p->cmd);
}

static void do_reserve(struct prout *p)
{
	struct scsi_reservations *r = &p->lun->res;
	if (r->type && !scsi_pr_is_holder(p->lun, p->reg)) {
		scsi_conflict(p->cmd);
		return;
	}
	if (r->type && r->type != p->type) { /* the holder may not change the type */
		scsi_conflict(p->cmd);
		return;
	}
	r->type = p->type;
	r->holder = p->reg;
	scsi_good(p->cmd);
}

static void do_release(struct prout *p)
{
	struct scsi_reservations *r = &p->lun->res;
	if (!scsi_pr_is_holder(p->lun, p->reg)) { /* nothing of mine to release: GOOD */
		scsi_good(p->cmd);
		return;
	}
	if (r->type != p->type) {
		scsi_check(p->cmd, ILLEGAL_REQUEST, ASC_INVALID_RELEASE_OF_PERSISTENT_RESERVATION);
		return;
	}
	release(r);
	scsi_good(p->cmd);
}

static void do_clear(struct prout *p)
{
	struct scsi_reservations *r = &p->lun->res;
	for (int i = 0; i < SCSI_PR_MAX_REGISTRATIONS; i++)
		r->reg[i].used = false;
	release(r);
	r->generation++;
	scsi_good(p->cmd);
}

/* Removes the registrations holding key, except mine; how many went. */
static unsigned remove_key(struct prout *p, uint64_t key)
{
	struct scsi_reservations *r = &p->lun->res;
	unsigned n = 0;
	for (int i = 0; i < SCSI_PR_MAX_REGISTRATIONS; i++) {
		if (r->reg[i].used && r->reg[i].key == key && i != p->reg) {
			r->reg[i].used = false;
			n++;
		}
	}
	return n;
}

/* PREEMPT (SPC-4 5.13.11.4): removes the registrations holding SERVICE ACTION
 * RESERVATION KEY; when that key is the holder's (or 0 under an all registrants
 * reservation, which removes every other registration), the reservation passes to me
 * with the type of this command. */
static void do_preempt(struct prout *p)
{
	struct scsi_reservations *r = &p->lun->res;
	bool all = r->type && scsi_pr_all_registrants(r->type);
	bool takes_reservation = r->type &&
		(all ? p->sa_key == 0 : p->sa_key == r->reg[r->holder].key);
	if (takes_reservation) {
		if (all) {
			for (int i = 0; i < SCSI_PR_MAX_REGISTRATIONS; i++)
				if (i != p->reg)
					r->reg[i].used = false;
		} else {
			remove_key(p, p->sa_key);
		}
		r->type = p->type;
		r->holder = p->reg;
	} else if (p->sa_key == 0) {
		scsi_invalid_param_field(p->cmd, 8);
		return;
	} else if (remove_key(p, p->sa_key) == 0) {
		scsi_conflict(p->cmd);
		return;
	}
	r->generation++;
	scsi_good(p->cmd);
}

/* The checks of the parameter list and of the type; false with sense set. */
static bool check_prout(struct prout *p, unsigned sa)
{
	struct scsi_cmd *cmd = p->cmd;
	uint32_t param_len = get_be32(cmd->cdb + 5);
	bool uses_type = sa == PROUT_RESERVE || sa == PROUT_RELEASE || sa == PROUT_PREEMPT ||
			 sa == PROUT_PREEMPT_AND_ABORT;
	if (param_len != PROUT_PARAM_LEN) {
		scsi_check(cmd, ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
		return false;
	}
	if (!scsi_data_out_complete(cmd, param_len))
		return false;
	if (uses_type && ((cmd->cdb[2] & PR_SCOPE_MASK) != PR_SCOPE_LU ||
			  !scsi_pr_valid_type(cmd->cdb[2] & PR_TYPE_MASK))) {
		scsi_invalid_cdb_field(cmd, 2, -1);
		return false;
	}
	/* APTPL counts only for the REGISTER service actions; the others ignore it. */
	bool is_register = sa == PROUT_REGISTER || sa == PROUT_REGISTER_AND_IGNORE_EXISTING_KEY;
	uint8_t flags = cmd->data[20];
	p->aptpl = is_register && (flags & PROUT_APTPL);
	if ((flags & (PROUT_SPEC_I_PT | PROUT_ALL_TG_PT)) ||
	    (p->aptpl && !p->lun->vol->ops->save_reservations)) {
		scsi_invalid_param_field(cmd, 20);
		return false;
	}
	p->key = get_be64(cmd->data);
	p->sa_key = get_be64(cmd->data + 8);
	p->type = cmd->cdb[2] & PR_TYPE_MASK;
	return true;
}

/* The service action on lun->res; completes cmd. Never blocks. */
static void run_action(struct prout *p, unsigned sa)
{
	struct scsi_lun *lun = p->lun;
	struct scsi_cmd *cmd = p->cmd;
	p->reg = scsi_pr_find(lun, p->me);
	if (sa == PROUT_REGISTER || sa == PROUT_REGISTER_AND_IGNORE_EXISTING_KEY) {
		do_register(p, sa == PROUT_REGISTER_AND_IGNORE_EXISTING_KEY);
		return;
	}
	/* every other service action needs my registration and its key */
	if (p->reg < 0 || lun->res.reg[p->reg].key != p->key) {
		scsi_conflict(cmd);
		return;
	}
	switch (sa) {
	case PROUT_RESERVE: do_reserve(p); break;
	case PROUT_RELEASE: do_release(p); break;
	case PROUT_CLEAR: do_clear(p); break;
	default: do_preempt(p); break; /* PREEMPT, PREEMPT AND ABORT */
	}
}

/* The state before the command, the state it made, and the encoding of the latter. */
struct prout_change {
	struct scsi_reservations before, after;
	uint8_t blob[SCSI_PR_STORE_MAX];
};

/* The command made c->after out of c->before while APTPL was (or is now) in force:
 * lun->res goes back to before while the volume stores after, and becomes after once it
 * is durable; a failed store fails the command and leaves before in place. */
static void persist(struct scsi_lun *lun, struct scsi_cmd *cmd, struct prout_change *c)
{
	scsi_pr_copy_persistent(&c->after, &lun->res);
	size_t len = scsi_pr_encode(&c->after, c->blob);
	scsi_pr_copy_persistent(&lun->res, &c->before);
	int rc = lun->vol->ops->save_reservations(lun->vol, c->blob, len);
	if (rc) {
		scsi_volume_error(cmd, rc, true);
		return;
	}
	scsi_pr_copy_persistent(&lun->res, &c->after);
}

void scsi_prout(struct scsi_lun *lun, struct scsi_nexus *nexus, struct scsi_cmd *cmd)
{
	unsigned sa = cmd->cdb[1] & 0x1f;
	struct prout p = { .lun = lun, .cmd = cmd, .me = scsi_nexus_id(nexus) };
	if (!check_prout(&p, sa))
		return;
	struct prout_change *c = scsi_scratch_alloc(cmd, sizeof(*c));
	if (!c) {
		scsi_volume_error(cmd, -ENOMEM, false);
		return;
	}
	task_lock(&lun->pr_lock);
	scsi_pr_copy_persistent(&c->before, &lun->res);
	run_action(&p, sa);
	if (cmd->status == SAM_STAT_GOOD && (c->before.aptpl || lun->res.aptpl))
		persist(lun, cmd, c);
	task_unlock(&lun->pr_lock);
	scsi_scratch_free(cmd, c, sizeof(*c));
}
