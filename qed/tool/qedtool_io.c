/*
 * qedtool subcommands that move guest data: map (extents, as qemu-img map
 * --output=json prints them), read (bytes to stdout) and write (bytes from stdin).
 * Unaligned ranges are handled here with read-modify-write of whole sectors.
 */
#include "qedtool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "task.h"

#define CHUNK (1u << 20)
#define SECTOR 512u

/* ---- map --------------------------------------------------------------------------- */
struct extent {
	uint64_t start, length, offset;
	int depth;
	bool present, zero, data, has_offset;
};

struct map_job {
	struct tool *tool;
	const char *path;
	struct extent pending;
	bool first, have_pending;
	int rc;
};

static void print_extent(struct map_job *j, const struct extent *e)
{
	printf("%s{ \"start\": %llu, \"length\": %llu, \"depth\": %d, \"present\": %s, "
	       "\"zero\": %s, \"data\": %s", j->first ? "[" : ",\n", (unsigned long long)e->start,
	       (unsigned long long)e->length, e->depth, e->present ? "true" : "false",
	       e->zero ? "true" : "false", e->data ? "true" : "false");
	if (e->has_offset)
		printf(", \"offset\": %llu", (unsigned long long)e->offset);
	printf("}");
	j->first = false;
}

/* Merges an extent into the one before it when they continue each other. */
static void emit(struct map_job *j, const struct extent *e)
{
	struct extent *p = &j->pending;
	if (j->have_pending && p->start + p->length == e->start && p->depth == e->depth &&
	    p->present == e->present && p->zero == e->zero && p->data == e->data &&
	    p->has_offset == e->has_offset &&
	    (!e->has_offset || p->offset + p->length == e->offset)) {
		p->length += e->length;
		return;
	}
	if (j->have_pending)
		print_extent(j, p);
	*p = *e;
	j->have_pending = true;
}

static int map_range(struct map_job *j, struct tool_image *ti, uint64_t off, uint64_t len,
		     int depth)
{
	uint64_t end = off + len;
	while (off < end) {
		struct extent e = { .start = off, .depth = depth };
		if (!ti) { /* past the end of the chain: unallocated zeros */
			e.length = end - off;
			e.zero = true;
			e.depth = depth - 1;
			emit(j, &e);
			return 0;
		}
		if (!ti->img) { /* raw backing file: data where it has bytes */
			uint64_t size = ti->vol.size;
			e.length = off < size ? (end < size ? end : size) - off : end - off;
			e.present = e.data = e.has_offset = off < size;
			e.zero = off >= size;
			e.offset = off;
			if (off >= size)
				e.depth = depth - 1;
			emit(j, &e);
			off += e.length;
			continue;
		}
		enum qed_extent_state st;
		uint64_t bytes, img_off;
		int rc = qed_map(ti->img, off, end - off, &st, &bytes, &img_off);
		if (rc)
			return rc;
		if (!bytes || bytes > end - off)
			return -EIO; /* a map that does not advance would loop forever */
		if (st == QED_EXTENT_UNALLOCATED) {
			rc = map_range(j, ti->backing, off, bytes, depth + 1);
			if (rc)
				return rc;
		} else {
			e.length = bytes;
			e.present = true;
			e.zero = st == QED_EXTENT_ZERO;
			e.data = st == QED_EXTENT_DATA;
			e.has_offset = e.data;
			e.offset = img_off;
			emit(j, &e);
		}
		off += bytes;
	}
	return 0;
}

static void map_task(void *arg)
{
	struct map_job *j = arg;
	struct tool_image *ti;
	j->rc = tool_open(j->tool, j->path, true, &ti);
	if (j->rc)
		return;
	struct qed_info in;
	qed_get_info(ti->img, &in);
	j->first = true;
	j->rc = map_range(j, ti, 0, in.image_size, 0);
	if (j->have_pending)
		print_extent(j, &j->pending);
	printf(j->first ? "[]\n" : "]\n");
	if (j->rc)
		fprintf(stderr, "qedtool: %s: map failed: %s\n", j->path, strerror(-j->rc));
	tool_close(ti);
}

int cmd_map(struct tool *t, int argc, char **argv)
{
	struct map_job j = { .tool = t };
	int i = 1;
	if (i < argc && (strcmp(argv[i], "--json") == 0 ||
			 strcmp(argv[i], "--output=json") == 0))
		i++;
	j.path = tool_file_arg(argc, argv, i, "map --json FILE");
	if (!j.path)
		return 1;
	tool_run(t, map_task, &j);
	return j.rc ? 1 : 0;
}

/* ---- read and write ---------------------------------------------------------------- */
struct io_job {
	struct tool *tool;
	const char *path;
	uint64_t offset, len;   /* len: for read */
	uint64_t total;         /* write: bytes expected from stdin when known, else 0 */
	uint8_t *buf;
	int rc;
};

static int check_range(const char *path, uint64_t off, uint64_t len, uint64_t size)
{
	if (off > size || len > size - off) {
		fprintf(stderr, "qedtool: %s: range %llu+%llu is beyond the image size %llu\n",
			path, (unsigned long long)off, (unsigned long long)len,
			(unsigned long long)size);
		return -EINVAL;
	}
	return 0;
}

/* Reads [off, off+len) through whole sectors into j->buf (at off's sector offset). */
static int read_aligned(struct tool_image *ti, uint64_t off, uint64_t len, uint8_t *buf)
{
	uint64_t a = off / SECTOR * SECTOR;
	uint64_t b = (off + len + SECTOR - 1) / SECTOR * SECTOR;
	return qed_read(ti->img, a, buf, (size_t)(b - a));
}

static void read_task(void *arg)
{
	struct io_job *j = arg;
	struct tool_image *ti;
	if ((j->rc = tool_open(j->tool, j->path, true, &ti)) != 0)
		return;
	struct qed_info in;
	qed_get_info(ti->img, &in);
	j->rc = check_range(j->path, j->offset, j->len, in.image_size);
	for (uint64_t done = 0; !j->rc && done < j->len;) {
		uint64_t off = j->offset + done;
		uint64_t n = j->len - done < CHUNK ? j->len - done : CHUNK;
		j->rc = read_aligned(ti, off, n, j->buf);
		if (j->rc) {
			fprintf(stderr, "qedtool: %s: read failed: %s\n", j->path,
				strerror(-j->rc));
			break;
		}
		if (fwrite(j->buf + off % SECTOR, 1, n, stdout) != n) {
			fprintf(stderr, "qedtool: writing to stdout: %s\n", strerror(errno));
			j->rc = -EIO;
		}
		done += n;
		tool_progress(j->tool, "read", done, j->len);
	}
	tool_progress_end(j->tool);
	tool_close(ti);
}

static int write_piece(struct tool_image *ti, uint64_t off, const uint8_t *data, size_t n,
		       uint8_t *buf)
{
	uint64_t a = off / SECTOR * SECTOR;
	uint64_t b = (off + n + SECTOR - 1) / SECTOR * SECTOR;
	if (a != off || b != off + n) { /* partial sectors: keep their other bytes */
		int rc = read_aligned(ti, off, n, buf);
		if (rc)
			return rc;
	}
	memcpy(buf + (off - a), data, n);
	return qed_write(ti->img, a, buf, (size_t)(b - a));
}

static void write_task(void *arg)
{
	struct io_job *j = arg;
	struct tool_image *ti;
	if ((j->rc = tool_open(j->tool, j->path, false, &ti)) != 0)
		return;
	struct qed_info in;
	qed_get_info(ti->img, &in);
	uint8_t *data = malloc(CHUNK);
	uint64_t off = j->offset;
	size_t n;
	while (data && !j->rc && (n = fread(data, 1, CHUNK, stdin)) > 0) {
		j->rc = check_range(j->path, off, n, in.image_size);
		if (!j->rc && (j->rc = write_piece(ti, off, data, n, j->buf)) != 0)
			fprintf(stderr, "qedtool: %s: write failed: %s\n", j->path,
				strerror(-j->rc));
		off += n;
		tool_progress(j->tool, "write", off - j->offset, j->total);
	}
	if (!data)
		j->rc = -ENOMEM;
	if (!j->rc && ferror(stdin)) {
		fprintf(stderr, "qedtool: reading stdin: %s\n", strerror(errno));
		j->rc = -EIO;
	}
	free(data);
	tool_progress_end(j->tool);
	int rc = qed_flush(ti->img);
	rc = tool_close(ti) ? -EIO : rc;
	if (!j->rc && rc) {
		fprintf(stderr, "qedtool: %s: flush failed: %s\n", j->path, strerror(-rc));
		j->rc = rc;
	}
}

static int io_command(struct tool *t, int argc, char **argv, bool is_read)
{
	struct io_job j = { .tool = t };
	if (argc != (is_read ? 4 : 3)) {
		fprintf(stderr, is_read ? "usage: qedtool read FILE OFFSET LEN\n"
					: "usage: qedtool write FILE OFFSET < data\n");
		return 1;
	}
	j.path = argv[1];
	if (parse_size(argv[2], &j.offset) ||
	    (is_read && parse_size(argv[3], &j.len))) {
		fprintf(stderr, "qedtool: bad offset or length\n");
		return 1;
	}
	struct stat st;
	if (!is_read && fstat(0, &st) == 0 && S_ISREG(st.st_mode))
		j.total = (uint64_t)st.st_size;
	j.buf = malloc(CHUNK + 2 * SECTOR);
	if (!j.buf) {
		fprintf(stderr, "qedtool: out of memory\n");
		return 1;
	}
	tool_run(t, is_read ? read_task : write_task, &j);
	free(j.buf);
	if (is_read && fflush(stdout) != 0)
		return 1;
	return j.rc ? 1 : 0;
}

int cmd_read(struct tool *t, int argc, char **argv) { return io_command(t, argc, argv, true); }
int cmd_write(struct tool *t, int argc, char **argv) { return io_command(t, argc, argv, false); }
