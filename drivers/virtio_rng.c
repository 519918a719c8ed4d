/*
 * virtio-rng devices (see virtio_rng.h for use): each has one request queue; a read
 * posts one device-writable bounce buffer at a time and polls the used ring for it.
 *
 * The bytes pass through a buffer of the driver's, not the caller's: a request that
 * times out leaves its buffer with the device, and the caller's memory must never be
 * written after the call returns. The bounce buffer is wiped once its bytes are copied.
 */
#include "virtio_rng.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "virtio_pci.h"

#define VRNG_QUEUE_SIZE 4    /* one request at a time */
#define VRNG_BUF_BYTES  256  /* per request; larger reads take several */
#define VRNG_BUF_ALIGN  64

struct vrng {
	struct virtio_dev vdev;
	struct virtqueue vq;
	uint8_t *buf;      /* the bounce buffer the device writes */
	bool outstanding;  /* buf is with the device (a request timed out) */
};

static struct vrng *rngs[VIRTIO_RNG_MAX_DEVICES];
static unsigned rng_count;

static void wipe(void *p, size_t len)
{
	volatile uint8_t *v = p;
	while (len--)
		*v++ = 0;
}

/* Takes the device's answer if it has come: the ISR read first lowers an INTx line the
 * answer raised (nothing else acknowledges this device). */
static bool take_answer(struct vrng *r, uint32_t *written)
{
	virtio_isr_ack(&r->vdev);
	if (virtqueue_get_used(&r->vq, written) == NULL)
		return false;
	r->outstanding = false;
	return true;
}

/* Takes the answer to a request that outlived its read, if it has come: its bytes are
 * dropped (the reader is gone) and the device can be asked again. */
static bool reclaim_late(struct vrng *r)
{
	uint32_t written;
	if (!r->outstanding || !take_answer(r, &written))
		return false;
	wipe(r->buf, VRNG_BUF_BYTES);
	return true;
}

/* The loop's poller: only a request that outlived its read can still raise the line. */
static bool vrng_poll(void *ctx)
{
	return reclaim_late(ctx);
}

/* One request of want bytes; 0 with *got set, -ETIMEDOUT (the request stays
 * outstanding) or an error from the ring. */
static int request(struct vrng *r, uint32_t want, uint64_t deadline, uint32_t *got)
{
	struct virtq_buf b = { r->buf, want, true };
	int rc = virtqueue_add(&r->vq, &b, 1, r);
	if (rc)
		return rc;
	r->outstanding = true;
	virtqueue_kick(&r->vq);
	while (!take_answer(r, got)) {
		if (clock_ns() > deadline)
			return -ETIMEDOUT;
		__builtin_ia32_pause();
	}
	if (*got > want)
		*got = want; /* a device bug must not make us copy past the buffer */
	return 0;
}

static size_t read_device(struct vrng *r, uint8_t *dst, size_t len, uint64_t deadline)
{
	reclaim_late(r);
	if (r->outstanding)
		return 0;
	size_t done = 0;
	while (done < len) {
		uint32_t want = len - done < VRNG_BUF_BYTES ? (uint32_t)(len - done) : VRNG_BUF_BYTES;
		uint32_t got = 0;
		if (request(r, want, deadline, &got) != 0 || got == 0)
			break;
		memcpy(dst + done, r->buf, got);
		wipe(r->buf, got);
		done += got;
	}
	return done;
}

size_t virtio_rng_read(void *buf, size_t len, uint64_t timeout_ns)
{
	uint64_t deadline = clock_ns() + timeout_ns;
	uint8_t *p = buf;
	size_t done = 0;
	for (unsigned i = 0; i < rng_count && done < len; i++)
		done += read_device(rngs[i], p + done, len - done, deadline);
	return done;
}

static int vrng_init(struct vrng *r, struct pci_dev *pci)
{
	int rc = virtio_pci_init(&r->vdev, pci);
	if (rc)
		return rc;
	rc = virtio_negotiate(&r->vdev, 0); /* §5.4.3: the device has no feature bits */
	if (rc == 0)
		rc = virtio_setup_queue(&r->vdev, VIRTIO_RNG_REQUEST_QUEUE, &r->vq, VRNG_QUEUE_SIZE, 0);
	if (rc == 0) {
		r->buf = virtq_alloc_aligned(VRNG_BUF_ALIGN, VRNG_BUF_BYTES);
		rc = r->buf ? 0 : -ENOMEM;
	}
	if (rc) {
		virtio_fail(&r->vdev);
		return rc;
	}
	virtio_driver_ok(&r->vdev);
	return 0;
}

unsigned virtio_rng_probe_all(void)
{
	rng_count = 0;
	for (unsigned i = 0; i < pci_device_count(); i++) {
		struct pci_dev *pci = pci_device(i);
		if (virtio_pci_device_type(pci) != VIRTIO_ID_RNG)
			continue;
		if (rng_count == VIRTIO_RNG_MAX_DEVICES)
			break;
		struct vrng *r = calloc(1, sizeof(*r));
		if (!r)
			break;
		int rc = vrng_init(r, pci);
		if (rc) {
			printf("rng at pci %02x:%02x.%x: not usable (%s)\n", pci->bus, pci->slot,
			       pci->func, strerror(-rc));
			free(r); /* its rings stay allocated: the device was told FAILED */
			continue;
		}
		rngs[rng_count++] = r;
		loop_add_poller(vrng_poll, r);
	}
	return rng_count;
}
