/*
 * Opening the disks as volumes (volumes.h).
 *
 * Roles come from the graph of images, not from PCI order: every QED disk's header is
 * read first (qed_peek), every disk that some image names as its backing file is a
 * backing disk, and every other image (a leaf) is served, its backing chain opened
 * read-only below it as it asks for it (chains of any depth: a snapshot of a snapshot).
 *   served   a leaf QED image (or a blank disk that format= names, formatted first);
 *            its target is <prefix>:<volume>, the volume being the name in the image's
 *            volume record (a snapshot's overlay) or else the disk's own serial;
 *   backing  named by another image's backing file: opened read-only, not served
 *            (writing it would change what its children read);
 *   none     anything else (spares among them), reported on the console and left alone.
 * Images with the need-check bit set are checked and repaired before they are served or
 * read through (a backing image that lost power while it was served, before a snapshot
 * froze it); an idle task flushes written images every few seconds so that the bit is
 * cleared when the writes stop. A written image sits on a volume guard (volume_guard.h):
 * its first device error on a write or a flush stops the volume for good, and the
 * console says so.
 */
#include "volumes_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_log.h"
#include "platform.h"
#include "task.h"
#include "volume_guard.h"

struct volumes_state vols;

#define IDLE_FLUSH_NS (5ull * 1000 * 1000 * 1000)

void volumes_qed_log(void *ctx, int level, const char *msg)
{
	const struct disk *d = ctx;
	static const char *const kind[] = { "error", "note", "progress" };
	printf("volume %s: %s: %s\n", d->dev->serial, kind[level < 0 || level > 2 ? 1 : level],
	       msg);
}

/* The boot-time check as events (qed_open_opts.on_check): its start and its result,
 * each one line that the operator's status page keeps too. */
static void check_event(void *ctx, const struct qed_check_result *r, int rc)
{
	const struct disk *d = ctx;
	if (!r) {
		event_log(EVENT_CHECK, "%s: started (not closed cleanly)", d->dev->serial);
		return;
	}
	bool clean = !rc && r->corruptions == r->corruptions_fixed && !r->check_errors;
	event_log(EVENT_CHECK, "%s: %s: %" PRIu64 " corruptions (%" PRIu64 " fixed), %"
		  PRIu64 " leaked clusters, %" PRIu64 " errors%s%s", d->dev->serial,
		  clean ? "clean" : "NOT clean", r->corruptions, r->corruptions_fixed, r->leaks,
		  r->check_errors, rc ? ", failed: " : "", rc ? strerror(-rc) : "");
}

struct disk *volumes_disk_by_serial(const char *name)
{
	/* A backing file name is a disk serial; a path (as qemu-img writes it) counts by
	 * its last component. */
	const char *slash = strrchr(name, '/');
	const char *serial = slash ? slash + 1 : name;
	for (unsigned i = 0; i < vols.n_disks; i++)
		if (strcmp(vols.disks[i].dev->serial, serial) == 0)
			return &vols.disks[i];
	return NULL;
}

struct served *volumes_served_by_name(const char *name)
{
	for (unsigned i = 0; vols.iscsi && i < vols.iscsi->n_targets; i++)
		if (strcmp(vols.served[i].name, name) == 0)
			return &vols.served[i];
	return NULL;
}

struct served *volumes_served_from(const struct disk *d)
{
	for (unsigned i = 0; vols.iscsi && i < vols.iscsi->n_targets; i++)
		if (vols.served[i].disk == d)
			return &vols.served[i];
	return NULL;
}

static int open_backing_image(struct disk *d)
{
	struct qed_open_opts o = {
		.read_only = true, .open_backing = volumes_open_backing,
		.backing_ctx = d, .log = volumes_qed_log, .log_ctx = d, .on_check = check_event,
	};
	int rc = qed_open(d->dev, &o, &d->img);
	if (rc == -EUCLEAN) {
		/* It lost power while it was written (served, before it became a backing
		 * image): repair it first, as a served image would be. Nothing writes it
		 * afterwards. */
		o.read_only = false;
		o.check_on_open = true;
		rc = qed_open(d->dev, &o, &d->img);
		if (!rc)
			rc = qed_freeze(d->img);
	}
	if (rc < 0)
		return rc;
	qed_volume_init(d->img, &d->qed_vol);
	d->vol = &d->qed_vol;
	return 0;
}

int volumes_open_backing(void *ctx, const char *name, const char *fmt, struct volume **out)
{
	struct disk *child = ctx;
	struct disk *d = volumes_disk_by_serial(name);
	if (!d || d == child) {
		printf("volume %s: backing file '%s' names no other attached disk (by serial)\n",
		       child->dev->serial, name);
		return -ENOENT;
	}
	if (d->role == ROLE_SERVED) {
		printf("volume %s: backing disk %s is already served read-write\n",
		       child->dev->serial, d->dev->serial);
		return -EBUSY;
	}
	if (d->role == ROLE_NONE) {
		if (d->content == DISK_QED && !(fmt && strcmp(fmt, "raw") == 0)) {
			int rc = open_backing_image(d);
			if (rc < 0)
				return rc;
		} else {
			raw_volume_init(&d->raw, d->dev);
			d->vol = &d->raw.vol;
		}
		d->role = ROLE_BACKING;
		printf("volume %s: backing image of %s (read-only, not served)\n", d->dev->serial,
		       child->dev->serial);
	}
	*out = d->vol;
	return 0;
}

/* The largest image size whose data and tables all fit on the disk once fully
 * allocated: header cluster, L1 table, then per L2 table table_size clusters for
 * table_size * cluster_size / 8 data clusters. */
static uint64_t format_image_size(uint64_t capacity, uint32_t cluster, uint32_t table_size)
{
	uint64_t clusters = capacity / cluster;
	uint64_t per_l2 = (uint64_t)table_size * cluster / 8;
	if (clusters < 2 + 2 * (uint64_t)table_size)
		return 0;
	uint64_t room = clusters - 1 - table_size;
	/* data + ceil(data / per_l2) * table_size <= room */
	uint64_t data = room * per_l2 / (per_l2 + table_size);
	while (data && data + (data + per_l2 - 1) / per_l2 * table_size > room)
		data--;
	return data * cluster;
}

static int format_disk(struct disk *d)
{
	struct qed_create_opts o = {
		.cluster_size = vols.cfg->cluster_size,
		.table_size = 4,
	};
	o.image_size = format_image_size(d->dev->capacity, o.cluster_size, o.table_size);
	if (o.image_size == 0) {
		printf("volume %s: too small to format with %" PRIu32 "-byte clusters\n",
		       d->dev->serial, o.cluster_size);
		return -ENOSPC;
	}
	printf("volume %s: formatting: QED, %" PRIu64 " bytes, %" PRIu32 "-byte clusters\n",
	       d->dev->serial, o.image_size, o.cluster_size);
	int rc = qed_create(d->dev, &o);
	if (!rc)
		d->content = DISK_QED;
	return rc;
}

/* The first device error on a write stops the volume (volume_guard.h). After a takeover
 * this is the old appliance, fenced: it must neither write nor serve what it cached. */
static void volume_stopped(void *ctx, const char *op, int rc)
{
	const struct disk *d = ctx;
	event_log(EVENT_DEVICE_ERROR, "%s: %s failed (%s): stopped serving; another "
		  "appliance may own this disk", d->dev->serial, op,
		  rc == -EIO ? "device error" : strerror(-rc));
}

int volumes_open_guarded(struct disk *d, const struct qed_open_opts *o)
{
	volume_guard_init(&d->guard, d->dev, volume_stopped, d);
	int rc = qed_open(&d->guard.gate, o, &d->img);
	if (rc < 0)
		return rc;
	qed_volume_init(d->img, &d->qed_vol);
	volume_guard_wrap(&d->guard, &d->qed_vol);
	d->vol = &d->guard.vol;
	return 0;
}

static int open_served(struct disk *d)
{
	if (d->content != DISK_QED) {
		bool blank = d->content == DISK_BLANK;
		if (!blank || !config_formats(vols.cfg, d->dev->serial)) {
			printf("volume %s: not served: %s\n", d->dev->serial,
			       blank ? "blank disk (a spare; format=SERIAL formats it as QED)"
				     : "holds no QED image");
			return -ENOENT;
		}
		int rc = format_disk(d);
		if (rc < 0)
			return rc;
	}
	d->role = ROLE_SERVED; /* before opening: it cannot be its own backing */
	struct qed_open_opts o = {
		.check_on_open = true, .open_backing = volumes_open_backing, .backing_ctx = d,
		.log = volumes_qed_log, .log_ctx = d, .on_check = check_event,
	};
	int rc = volumes_open_guarded(d, &o);
	if (rc < 0) {
		d->role = ROLE_NONE;
		printf("volume %s: not served: open failed (%s)\n", d->dev->serial, strerror(-rc));
	}
	return rc;
}

/* Reads every QED disk's header: which disks are backing files, which volume each leaf
 * serves. A header that does not validate is left for open_served to report. */
static void find_graph(void)
{
	for (unsigned i = 0; i < vols.n_disks; i++) {
		struct disk *d = &vols.disks[i];
		struct qed_info info;
		struct qed_open_opts o = { .log = NULL };
		if (d->content != DISK_QED || qed_peek(d->dev, &o, &info) < 0)
			continue;
		snprintf(d->volume, sizeof(d->volume), "%s", info.volume_name);
		struct disk *b = info.backing_file[0] ? volumes_disk_by_serial(info.backing_file)
						      : NULL;
		if (b && b != d)
			b->named_as_backing = true;
	}
}

/* A credential of the configuration as the target takes it: no secret, no credential. */
static struct iscsi_credential credential(const struct config_chap *c)
{
	return c->secret[0] ? (struct iscsi_credential){ c->user, c->secret }
			    : (struct iscsi_credential){ NULL, NULL };
}

static unsigned fill_acl(struct served *s)
{
	const struct qedbox_config *cfg = vols.cfg;
	unsigned n = 0;
	for (unsigned i = 0; i < cfg->n_acl; i++) {
		const struct config_acl *a = &cfg->acl[i];
		if (strcmp(a->serial, s->name) == 0)
			s->acl[n++] = (struct iscsi_acl_entry){
				.initiator = a->initiator,
				.auth = { credential(&a->chap), credential(&a->mutual) },
			};
	}
	return n;
}

struct served *volumes_add_target(struct disk *d, const char *name)
{
	const struct qedbox_config *cfg = vols.cfg;
	unsigned idx = vols.iscsi->n_targets;
	if (idx >= DISKS_MAX || volumes_served_by_name(name)) {
		printf("volume %s: not served: volume %s is served already\n", d->dev->serial,
		       name);
		return NULL;
	}
	struct served *s = &vols.served[idx];
	memset(s, 0, sizeof(*s));
	s->disk = d;
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->target_name, sizeof(s->target_name), "%s:%s", cfg->iqn_prefix, name);
	volume_gate_init(&s->gate, d->vol, name);
	volume_gate_set_write_through(&s->gate, cfg->write_through);
	scsi_lun_init(&s->lun, &s->gate.vol, s->target_name);
	s->lun.clock_ns = clock_ns; /* per-command latencies (scsi.h, struct scsi_lun_stats) */
	int pr = scsi_lun_restore(&s->lun); /* reservations kept with the volume (APTPL) */
	if (pr > 0)
		printf("target %s: %d reservation keys restored (APTPL)\n", s->target_name, pr);
	else if (pr < 0)
		printf("target %s: stored reservations ignored (%d)\n", s->target_name, pr);
	unsigned n = fill_acl(s);
	vols.targets[idx] = (struct iscsi_target_config){
		.name = s->target_name,
		.alias = s->name,
		.lun = &s->lun,
		.acl = s->acl,
		.n_acl = n,
		.auth = { credential(&cfg->chap), credential(&cfg->mutual_chap) },
	};
	vols.iscsi->n_targets = idx + 1; /* last: the target is whole when it appears */
	struct qed_info info;
	qed_get_info(d->img, &info);
	bool moved = strcmp(name, d->dev->serial) != 0; /* served from a snapshot's overlay */
	printf("target %s: %" PRIu64 " bytes, %" PRIu32 "-byte clusters%s%s%s%s%s\n",
	       s->target_name, info.image_size, info.cluster_size, moved ? ", image " : "",
	       moved ? d->dev->serial : "", info.backing_file[0] ? ", backing " : "",
	       info.backing_file, n ? ", initiators restricted" : "");
	return s;
}

/* Flushes every served image that still has its need-check bit set, so that the bit is
 * cleared soon after writes stop (the core clears it on a flush with nothing allocated
 * since the previous one). A poller starts it every IDLE_FLUSH_NS; no task waits in
 * between, so poweroff=idle still sees an idle appliance. It skips its turn while a
 * snapshot runs (the snapshot flushes, freezes and switches images itself). */
static void idle_flush_task(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < vols.n_disks && !vols.action_running; i++) {
		struct disk *d = &vols.disks[i];
		struct qed_info info;
		if (d->role != ROLE_SERVED || d->guard.stopped)
			continue;
		qed_get_info(d->img, &info);
		/* Through the guard: a failed idle flush stops the volume as any would. */
		if (info.need_check && d->vol->ops->flush(d->vol) < 0 && !d->guard.stopped)
			printf("volume %s: idle flush failed\n", d->dev->serial);
	}
	vols.flush_running = false;
	waitq_wake_all(&vols.flush_done);
}

static bool idle_flush_poll(void *ctx)
{
	(void)ctx;
	uint64_t now = clock_ns();
	if (now < vols.next_idle_flush) {
		loop_wake_at(vols.next_idle_flush);
		return false;
	}
	vols.next_idle_flush = now + IDLE_FLUSH_NS;
	loop_wake_at(vols.next_idle_flush);
	if (vols.flush_running || vols.action_running)
		return false;
	vols.flush_running = task_spawn(idle_flush_task, NULL) != NULL;
	return vols.flush_running;
}

void volumes_open(const struct qedbox_config *cfg, const struct disk_probe *probes,
		  unsigned n_disks, struct iscsi_config *iscsi)
{
	memset(&vols, 0, sizeof(vols)); /* in place: it is too big for a task's stack */
	vols.cfg = cfg;
	vols.iscsi = iscsi;
	vols.n_disks = n_disks;
	vols.flush_done = (struct waitq)WAITQ_INIT;
	for (unsigned i = 0; i < n_disks; i++)
		vols.disks[i] = (struct disk){ .dev = probes[i].dev, .content = probes[i].content };
	find_graph();
	for (unsigned i = 0; i < n_disks; i++) {
		struct disk *d = &vols.disks[i];
		if (d->role == ROLE_NONE && !d->named_as_backing)
			open_served(d);
	}
	iscsi->targets = vols.targets;
	iscsi->n_targets = 0;
	iscsi->discovery = (struct iscsi_auth){ credential(&cfg->discovery_chap), { NULL, NULL } };
	for (unsigned i = 0; i < n_disks && cfg->access_ok; i++) {
		struct disk *d = &vols.disks[i];
		if (d->role == ROLE_SERVED)
			volumes_add_target(d, d->volume[0] ? d->volume : d->dev->serial);
	}
	for (unsigned i = 0; i < n_disks; i++)
		if (vols.disks[i].named_as_backing && vols.disks[i].role == ROLE_NONE)
			printf("volume %s: not served: a backing file of images that did not "
			       "open\n", vols.disks[i].dev->serial);
	if (!cfg->access_ok)
		printf("qedbox: the access keys were refused: no volume is served\n");
	else if (iscsi->n_targets == 0)
		printf("qedbox: no volume to serve\n");
	vols.next_idle_flush = clock_ns() + IDLE_FLUSH_NS;
	loop_add_poller(idle_flush_poll, NULL);
}
