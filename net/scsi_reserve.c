/*
 * Reservations, the part every command meets: which commands another I_T nexus's
 * reservation refuses with RESERVATION CONFLICT (SPC-4 5.13.1, table 52 and SPC-2 5.5.1),
 * the SPC-2 RESERVE(6) and RELEASE(6) commands, and what ends an SPC-2 reservation (the
 * nexus going away, LOGICAL UNIT RESET). The persistent reservation commands themselves
 * are in scsi_pr.c.
 *
 * The opcode table classes each command: OP_CONFLICT_WRITE (changes the medium or the
 * unit's state) is refused by every persistent reservation type to a nexus without
 * access, OP_CONFLICT_READ (reads the medium) only by the exclusive access types; the
 * rest (INQUIRY, READ CAPACITY, TEST UNIT READY, ...) always run. Under RESERVE(6) only
 * the OP_RESERVE6_OK commands run for other nexuses.
 */
#include <stdio.h>
#include <string.h>

#include "scsi_priv.h"

const char *scsi_nexus_id(const struct scsi_nexus *nexus)
{
	return nexus ? nexus->id : "";
}

int scsi_pr_find(const struct scsi_lun *lun, const char *id)
{
	for (int i = 0; i < SCSI_PR_MAX_REGISTRATIONS; i++)
		if (lun->res.reg[i].used && strcmp(lun->res.reg[i].nexus, id) == 0)
			return i;
	return -1;
}

bool scsi_pr_all_registrants(uint8_t type)
{
	return type == PR_TYPE_WRITE_EXCLUSIVE_ALL_REGISTRANTS ||
	       type == PR_TYPE_EXCLUSIVE_ACCESS_ALL_REGISTRANTS;
}

bool scsi_pr_is_holder(const struct scsi_lun *lun, int reg)
{
	const struct scsi_reservations *r = &lun->res;
	if (!r->type || reg < 0)
		return false;
	return scsi_pr_all_registrants(r->type) || r->holder == reg;
}

static bool registrants_have_access(uint8_t type)
{
	return type >= PR_TYPE_WRITE_EXCLUSIVE_REGISTRANTS_ONLY;
}

static bool exclusive_access(uint8_t type)
{
	return type == PR_TYPE_EXCLUSIVE_ACCESS ||
	       type == PR_TYPE_EXCLUSIVE_ACCESS_REGISTRANTS_ONLY ||
	       type == PR_TYPE_EXCLUSIVE_ACCESS_ALL_REGISTRANTS;
}

bool scsi_reservation_conflict(const struct scsi_lun *lun, const struct scsi_nexus *nexus,
			       const struct scsi_op *op)
{
	const struct scsi_reservations *r = &lun->res;
	const char *me = scsi_nexus_id(nexus);
	if (r->reserved6)
		return strcmp(r->reserve6_nexus, me) != 0 && !(op->flags & OP_RESERVE6_OK);
	if (!r->type)
		return false;
	int reg = scsi_pr_find(lun, me);
	if (scsi_pr_is_holder(lun, reg) || (reg >= 0 && registrants_have_access(r->type)))
		return false;
	if (op->flags & OP_CONFLICT_WRITE)
		return true;
	return (op->flags & OP_CONFLICT_READ) && exclusive_access(r->type);
}

void scsi_conflict(struct scsi_cmd *cmd)
{
	cmd->status = SAM_STAT_RESERVATION_CONFLICT;
	cmd->sense_len = 0;
	cmd->data_produced = 0;
}

/* RESERVE(6) (SPC-2 7.21): the whole unit for this nexus. Another nexus's RESERVE(6)
 * was refused before the handler ran; a persistent reservation refuses it too. */
void scsi_reserve6(struct scsi_lun *lun, struct scsi_nexus *nexus, struct scsi_cmd *cmd)
{
	struct scsi_reservations *r = &lun->res;
	if (r->type) {
		scsi_conflict(cmd);
		return;
	}
	r->reserved6 = true;
	snprintf(r->reserve6_nexus, sizeof(r->reserve6_nexus), "%s", scsi_nexus_id(nexus));
	scsi_good(cmd);
}

/* RELEASE(6) (SPC-2 7.19): ends this nexus's reservation; from any other nexus it is
 * GOOD and changes nothing. */
void scsi_release6(struct scsi_lun *lun, struct scsi_nexus *nexus, struct scsi_cmd *cmd)
{
	struct scsi_reservations *r = &lun->res;
	if (r->type) {
		scsi_conflict(cmd);
		return;
	}
	if (r->reserved6 && strcmp(r->reserve6_nexus, scsi_nexus_id(nexus)) == 0)
		r->reserved6 = false;
	scsi_good(cmd);
}

void scsi_nexus_lost(struct scsi_lun *lun, const struct scsi_nexus *nexus)
{
	if (lun && lun->res.reserved6 &&
	    strcmp(lun->res.reserve6_nexus, scsi_nexus_id(nexus)) == 0)
		lun->res.reserved6 = false;
}

void scsi_lun_reset(struct scsi_lun *lun)
{
	if (lun)
		lun->res.reserved6 = false;
}
