/*
 * The switchable volume (volume_gate.h). An operation enters (waiting while the gate is
 * closed), counts itself in flight, calls the volume below, and on its way out wakes the
 * closer when it was the last one.
 */
#include "volume_gate.h"

#include <errno.h>
#include <string.h>

static struct volume *enter(struct volume *v)
{
	struct volume_gate *g = v->priv;
	while (g->closed)
		waitq_sleep(&g->admit);
	g->in_flight++;
	return g->below;
}

static int leave(struct volume *v, int rc)
{
	struct volume_gate *g = v->priv;
	if (--g->in_flight == 0 && g->closed)
		waitq_wake_all(&g->drained);
	return rc;
}

static int gate_read(struct volume *v, uint64_t offset, void *buf, size_t len)
{
	struct volume *b = enter(v);
	return leave(v, b->ops->read(b, offset, buf, len));
}

/* With write-through, a completed change is made durable before it is reported. */
static int settle(struct volume *v, struct volume *b, int rc)
{
	struct volume_gate *g = v->priv;
	if (!rc && g->write_through && b->write_cache)
		rc = b->ops->flush(b);
	return rc;
}

static int gate_write(struct volume *v, uint64_t offset, const void *buf, size_t len)
{
	struct volume *b = enter(v);
	return leave(v, settle(v, b, b->ops->write(b, offset, buf, len)));
}

static int gate_flush(struct volume *v)
{
	struct volume *b = enter(v);
	return leave(v, b->ops->flush(b));
}

/* The optional operations are checked below at the call, not only in the table: a task
 * may wait at a closed gate and find another volume below when it opens. */
static int gate_unmap(struct volume *v, uint64_t offset, uint64_t len)
{
	struct volume *b = enter(v);
	return leave(v, b->ops->unmap ? settle(v, b, b->ops->unmap(b, offset, len)) : -EOPNOTSUPP);
}

static int gate_block_status(struct volume *v, uint64_t offset, uint64_t len, bool *mapped,
			     uint64_t *bytes)
{
	struct volume *b = enter(v);
	if (!b->ops->block_status) {
		*mapped = true;
		*bytes = len;
		return leave(v, 0);
	}
	return leave(v, b->ops->block_status(b, offset, len, mapped, bytes));
}

static int gate_save_reservations(struct volume *v, const void *blob, size_t len)
{
	struct volume *b = enter(v);
	return leave(v, b->ops->save_reservations ? b->ops->save_reservations(b, blob, len)
						  : -EOPNOTSUPP);
}

static int gate_load_reservations(struct volume *v, void *buf, size_t cap, size_t *len)
{
	struct volume *b = enter(v);
	return leave(v, b->ops->load_reservations ? b->ops->load_reservations(b, buf, cap, len)
						  : -EOPNOTSUPP);
}

#define GATE_DATA_OPS \
	.read = gate_read, .write = gate_write, .flush = gate_flush, .unmap = gate_unmap, \
	.block_status = gate_block_status

static const struct volume_ops gate_ops = { GATE_DATA_OPS };

/* In front of a volume that keeps reservations (APTPL), the gate offers it too. */
static const struct volume_ops gate_ops_reservations = {
	GATE_DATA_OPS,
	.save_reservations = gate_save_reservations,
	.load_reservations = gate_load_reservations,
};

static void take_geometry(struct volume_gate *g, const struct volume *below)
{
	g->vol.size = below->size;
	g->vol.block_size = below->block_size;
	g->vol.unmap_granularity = below->unmap_granularity;
	g->vol.write_cache = below->write_cache && !g->write_through;
	g->vol.read_only = below->read_only;
	g->vol.ops = below->ops->save_reservations ? &gate_ops_reservations : &gate_ops;
}

void volume_gate_init(struct volume_gate *g, struct volume *below, const char *serial)
{
	memset(g, 0, sizeof(*g));
	g->vol.priv = g;
	g->below = below;
	take_geometry(g, below);
	const char *name = serial ? serial : below->serial;
	size_t n = strlen(name);
	memcpy(g->vol.serial, name, n < BLKDEV_SERIAL_MAX ? n : BLKDEV_SERIAL_MAX);
	g->admit = (struct waitq)WAITQ_INIT;
	g->drained = (struct waitq)WAITQ_INIT;
}

void volume_gate_set_write_through(struct volume_gate *g, bool on)
{
	g->write_through = on;
	take_geometry(g, g->below);
}

void volume_gate_close(struct volume_gate *g)
{
	g->closed = true;
	while (g->in_flight)
		waitq_sleep(&g->drained);
}

void volume_gate_open(struct volume_gate *g, struct volume *below)
{
	g->below = below;
	take_geometry(g, below);
	g->closed = false;
	waitq_wake_all(&g->admit);
}
