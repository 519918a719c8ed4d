/*
 * qedtool subcommands that describe or make whole images: create, info, check.
 * Each parses its arguments, then does its I/O in a task (tool_run).
 */
#include "qedtool.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "task.h"

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* ---- create ------------------------------------------------------------------------ */
struct create_job {
	struct tool *tool;
	const char *path;
	struct qed_create_opts opts;
	bool size_given;
	int rc;
};

/* Without a size, the new image takes its backing file's. */
static int backing_size(struct create_job *j, uint64_t *size)
{
	char *slash = strrchr(j->path, '/');
	char *path = NULL;
	if (j->opts.backing_file[0] != '/' && slash &&
	    asprintf(&path, "%.*s/%s", (int)(slash - j->path), j->path,
		     j->opts.backing_file) < 0)
		return -ENOMEM;
	struct tool_image *b;
	int rc = tool_open_any(j->tool, path ? path : j->opts.backing_file,
			       j->opts.backing_fmt, &b);
	free(path);
	if (rc)
		return rc;
	*size = b->vol.size;
	return tool_close(b);
}

static void create_task(void *arg)
{
	struct create_job *j = arg;
	if (!j->size_given && (j->rc = backing_size(j, &j->opts.image_size)) != 0)
		return;
	uint32_t c = j->opts.cluster_size ? j->opts.cluster_size : 65536;
	uint32_t t = j->opts.table_size ? j->opts.table_size : 4;
	uint64_t cap = tool_capacity_bound(j->opts.image_size, c, t, 2);
	struct file_blkdev *fb;
	j->rc = tool_add_file(j->tool, j->path, FILE_BLKDEV_CREATE, cap, &fb);
	if (j->rc)
		return;
	j->rc = qed_create(file_blkdev_dev(fb), &j->opts);
	tool_drop_file(j->tool, fb);
	if (j->rc) {
		fprintf(stderr, "qedtool: %s: cannot create image: %s\n", j->path,
			strerror(-j->rc));
		unlink(j->path); /* no half-made image left behind */
	}
}

int cmd_create(struct tool *t, int argc, char **argv)
{
	struct create_job j = { .tool = t };
	uint64_t v;
	int opt;
	while ((opt = getopt(argc, argv, "b:F:c:t:")) != -1) {
		switch (opt) {
		case 'b': j.opts.backing_file = optarg; break;
		case 'F': j.opts.backing_fmt = optarg; break;
		case 'c':
		case 't':
			if (parse_size(optarg, &v) || v > UINT32_MAX) {
				fprintf(stderr, "qedtool: bad %s '%s'\n",
					opt == 'c' ? "cluster size" : "table size", optarg);
				return 1;
			}
			*(opt == 'c' ? &j.opts.cluster_size : &j.opts.table_size) = (uint32_t)v;
			break;
		default: return 1;
		}
	}
	if (optind >= argc || argc - optind > 2 ||
	    (argc - optind == 1 && !j.opts.backing_file)) {
		fprintf(stderr, "usage: qedtool create [-b backing] [-F fmt] [-c cluster] "
			"[-t table_size] FILE SIZE\n");
		return 1;
	}
	uint32_t c = j.opts.cluster_size, ts = j.opts.table_size;
	if (c && (c < 4096 || c > (64u << 20) || (c & (c - 1)))) {
		fprintf(stderr, "qedtool: cluster size must be a power of two from 4K to 64M\n");
		return 1;
	}
	if (ts && (ts > 16 || (ts & (ts - 1)))) {
		fprintf(stderr, "qedtool: table size must be a power of two from 1 to 16\n");
		return 1;
	}
	j.path = argv[optind];
	j.size_given = argc - optind == 2;
	if (j.size_given && parse_size(argv[optind + 1], &j.opts.image_size)) {
		fprintf(stderr, "qedtool: bad size '%s'\n", argv[optind + 1]);
		return 1;
	}
	tool_run(t, create_task, &j);
	return j.rc ? 1 : 0;
}

/* ---- info -------------------------------------------------------------------------- */
struct info_job {
	struct tool *tool;
	const char *path;
	bool json;
	int rc;
};

static void print_info(const struct info_job *j, const struct qed_info *in,
		       uint64_t file_size)
{
	if (j->json) {
		printf("{\n    \"filename\": ");
		json_string(stdout, j->path);
		printf(",\n    \"format\": \"qed\",\n    \"virtual-size\": %llu,\n"
		       "    \"actual-size\": %llu,\n    \"cluster-size\": %u,\n"
		       "    \"table-size\": %u,\n    \"dirty-flag\": %s,\n"
		       "    \"durable-end\": %llu",
		       (unsigned long long)in->image_size, (unsigned long long)file_size,
		       in->cluster_size, in->table_size, in->need_check ? "true" : "false",
		       (unsigned long long)in->durable_end);
		if (in->backing_file[0]) {
			printf(",\n    \"backing-filename\": ");
			json_string(stdout, in->backing_file);
		}
		if (in->backing_fmt[0]) {
			printf(",\n    \"backing-filename-format\": ");
			json_string(stdout, in->backing_fmt);
		}
		printf("\n}\n");
		return;
	}
	printf("image: %s\nfile format: qed\nvirtual size: %llu bytes\n"
	       "disk size: %llu bytes\ncluster_size: %u\ntable_size: %u\n", j->path,
	       (unsigned long long)in->image_size, (unsigned long long)file_size,
	       in->cluster_size, in->table_size);
	if (in->backing_file[0])
		printf("backing file: %s\n", in->backing_file);
	if (in->backing_fmt[0])
		printf("backing file format: %s\n", in->backing_fmt);
	printf("need check: %s\nfeatures: 0x%llx compat 0x%llx autoclear 0x%llx\n",
	       in->need_check ? "yes" : "no", (unsigned long long)in->features,
	       (unsigned long long)in->compat_features,
	       (unsigned long long)in->autoclear_features);
	if (in->durable_end)
		printf("durable end: %llu\n", (unsigned long long)in->durable_end);
	if (in->volume_name[0])
		printf("volume: %s\n", in->volume_name);
}

static void info_task(void *arg)
{
	struct info_job *j = arg;
	struct tool_image *ti;
	j->rc = tool_open(j->tool, j->path, true, &ti);
	if (j->rc)
		return;
	struct qed_info in;
	qed_get_info(ti->img, &in);
	print_info(j, &in, file_blkdev_file_size(ti->fb));
	tool_close(ti);
}

int cmd_info(struct tool *t, int argc, char **argv)
{
	struct info_job j = { .tool = t };
	int i = 1;
	if (i < argc && strcmp(argv[i], "--json") == 0) {
		j.json = true;
		i++;
	}
	j.path = tool_file_arg(argc, argv, i, "info [--json] FILE");
	if (!j.path)
		return 1;
	tool_run(t, info_task, &j);
	return j.rc ? 1 : 0;
}

/* ---- check ------------------------------------------------------------------------- */
struct check_job {
	struct tool *tool;
	const char *path;
	bool json, repair;
	int status;
	uint64_t total_clusters;    /* virtual size in clusters */
};

static void print_check(const struct check_job *j, const struct qed_check_result *r)
{
	uint64_t left = r->corruptions - r->corruptions_fixed;
	if (j->json) {
		printf("{\n    \"image-end-offset\": %llu,\n    \"total-clusters\": %llu,\n"
		       "    \"check-errors\": %llu,\n    \"leaks\": %llu,\n"
		       "    \"corruptions\": %llu,\n    \"corruptions-fixed\": %llu,\n"
		       "    \"allocated-clusters\": %llu,\n    \"filename\": ",
		       (unsigned long long)r->image_end_offset,
		       (unsigned long long)j->total_clusters,
		       (unsigned long long)r->check_errors, (unsigned long long)r->leaks,
		       (unsigned long long)left, (unsigned long long)r->corruptions_fixed,
		       (unsigned long long)r->allocated_clusters);
		json_string(stdout, j->path);
		printf(",\n    \"format\": \"qed\"\n}\n");
		return;
	}
	if (r->corruptions_fixed)
		printf("The following inconsistencies were found and repaired:\n\n"
		       "    %llu corruptions\n\nDouble checking the fixed image now...\n",
		       (unsigned long long)r->corruptions_fixed);
	if (left)
		printf("%llu errors were found on the image.\nData may be corrupted, or "
		       "further writes to the image may corrupt it.\n", (unsigned long long)left);
	if (r->leaks)
		printf("%llu leaked clusters were found on the image.\nThis means waste of "
		       "disk space, but no harm to data.\n", (unsigned long long)r->leaks);
	if (r->check_errors)
		printf("%llu internal errors have occurred during the check.\n",
		       (unsigned long long)r->check_errors);
	if (!left && !r->leaks && !r->check_errors)
		printf("No errors were found on the image.\n");
	printf("%llu clusters are allocated.\nImage end offset: %llu\n",
	       (unsigned long long)r->allocated_clusters,
	       (unsigned long long)r->image_end_offset);
}

/* Opens and checks (repairing or not); the open's own boot-time check, when the image
 * needs one, is muted: the explicit check reports the same findings. */
static int open_and_check(struct check_job *j, bool repair, struct qed_check_result *r)
{
	struct tool_image *ti;
	j->tool->mute_notices = true;
	int rc = tool_open(j->tool, j->path, !repair, &ti);
	j->tool->mute_notices = false;
	if (rc)
		return rc;
	memset(r, 0, sizeof(*r));
	struct qed_info in;
	qed_get_info(ti->img, &in);
	j->total_clusters = (in.image_size + in.cluster_size - 1) / in.cluster_size;
	rc = qed_check(ti->img, repair, r);
	tool_progress_end(j->tool);
	if (rc)
		fprintf(stderr, "qedtool: %s: check failed: %s\n", j->path, strerror(-rc));
	int crc = tool_close(ti);
	return rc ? rc : crc;
}

static void check_task(void *arg)
{
	struct check_job *j = arg;
	struct qed_check_result found, r;
	j->status = 1;
	/* A read-only pass first counts what is wrong; opening read-write for the repair
	 * may already fix it (the boot-time check), so the counts come from this pass. */
	if (open_and_check(j, false, &found))
		return;
	r = found;
	if (j->repair && found.corruptions + found.leaks > 0) {
		if (open_and_check(j, true, &r))
			return;
		uint64_t left = r.corruptions > r.corruptions_fixed
			? r.corruptions - r.corruptions_fixed : 0;
		r.corruptions = found.corruptions;
		r.corruptions_fixed = found.corruptions > left ? found.corruptions - left : 0;
	}
	print_check(j, &r);
	if (r.check_errors)
		j->status = 1;
	else if (r.corruptions > r.corruptions_fixed)
		j->status = EXIT_CORRUPT;
	else if (r.leaks)
		j->status = EXIT_LEAKS;
	else
		j->status = 0;
}

int cmd_check(struct tool *t, int argc, char **argv)
{
	struct check_job j = { .tool = t };
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-r") == 0)
			j.repair = true;
		else if (strcmp(argv[i], "--json") == 0)
			j.json = true;
		else
			break;
	}
	j.path = tool_file_arg(argc, argv, i, "check [-r] [--json] FILE");
	if (!j.path)
		return 1;
	tool_run(t, check_task, &j);
	return j.status;
}
