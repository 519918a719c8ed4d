/*
 * virtio-blk devices: setup and the list of disks (see virtio_blk.h for use; the
 * request engine is virtio_blk_io.c).
 *
 * Features taken when offered: FLUSH (then the write cache is volatile and FLUSH is
 * sent to the device), BLK_SIZE, RO, SEG_MAX/SIZE_MAX (limits for splitting), DISCARD
 * and WRITE_ZEROES (with their limits), and indirect descriptors (one ring slot per
 * request, so queue depth = queue size). CONFIG_WCE is not taken: without it a device
 * that offers FLUSH runs its cache in writeback mode (virtio 1.x §5.2.5.1), which is
 * exactly what BLKDEV_F_VOLATILE_CACHE says.
 */
#include "virtio_blk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "virtio_blk_priv.h"

#define VBLK_QUEUE_SIZE 256
#define GET_ID_TIMEOUT_NS 2000000000ull


#define WANTED_FEATURES \
	((1ull << VIRTIO_BLK_F_SIZE_MAX) | (1ull << VIRTIO_BLK_F_SEG_MAX) | \
	 (1ull << VIRTIO_BLK_F_RO) | (1ull << VIRTIO_BLK_F_BLK_SIZE) | \
	 (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_DISCARD) | \
	 (1ull << VIRTIO_BLK_F_WRITE_ZEROES) | (1ull << VIRTIO_F_RING_INDIRECT_DESC) | \
	 (1ull << VIRTIO_F_RING_EVENT_IDX))

static struct vblk *disks[VIRTIO_BLK_MAX_DISKS];
static unsigned disk_count;

static const struct blkdev_ops vblk_ops = { .submit = vblk_submit };

static uint32_t sector_size_of(const struct vblk *v)
{
	if (!virtio_has_feature(&v->vdev, VIRTIO_BLK_F_BLK_SIZE))
		return VIRTIO_BLK_SECTOR_SIZE;
	uint32_t bs = virtio_cfg_read32(&v->vdev, VIRTIO_BLK_CFG_BLK_SIZE);
	if (bs < VIRTIO_BLK_SECTOR_SIZE || (bs & (bs - 1)) != 0) {
		printf("disk %u: ignoring bad blk_size %u\n", v->index, bs);
		return VIRTIO_BLK_SECTOR_SIZE;
	}
	return bs;
}

/* Reads the geometry and limits from the device configuration. */
static void read_config(struct vblk *v)
{
	const struct virtio_dev *d = &v->vdev;
	struct blkdev *b = &v->blk;
	b->sector_size = sector_size_of(v);
	b->capacity = virtio_cfg_read64(d, VIRTIO_BLK_CFG_CAPACITY) * VIRTIO_BLK_SECTOR_SIZE;
	b->capacity -= b->capacity % b->sector_size;
	b->flags = 0;
	if (virtio_has_feature(d, VIRTIO_BLK_F_FLUSH))
		b->flags |= BLKDEV_F_VOLATILE_CACHE;
	if (virtio_has_feature(d, VIRTIO_BLK_F_RO))
		b->flags |= BLKDEV_F_READ_ONLY;
	if (virtio_has_feature(d, VIRTIO_BLK_F_DISCARD)) {
		b->flags |= BLKDEV_F_DISCARD;
		v->max_discard_sectors = virtio_cfg_read32(d, VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS);
	}
	if (virtio_has_feature(d, VIRTIO_BLK_F_WRITE_ZEROES)) {
		b->flags |= BLKDEV_F_WRITE_ZEROES;
		v->max_write_zeroes_sectors =
			virtio_cfg_read32(d, VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SECTORS);
	}
	/* 0 means "no limit given": keep each request's count within its 32-bit field. */
	if (v->max_discard_sectors == 0)
		v->max_discard_sectors = UINT32_MAX;
	if (v->max_write_zeroes_sectors == 0)
		v->max_write_zeroes_sectors = UINT32_MAX;
	uint32_t seg_max = virtio_has_feature(d, VIRTIO_BLK_F_SEG_MAX)
				   ? virtio_cfg_read32(d, VIRTIO_BLK_CFG_SEG_MAX) : 1;
	v->data_segs = seg_max == 0 ? 1 : seg_max < VBLK_MAX_DATA_SEGS ? seg_max : VBLK_MAX_DATA_SEGS;
	uint32_t size_max = virtio_has_feature(d, VIRTIO_BLK_F_SIZE_MAX)
				    ? virtio_cfg_read32(d, VIRTIO_BLK_CFG_SIZE_MAX) : 0;
	size_max -= size_max % VIRTIO_BLK_SECTOR_SIZE;
	v->seg_bytes = size_max ? size_max : VBLK_DEFAULT_SEG_BYTES;
}

/* GET_ID at initialisation, before the loop runs: the only request that is waited for
 * by polling, bounded in time. */
static int get_id_sync(struct vblk *v, char serial[BLKDEV_SERIAL_MAX + 1])
{
	static char id[VIRTIO_BLK_ID_BYTES];
	struct vblk_slot *s = v->free_slots;
	s->hdr = (struct virtio_blk_outhdr){ .type = VIRTIO_BLK_T_GET_ID };
	s->status = 0xff;
	memset(id, 0, sizeof(id));
	struct virtq_buf bufs[] = { { &s->hdr, sizeof(s->hdr), false },
				    { id, sizeof(id), true },
				    { &s->status, 1, true } };
	int rc = virtqueue_add(&v->vq, bufs, 3, s);
	if (rc)
		return rc;
	virtqueue_kick(&v->vq);
	uint64_t deadline = clock_ns() + GET_ID_TIMEOUT_NS;
	while (virtqueue_get_used(&v->vq, NULL) != s) {
		if (clock_ns() > deadline)
			return -ETIMEDOUT; /* the slot stays lost: the device is unusable anyway */
		__builtin_ia32_pause();
	}
	rc = vblk_status_to_errno(s->status);
	if (rc)
		return rc;
	memcpy(serial, id, VIRTIO_BLK_ID_BYTES);
	serial[VIRTIO_BLK_ID_BYTES] = '\0'; /* 20 bytes need no terminator on the wire */
	return 0;
}

static int vblk_init(struct vblk *v, struct pci_dev *pci)
{
	int rc = virtio_pci_init(&v->vdev, pci);
	if (rc)
		return rc;
	rc = virtio_negotiate(&v->vdev, WANTED_FEATURES);
	if (rc)
		goto fail;
	read_config(v);
	rc = virtio_setup_queue(&v->vdev, 0, &v->vq, VBLK_QUEUE_SIZE, VBLK_MAX_DATA_SEGS + 2);
	if (rc)
		goto fail;
	/* Without indirect tables a whole request must fit the ring directly. */
	if (!v->vq.indirect_max && v->data_segs + 2 > v->vq.size)
		v->data_segs = v->vq.size > 2 ? v->vq.size - 2 : 1;
	rc = vblk_io_init(v);
	if (rc)
		goto fail;
	v->blk.ops = &vblk_ops;
	v->blk.priv = v;
	virtio_driver_ok(&v->vdev);
	rc = get_id_sync(v, v->blk.serial);
	if (rc == -EOPNOTSUPP)
		rc = 0; /* no serial: the disk still works */
	if (rc)
		goto fail;
	return 0;
fail:
	virtio_fail(&v->vdev);
	return rc;
}

/* The loop's halt hook: lowers an INTx line before vblk_before_halt() looks at the ring
 * a last time (the engine is portable: the host tests drive it without a PCI device). */
static bool vblk_device_before_halt(void *ctx)
{
	struct vblk *v = ctx;
	virtio_isr_ack(&v->vdev);
	return vblk_before_halt(v);
}

void virtio_blk_describe(const struct blkdev *b, char *buf, size_t len)
{
	const struct vblk *v = b->priv;
	snprintf(buf, len, "queue=%u%s%s%s%s%s%s", v->vq.size,
		 v->vq.indirect_max ? " indirect" : "", v->vq.event_idx ? " event-index" : "",
		 (b->flags & BLKDEV_F_READ_ONLY) ? " ro" : "",
		 (b->flags & BLKDEV_F_DISCARD) ? " discard" : "",
		 (b->flags & BLKDEV_F_WRITE_ZEROES) ? " write-zeroes" : "",
		 v->vdev.msix_entries ? "" : " intx");
}

void virtio_blk_get_stats(const struct blkdev *b, struct virtio_blk_stats *stats)
{
	const struct vblk *v = b->priv;
	*stats = (struct virtio_blk_stats){
		.requests = v->completed_pieces,
		.flushes = v->flushes,
		.max_in_flight = v->max_in_flight,
		.errors = v->errors,
		.queue = v->vq.stats,
	};
}

unsigned virtio_blk_probe_all(void)
{
	disk_count = 0;
	for (unsigned i = 0; i < pci_device_count(); i++) {
		struct pci_dev *pci = pci_device(i);
		if (virtio_pci_device_type(pci) != VIRTIO_ID_BLOCK)
			continue;
		if (disk_count == VIRTIO_BLK_MAX_DISKS) {
			printf("disk: more than %d disks, the rest ignored\n", VIRTIO_BLK_MAX_DISKS);
			break;
		}
		struct vblk *v = calloc(1, sizeof(*v));
		if (!v)
			break;
		v->index = disk_count;
		int rc = vblk_init(v, pci);
		if (rc) {
			printf("disk at pci %02x:%02x.%x: not usable (%s)\n", pci->bus, pci->slot,
			       pci->func, strerror(-rc));
			free(v); /* its rings stay allocated: the device was told FAILED */
			continue;
		}
		disks[disk_count++] = v;
		loop_add_poller(vblk_poll, v);
		loop_add_halt_hook(vblk_device_before_halt, v);
	}
	printf("disk: %u virtio-blk disk%s\n", disk_count, disk_count == 1 ? "" : "s");
	return disk_count;
}

unsigned virtio_blk_count(void)
{
	return disk_count;
}

struct blkdev *virtio_blk_disk(unsigned i)
{
	return i < disk_count ? &disks[i]->blk : NULL;
}

struct blkdev *virtio_blk_find(const char *serial)
{
	for (unsigned i = 0; i < disk_count; i++)
		if (strcmp(disks[i]->blk.serial, serial) == 0)
			return &disks[i]->blk;
	return NULL;
}
