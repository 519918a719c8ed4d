/*
 * virtio-rng: the virtio entropy device (virtio 1.x §5.4; QEMU -device virtio-rng-pci),
 * whose bytes come from the host's own random source. Firmware only.
 *
 * Use, at start-up, after pci_scan() (reads poll the device; the loop need not run):
 *     if (virtio_rng_probe_all() > 0) {
 *         size_t n = virtio_rng_read(buf, 64, 500 * 1000000ull);
 *         random_mix(buf, n, 8 * n);          // lib/random.h
 *     }
 * A request the device leaves unanswered past the timeout stays with the device (its
 * buffer is never reused while the device may still write it); that device is skipped
 * until it has answered.
 */
#ifndef QEDBOX_VIRTIO_RNG_H
#define QEDBOX_VIRTIO_RNG_H

#include <stddef.h>
#include <stdint.h>

#define VIRTIO_RNG_MAX_DEVICES 4

/* Sets up every virtio-rng function pci_scan() found (up to VIRTIO_RNG_MAX_DEVICES);
 * prints the ones that cannot be used. Returns how many can be read. Call once. */
unsigned virtio_rng_probe_all(void);

/* Fills buf with up to len bytes from the devices, in turn, polling each request until
 * it is answered or timeout_ns has passed since the call began. Returns the bytes
 * received (0 without a usable device). */
size_t virtio_rng_read(void *buf, size_t len, uint64_t timeout_ns);

#endif
