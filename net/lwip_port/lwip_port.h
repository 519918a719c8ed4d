/*
 * The lwIP port's entry point (firmware only). lwip_port_init() initialises the stack
 * and hooks its timers into the event loop; call it once before creating any netif or
 * pcb. Everything else is lwIP's raw API (lwip/tcp.h, lwip/netif.h), called from the
 * loop's context only (tasks and pollers), never from an interrupt handler.
 */
#ifndef QEDBOX_LWIP_PORT_H
#define QEDBOX_LWIP_PORT_H

#include <stdint.h>

void lwip_port_init(void);
/* LWIP_RAND (arch/cc.h: DHCP transaction ids, local ports): random_u32() of lib/random.h,
 * so as good as what was mixed into the generator before the first call. */
uint32_t lwip_port_rand(void);

#endif
