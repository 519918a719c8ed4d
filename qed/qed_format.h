/*
 * The QED on-disk format (QEMU docs/interop/qed_spec.txt), plus qedbox's durable-end
 * extension. Every constant and every piece of offset arithmetic on image bytes lives
 * here; the rest of qed/ works on the in-memory forms converted by qed_header.c.
 *
 * Layout of an image (all fields little-endian on disk):
 *
 *   byte 0                                  header_size clusters
 *   +--------+------------+----------------+----------+--------+----------+----------+---
 *   | header | backing    | qedbox durable | qedbox   | (free) | L1 table | cluster  | ...
 *   | 64 B   | file name  | end extension  | volume   |        | table_   | (data or |
 *   |        | (optional) | (optional 32 B)| record   |        | size cl. | L2 table)|
 *   |        |            |                | (opt 40B)|        |          |          |
 *   +--------+------------+----------------+----------+--------+----------+----------+---
 *   \________ first 512 bytes: written as one sector ______/
 *   The free rest of the header cluster holds qedbox's record area from byte 4096 on
 *   (two 8 KiB slots, when header_size * cluster_size >= 20 KiB; see below).
 *
 * Two-level lookup of a guest byte position pos:
 *   L1[pos >> l1_shift] -> L2 table offset (0: no table)
 *   L2[(pos >> l2_shift) & l2_mask] -> cluster offset (0: unallocated, read the backing
 *   file or zeros; 1: zero cluster, reads as zeros; else byte offset of the data)
 * where l2_shift = log2(cluster_size) and a table holds table_size * cluster_size / 8
 * entries. QEMU's allocator appends at the end of the file; ours appends at the
 * "allocation end" (see qed/README.md), never at the end of the disk.
 */
#ifndef QEDBOX_QED_FORMAT_H
#define QEDBOX_QED_FORMAT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "byteorder.h"

#define QED_MAGIC 0x00444551u /* "QED\0" read as a little-endian uint32 */

/* features: an implementation must refuse an image with a bit it does not know. */
#define QED_F_BACKING_FILE            0x01ull /* backing_filename_* are valid */
#define QED_F_NEED_CHECK              0x02ull /* not closed cleanly: check before use */
#define QED_F_BACKING_FORMAT_NO_PROBE 0x04ull /* backing file is raw, do not probe */
#define QED_FEATURE_MASK (QED_F_BACKING_FILE | QED_F_NEED_CHECK | QED_F_BACKING_FORMAT_NO_PROBE)
/* compat_features: none defined; unknown ones are ignored. */
#define QED_COMPAT_FEATURE_MASK 0ull
/* autoclear_features: an implementation that does not know a bit clears it on a
 * read-write open. QEMU defines none; qedbox defines one (bit 63) that says the
 * durable-end extension below is valid. Chosen far from where QEMU would add bits. */
#define QED_AF_QEDBOX_DURABLE_END (1ull << 63)
/* Bit 62: the record area below holds qedbox records (persistent reservations) that are
 * current. QEMU clears it on a read-write open: its writes make the records stale. */
#define QED_AF_QEDBOX_RECORDS (1ull << 62)
/* Bit 61: the volume record below is valid. */
#define QED_AF_QEDBOX_VOLUME (1ull << 61)
#define QED_AUTOCLEAR_FEATURE_MASK \
	(QED_AF_QEDBOX_DURABLE_END | QED_AF_QEDBOX_RECORDS | QED_AF_QEDBOX_VOLUME)

#define QED_MIN_CLUSTER_SIZE (4u * 1024)          /* bytes */
#define QED_MAX_CLUSTER_SIZE (64u * 1024 * 1024)  /* bytes */
#define QED_DEFAULT_CLUSTER_SIZE (64u * 1024)
#define QED_MIN_TABLE_SIZE 1u                     /* clusters */
#define QED_MAX_TABLE_SIZE 16u
#define QED_DEFAULT_TABLE_SIZE 4u
#define QED_SECTOR_SIZE 512u       /* image_size unit; the header sector */
#define QED_BACKING_NAME_MAX 1023u /* bytes; longer names are refused (as QEMU does) */

/* L2 entry values with a special meaning. */
#define QED_CLUSTER_UNALLOCATED 0ull
#define QED_CLUSTER_ZERO        1ull

/* The header as it is on disk: 64 bytes, little-endian, no padding. */
struct qed_header_disk {
	uint32_t magic;              /* QED_MAGIC */
	uint32_t cluster_size;       /* bytes */
	uint32_t table_size;         /* clusters, for the L1 and each L2 table */
	uint32_t header_size;        /* clusters */
	uint64_t features;
	uint64_t compat_features;
	uint64_t autoclear_features;
	uint64_t l1_table_offset;    /* bytes */
	uint64_t image_size;         /* bytes: the guest-visible size */
	uint32_t backing_filename_offset; /* bytes from the start of the image */
	uint32_t backing_filename_size;   /* bytes, no NUL */
} __attribute__((packed));

#define QED_HEADER_DISK_SIZE 64u
_Static_assert(sizeof(struct qed_header_disk) == QED_HEADER_DISK_SIZE, "QED header is 64 bytes");

/* The same fields in host order: what the rest of qed/ uses. */
struct qed_header {
	uint32_t magic, cluster_size, table_size, header_size;
	uint64_t features, compat_features, autoclear_features;
	uint64_t l1_table_offset, image_size;
	uint32_t backing_filename_offset, backing_filename_size;
};

/*
 * qedbox durable-end extension: 32 bytes inside the first 512-byte sector, at the first
 * 8-byte boundary after the header and the backing file name (qed_ext_offset()). Valid
 * only while QED_AF_QEDBOX_DURABLE_END is set and magic, version and checksum match.
 */
#define QED_EXT_MAGIC   0x44584251u /* "QBXD" */
#define QED_EXT_VERSION 1u
#define QED_EXT_SIZE    32u
struct qed_ext_disk {
	uint32_t magic;       /* QED_EXT_MAGIC */
	uint32_t version;     /* QED_EXT_VERSION */
	uint64_t durable_end; /* bytes: every cluster below holds durable data */
	uint64_t reserved;    /* 0 */
	uint32_t reserved2;   /* 0 */
	uint32_t crc32;       /* CRC-32 (IEEE) of the 28 bytes before it */
} __attribute__((packed));
_Static_assert(sizeof(struct qed_ext_disk) == QED_EXT_SIZE, "extension is 32 bytes");

/*
 * qedbox record area: two slots in the header cluster past its first 4096 bytes (so a
 * slot never shares a device sector with the header, for 512- and 4096-byte sectors),
 * written alternately; the valid slot with the higher sequence number is current. Valid
 * only while QED_AF_QEDBOX_RECORDS is set. Needs header_size * cluster_size >=
 * QED_RECORD_AREA_END: not on images with 4 or 8 KiB clusters and a one-cluster header.
 *
 *   slot + 0   4  magic     QED_RECORD_MAGIC
 *   slot + 4   4  version   QED_RECORD_VERSION
 *   slot + 8   8  sequence  one more than the highest sequence of either slot
 *   slot + 16  4  length    payload bytes, <= QED_RECORD_PAYLOAD_MAX
 *   slot + 20  8  reserved  0
 *   slot + 28  4  crc32     CRC-32 (IEEE) of bytes 0 .. 32 + length, this field as 0
 *   slot + 32  n  payload   (an opaque blob: net/scsi_pr_store.c's encoding)
 */
#define QED_RECORD_AREA_OFFSET 4096u
#define QED_RECORD_SLOT_SIZE   8192u
#define QED_RECORD_SLOTS       2u
#define QED_RECORD_AREA_END (QED_RECORD_AREA_OFFSET + QED_RECORD_SLOTS * QED_RECORD_SLOT_SIZE)
#define QED_RECORD_MAGIC   0x52584251u /* "QBXR" */
#define QED_RECORD_VERSION 1u
#define QED_RECORD_HEADER_SIZE 32u
#define QED_RECORD_PAYLOAD_MAX (QED_RECORD_SLOT_SIZE - QED_RECORD_HEADER_SIZE)

static inline uint64_t qed_record_slot_offset(unsigned slot)
{
	return QED_RECORD_AREA_OFFSET + (uint64_t)slot * QED_RECORD_SLOT_SIZE;
}

/*
 * qedbox volume record: 40 bytes right after the durable-end extension's slot (whether
 * or not the extension is there), inside the first 512-byte sector (qed_volrec_offset()).
 * It names the volume an overlay serves, so that a snapshot's overlay keeps its volume's
 * target name. Valid only while QED_AF_QEDBOX_VOLUME is set and magic, version, checksum
 * and name check out.
 */
#define QED_VOLREC_MAGIC    0x56584251u /* "QBXV" */
#define QED_VOLREC_VERSION  1u
#define QED_VOLREC_SIZE     40u
#define QED_VOLREC_NAME_MAX 23u /* bytes of name, NUL-padded to 24 */
struct qed_volrec_disk {
	uint32_t magic;       /* QED_VOLREC_MAGIC */
	uint32_t version;     /* QED_VOLREC_VERSION */
	char name[QED_VOLREC_NAME_MAX + 1]; /* the volume, NUL-padded; 1..23 printable bytes */
	uint32_t reserved;    /* 0 */
	uint32_t crc32;       /* CRC-32 (IEEE) of the 36 bytes before it */
} __attribute__((packed));
_Static_assert(sizeof(struct qed_volrec_disk) == QED_VOLREC_SIZE, "volume record is 40 bytes");

/* Little-endian on disk: lib/byteorder.h converts. */
/* A table (L1 or L2) in memory is kept in its on-disk byte order. */
static inline uint64_t qed_table_get(const void *table, uint64_t index)
{
	return get_le64((const uint8_t *)table + index * 8);
}

static inline void qed_table_set(void *table, uint64_t index, uint64_t value)
{
	put_le64((uint8_t *)table + index * 8, value);
}

/* ---- geometry predicates -------------------------------------------------------------- */
static inline bool qed_is_power_of_2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static inline bool qed_is_cluster_size_valid(uint32_t cluster_size)
{
	return cluster_size >= QED_MIN_CLUSTER_SIZE && cluster_size <= QED_MAX_CLUSTER_SIZE &&
	       qed_is_power_of_2(cluster_size);
}

static inline bool qed_is_table_size_valid(uint32_t table_size)
{
	return table_size >= QED_MIN_TABLE_SIZE && table_size <= QED_MAX_TABLE_SIZE &&
	       qed_is_power_of_2(table_size);
}

/* Entries per table. cluster_size and table_size must be valid. */
static inline uint64_t qed_table_entries(uint32_t cluster_size, uint32_t table_size)
{
	return (uint64_t)cluster_size * table_size / 8;
}

/* Largest image the geometry can address: entries^2 clusters. Never overflows: at most
 * (2^26 * 16 / 8)^2 * 2^26 = 2^80 would; so saturate at UINT64_MAX. */
static inline uint64_t qed_max_image_size(uint32_t cluster_size, uint32_t table_size)
{
	uint64_t n = qed_table_entries(cluster_size, table_size);
	uint64_t per_l2 = n * cluster_size; /* <= 2^27 * 2^26: fits */
	if (per_l2 > UINT64_MAX / n)
		return UINT64_MAX;
	return per_l2 * n;
}

static inline bool qed_is_image_size_valid(uint64_t image_size, uint32_t cluster_size,
					   uint32_t table_size)
{
	return image_size % QED_SECTOR_SIZE == 0 &&
	       image_size <= qed_max_image_size(cluster_size, table_size);
}

static inline uint64_t qed_offset_into_cluster(uint64_t pos, uint32_t cluster_size)
{
	return pos & (cluster_size - 1);
}

static inline uint64_t qed_start_of_cluster(uint64_t pos, uint32_t cluster_size)
{
	return pos & ~(uint64_t)(cluster_size - 1);
}

/* Clusters covering bytes (rounded up), without the overflow of pos + cluster_size - 1
 * and without QEMU's division by cluster_size - 1. */
static inline uint64_t qed_bytes_to_clusters(uint64_t bytes, uint32_t cluster_size)
{
	return bytes / cluster_size + (qed_offset_into_cluster(bytes, cluster_size) != 0);
}

/* ---- where things may live -------------------------------------------------------------
 * A cluster or table at byte offset off, len bytes long, is acceptable when it is
 * cluster-aligned, starts after the header, and ends at or before limit (an end offset:
 * the device's usable end, or the durable end). Overflow-safe. */
static inline bool qed_is_extent_valid(uint64_t off, uint64_t len, uint64_t header_end,
				       uint64_t limit, uint32_t cluster_size)
{
	if (qed_offset_into_cluster(off, cluster_size) != 0)
		return false;
	if (off < header_end || off > limit)
		return false;
	return len <= limit - off;
}

/* Do [a, a+alen) and [b, b+blen) overlap? */
static inline bool qed_ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Offset of the durable-end extension, or 0 when it cannot fit in the first sector. */
static inline uint32_t qed_ext_offset(const struct qed_header *h)
{
	uint64_t after = QED_HEADER_DISK_SIZE;
	if (h->features & QED_F_BACKING_FILE) {
		uint64_t name_end = (uint64_t)h->backing_filename_offset + h->backing_filename_size;
		if (name_end > after)
			after = name_end;
	}
	after = (after + 7) & ~(uint64_t)7;
	if (after + QED_EXT_SIZE > QED_SECTOR_SIZE)
		return 0;
	return (uint32_t)after;
}

/* Offset of the volume record, or 0 when it cannot fit in the first sector. */
static inline uint32_t qed_volrec_offset(const struct qed_header *h)
{
	uint32_t ext = qed_ext_offset(h);
	if (ext == 0 || ext + QED_EXT_SIZE + QED_VOLREC_SIZE > QED_SECTOR_SIZE)
		return 0;
	return ext + QED_EXT_SIZE;
}

#endif
