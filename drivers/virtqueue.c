/*
 * Split virtqueue, driver side (see virtqueue.h for use).
 *
 * The device is another CPU sharing the rings. Ordering rules (virtio 1.x §2.7.13,
 * §2.7.14):
 *  - descriptors and the avail ring entry are written before avail->idx is advanced
 *    (release fence: the device must never see an index covering unwritten entries);
 *  - avail->idx is written before used->flags is read to decide on notifying (full
 *    fence: a store followed by a load, the one pair x86 may reorder);
 *  - used->idx is read before the used entries it covers (acquire fence).
 */
#include "virtqueue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#ifdef QEDBOX_FIRMWARE
#include <malloc.h> /* memalign */
#endif

#define VQ_PAGE 4096

static inline uint16_t read_u16(const volatile uint16_t *p) { return *p; }
static inline void write_u16(volatile uint16_t *p, uint16_t v) { *p = v; }

static size_t align_up(size_t v, size_t a) { return (v + a - 1) & ~(a - 1); }

static size_t avail_offset(uint16_t size)
{
	return (size_t)size * sizeof(struct virtq_desc);
}

static size_t used_offset(uint16_t size)
{
	/* flags, idx, ring[size], used_event */
	size_t avail_end = avail_offset(size) + 4 + 2 * (size_t)size + 2;
	return align_up(avail_end, VIRTQ_USED_ALIGN);
}

size_t virtqueue_ring_bytes(uint16_t size)
{
	/* flags, idx, ring[size], avail_event */
	return used_offset(size) + 4 + sizeof(struct virtq_used_elem) * (size_t)size + 2;
}

void *virtq_alloc_aligned(size_t align, size_t size)
{
#ifdef QEDBOX_FIRMWARE
	return memalign(align, size);
#else
	return aligned_alloc(align, align_up(size, align));
#endif
}

static void free_list_init(struct virtqueue *vq)
{
	for (uint16_t i = 0; i + 1 < vq->size; i++)
		vq->desc[i].next = i + 1;
	vq->free_head = 0;
	vq->num_free = vq->size;
}

int virtqueue_init(struct virtqueue *vq, uint16_t index, uint16_t size, uint16_t indirect_max)
{
	memset(vq, 0, sizeof(*vq));
	if (size == 0 || (size & (size - 1)) != 0)
		return -EINVAL;
	size_t bytes = align_up(virtqueue_ring_bytes(size), VQ_PAGE);
	vq->ring_mem = virtq_alloc_aligned(VQ_PAGE, bytes);
	vq->cookies = calloc(size, sizeof(void *));
	if (indirect_max > 1) {
		size_t tbytes = (size_t)size * indirect_max * sizeof(struct virtq_desc);
		vq->indirect = virtq_alloc_aligned(VQ_PAGE, tbytes);
		vq->indirect_max = indirect_max;
	}
	if (!vq->ring_mem || !vq->cookies || (indirect_max > 1 && !vq->indirect)) {
		virtqueue_destroy(vq);
		return -ENOMEM;
	}
	memset(vq->ring_mem, 0, bytes);
	vq->index = index;
	vq->size = size;
	vq->desc = vq->ring_mem;
	vq->avail = (struct virtq_avail *)((char *)vq->ring_mem + avail_offset(size));
	vq->used = (struct virtq_used *)((char *)vq->ring_mem + used_offset(size));
	free_list_init(vq);
	return 0;
}

void virtqueue_destroy(struct virtqueue *vq)
{
	free(vq->ring_mem);
	free(vq->cookies);
	free(vq->indirect);
	memset(vq, 0, sizeof(*vq));
}

static bool uses_indirect(const struct virtqueue *vq, unsigned n)
{
	return vq->indirect_max > 1 && n > 1 && n <= vq->indirect_max;
}

bool virtqueue_can_add(const struct virtqueue *vq, unsigned n)
{
	if (n == 0 || n > vq->size)
		return false;
	return vq->num_free >= (uses_indirect(vq, n) ? 1 : n);
}

static int check_chain(const struct virtqueue *vq, const struct virtq_buf *bufs, unsigned n,
		       const void *cookie)
{
	if (n == 0 || n > vq->size || cookie == NULL)
		return -EINVAL;
	for (unsigned i = 1; i < n; i++)
		if (bufs[i - 1].device_writes && !bufs[i].device_writes)
			return -EINVAL;
	return 0;
}

/* Fills an indirect table with bufs: entries 0..n-1, each linked to the next. */
static void fill_indirect(struct virtq_desc *table, const struct virtq_buf *bufs, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		table[i].addr = (uintptr_t)bufs[i].addr;
		table[i].len = bufs[i].len;
		table[i].flags = (bufs[i].device_writes ? VIRTQ_DESC_F_WRITE : 0) |
				 (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
		table[i].next = (uint16_t)(i + 1 < n ? i + 1 : 0);
	}
}

/* Takes n descriptors off the free list, fills them, returns the head. */
static uint16_t fill_direct(struct virtqueue *vq, const struct virtq_buf *bufs, unsigned n)
{
	uint16_t head = vq->free_head, i = head;
	for (unsigned k = 0; k < n; k++) {
		struct virtq_desc *d = &vq->desc[i];
		d->addr = (uintptr_t)bufs[k].addr;
		d->len = bufs[k].len;
		d->flags = (bufs[k].device_writes ? VIRTQ_DESC_F_WRITE : 0) |
			   (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
		if (k + 1 < n)
			i = d->next; /* the free list already links them */
	}
	vq->free_head = vq->desc[i].next;
	vq->num_free -= n;
	return head;
}

int virtqueue_add(struct virtqueue *vq, const struct virtq_buf *bufs, unsigned n, void *cookie)
{
	int rc = check_chain(vq, bufs, n, cookie);
	if (rc)
		return rc;
	if (!virtqueue_can_add(vq, n))
		return -ENOSPC;
	uint16_t head;
	if (uses_indirect(vq, n)) {
		head = vq->free_head;
		struct virtq_desc *table = &vq->indirect[(size_t)head * vq->indirect_max];
		fill_indirect(table, bufs, n);
		struct virtq_desc *d = &vq->desc[head];
		vq->free_head = d->next;
		vq->num_free--;
		d->addr = (uintptr_t)table;
		d->len = n * sizeof(struct virtq_desc);
		d->flags = VIRTQ_DESC_F_INDIRECT;
	} else {
		head = fill_direct(vq, bufs, n);
	}
	vq->cookies[head] = cookie;
	vq->avail->ring[vq->avail_idx & (vq->size - 1)] = head;
	vq->avail_idx++;
	vq->in_flight++;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	write_u16(&vq->avail->idx, vq->avail_idx);
	return 0;
}

void virtqueue_kick(struct virtqueue *vq)
{
	if (vq->kicked_idx == vq->avail_idx)
		return;
	vq->kicked_idx = vq->avail_idx;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (read_u16(&vq->used->flags) & VIRTQ_USED_F_NO_NOTIFY)
		return;
	vq->kicks++;
	if (vq->notify)
		vq->notify(vq);
}

/* Returns the descriptors of the chain at head to the free list. */
static void free_chain(struct virtqueue *vq, uint16_t head)
{
	uint16_t i = head, n = 1;
	while ((vq->desc[i].flags & VIRTQ_DESC_F_NEXT) && n < vq->size) {
		i = vq->desc[i].next;
		n++;
	}
	vq->desc[i].next = vq->free_head;
	vq->free_head = head;
	vq->num_free += n;
}

bool virtqueue_has_used(const struct virtqueue *vq)
{
	return vq->size && read_u16(&vq->used->idx) != vq->last_used;
}

void *virtqueue_get_used(struct virtqueue *vq, uint32_t *written)
{
	while (virtqueue_has_used(vq)) {
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		struct virtq_used_elem e = vq->used->ring[vq->last_used & (vq->size - 1)];
		vq->last_used++;
		if (e.id >= vq->size || vq->cookies[e.id] == NULL) {
			vq->bad_used++; /* not ours: skip it rather than corrupt the free list */
			continue;
		}
		void *cookie = vq->cookies[e.id];
		vq->cookies[e.id] = NULL;
		free_chain(vq, (uint16_t)e.id);
		vq->in_flight--;
		if (written)
			*written = e.len;
		return cookie;
	}
	return NULL;
}
