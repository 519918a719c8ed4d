/*
 * memdisk power cuts: replays a memdisk's trace event by event, keeping the durable image
 * and the set of writes still in doubt, and builds the image a power cut leaves behind.
 * See memdisk.h.
 */
#include "memdisk_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int memdisk_replay_init(struct memdisk_replay *r, const struct memdisk *md)
{
	memset(r, 0, sizeof(*r));
	if (!md->opts.trace)
		return -EINVAL;
	r->md = md;
	r->durable = malloc(md->opts.capacity);
	r->unflushed = malloc((md->n_writes + 1) * sizeof(*r->unflushed));
	if (!r->durable || !r->unflushed) {
		memdisk_replay_free(r);
		return -ENOMEM;
	}
	memcpy(r->durable, md->base, md->opts.capacity);
	return 0;
}

void memdisk_replay_free(struct memdisk_replay *r)
{
	free(r->durable);
	free(r->unflushed);
	memset(r, 0, sizeof(*r));
}

/* Copies a write into an image; with tear_bits, only the sectors whose bit is set. */
static void land(const struct memdisk *md, const struct memdisk_write *w, uint8_t *image,
		 bool torn, uint64_t tear_bits)
{
	uint32_t ss = md->opts.sector_size;
	for (uint64_t done = 0, j = 0; done < w->len; done += ss, j++) {
		if (torn && !((tear_bits >> (j % 64)) & 1))
			continue;
		if (w->data)
			memcpy(image + w->offset + done, w->data + done, ss);
		else
			memset(image + w->offset + done, 0, ss);
	}
}

/* Landing order at this instant: completed writes in completion order, then the ones
 * still in flight in submission order. */
static uint64_t landing_key(const struct memdisk_replay *r, uint32_t id)
{
	const struct memdisk_write *w = &r->md->writes[id];
	uint64_t done = w->done_ev < r->events ? w->done_ev : MEMDISK_NEVER;
	return (done << 32) | w->submit_ev;
}

static void sort_unflushed(struct memdisk_replay *r)
{
	for (size_t i = 1; i < r->n_unflushed; i++) {
		uint32_t id = r->unflushed[i];
		uint64_t key = landing_key(r, id);
		size_t j = i;
		while (j > 0 && landing_key(r, r->unflushed[j - 1]) > key) {
			r->unflushed[j] = r->unflushed[j - 1];
			j--;
		}
		r->unflushed[j] = id;
	}
}

bool memdisk_replay_step(struct memdisk_replay *r)
{
	const struct memdisk *md = r->md;
	if (r->events >= md->n_events)
		return false;
	uint32_t k = (uint32_t)r->events++;
	const struct memdisk_event *ev = &md->events[k];
	if (ev->kind == MEMDISK_EV_WRITE_SUBMIT && !md->writes[ev->id].failed)
		r->unflushed[r->n_unflushed++] = ev->id;
	sort_unflushed(r);
	/* The writes this event made durable land, in order, and leave the doubtful set. */
	size_t kept = 0;
	for (size_t i = 0; i < r->n_unflushed; i++) {
		const struct memdisk_write *w = &md->writes[r->unflushed[i]];
		if (w->durable_ev == k)
			land(md, w, r->durable, false, 0);
		else
			r->unflushed[kept++] = r->unflushed[i];
	}
	r->n_unflushed = kept;
	return true;
}

void memdisk_replay_write(const struct memdisk_replay *r, size_t i, uint64_t *offset,
			  uint64_t *len)
{
	const struct memdisk_write *w = &r->md->writes[r->unflushed[i]];
	*offset = w->offset;
	*len = w->len;
}

void memdisk_trace_write(const struct memdisk *md, uint32_t id, uint64_t *offset,
			 uint64_t *len)
{
	*offset = id < md->n_writes ? md->writes[id].offset : 0;
	*len = id < md->n_writes ? md->writes[id].len : 0;
}

void memdisk_power_cut(const struct memdisk_replay *r, const struct memdisk_cut *cut,
		       struct memdisk *target)
{
	const struct memdisk *md = r->md;
	/* Beyond both disks' written ends, the contents are the untouched baseline. */
	uint64_t end = md->written_end > target->written_end ? md->written_end
							     : target->written_end;
	if (end > target->opts.capacity)
		end = target->opts.capacity;
	memcpy(target->cur, r->durable, end);
	for (size_t i = 0; i < r->n_unflushed && i < 64; i++) {
		bool torn = cut->torn == (int)i;
		if (torn || ((cut->keep >> i) & 1))
			land(md, &md->writes[r->unflushed[i]], target->cur, torn, cut->tear_bits);
	}
	memdisk_reset_state(target);
}
