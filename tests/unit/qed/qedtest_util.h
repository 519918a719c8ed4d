/*
 * Shared helpers of the QED unit tests: run a case on a fresh test disk, make an image, look at
 * the header as it is on the disk, fill and compare patterns.
 */
#ifndef QEDBOX_QEDTEST_UTIL_H
#define QEDBOX_QEDTEST_UTIL_H

#include "check.h"
#include "qed.h"
#include "qed_format.h"
#include "testdisk.h"

/* Messages go to stderr (shown when a test fails); the last error is kept. */
static char last_error[256];
static int log_count[3];

static inline void test_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (level >= 0 && level < 3)
		log_count[level]++;
	if (level == 0)
		snprintf(last_error, sizeof(last_error), "%s", msg);
	fprintf(stderr, "  [log %d] %s\n", level, msg);
}

static inline struct qed_open_opts test_opts(void)
{
	struct qed_open_opts o = { .check_on_open = true, .log = test_log };
	return o;
}

static inline struct qed_header disk_header(struct testdisk *d)
{
	uint8_t buf[QED_HEADER_DISK_SIZE];
	struct qed_header h;
	testdisk_peek(d, 0, buf, sizeof(buf));
	h.magic = get_le32(buf);
	h.cluster_size = get_le32(buf + 4);
	h.table_size = get_le32(buf + 8);
	h.header_size = get_le32(buf + 12);
	h.features = get_le64(buf + 16);
	h.compat_features = get_le64(buf + 24);
	h.autoclear_features = get_le64(buf + 32);
	h.l1_table_offset = get_le64(buf + 40);
	h.image_size = get_le64(buf + 48);
	h.backing_filename_offset = get_le32(buf + 56);
	h.backing_filename_size = get_le32(buf + 60);
	return h;
}

static inline bool disk_need_check(struct testdisk *d)
{
	return (disk_header(d).features & QED_F_NEED_CHECK) != 0;
}

/* The durable end on the disk, or 0 when the extension is absent or invalid. */
static inline uint64_t disk_durable_end(struct testdisk *d)
{
	struct qed_header h = disk_header(d);
	uint32_t off = qed_ext_offset(&h);
	uint8_t e[QED_EXT_SIZE];
	if (!(h.autoclear_features & QED_AF_QEDBOX_DURABLE_END) || off == 0)
		return 0;
	testdisk_peek(d, off, e, sizeof(e));
	if (get_le32(e) != QED_EXT_MAGIC)
		return 0;
	return get_le64(e + 8);
}

static inline void fill_pattern(void *buf, size_t len, uint32_t seed)
{
	uint8_t *p = buf;
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)((seed * 2654435761u + i * 7 + (i >> 9)) >> 3);
}

static inline bool is_zero(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* Runs one case as a task on a fresh test disk of disk_size bytes (512-byte sectors),
 * which the test file's `disk` points at meanwhile. setup is a statement run after the
 * disk exists and before the case (what differs between files: disk order, open options). */
#define RUN_DISK_CASE(disk_size, setup, fn) \
	do { \
		disk = testdisk_new(disk_size, 512); \
		setup; \
		check_case_name = #fn; \
		check_cases++; \
		CHECK(run_in_task(fn, NULL)); \
		testdisk_free(disk); \
	} while (0)

#endif
