/*
 * Internals of the QED core shared by the files of qed/: the state of an open image and
 * the prototypes of each file, grouped by the file that owns them.
 *
 * Concurrency (cooperative tasks, so "atomic" means "no blocking call in between"):
 *  - l1 (in memory) changes only under l1_lock, and only after the L1 sector with the new
 *    entry was written; readers look at it without the lock.
 *  - an entry of a reachable L2 table changes in memory only once the sector write that
 *    carries it has succeeded (and the data it points at was written before): whoever
 *    finds an entry may act on it as durable after the next flush. Its sectors are written
 *    under the table's write_lock (updates waiting for it are written together), so two
 *    writes of the same sector never race on the device and each carries the entries of
 *    the one before.
 *  - every allocating change of guest clusters [first, first+count) holds a claim
 *    (struct qed_claim on img->claims) from before it looks at the entries until after
 *    its L2 entries are written: a second allocator of the same cluster waits on it.
 *  - the header sector is written under hdr_lock.
 */
#ifndef QEDBOX_QED_PRIV_H
#define QEDBOX_QED_PRIV_H

#include <stdarg.h>

#include "qed.h"
#include "qed_format.h"
#include "task.h"

struct qed_l2_update;

/* A cached L2 table. */
struct qed_l2 {
	uint64_t offset;        /* on disk, bytes */
	uint8_t *table;         /* table_bytes, on-disk byte order */
	unsigned ref;           /* users holding it; never evicted while > 0 */
	bool loading;           /* being read; wait on loaded */
	bool dead;              /* load failed or invalidated: not findable any more */
	int load_err;
	struct waitq loaded;
	struct task_lock write_lock;
	struct qed_l2_update *pending; /* entry updates waiting for write_lock (qed_table.c) */
	struct qed_l2 *prev, *next; /* cache list, most recently used first */
};

/* Guest clusters being allocated (or zeroed) by one task. */
struct qed_claim {
	uint64_t id;            /* claims are numbered in the order they were made */
	uint64_t first, count;  /* guest cluster numbers */
	uint64_t phys;          /* lowest device byte it allocated whose first write has not
				 * completed yet; UINT64_MAX: none (not yet, or all written) */
	struct waitq waiters;
	struct qed_claim *next;
};

struct qed_image {
	struct blkdev *dev;
	struct qed_open_opts opts;
	bool read_only;

	struct qed_header hdr;      /* host order; what is on disk after the last write */
	uint8_t *hdr_sector;        /* the first QED_SECTOR_SIZE..sector_size bytes */
	uint32_t hdr_sector_len;
	char backing_name[QED_BACKING_NAME_MAX + 1];
	char backing_fmt[32];
	struct volume *backing;
	char volume_name[QED_VOLREC_NAME_MAX + 1]; /* from a valid volume record, or "" */

	/* geometry */
	uint32_t cluster_size, table_size;
	uint64_t table_bytes, table_entries;
	unsigned l2_shift, l1_shift;
	uint64_t header_end;        /* header_size * cluster_size */
	uint64_t dev_end;           /* capacity rounded down to a cluster */
	uint64_t file_end;          /* a file's end (opts.file_size rounded down to a cluster,
				     * raised by allocations); 0: a raw disk */
	uint32_t block_size;        /* request alignment: max(512, device sector) */

	uint8_t *l1;                /* L1 table, on-disk byte order */
	struct task_lock l1_lock;

	/* L2 cache */
	struct qed_l2 *l2_head, *l2_tail;
	unsigned l2_count, l2_max;

	/* allocation */
	uint64_t alloc_end;         /* next free cluster */
	struct qed_claim *claims;
	uint64_t next_claim_id;
	struct waitq alloc_progress; /* woken when a claim's writes complete or it ends */
	unsigned allocs_in_flight;  /* allocating changes between claim and release */
	uint64_t alloc_seq;         /* bumped by every allocating change */
	uint64_t flushed_seq;       /* alloc_seq at the start of the last good flush */

	/* durability */
	bool ext_usable;            /* the durable-end extension fits in the header sector */
	bool ext_valid;             /* ... and is on disk with the bit set */
	uint64_t durable_end;       /* on disk (when ext_valid) */
	struct task_lock hdr_lock;
	bool corrupt;               /* corruption seen and not repaired: keep need-check */

	/* record area (qed_record.c), under hdr_lock */
	bool records_scanned;       /* both slots read since open */
	uint64_t record_seq;        /* the highest valid sequence number seen in a slot */
	int record_slot;            /* the slot holding it, -1 none */
};

/* ---- qed_io.c: several device requests in flight from one task ------------------------ */
#define QED_BATCH_MAX 16
struct qed_batch {
	struct completion done;
	unsigned pending, used;
	int err;                /* the first error */
	struct blkdev_req reqs[QED_BATCH_MAX];
};
void qed_batch_init(struct qed_batch *b);
/* Submits at once (after waiting for the batch when it is full). */
void qed_batch_add(struct qed_image *img, struct qed_batch *b, enum blkdev_op op,
		   uint64_t offset, const void *buf, size_t len);
int qed_batch_wait(struct qed_batch *b);

/* ---- qed_header.c: header encoding, validation, writes -------------------------------- */
void qed_logf(const struct qed_image *img, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void qed_header_decode(const void *buf, struct qed_header *h);
void qed_header_encode(const struct qed_header *h, void *buf);
int qed_header_validate(const struct qed_image *img, const struct qed_header *h);
uint32_t qed_crc32(const void *buf, size_t len);
/* Reads the extension from img->hdr_sector: true and *end when valid. */
bool qed_ext_decode(const struct qed_image *img, uint64_t *end);
/* The volume record of a header sector: true and name (QED_VOLREC_NAME_MAX + 1 bytes)
 * when valid. Encode: into sector, setting the autoclear bit in *h; -EINVAL when the
 * name is not 1..23 printable bytes or the record has no room. */
bool qed_volrec_decode(const struct qed_header *h, const uint8_t *sector, char *name);
int qed_volrec_encode(struct qed_header *h, uint8_t *sector, const char *name);
/* Writes img->hdr (and the extension when usable, with durable_end) as one sector. */
int qed_header_write(struct qed_image *img, uint64_t features, bool with_ext,
		     uint64_t durable_end);
/* Sets and flushes need-check unless it is already set (before an allocating write). */
int qed_need_check_set(struct qed_image *img);

/* ---- qed_table.c: L1 and L2 tables, the L2 cache -------------------------------------- */
int qed_l1_load(struct qed_image *img);
int qed_l1_write_entry(struct qed_image *img, uint64_t index, uint64_t value);
void qed_l2_cache_init(struct qed_image *img);
void qed_l2_cache_free(struct qed_image *img);
int qed_l2_get(struct qed_image *img, uint64_t offset, struct qed_l2 **out);
struct qed_l2 *qed_l2_new(struct qed_image *img, uint64_t offset);
void qed_l2_put(struct qed_image *img, struct qed_l2 *l2);
void qed_l2_drop(struct qed_image *img, struct qed_l2 *l2);
/* Sets entries [first, first+count) to value + k * step: on disk, then in memory once the
 * write succeeded (unchanged when it failed). Concurrent updates of one table are written
 * together. */
int qed_l2_set_entries(struct qed_image *img, struct qed_l2 *l2, uint64_t first,
		       uint64_t count, uint64_t value, uint64_t step);
/* Writes entries [first, first+count) of l2 as they are in memory (whole sectors around
 * them): for tables no lookup can reach yet, and for the check (no request in flight). */
int qed_l2_write_entries(struct qed_image *img, struct qed_l2 *l2, uint64_t first,
			 uint64_t count);
int qed_l2_write_all(struct qed_image *img, struct qed_l2 *l2);
bool qed_is_table_offset_valid(const struct qed_image *img, uint64_t off, uint64_t limit);
bool qed_is_data_offset_valid(const struct qed_image *img, uint64_t off, uint64_t limit);

/* ---- qed_cluster.c: lookup and allocation ----------------------------------------------- */
struct qed_extent {
	enum qed_extent_state state;
	uint64_t bytes;         /* from pos, all in one L2 table, same state, contiguous */
	uint64_t phys;          /* DATA: device offset of pos */
	bool no_l2;             /* UNALLOCATED because the L1 entry is 0 */
};
int qed_lookup(struct qed_image *img, uint64_t pos, uint64_t len, struct qed_extent *ext);
/* Reserves count clusters at the allocation end: 0, or -ENOSPC. */
int qed_alloc_clusters(struct qed_image *img, uint64_t count, uint64_t *offset);
/* Claims guest clusters [first, first+count): false (having waited for the
 * overlapping claim to go) when the caller must look again. */
bool qed_claim(struct qed_image *img, struct qed_claim *c, uint64_t first, uint64_t count);
void qed_claim_release(struct qed_image *img, struct qed_claim *c);
/* Records that the clusters c allocated so far have been written. */
void qed_claim_written(struct qed_image *img, struct qed_claim *c);
/* Waits until every claim made before this call has written what it allocated. */
void qed_wait_older_claims(struct qed_image *img);
/* The end below which every allocated cluster's first write has completed. */
uint64_t qed_durable_candidate(const struct qed_image *img);

/* ---- qed_read.c ------------------------------------------------------------------------- */
/* Reads guest bytes that no cluster holds: the backing volume's, or zeros. */
int qed_read_backing(struct qed_image *img, uint64_t pos, void *buf, size_t len);
int qed_check_request(const struct qed_image *img, uint64_t offset, uint64_t len);

/* ---- qed_write.c ------------------------------------------------------------------------ */
/* Sets the entries of the whole clusters of ext (found at the cluster-aligned guest
 * position pos) to value, e.g. QED_CLUSTER_ZERO, creating an L2 table if needed.
 * Returns the bytes done, 0 when the caller must look up again, or an error. */
int64_t qed_write_entries(struct qed_image *img, uint64_t pos, const struct qed_extent *ext,
			  uint64_t value);

/* ---- qed_flush.c ------------------------------------------------------------------------ */
/* qed_flush for a clean close: clears need-check even right after allocations. */
int qed_flush_closing(struct qed_image *img);

/* ---- qed_check.c ------------------------------------------------------------------------ */
/* Walks the tables without repairing or logging: the highest referenced end. */
int qed_scan_end(struct qed_image *img, uint64_t *end);

#endif
