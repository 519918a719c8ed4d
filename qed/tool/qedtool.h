/*
 * qedtool internals: opening images on host files with their backing chains
 * (qedtool_image.c) and the subcommands (qedtool_cmds.c), driven by qedtool.c.
 *
 * Every command runs inside one task (the QED core blocks tasks); tool_run() spawns it
 * and polls every file the tool opened until it returns.
 */
#ifndef QEDBOX_QEDTOOL_H
#define QEDBOX_QEDTOOL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "file_blkdev.h"
#include "parse_size.h"
#include "qed.h"
#include "volume.h"

#define TOOL_MAX_DEVS 16  /* files open at once: an image and its backing chain */

/* Exit statuses of check, as qemu-img check uses them (1: an error, or check errors). */
enum {
	EXIT_CORRUPT = 2,    /* corruption found (and not all of it repaired) */
	EXIT_LEAKS = 3,      /* only leaked clusters */
};

/* An open image file: a QED image, or a raw file when used as a backing file. */
struct tool_image {
	char *path;
	struct file_blkdev *fb;
	struct qed_image *img;      /* NULL for raw */
	struct volume vol;          /* what a parent image reads its backing data from */
	struct tool_image *backing; /* the opened backing file, if any */
	struct tool *tool;
};

struct tool {
	struct file_blkdev *devs[TOOL_MAX_DEVS];
	int n_devs;
	bool progress;              /* stderr is a terminal */
	bool progress_shown;
	bool mute_notices;          /* drop level-1 messages (a check that repeats them) */
	const char *failed_msg;
};

/* Runs fn(arg) in a task and drives the files until it returns. */
void tool_run(struct tool *t, void (*fn)(void *), void *arg);

/* In a task: opens path as a QED image (writable unless read_only) with its backing
 * chain, running the open-time check if the need-check bit is set. Prints why on error. */
int tool_open(struct tool *t, const char *path, bool read_only, struct tool_image **out);
/* In a task: opens a backing file; fmt "raw", "qed" or NULL to probe. */
int tool_open_any(struct tool *t, const char *path, const char *fmt,
		  struct tool_image **out);
int tool_close(struct tool_image *ti);
/* Opens a file disk that tool_run() drives (prints why on error), and closes it. */
int tool_add_file(struct tool *t, const char *path, unsigned flags, uint64_t capacity,
		  struct file_blkdev **out);
void tool_drop_file(struct tool *t, struct file_blkdev *fb);

/* Bytes a QED image of these parameters can grow to (the file blkdev's capacity). */
uint64_t tool_capacity_bound(uint64_t image_size, uint32_t cluster_size,
			     uint32_t table_size, uint32_t header_clusters);

/* Messages from the QED core: errors and notices to stderr, progress on a terminal. */
void tool_log(void *ctx, int level, const char *msg);
void tool_progress(struct tool *t, const char *what, uint64_t done, uint64_t total);
void tool_progress_end(struct tool *t);

/* The one FILE argument left at argv[first]; NULL, with "usage: qedtool <usage>" printed,
 * when there is not exactly one. */
const char *tool_file_arg(int argc, char **argv, int first, const char *usage);

int cmd_create(struct tool *t, int argc, char **argv);
int cmd_info(struct tool *t, int argc, char **argv);
int cmd_check(struct tool *t, int argc, char **argv);
int cmd_map(struct tool *t, int argc, char **argv);
int cmd_read(struct tool *t, int argc, char **argv);
int cmd_write(struct tool *t, int argc, char **argv);

#endif
