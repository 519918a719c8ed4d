/*
 * TCP initial sequence numbers as RFC 6528 §3 defines them, for lwIP's LWIP_HOOK_TCP_ISN
 * (lwipopts.h names this file as LWIP_HOOK_FILENAME, so lwIP's sources see the prototype):
 *
 *     ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
 *
 * M is a clock ticking every 4 microseconds, so a connection reusing a 4-tuple starts
 * above the sequence numbers its predecessor used; F is a keyed pseudo-random function
 * (random_keyed_hash32) under a secret drawn once from the generator, so an off-path
 * host cannot predict the ISN of anyone else's connection. Implemented in sys_arch.c.
 */
#ifndef QEDBOX_TCP_ISN_H
#define QEDBOX_TCP_ISN_H

#include "lwip/ip_addr.h"

#define RFC6528_TIMER_TICK_NS 4000u /* M: the 4-microsecond timer */

u32_t lwip_port_tcp_isn(const ip_addr_t *local_ip, u16_t local_port,
			const ip_addr_t *remote_ip, u16_t remote_port);

#endif
