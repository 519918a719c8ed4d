/*
 * virtio-blk: every virtio block device becomes a struct blkdev (lib/blkdev.h).
 * Firmware only.
 *
 * Use, from the boot code after pci_scan():
 *     unsigned n = virtio_blk_probe_all();  // init every disk, register the pollers,
 *                                           // spawn the task that prints the disk table
 *     struct blkdev *d = virtio_blk_find("serial");   // or virtio_blk_disk(i), i < n
 *     blkdev_submit(d, &req) / blkdev_read(d, ...)   // see lib/blkdev.h
 * When it returns, each disk's capacity, sector size, flags and serial are filled and
 * the device is live; completions are delivered by the event loop (loop_run()).
 *
 * The disk table (one line per disk, printed from a task once sector 0 was read):
 *     disk 0: serial=scratch capacity=33554432 block=512 wcache=on qed=no queue=256
 * With selftest=<serial> on the command line, the same task then runs the write /
 * read-back self-test on that (scratch!) disk (blk_selftest.c) and stops the loop
 * (loop_stop) with PLATFORM_EXIT_SUCCESS or PLATFORM_EXIT_FAILURE: main powers off.
 */
#ifndef QEDBOX_VIRTIO_BLK_H
#define QEDBOX_VIRTIO_BLK_H

#include "blkdev.h"

#define VIRTIO_BLK_MAX_DISKS 16

/* Initialises every virtio-blk function pci_scan() found; returns how many work. */
unsigned virtio_blk_probe_all(void);

unsigned virtio_blk_count(void);
/* The i-th disk (PCI order), or NULL. */
struct blkdev *virtio_blk_disk(unsigned i);
/* The disk whose serial is `serial`, or NULL. */
struct blkdev *virtio_blk_find(const char *serial);

/* The self-test of blk_selftest.c: 0 when it passed, else a negative errno. Run in a
 * task; it overwrites the disk. */
int blk_selftest(struct blkdev *dev);

#endif
