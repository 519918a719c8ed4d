/* A volume that stops at its first device error on a write (volume_guard.h). */
#include "volume_guard.h"

#include <errno.h>
#include <stddef.h>

static void gate_submit(struct blkdev *dev, struct blkdev_req *req)
{
	struct volume_guard *g = dev->priv;
	if (g->stopped)
		req->done(req, -ENODEV);
	else
		g->disk->ops->submit(g->disk, req); /* checked already: same geometry */
}

static const struct blkdev_ops gate_ops = { .submit = gate_submit };

void volume_guard_stop(struct volume_guard *g, const char *op, int rc)
{
	if (g->stopped)
		return;
	g->stopped = true;
	if (g->on_stop)
		g->on_stop(g->ctx, op, rc);
}

/* Only a device error stops the volume: a request out of range, a full image or a
 * read-only volume is the initiator's business, and the image stays consistent. */
static int watch(struct volume_guard *g, const char *op, int rc)
{
	if (rc == -EIO)
		volume_guard_stop(g, op, rc);
	return rc;
}

static struct volume_guard *guard_of(struct volume *v)
{
	return v->priv;
}

static int guard_read(struct volume *v, uint64_t offset, void *buf, size_t len)
{
	struct volume_guard *g = guard_of(v);
	if (g->stopped)
		return -ENODEV;
	return g->inner->ops->read(g->inner, offset, buf, len);
}

static int guard_write(struct volume *v, uint64_t offset, const void *buf, size_t len)
{
	struct volume_guard *g = guard_of(v);
	if (g->stopped)
		return -ENODEV;
	return watch(g, "write", g->inner->ops->write(g->inner, offset, buf, len));
}

static int guard_flush(struct volume *v)
{
	struct volume_guard *g = guard_of(v);
	if (g->stopped)
		return -ENODEV;
	return watch(g, "flush", g->inner->ops->flush(g->inner));
}

static int guard_unmap(struct volume *v, uint64_t offset, uint64_t len)
{
	struct volume_guard *g = guard_of(v);
	if (g->stopped)
		return -ENODEV;
	return watch(g, "unmap", g->inner->ops->unmap(g->inner, offset, len));
}

static int guard_block_status(struct volume *v, uint64_t offset, uint64_t len, bool *mapped,
			      uint64_t *bytes)
{
	struct volume_guard *g = guard_of(v);
	if (g->stopped)
		return -ENODEV;
	return g->inner->ops->block_status(g->inner, offset, len, mapped, bytes);
}

void volume_guard_init(struct volume_guard *g, struct blkdev *disk,
		       volume_guard_stop_fn *on_stop, void *ctx)
{
	*g = (struct volume_guard){ .disk = disk, .on_stop = on_stop, .ctx = ctx };
	g->gate = *disk;
	g->gate.ops = &gate_ops;
	g->gate.priv = g;
}

/* A stored reservation record is a write: a device error stops the volume as well. */
static int guard_save_reservations(struct volume *v, const void *blob, size_t len)
{
	struct volume_guard *g = guard_of(v);
	if (g->stopped)
		return -ENODEV;
	return watch(g, "write", g->inner->ops->save_reservations(g->inner, blob, len));
}

static int guard_load_reservations(struct volume *v, void *buf, size_t cap, size_t *len)
{
	struct volume_guard *g = guard_of(v);
	if (g->stopped)
		return -ENODEV;
	return g->inner->ops->load_reservations(g->inner, buf, cap, len);
}

void volume_guard_wrap(struct volume_guard *g, struct volume *inner)
{
	static const struct volume_ops all = {
		.read = guard_read, .write = guard_write, .flush = guard_flush,
		.unmap = guard_unmap, .block_status = guard_block_status,
		.save_reservations = guard_save_reservations,
		.load_reservations = guard_load_reservations,
	};
	/* The optional operations stay NULL where the inner volume has none (volume.h). */
	const struct volume_ops *in = inner->ops;
	g->ops = all;
	g->ops.unmap = in->unmap ? all.unmap : NULL;
	g->ops.block_status = in->block_status ? all.block_status : NULL;
	g->ops.save_reservations = in->save_reservations ? all.save_reservations : NULL;
	g->ops.load_reservations = in->load_reservations ? all.load_reservations : NULL;
	g->inner = inner;
	g->vol = *inner;
	g->vol.ops = &g->ops;
	g->vol.priv = g;
}
