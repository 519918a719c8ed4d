/*
 * Split virtqueue, driver side (see virtqueue.h for use).
 *
 * The device is another CPU sharing the rings. Ordering rules (virtio 1.x §2.7.13,
 * §2.7.14):
 *  - descriptors and the avail ring entry are written before avail->idx is advanced
 *    (release fence: the device must never see an index covering unwritten entries);
 *  - avail->idx is written before avail_event or used->flags is read to decide on
 *    notifying (full fence: a store followed by a load, the one pair x86 may reorder);
 *  - used_event or avail->flags is written before used->idx is read to see whether a
 *    buffer came before the device could see that we want an interrupt (full fence);
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
	vq->used_event = &vq->avail->ring[size];
	vq->avail_event = (volatile uint16_t *)&vq->used->ring[size];
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
	vq->stats.added++;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	write_u16(&vq->avail->idx, vq->avail_idx);
	return 0;
}

/* Whether the device wants to hear that avail->idx moved from old_idx to new_idx. */
static bool device_wants_kick(const struct virtqueue *vq, uint16_t new_idx, uint16_t old_idx)
{
	if (vq->event_idx)
		return virtq_need_event(read_u16(vq->avail_event), new_idx, old_idx);
	return !(read_u16(&vq->used->flags) & VIRTQ_USED_F_NO_NOTIFY);
}

void virtqueue_kick(struct virtqueue *vq)
{
	uint16_t old_idx = vq->kicked_idx, new_idx = vq->avail_idx;
	if (old_idx == new_idx)
		return;
	vq->kicked_idx = new_idx;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!device_wants_kick(vq, new_idx, old_idx)) {
		vq->stats.kicks_suppressed++;
		return;
	}
	vq->stats.kicks++;
	if (vq->notify)
		vq->notify(vq);
}

void virtqueue_disable_interrupts(struct virtqueue *vq)
{
	if (vq->interrupts_on && virtqueue_has_used(vq))
		vq->stats.interrupts++;
	vq->interrupts_on = false;
	if (vq->event_idx) {
		/* An entry already passed: none until the index wraps, and refreshed at every
		 * poll, so it never does. Written only when it changes: the device's cache
		 * line stays put while nothing completes. */
		uint16_t passed = (uint16_t)(vq->last_used - 1);
		if (read_u16(vq->used_event) != passed)
			write_u16(vq->used_event, passed);
	} else if (read_u16(&vq->avail->flags) != VIRTQ_AVAIL_F_NO_INTERRUPT) {
		write_u16(&vq->avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
	}
}

bool virtqueue_enable_interrupts(struct virtqueue *vq)
{
	vq->stats.interrupts_armed++;
	if (vq->event_idx)
		write_u16(vq->used_event, vq->last_used); /* the next entry the device writes */
	else
		write_u16(&vq->avail->flags, 0);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* An entry already there: the loop polls instead of halting, and no interrupt is
	 * awaited (or counted at the next poll). */
	bool has = virtqueue_has_used(vq);
	vq->interrupts_on = !has;
	return has;
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
		vq->stats.used++;
		if (written)
			*written = e.len;
		return cookie;
	}
	return NULL;
}
