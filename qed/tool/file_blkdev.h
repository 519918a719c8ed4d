/*
 * file_blkdev: a host file as a blkdev, for qedtool, interop tests and benchmarks.
 *
 * Requests queue at submit and are carried out by file_blkdev_poll() with pread, pwrite
 * and fdatasync, each completing from the poll (never inside submit), so
 *     task_run_all(file_blkdev_poll, fb);
 * drives a task that uses it. The file behaves as a sparse disk of the given capacity:
 * reads past its end return zeros and writes past it extend it. The device reports a
 * volatile write cache (the page cache), so FLUSH is a real fdatasync.
 */
#ifndef QEDBOX_FILE_BLKDEV_H
#define QEDBOX_FILE_BLKDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "blkdev.h"

struct file_blkdev;

#define FILE_BLKDEV_READ_ONLY (1u << 0)
#define FILE_BLKDEV_CREATE    (1u << 1) /* create or truncate to empty */

/* Opens path; capacity 0 means the file's size. Returns 0 or a negative errno. */
int file_blkdev_open(const char *path, unsigned flags, uint64_t capacity,
		     struct file_blkdev **out);
void file_blkdev_close(struct file_blkdev *fb);
struct blkdev *file_blkdev_dev(struct file_blkdev *fb);
/* The file's current size in bytes. */
uint64_t file_blkdev_file_size(const struct file_blkdev *fb);

/* Carries out every queued request. Returns false when none was queued. */
bool file_blkdev_poll(void *fb);

#endif
