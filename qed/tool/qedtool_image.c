/*
 * qedtool: images on host files. Opens an image and, through the QED core's backing
 * callback, its backing chain (names relative to the image's own directory; raw or QED
 * by the recorded format, else by probing); sizes each file disk so the image can grow.
 */
#include "qedtool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "task.h"

static bool poll_all(void *ctx)
{
	struct tool *t = ctx;
	bool progress = false;
	for (int i = 0; i < t->n_devs; i++)
		if (t->devs[i] && file_blkdev_poll(t->devs[i]))
			progress = true;
	return progress;
}

void tool_run(struct tool *t, void (*fn)(void *), void *arg)
{
	if (!task_spawn(fn, arg)) {
		fprintf(stderr, "qedtool: out of memory\n");
		exit(1);
	}
	if (!task_run_all(poll_all, t)) {
		fprintf(stderr, "qedtool: internal error: I/O never completed\n");
		exit(1);
	}
}

void tool_log(void *ctx, int level, const char *msg)
{
	struct tool *t = ctx;
	if (level >= 2) {
		if (t->progress) {
			fprintf(stderr, "\r%-70.70s", msg);
			t->progress_shown = true;
		}
		return;
	}
	if (level == 1 && t->mute_notices)
		return;
	tool_progress_end(t);
	fprintf(stderr, "%s%s\n", level == 0 ? "qedtool: " : "", msg);
}

void tool_progress(struct tool *t, const char *what, uint64_t done, uint64_t total)
{
	if (!t->progress || !total)
		return;
	fprintf(stderr, "\r%s: %3u%%", what, (unsigned)(done * 100 / total));
	t->progress_shown = true;
}

void tool_progress_end(struct tool *t)
{
	if (t->progress_shown)
		fprintf(stderr, "\r%-70s\r", "");
	t->progress_shown = false;
}

const char *tool_file_arg(int argc, char **argv, int first, const char *usage)
{
	if (argc - first != 1) {
		fprintf(stderr, "usage: qedtool %s\n", usage);
		return NULL;
	}
	return argv[first];
}


uint64_t tool_capacity_bound(uint64_t image_size, uint32_t cluster_size,
			     uint32_t table_size, uint32_t header_clusters)
{
	uint64_t c = cluster_size, table_bytes = (uint64_t)table_size * c;
	uint64_t l2_span = table_bytes / 8 * c;  /* bytes of disk one L2 table maps */
	uint64_t data = (image_size + c - 1) / c * c;
	uint64_t n_l2 = (image_size + l2_span - 1) / l2_span;
	return (uint64_t)header_clusters * c + table_bytes * (1 + n_l2) + data;
}

/* Sizes a QED file's disk from its header: little-endian cluster_size at byte 4,
 * table_size at 8, header_size (clusters) at 12, image_size at 48 (QED spec). */
static uint64_t qed_file_capacity(const uint8_t *hdr, uint64_t file_size)
{
	uint32_t c, t, h;
	uint64_t size;
	memcpy(&c, hdr + 4, 4);
	memcpy(&t, hdr + 8, 4);
	memcpy(&h, hdr + 12, 4);
	memcpy(&size, hdr + 48, 8);
	if (c < 4096 || c > (64u << 20) || (c & (c - 1)) || !t || t > 16 || h > 1024 ||
	    size > (1ull << 50))
		return file_size; /* the core refuses it anyway, with a reason */
	uint64_t room = tool_capacity_bound(size, c, t, h);
	return ((file_size + c - 1) / c * c) + room;
}

static int read_header(const char *path, uint8_t *hdr, size_t len, uint64_t *file_size)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -errno;
	memset(hdr, 0, len);
	size_t n = fread(hdr, 1, len, f);
	(void)n; /* a short file probes as raw */
	fseek(f, 0, SEEK_END);
	long sz = ftell(f);
	fclose(f);
	*file_size = sz < 0 ? 0 : (uint64_t)sz;
	return 0;
}

int tool_add_file(struct tool *t, const char *path, unsigned flags, uint64_t cap,
		   struct file_blkdev **out)
{
	if (t->n_devs == TOOL_MAX_DEVS) {
		fprintf(stderr, "qedtool: %s: backing chain too long\n", path);
		return -ELOOP;
	}
	int rc = file_blkdev_open(path, flags, cap, out);
	if (rc) {
		fprintf(stderr, "qedtool: %s: %s\n", path, strerror(-rc));
		return rc;
	}
	t->devs[t->n_devs++] = *out;
	return 0;
}

void tool_drop_file(struct tool *t, struct file_blkdev *fb)
{
	for (int i = 0; i < t->n_devs; i++)
		if (t->devs[i] == fb)
			t->devs[i] = NULL;
	file_blkdev_close(fb);
}

/* ---- raw files as backing volumes -------------------------------------------------- */
static int raw_read(struct volume *v, uint64_t offset, void *buf, size_t len)
{
	struct tool_image *ti = v->priv;
	struct blkdev *dev = file_blkdev_dev(ti->fb);
	/* Past the disk's end a backing file reads as zeros. */
	size_t in = offset >= dev->capacity ? 0
		    : (size_t)(len < dev->capacity - offset ? len : dev->capacity - offset);
	memset((uint8_t *)buf + in, 0, len - in);
	return in ? blkdev_read(dev, offset, buf, in) : 0;
}

static int raw_write(struct volume *v, uint64_t offset, const void *buf, size_t len)
{
	(void)v; (void)offset; (void)buf; (void)len;
	return -EROFS;
}

static int raw_flush(struct volume *v)
{
	(void)v;
	return 0;
}

static const struct volume_ops raw_volume_ops = {
	.read = raw_read, .write = raw_write, .flush = raw_flush,
};

static char *resolve_backing(const char *image_path, const char *name)
{
	if (name[0] == '/')
		return strdup(name);
	const char *slash = strrchr(image_path, '/');
	size_t dir = slash ? (size_t)(slash - image_path) + 1 : 0;
	char *p = malloc(dir + strlen(name) + 1);
	if (p) {
		memcpy(p, image_path, dir);
		strcpy(p + dir, name);
	}
	return p;
}

static int open_backing(void *ctx, const char *name, const char *fmt,
			struct volume **backing)
{
	struct tool_image *parent = ctx;
	char *path = resolve_backing(parent->path, name);
	if (!path)
		return -ENOMEM;
	int rc = tool_open_any(parent->tool, path, fmt, &parent->backing);
	free(path);
	if (rc)
		return rc;
	*backing = &parent->backing->vol;
	return 0;
}

/* A file's size is the image's end (QEMU's rule, which the core applies when told it);
 * the disk's capacity past it is only room to grow. */
static int open_qed(struct tool_image *ti, bool read_only, uint64_t file_size)
{
	struct qed_open_opts o = {
		.read_only = read_only, .check_on_open = true,
		.open_backing = open_backing, .backing_ctx = ti,
		.log = tool_log, .log_ctx = ti->tool, .file_size = file_size,
	};
	int rc = qed_open(file_blkdev_dev(ti->fb), &o, &ti->img);
	if (rc) {
		tool_progress_end(ti->tool);
		fprintf(stderr, "qedtool: %s: cannot open QED image: %s\n", ti->path,
			strerror(-rc));
		return rc;
	}
	qed_volume_init(ti->img, &ti->vol);
	return 0;
}

static int open_file(struct tool *t, const char *path, const char *fmt, bool read_only,
		     struct tool_image **out)
{
	uint8_t hdr[512];
	uint64_t file_size = 0;
	int rc = read_header(path, hdr, sizeof(hdr), &file_size);
	if (rc) {
		fprintf(stderr, "qedtool: %s: %s\n", path, strerror(-rc));
		return rc;
	}
	bool is_qed = fmt ? strcmp(fmt, "qed") == 0 : qed_probe(hdr, sizeof(hdr));
	if (is_qed && file_size < 512) {
		fprintf(stderr, "qedtool: %s: too small to be a QED image (%llu bytes)\n", path,
			(unsigned long long)file_size);
		return -EINVAL;
	}
	if (fmt && !is_qed && strcmp(fmt, "raw") != 0) {
		fprintf(stderr, "qedtool: %s: unsupported format '%s'\n", path, fmt);
		return -ENOTSUP;
	}
	struct tool_image *ti = calloc(1, sizeof(*ti));
	if (!ti || !(ti->path = strdup(path))) {
		free(ti);
		return -ENOMEM;
	}
	ti->tool = t;
	uint64_t cap = is_qed ? qed_file_capacity(hdr, file_size) : file_size;
	rc = tool_add_file(t, path, read_only ? FILE_BLKDEV_READ_ONLY : 0, cap, &ti->fb);
	if (!rc && is_qed)
		rc = open_qed(ti, read_only, file_size);
	if (!rc && !is_qed) {
		ti->vol = (struct volume){ .ops = &raw_volume_ops, .size = file_size,
			.block_size = 512, .read_only = true, .priv = ti };
	}
	if (rc) {
		tool_close(ti);
		return rc;
	}
	*out = ti;
	return 0;
}

int tool_open(struct tool *t, const char *path, bool read_only, struct tool_image **out)
{
	return open_file(t, path, "qed", read_only, out);
}

int tool_open_any(struct tool *t, const char *path, const char *fmt,
		  struct tool_image **out)
{
	return open_file(t, path, fmt, true, out);
}

int tool_close(struct tool_image *ti)
{
	int rc = 0;
	if (!ti)
		return 0;
	if (ti->img)
		rc = qed_close(ti->img);
	if (ti->backing) {
		int brc = tool_close(ti->backing);
		rc = rc ? rc : brc;
	}
	if (ti->fb)
		tool_drop_file(ti->tool, ti->fb);
	free(ti->path);
	free(ti);
	return rc;
}
