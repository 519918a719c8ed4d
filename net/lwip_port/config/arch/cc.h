/*
 * lwIP's compiler and platform abstraction for the qedbox firmware (read by lwIP's
 * arch.h). Types, limits and byte order come from newlib's standard headers (x86_64 is
 * little-endian, lwIP's default); diagnostics go to the console through printf; a failed
 * lwIP assertion stops the VM, since the stack's state can no longer be trusted.
 */
#ifndef QEDBOX_LWIP_ARCH_CC_H
#define QEDBOX_LWIP_ARCH_CC_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef BYTE_ORDER /* glibc (host tests) has it already */
#define BYTE_ORDER LITTLE_ENDIAN
#endif

/* newlib has ssize_t but no SSIZE_MAX here; without it lwIP would typedef its own. */
#ifndef SSIZE_MAX
#define SSIZE_MAX LONG_MAX
#endif

/* The Internet checksum, 8 bytes per step (chksum.h). Host tests keep lwIP's own. */
#ifndef QEDBOX_LWIP_HOST
#include "chksum.h"
#define LWIP_CHKSUM lwip_port_chksum
#endif

/* Random numbers for DHCP transaction ids and local ports: lib/random's generator, which
 * the appliance seeds at start-up (lwip_port_rand in sys_arch.c). TCP initial sequence
 * numbers come from the ISN hook (tcp_isn.h). */
uint32_t lwip_port_rand(void);
#define LWIP_RAND() lwip_port_rand()

#define LWIP_PLATFORM_DIAG(x) \
	do { \
		printf x; \
	} while (0)

#define LWIP_PLATFORM_ASSERT(msg) \
	do { \
		printf("lwip: assertion \"%s\" failed at %s:%d\n", msg, __FILE__, __LINE__); \
		abort(); \
	} while (0)

#endif
