/*
 * Buffer budgets: how many bytes of the heap the target may hold on behalf of initiators.
 * Two levels: each session has its own budget (so one initiator cannot take everything)
 * whose parent is the server's global one (so many sessions together cannot exhaust the
 * heap). A charge is made before the allocation it pays for and succeeds on every level
 * or on none; the owner of the memory gives it back when it frees it.
 *
 * Charged: command data buffers (iscsi_cmd.c), SCSI scratch buffers (scsi_cmd.charge),
 * received PDUs' data segments, wherever they wait (input queue, CmdSN pending list).
 * The last are structurally bounded (input queue, window) and cannot wait for room
 * without risking a deadlock (the Data-Out that would free a buffer must be received):
 * they are forced, counted even past the limit, so that they close the window.
 *
 * A session's budget carries a guarantee (ISCSI_SESSION_GUARANTEED_BYTES): up to that
 * much it is charged even when the server's pool is spent, and the server's pool is the
 * global figure minus every connection slot's guarantee. So initiators that flood the
 * shared pool cannot starve another session: it always has room for a few commands.
 */
#include "iscsi_priv.h"

void iscsi_budget_init(struct iscsi_budget *b, uint64_t limit, struct iscsi_budget *parent)
{
	*b = (struct iscsi_budget){ .parent = parent, .limit = limit };
}

static uint64_t left(uint64_t limit, uint64_t charged)
{
	return charged < limit ? limit - charged : 0;
}

uint64_t iscsi_budget_room(const struct iscsi_budget *b)
{
	uint64_t room = UINT64_MAX;
	for (const struct iscsi_budget *l = b; l; l = l->parent)
		if (left(l->limit, l->charged) < room)
			room = left(l->limit, l->charged);
	uint64_t own = left(b->guaranteed < b->limit ? b->guaranteed : b->limit, b->charged);
	return own > room ? own : room;
}

void iscsi_budget_force(struct iscsi_budget *b, uint64_t bytes)
{
	for (; b; b = b->parent) {
		b->charged += bytes;
		if (b->charged > b->high_water)
			b->high_water = b->charged;
	}
}

bool iscsi_budget_charge(struct iscsi_budget *b, uint64_t bytes)
{
	if (!b)
		return true;
	if (bytes > iscsi_budget_room(b)) {
		for (; b; b = b->parent)
			b->refused++;
		return false;
	}
	iscsi_budget_force(b, bytes);
	return true;
}

void iscsi_budget_release(struct iscsi_budget *b, uint64_t bytes)
{
	for (; b; b = b->parent)
		b->charged -= bytes;
}
