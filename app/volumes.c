/*
 * Opening the disks as volumes (volumes.h).
 *
 * Each disk ends up in one role, decided in PCI order:
 *   served   a QED image (or a blank disk that format= names, formatted first);
 *   backing  named by another image's backing file: opened read-only, not served
 *            (writing it would change what its children read);
 *   none     anything else, reported on the console and left alone.
 * A disk that is already served cannot become a backing disk later: the image that
 * asks for it is refused instead. Images with the need-check bit set are checked and
 * repaired before they are served; an idle task flushes written images every few
 * seconds so that the bit is cleared when the writes stop. A served image sits on a
 * volume guard (volume_guard.h): its first device error on a write or a flush stops the
 * volume for good, and the console says so.
 */
#include "volumes.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "qed.h"
#include "raw_volume.h"
#include "scsi.h"
#include "task.h"
#include "volume_guard.h"

enum disk_role { ROLE_NONE, ROLE_SERVED, ROLE_BACKING };

struct disk {
	struct blkdev *dev;
	enum disk_content content;  /* what sector 0 held at start-up */
	enum disk_role role;
	struct qed_image *img;      /* QED image (served or backing) */
	struct raw_volume raw;      /* raw backing disk */
	struct volume qed_vol;      /* the image as a volume */
	struct volume_guard guard;  /* a served image: opened on guard.gate, served as guard.vol */
	struct volume *vol;         /* what is served or read through: guard.vol or raw.vol */
	struct scsi_lun lun;
	char target_name[ISCSI_NAME_MAX];
	struct iscsi_acl_entry acl[CONFIG_MAX_LIST];
};

static struct {
	const struct qedbox_config *cfg;
	struct disk disks[DISKS_MAX];
	unsigned n_disks;
	struct iscsi_target_config targets[DISKS_MAX];
	uint64_t next_idle_flush;   /* clock_ns() of the next idle flush */
	bool flush_running;
} vols;

#define IDLE_FLUSH_NS (5ull * 1000 * 1000 * 1000)

static void qed_console_log(void *ctx, int level, const char *msg)
{
	const struct disk *d = ctx;
	static const char *const kind[] = { "error", "note", "progress" };
	printf("volume %s: %s: %s\n", d->dev->serial, kind[level < 0 || level > 2 ? 1 : level],
	       msg);
}

static struct disk *disk_by_serial(const char *name)
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

static int open_backing(void *ctx, const char *name, const char *fmt, struct volume **out)
{
	struct disk *child = ctx;
	struct disk *d = disk_by_serial(name);
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
			struct qed_open_opts o = {
				.read_only = true, .open_backing = open_backing,
				.backing_ctx = d, .log = qed_console_log, .log_ctx = d,
			};
			int rc = qed_open(d->dev, &o, &d->img);
			if (rc == -EUCLEAN) {
				/* It lost power while it was written (served, before it
				 * became a backing image): repair it first, as a served
				 * image would be. Nothing writes it afterwards. */
				o.read_only = false;
				o.check_on_open = true;
				rc = qed_open(d->dev, &o, &d->img);
			}
			if (rc < 0)
				return rc;
			qed_volume_init(d->img, &d->qed_vol);
			d->vol = &d->qed_vol;
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
	return qed_create(d->dev, &o);
}

/* The first device error on a write stops the volume (volume_guard.h). After a takeover
 * this is the old appliance, fenced: it must neither write nor serve what it cached. */
static void volume_stopped(void *ctx, const char *op, int rc)
{
	const struct disk *d = ctx;
	printf("volume %s: %s failed (%s): stopped serving; another appliance may own this "
	       "disk\n", d->dev->serial, op, rc == -EIO ? "device error" : strerror(-rc));
}

static int open_served(struct disk *d)
{
	if (d->content != DISK_QED) {
		bool blank = d->content == DISK_BLANK;
		if (!blank || !config_formats(vols.cfg, d->dev->serial)) {
			printf("volume %s: not served: %s\n", d->dev->serial,
			       blank ? "blank disk (format=SERIAL formats it as QED)"
				     : "holds no QED image");
			return -ENOENT;
		}
		int rc = format_disk(d);
		if (rc < 0)
			return rc;
	}
	d->role = ROLE_SERVED; /* before opening: it cannot be its own backing */
	struct qed_open_opts o = {
		.check_on_open = true, .open_backing = open_backing, .backing_ctx = d,
		.log = qed_console_log, .log_ctx = d,
	};
	volume_guard_init(&d->guard, d->dev, volume_stopped, d);
	int rc = qed_open(&d->guard.gate, &o, &d->img);
	if (rc < 0) {
		d->role = ROLE_NONE;
		printf("volume %s: not served: open failed (%s)\n", d->dev->serial, strerror(-rc));
		return rc;
	}
	qed_volume_init(d->img, &d->qed_vol);
	volume_guard_wrap(&d->guard, &d->qed_vol);
	d->vol = &d->guard.vol;
	return 0;
}

/* A credential of the configuration as the target takes it: no secret, no credential. */
static struct iscsi_credential credential(const struct config_chap *c)
{
	return c->secret[0] ? (struct iscsi_credential){ c->user, c->secret }
			    : (struct iscsi_credential){ NULL, NULL };
}

static void add_target(struct disk *d, struct iscsi_target_config *t)
{
	const struct qedbox_config *cfg = vols.cfg;
	snprintf(d->target_name, sizeof(d->target_name), "%s:%s", cfg->iqn_prefix,
		 d->dev->serial);
	scsi_lun_init(&d->lun, d->vol, d->target_name);
	unsigned n = 0;
	for (unsigned i = 0; i < cfg->n_acl; i++) {
		const struct config_acl *a = &cfg->acl[i];
		if (strcmp(a->serial, d->dev->serial) == 0)
			d->acl[n++] = (struct iscsi_acl_entry){
				.initiator = a->initiator,
				.auth = { credential(&a->chap), credential(&a->mutual) },
			};
	}
	*t = (struct iscsi_target_config){
		.name = d->target_name,
		.alias = d->dev->serial,
		.lun = &d->lun,
		.acl = d->acl,
		.n_acl = n,
		.auth = { credential(&cfg->chap), credential(&cfg->mutual_chap) },
	};
	struct qed_info info;
	qed_get_info(d->img, &info);
	printf("target %s: %" PRIu64 " bytes, %" PRIu32 "-byte clusters%s%s%s\n", d->target_name,
	       info.image_size, info.cluster_size, info.backing_file[0] ? ", backing " : "",
	       info.backing_file, n ? ", initiators restricted" : "");
}

/* Flushes every served image that still has its need-check bit set, so that the bit is
 * cleared soon after writes stop (the core clears it on a flush with nothing allocated
 * since the previous one). A poller starts it every IDLE_FLUSH_NS; no task waits in
 * between, so poweroff=idle still sees an idle appliance. */
static void idle_flush_task(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < vols.n_disks; i++) {
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
	if (vols.flush_running)
		return false;
	vols.flush_running = task_spawn(idle_flush_task, NULL) != NULL;
	return vols.flush_running;
}

void volumes_open(const struct qedbox_config *cfg, const struct disk_probe *probes,
		  unsigned n_disks, struct iscsi_config *iscsi)
{
	vols.cfg = cfg;
	vols.n_disks = n_disks;
	for (unsigned i = 0; i < n_disks; i++)
		vols.disks[i] = (struct disk){ .dev = probes[i].dev, .content = probes[i].content };
	for (unsigned i = 0; i < n_disks; i++) {
		struct disk *d = &vols.disks[i];
		if (d->role == ROLE_NONE)
			open_served(d);
	}
	iscsi->targets = vols.targets;
	iscsi->n_targets = 0;
	iscsi->discovery = (struct iscsi_auth){ credential(&cfg->discovery_chap), { NULL, NULL } };
	for (unsigned i = 0; i < n_disks && cfg->access_ok; i++)
		if (vols.disks[i].role == ROLE_SERVED)
			add_target(&vols.disks[i], &vols.targets[iscsi->n_targets++]);
	if (!cfg->access_ok)
		printf("qedbox: the access keys were refused: no volume is served\n");
	else if (iscsi->n_targets == 0)
		printf("qedbox: no volume to serve\n");
	vols.next_idle_flush = clock_ns() + IDLE_FLUSH_NS;
	loop_add_poller(idle_flush_poll, NULL);
}
