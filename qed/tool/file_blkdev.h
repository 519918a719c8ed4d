/*
 * file_blkdev: a host file as a blkdev, for qedtool, interop tests and benchmarks.
 *
 * Requests are carried out by a small pool of worker threads (pread, pwrite, fdatasync),
 * many at once, as QEMU's thread pool does; their completions are handed back to the task
 * loop through a queue that file_blkdev_poll() empties, calling each req->done() on the
 * loop's thread (never on a worker, never inside submit), so
 *     task_run_all(file_blkdev_poll, fb);
 * drives a task that uses it. The poll waits for a completion when requests are in
 * flight and none has arrived yet. The file behaves as a sparse disk of the given
 * capacity: reads past its end return zeros and writes past it extend it. The device
 * reports a volatile write cache (the page cache, or the disk's cache with
 * FILE_BLKDEV_DIRECT), so FLUSH is a real fdatasync; it covers every write completed
 * before it was submitted (each worker's pwrite has returned by then).
 */
#ifndef QEDBOX_FILE_BLKDEV_H
#define QEDBOX_FILE_BLKDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "blkdev.h"

struct file_blkdev;

#define FILE_BLKDEV_READ_ONLY (1u << 0)
#define FILE_BLKDEV_CREATE    (1u << 1) /* create or truncate to empty */
#define FILE_BLKDEV_DIRECT    (1u << 2) /* O_DIRECT: bypass the page cache (cache=none) */

/* Opens path; capacity 0 means the file's size. Returns 0 or a negative errno. */
int file_blkdev_open(const char *path, unsigned flags, uint64_t capacity,
		     struct file_blkdev **out);
/* Only with no request in flight. */
void file_blkdev_close(struct file_blkdev *fb);
struct blkdev *file_blkdev_dev(struct file_blkdev *fb);
/* The file's current size in bytes. */
uint64_t file_blkdev_file_size(const struct file_blkdev *fb);

/* Delivers completed requests, waiting for one if none has completed yet. Returns false
 * when no request was in flight. */
bool file_blkdev_poll(void *fb);

#endif
