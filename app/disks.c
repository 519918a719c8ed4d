/*
 * The disk table and the disk self-test (disks.h). The first sector is read through the
 * normal request path, once: the volumes decide from it whether a disk is served,
 * formatted, or left alone.
 */
#include "disks.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qed.h"
#include "virtio_blk.h"

static enum disk_content read_content(struct blkdev *dev)
{
	uint8_t *sector = malloc(dev->sector_size);
	enum disk_content content = DISK_UNREADABLE;
	if (sector && blkdev_read(dev, 0, sector, dev->sector_size) == 0) {
		content = DISK_BLANK;
		for (uint32_t i = 0; i < dev->sector_size && content == DISK_BLANK; i++)
			if (sector[i])
				content = DISK_OTHER;
		if (qed_probe(sector, dev->sector_size))
			content = DISK_QED;
	}
	free(sector);
	return content;
}

static void print_disk(unsigned i, const struct disk_probe *d)
{
	const struct blkdev *b = d->dev;
	char driver[96];
	virtio_blk_describe(b, driver, sizeof(driver));
	printf("disk %u: serial=%s capacity=%llu block=%u wcache=%s qed=%s %s\n", i,
	       b->serial[0] ? b->serial : "-", (unsigned long long)b->capacity, b->sector_size,
	       (b->flags & BLKDEV_F_VOLATILE_CACHE) ? "on" : "off",
	       d->content == DISK_QED ? "yes" : "no", driver);
}

void disks_probe(struct blkdev *const *devs, unsigned n_devs, struct disk_probe *out)
{
	for (unsigned i = 0; i < n_devs; i++) {
		out[i] = (struct disk_probe){ devs[i], read_content(devs[i]) };
		print_disk(i, &out[i]);
	}
}

int disks_selftest(const char *serial)
{
	struct blkdev *b = virtio_blk_find(serial);
	int rc = b ? blk_selftest(b) : -ENODEV;
	if (rc)
		printf("selftest %s: FAIL (%s)\n", serial,
		       b ? strerror(-rc) : "no disk with that serial");
	else
		printf("selftest %s: PASS\n", serial);
	if (b) {
		struct virtio_blk_stats s;
		virtio_blk_get_stats(b, &s);
		printf("selftest %s: %llu device requests, %u at most in flight, %llu "
		       "notifications, %llu errors\n",
		       serial, (unsigned long long)s.requests, s.max_in_flight,
		       (unsigned long long)s.queue.kicks, (unsigned long long)s.errors);
	}
	return rc;
}
