/*
 * The QED core's public interface: open, create, serve and check QED images on a blkdev.
 * (The on-disk format itself is described in qed/qed_format.h.)
 *
 * Every function that does I/O blocks the calling task (lib/task.h) and returns 0 or a
 * negative errno; many tasks may call into one image at once. Messages (why an image was
 * refused, check progress and findings) go through the log callback of the options.
 */
#ifndef QEDBOX_QED_H
#define QEDBOX_QED_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "blkdev.h"
#include "volume.h"

/* "Structure needs cleaning": an image whose need-check bit is set, opened without the
 * check. Linux's value; newlib lacks the name. */
#ifndef EUCLEAN
#define EUCLEAN 117
#endif

struct qed_image;
struct qed_info;
struct qed_check_result;

/* Message sink: level 0 error, 1 notice, 2 progress. NULL: silent. */
typedef void (*qed_log_fn)(void *ctx, int level, const char *msg);

/* Resolves a backing file name (from the image header) into a volume that supplies the
 * backing data. fmt is the backing format from the header ("raw", "qed") or NULL. */
typedef int (*qed_backing_fn)(void *ctx, const char *name, const char *fmt,
			      struct volume **backing);

struct qed_open_opts {
	bool read_only;
	/* Run check and repair when the need-check bit is set (the boot-time check).
	 * Without it, such an image is refused with -EUCLEAN. */
	bool check_on_open;
	qed_backing_fn open_backing; /* NULL: an image with a backing file is refused */
	void *backing_ctx;
	qed_log_fn log;
	void *log_ctx;
	/* Optional: told (with log_ctx) when the boot-time check begins, result NULL, and
	 * when it ended, with its result and its return code (0 or a negative errno), so
	 * that the appliance can report both as events. */
	void (*on_check)(void *ctx, const struct qed_check_result *result, int rc);
	unsigned l2_cache_tables; /* L2 tables kept in memory; 0: up to 64 MiB of them */
	/* Bytes: the image is a host file of this size, and that size is its end (QEMU's
	 * rule): the check treats an entry at or past it as corruption (past the durable
	 * end too, when that is lower), and an image whose L1 table reaches past it is
	 * refused. 0: a raw disk, whose end is the durable end or the device's end. */
	uint64_t file_size;
};

struct qed_create_opts {
	uint64_t image_size;    /* bytes, rounded up to a multiple of 512 */
	uint32_t cluster_size;  /* bytes, power of two, 4 KiB..64 MiB; 0: 64 KiB */
	uint32_t table_size;    /* clusters per table, power of two 1..16; 0: 4 */
	const char *backing_file;   /* NULL: none */
	const char *backing_fmt;    /* NULL: not recorded */
	/* NULL: none. Else the volume this image serves, recorded in the header sector
	 * (qed/README.md, "The volume record"): 1..23 printable bytes. */
	const char *volume_name;
};

struct qed_check_result {
	uint64_t corruptions;       /* bad table entries and clusters referenced twice */
	uint64_t corruptions_fixed;
	uint64_t leaks;             /* clusters below the end that no table references */
	uint64_t check_errors;      /* I/O errors while checking */
	uint64_t image_end_offset;  /* bytes: one past the highest cluster in use */
	uint64_t allocated_clusters;
};

/* Writes a new, empty image at the start of dev. The first sector (the header) is
 * written last, after everything else was written and flushed: a power cut leaves either
 * no image (the sector as it was) or a whole one. */
int qed_create(struct blkdev *dev, const struct qed_create_opts *opts);

/* True when the first sector holds a QED magic (cheap probe; no validation). */
bool qed_probe(const void *sector0, size_t len);

int qed_open(struct blkdev *dev, const struct qed_open_opts *opts, struct qed_image **out);

/* Reads and validates the header only (the backing file is not opened, the tables not
 * read): backing_file, volume_name and the geometry of *info. Logs through opts->log. */
int qed_peek(struct blkdev *dev, const struct qed_open_opts *opts, struct qed_info *info);

/* Makes the image read-only for good (a snapshot's frozen image): flushes as a close
 * does (need-check cleared when consistent), then refuses writes with -EROFS. Only with
 * no request in flight. */
int qed_freeze(struct qed_image *img);

/* Flushes, clears the need-check bit when the image is consistent, and frees. Only with
 * no request in flight. The backing volume (from open_backing) stays the caller's. */
int qed_close(struct qed_image *img);

int qed_read(struct qed_image *img, uint64_t offset, void *buf, size_t len);
int qed_write(struct qed_image *img, uint64_t offset, const void *buf, size_t len);
/* Makes the range read as zeros, using zero clusters where whole clusters are covered. */
int qed_zero(struct qed_image *img, uint64_t offset, uint64_t len);
/* Makes every completed write durable (data, tables, and the durable end). */
int qed_flush(struct qed_image *img);

/* Checks the image; with repair, fixes what it found and counts it in corruptions_fixed.
 * Only with no request in flight. Need-check is cleared only when everything was fixed. */
int qed_check(struct qed_image *img, bool repair, struct qed_check_result *result);

/* Fills *v so that the SCSI layer serves img (qed_volume.c). */
void qed_volume_init(struct qed_image *img, struct volume *v);

/* Facts for tools and the console. */
struct qed_info {
	uint64_t image_size;
	uint32_t cluster_size;
	uint32_t table_size;
	uint64_t features, compat_features, autoclear_features;
	bool need_check;
	char backing_file[1024];
	char backing_fmt[32];
	uint64_t durable_end;       /* 0 when the qedbox extension is absent */
	char volume_name[24];       /* from the volume record, or "" */
	bool read_only;             /* opened read-only, or frozen */
	/* Device bytes past the L1 table that allocation has used (data clusters and L2
	 * tables, leaks included): the allocation end, which open finds anyway. */
	uint64_t allocated_bytes;
};
void qed_get_info(const struct qed_image *img, struct qed_info *info);

/* Maps [offset, offset+len) to its state, one extent per call: how many bytes from
 * offset share it, and for allocated data the byte offset in the image. */
enum qed_extent_state { QED_EXTENT_UNALLOCATED, QED_EXTENT_ZERO, QED_EXTENT_DATA };
int qed_map(struct qed_image *img, uint64_t offset, uint64_t len,
	    enum qed_extent_state *state, uint64_t *bytes, uint64_t *image_offset);

#endif
