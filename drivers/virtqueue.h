/*
 * virtqueue: the driver side of one split virtqueue (virtio 1.x §2.7), independent of
 * the transport, so it builds and is tested on the host against a fake device.
 *
 * Memory is identity-mapped (boot/platform.h): a buffer's pointer is its bus address.
 *
 * Use (the transport, virtio_pci.h, allocates and registers the queue for you):
 *     struct virtq_buf bufs[] = {
 *         { &hdr, sizeof hdr, false },      // device reads: all of these first,
 *         { data, len, true },              // device writes: then all of these
 *     };
 *     rc = virtqueue_add(vq, bufs, 2, my_cookie);   // -ENOSPC: ring full, retry later
 *     ...more adds...
 *     virtqueue_kick(vq);                   // one notification for the whole batch
 * and from a loop poller (boot/platform.h loop_add_poller):
 *     while ((cookie = virtqueue_get_used(vq, &written)) != NULL)
 *         complete(cookie, written);       // descriptors are already free again
 *
 * A chain of n buffers takes n descriptors, or one when the queue was set up with
 * indirect tables (VIRTIO_F_RING_INDIRECT_DESC negotiated) and 1 < n <= indirect_max;
 * virtqueue_can_add() says whether a chain of n fits now. Cookies must not be NULL.
 *
 * Notifications both ways are asked for only when needed (§2.7.7, §2.7.10). Kicks: one
 * per batch, and none when the device says it is busy anyway (avail_event with
 * VIRTIO_F_RING_EVENT_IDX, else VIRTQ_USED_F_NO_NOTIFY). Interrupts only wake the CPU
 * from hlt, so a driver wants one only when the loop is about to halt:
 *     poller:     virtqueue_disable_interrupts(vq); drain the used ring; add; kick
 *     halt hook:  if (virtqueue_enable_interrupts(vq)) return true;  // work came: no halt
 * (boot/platform.h loop_add_halt_hook). A queue whose driver never calls either keeps
 * the device's default: an interrupt per used buffer without EVENT_IDX. With EVENT_IDX
 * the driver must use them (used_event starts at 0: one interrupt, then none).
 *
 * Not thread-safe, and needs none: one CPU, no preemption, no work in interrupt handlers.
 */
#ifndef QEDBOX_VIRTQUEUE_H
#define QEDBOX_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio_spec.h"

struct virtq_buf {
	void *addr;
	uint32_t len;
	bool device_writes; /* true: VIRTQ_DESC_F_WRITE (device fills it) */
};

/* What a queue did, for profiles: per MiB moved, these say what the transfer cost in
 * exits and interrupts. Completions that raised no interrupt: used - interrupts. */
struct virtqueue_stats {
	uint64_t added;            /* chains made available to the device */
	uint64_t used;             /* chains the device returned (used ring entries taken) */
	uint64_t kicks;            /* notifications sent (each one an exit to the host) */
	uint64_t kicks_suppressed; /* kicks skipped: the device said it would look anyway */
	uint64_t interrupts_armed; /* times interrupts were turned on, before a halt */
	uint64_t interrupts;       /* of those, the times a chain came back: the device
				    * interrupted (woke the CPU) */
};

struct virtqueue {
	uint16_t index;         /* queue number on its device */
	uint16_t size;          /* descriptors: a power of 2 */
	uint16_t indirect_max;  /* descriptors per indirect table; 0: no indirect */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	struct virtq_desc *indirect; /* size tables of indirect_max, by head index */
	void **cookies;         /* by head index; NULL when the head is free */
	uint16_t free_head;     /* free descriptors are chained through .next */
	uint16_t num_free;
	uint16_t avail_idx;     /* our copy of avail->idx */
	uint16_t kicked_idx;    /* avail_idx at the last notification */
	uint16_t last_used;     /* next used->idx entry to consume */
	unsigned in_flight;     /* chains added and not yet returned */
	unsigned bad_used;      /* used entries that named no chain in flight (device bug) */
	bool event_idx;         /* VIRTIO_F_RING_EVENT_IDX negotiated (set by the transport) */
	bool interrupts_on;     /* armed by virtqueue_enable_interrupts() */
	volatile uint16_t *used_event;  /* avail->ring[size]: interrupt after this entry */
	volatile uint16_t *avail_event; /* used->ring[size]: the device's wish, read on kicks */
	struct virtqueue_stats stats;

	/* Tells the device that queue `index` has new buffers (set by the transport). */
	void (*notify)(struct virtqueue *vq);
	void *notify_ctx;       /* the transport's (e.g. the notify register address) */

	void *ring_mem;         /* the one allocation holding desc, avail and used */
};

/* Allocates the rings (zeroed, page-aligned) for size descriptors, and indirect tables
 * of indirect_max entries when indirect_max > 1. 0, -EINVAL (size not a power of 2 in
 * 1..32768), or -ENOMEM. */
int virtqueue_init(struct virtqueue *vq, uint16_t index, uint16_t size, uint16_t indirect_max);
void virtqueue_destroy(struct virtqueue *vq);

/* Bytes of the ring area for a queue of size descriptors (desc + avail + used). */
size_t virtqueue_ring_bytes(uint16_t size);

/* Whether a chain of n buffers can be added now. */
bool virtqueue_can_add(const struct virtqueue *vq, unsigned n);

/* Puts a chain of n buffers (device-readable ones before device-writable ones) on the
 * available ring. 0; -ENOSPC when not enough descriptors are free; -EINVAL for n == 0,
 * a NULL cookie, a readable buffer after a writable one, or n beyond the queue size. */
int virtqueue_add(struct virtqueue *vq, const struct virtq_buf *bufs, unsigned n, void *cookie);

/* Notifies the device once for all chains added since the last kick, if it wants to
 * hear of them: with EVENT_IDX when they pass its avail_event, else unless it set
 * VIRTQ_USED_F_NO_NOTIFY. Call at least once per 65535 adds (every poll does). */
void virtqueue_kick(struct virtqueue *vq);

/* Tells the device that no interrupt is needed (the driver is polling); counts an
 * interrupt when the queue was armed and a chain came back. Cheap: call at every poll. */
void virtqueue_disable_interrupts(struct virtqueue *vq);

/* Asks the device to interrupt at its next used buffer; for the last moment before the
 * CPU halts (interrupts off). True when a used buffer is already waiting: then do not
 * halt, it may have come too early to interrupt. */
bool virtqueue_enable_interrupts(struct virtqueue *vq);

/* The cookie of the next completed chain, its descriptors freed, and in *written the
 * bytes the device says it wrote; NULL when no completion is waiting. */
void *virtqueue_get_used(struct virtqueue *vq, uint32_t *written);

/* Whether a completion is waiting (cheap: one read of used->idx). */
bool virtqueue_has_used(const struct virtqueue *vq);

/* Memory for rings and device buffers with the given alignment (a power of 2), freed
 * with free(): newlib's aligned_alloc() is unusable (it needs posix_memalign). */
void *virtq_alloc_aligned(size_t align, size_t size);

/* Device-side addresses for the transport to program. */
static inline uint64_t virtqueue_desc_addr(const struct virtqueue *vq) { return (uintptr_t)vq->desc; }
static inline uint64_t virtqueue_avail_addr(const struct virtqueue *vq) { return (uintptr_t)vq->avail; }
static inline uint64_t virtqueue_used_addr(const struct virtqueue *vq) { return (uintptr_t)vq->used; }

#endif
