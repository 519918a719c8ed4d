/*
 * The appliance's disks: every virtio-blk disk with what its first sector holds, read
 * once at start-up and printed as the disk table, one line per disk:
 *     disk 0: serial=vol0 capacity=67108864 block=512 wcache=on qed=yes queue=256 indirect
 * Run from a task (the reads wait for the device).
 */
#ifndef QEDBOX_DISKS_H
#define QEDBOX_DISKS_H

#include <stdbool.h>

#include "blkdev.h"

#define DISKS_MAX 16

enum disk_content {
	DISK_UNREADABLE, /* sector 0 could not be read */
	DISK_BLANK,      /* sector 0 is all zeros */
	DISK_QED,        /* sector 0 holds a QED header */
	DISK_OTHER,      /* anything else: left alone */
};

struct disk_probe {
	struct blkdev *dev;
	enum disk_content content;
};

/* Reads sector 0 of each of the n_devs disks into out[] and prints the disk table. */
void disks_probe(struct blkdev *const *devs, unsigned n_devs, struct disk_probe *out);

/* Runs the write/read-back self-test on the disk with that serial (it OVERWRITES the
 * disk) and prints its verdict. 0 when it passed, else a negative errno. */
int disks_selftest(const char *serial);

/* app/blk_selftest.c: the self-test itself. */
int blk_selftest(struct blkdev *dev);

#endif
