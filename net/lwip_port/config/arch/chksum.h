/*
 * The Internet checksum for lwIP (LWIP_CHKSUM in arch/cc.h): the ones' complement sum
 * of data taken as native-order 16-bit words, folded to 16 bits and not complemented,
 * exactly what lwIP's own lwip_standard_chksum() returns, but summing 8 bytes per step
 * (lwIP's default takes 2): every received TCP segment is summed once, and under QEMU's
 * TCG that loop is a good part of the per-packet cost. Portable: host-tested.
 */
#ifndef QEDBOX_LWIP_CHKSUM_H
#define QEDBOX_LWIP_CHKSUM_H

#include <stdint.h>

uint16_t lwip_port_chksum(const void *data, int len);

#endif
