/*
 * Snapshots and clones (volumes.h; docs/DESIGN.md, "Snapshots and clones").
 *
 * Both write a new QED image on a spare whose backing file is an existing image (named
 * by its disk's serial, as boot resolves it): an empty overlay reads exactly as its
 * backing image. qed_create writes the header sector last, after a flush: until that
 * sector is on the disk the spare is no image, from then on a whole one.
 *
 * A snapshot's overlay carries a volume record naming the volume, and is the commit
 * point: once it is durable, a boot finds the new chain (the old image is then a
 * backing file, so not served; the overlay is served under the volume's name), which
 * reads as the old image did. Only then is the volume switched: its gate closes (new
 * commands wait, those in flight finish), the old image is flushed and frozen
 * read-only, the gate reopens onto the overlay. Sessions stay logged in throughout.
 *
 * A clone's overlay has no record: it is a new volume named by its spare's serial, and
 * its backing image must be read-only already (a frozen image or an unserved base).
 */
#include "volumes_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "event_log.h"
#include "platform.h"
#include "task.h"

static int refuse(char *why, size_t why_len, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int refuse(char *why, size_t why_len, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return rc;
}

static uint64_t ms_since(uint64_t t0)
{
	return (clock_ns() - t0) / 1000000;
}

/* A blank disk, not named by format=, not in use, at least as big as base's disk. */
static int find_spare(const char *serial, const struct disk *base, struct disk **out,
		      char *why, size_t why_len)
{
	struct disk *d = volumes_disk_by_serial(serial);
	if (!d || strcmp(d->dev->serial, serial) != 0)
		return refuse(why, why_len, -ENOENT, "no disk with serial %s", serial);
	if (d->role != ROLE_NONE || d->content != DISK_BLANK ||
	    config_formats(vols.cfg, serial))
		return refuse(why, why_len, -EBUSY, "disk %s is not a blank spare", serial);
	if (d->dev->capacity < base->dev->capacity)
		return refuse(why, why_len, -ENOSPC, "spare %s (%" PRIu64 " bytes) is smaller "
			      "than the disk of image %s (%" PRIu64 " bytes)", serial,
			      d->dev->capacity, base->dev->serial, base->dev->capacity);
	*out = d;
	return 0;
}

/* The overlay's backing: always the base disk it was created over. */
static int overlay_backing(void *ctx, const char *name, const char *fmt, struct volume **out)
{
	struct disk *base = ctx;
	(void)fmt;
	if (volumes_disk_by_serial(name) != base)
		return -ENOENT;
	*out = base->vol;
	return 0;
}

/* Writes and opens a new image on spare over base: same size and geometry. */
static int create_overlay(struct disk *spare, struct disk *base, const char *volume_name,
			  char *why, size_t why_len)
{
	struct qed_create_opts c = {
		.image_size = base->vol->size, .cluster_size = vols.cfg->cluster_size,
		.backing_file = base->dev->serial, .backing_fmt = base->img ? "qed" : "raw",
		.volume_name = volume_name,
	};
	if (base->img) {
		struct qed_info info;
		qed_get_info(base->img, &info);
		c.image_size = info.image_size;
		c.cluster_size = info.cluster_size;
		c.table_size = info.table_size;
	}
	spare->content = DISK_OTHER; /* until it holds a whole image: never reused */
	int rc = qed_create(spare->dev, &c);
	if (rc)
		return refuse(why, why_len, rc, "writing the overlay on %s failed (%s)",
			      spare->dev->serial, strerror(-rc));
	spare->content = DISK_QED;
	snprintf(spare->volume, sizeof(spare->volume), "%s", volume_name ? volume_name : "");
	struct qed_open_opts o = {
		.check_on_open = true, .open_backing = overlay_backing, .backing_ctx = base,
		.log = volumes_qed_log, .log_ctx = spare,
	};
	rc = volumes_open_guarded(spare, &o);
	if (rc)
		return refuse(why, why_len, rc, "opening the overlay on %s failed (%s)",
			      spare->dev->serial, strerror(-rc));
	return 0;
}

/* Waits for the idle flush to finish its round: it must not flush an image that is
 * being frozen. (action_running keeps it from starting another.) */
static void wait_idle_flush(void)
{
	while (vols.flush_running)
		waitq_sleep(&vols.flush_done);
}

/* The switch: from here until the gate reopens, commands for the volume wait. */
static int switch_volume(struct served *s, struct disk *spare, char *why, size_t why_len)
{
	struct disk *base = s->disk;
	wait_idle_flush();
	volume_gate_close(&s->gate);
	int rc = qed_freeze(base->img);
	if (rc == -EIO)
		volume_guard_stop(&base->guard, "flush", rc); /* as any failed write would */
	if (rc) {
		volume_gate_open(&s->gate, base->vol);
		return refuse(why, why_len, rc, "flushing image %s failed (%s): still served "
			      "from it; the overlay on %s takes over at the next boot",
			      base->dev->serial, strerror(-rc), spare->dev->serial);
	}
	base->role = ROLE_BACKING;
	spare->role = ROLE_SERVED;
	s->disk = spare;
	volume_gate_open(&s->gate, spare->vol);
	/* The overlay starts without the reservations the frozen image keeps (APTPL). */
	rc = scsi_lun_store_reservations(&s->lun);
	if (rc)
		event_log(EVENT_DEVICE_ERROR, "%s snapshot: storing the reservations on %s failed "
			  "(%s): they last until the next boot", s->name, spare->dev->serial,
			  strerror(-rc));
	return 0;
}

/* One action: what it starts from and the spare it writes. */
struct action {
	const char *kind;           /* "snapshot", "clone" */
	const char *name;           /* the volume (snapshot) or the image (clone) */
	const char *spare;
	struct disk *base;          /* the image the overlay goes over */
	struct disk *sp;
	struct served *s;           /* the volume served from the overlay */
};

static int snapshot(struct action *a, char *why, size_t why_len)
{
	struct served *s = a->s;
	uint64_t t0 = clock_ns();
	int rc = create_overlay(a->sp, a->base, s->name, why, why_len);
	if (rc)
		return rc;
	uint64_t overlay_ms = ms_since(t0), t1 = clock_ns();
	rc = switch_volume(s, a->sp, why, why_len);
	if (rc)
		return rc;
	/* The switch is what the initiators wait for: in microseconds. */
	event_log(EVENT_VOLUME, "%s snapshot: image %s frozen read-only, served from %s now "
		  "(overlay written in %" PRIu64 " ms, switch %" PRIu64 " us, total %" PRIu64
		  " ms)", s->name, a->base->dev->serial, a->sp->dev->serial, overlay_ms,
		  (clock_ns() - t1) / 1000, ms_since(t0));
	return 0;
}

static int find_volume(struct action *a, char *why, size_t why_len)
{
	a->s = volumes_served_by_name(a->name);
	if (!a->s)
		return refuse(why, why_len, -ENOENT, "no volume named %s", a->name);
	a->base = a->s->disk;
	return 0;
}

static int find_clone_base(struct action *a, char *why, size_t why_len)
{
	struct disk *d = volumes_disk_by_serial(a->name);
	if (!d || strcmp(d->dev->serial, a->name) != 0 || d->role == ROLE_NONE)
		return refuse(why, why_len, -ENOENT, "no image on a disk with serial %s", a->name);
	if (d->role == ROLE_SERVED)
		return refuse(why, why_len, -EROFS, "image %s is served read-write: snapshot "
			      "its volume, then clone the frozen image", a->name);
	a->base = d;
	return 0;
}

static int clone(struct action *a, char *why, size_t why_len)
{
	uint64_t t0 = clock_ns();
	int rc = create_overlay(a->sp, a->base, NULL, why, why_len);
	if (rc)
		return rc;
	a->sp->role = ROLE_SERVED;
	a->s = volumes_add_target(a->sp, a->sp->dev->serial);
	if (!a->s)
		a->sp->role = ROLE_NONE; /* an image nobody serves: found again at boot */
	if (!a->s)
		return refuse(why, why_len, -EBUSY, "a volume named %s is served already",
			      a->sp->dev->serial);
	event_log(EVENT_VOLUME, "%s clone of image %s: served as %s (%" PRIu64 " ms)",
		  a->sp->dev->serial, a->base->dev->serial, a->s->target_name, ms_since(t0));
	return 0;
}

/* One action at a time, and only while volumes are served; every refusal is logged. */
static int run_action(struct action *a, int (*find)(struct action *, char *, size_t),
		      int (*act)(struct action *, char *, size_t), struct volume_status *out,
		      char *why, size_t why_len)
{
	if (!vols.iscsi || !vols.cfg->access_ok)
		return refuse(why, why_len, -EACCES, "no volume is served (access keys refused)");
	if (vols.action_running)
		return refuse(why, why_len, -EBUSY, "another snapshot or clone is running");
	vols.action_running = true;
	int rc = find(a, why, why_len);
	if (!rc)
		rc = find_spare(a->spare, a->base, &a->sp, why, why_len);
	if (!rc)
		rc = act(a, why, why_len); /* the spare's content is DISK_OTHER from its start */
	if (!rc)
		volumes_status_of(a->s, out);
	else
		event_log(EVENT_VOLUME, "%s %s onto %s refused: %s", a->name, a->kind, a->spare,
			  why);
	vols.action_running = false;
	return rc;
}

int volumes_snapshot(const char *volume, const char *spare, struct volume_status *out,
		     char *why, size_t why_len)
{
	struct action a = { .kind = "snapshot", .name = volume, .spare = spare };
	return run_action(&a, find_volume, snapshot, out, why, why_len);
}

int volumes_clone(const char *image, const char *spare, struct volume_status *out,
		  char *why, size_t why_len)
{
	struct action a = { .kind = "clone", .name = image, .spare = spare };
	return run_action(&a, find_clone_base, clone, out, why, why_len);
}
