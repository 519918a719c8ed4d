/*
 * guest_model: what a guest may read back after a power cut (the invariants of
 * docs/DESIGN.md, "Crash safety"), for crash enumeration over a memdisk trace.
 *
 * The workload writes through guest_write()/guest_zero()/guest_flush(), which stamp
 * every 512-byte sector with a pattern naming the write and the sector, and leave
 * markers in the memdisk trace. Replaying the trace, guest_model_apply() follows the
 * markers; at any instant, a sector may hold the content of the newest write to it that
 * a completed flush covered (or the initial content when none did) or of any write
 * issued after that one, and nothing else: never another sector's data, never stale
 * disk content.
 */
#ifndef QEDBOX_GUEST_MODEL_H
#define QEDBOX_GUEST_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memdisk.h"
#include "qed.h"

#define GUEST_SECTOR 512u

enum guest_mark {
	GUEST_WRITE_START = 1,
	GUEST_WRITE_DONE,
	GUEST_FLUSH_START,
	GUEST_FLUSH_DONE,
};

struct guest_op {
	uint64_t offset, len;
	bool zero;
	/* replay state */
	bool acked, durable;
};

struct guest_model {
	uint64_t size;              /* bytes of the virtual disk */
	bool backing;               /* initial content is the backing pattern, not zeros */
	struct memdisk *md;         /* where markers go */
	struct guest_op *ops;
	size_t n_ops, cap_ops;
	uint32_t n_flushes;
	/* replay state: per sector, newest-first list of started ops */
	uint32_t *newest;           /* per sector: node index + 1, 0 none */
	uint32_t *node_op, *node_next;
	size_t n_nodes, cap_nodes;
	uint32_t **flush_sets;      /* per flush: ops acknowledged when it started */
	size_t *flush_set_len;
	uint64_t epoch;             /* changes whenever the allowed contents change */
};

int guest_model_init(struct guest_model *g, uint64_t size, bool backing, struct memdisk *md);
void guest_model_free(struct guest_model *g);

/* In a task: issue one operation and record it. Return the QED core's status. */
int guest_write(struct guest_model *g, struct qed_image *img, uint64_t off, uint64_t len);
int guest_zero(struct guest_model *g, struct qed_image *img, uint64_t off, uint64_t len);
int guest_flush(struct guest_model *g, struct qed_image *img);
/* Close counts as a flush of everything acknowledged before it. */
int guest_close(struct guest_model *g, struct qed_image *img);

/* The content of a sector as written by op (version op+1), or initially (version 0). */
void guest_pattern(const struct guest_model *g, uint32_t version, uint64_t sector,
		   uint8_t *out);
/* The backing image's content (also used by the backing volume of tests). */
void guest_backing_pattern(uint64_t sector, uint8_t *out);
/* The backing file of tests: a read-only volume of size bytes reading that content
 * (writes fail with -EROFS). */
struct volume guest_backing_volume(uint64_t size);

/* Replay: forget everything, then follow trace events one by one. */
void guest_model_reset(struct guest_model *g);
void guest_model_apply(struct guest_model *g, const struct memdisk_event *ev);

/* Checks one sector read back from the recovered image. Returns true when allowed;
 * otherwise describes what was found in why (size >= 160). */
bool guest_sector_ok(const struct guest_model *g, uint64_t sector, const uint8_t *data,
		     char *why, size_t why_len);

/* Checks a whole opened image against the model at the point the replay reached: no
 * allocated extent (qed_map) outside the clusters of cluster_size that some operation
 * started so far touched (a later operation's clusters must not be allocated yet), and
 * every sector of those clusters allowed (guest_sector_ok). Returns true, or false with
 * the reason in why. */
bool guest_verify_image(const struct guest_model *g, struct qed_image *img,
			uint32_t cluster_size, char *why, size_t why_len);

/* Prints the first events of the memdisk trace (guest operations, device requests) to
 * stderr: how a failing state came about. */
void guest_print_trace(const struct guest_model *g, size_t events);

#endif
