/*
 * Seeding the random generator (lib/random.h) at start-up, after pci_scan() and before
 * the network: CHAP challenges, TCP initial sequence numbers and lwIP's ids come from it.
 * Sources, mixed: the CPU's RDSEED/RDRAND where CPUID offers them, and QEMU's virtio-rng
 * (-device virtio-rng-pci). One console line says what was found; without any source
 * the appliance warns, and CHAP logins are refused rather than answered with guessable
 * challenges (the boot clock alone is mixed in, but never credited).
 */
#ifndef QEDBOX_ENTROPY_H
#define QEDBOX_ENTROPY_H

#include <stdbool.h>

/* Returns whether the generator is seeded with enough entropy for secrets. */
bool entropy_seed(void);

#endif
