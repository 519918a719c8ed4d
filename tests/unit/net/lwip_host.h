/*
 * Host harness for code built on lwIP's raw API: the firmware's lwIP configuration
 * (net/lwip_port/lwipopts.h) on a loopback interface, with a simulated clock.
 *
 *     lwip_host_init();                         // once per process (lwIP cannot reset)
 *     ... open listeners / lwip_host_connect() to 127.0.0.1 ...
 *     ok = lwip_host_run_until(done, ctx, 10000);   // pumps packets and timers
 * Link the test with $(HOST)/liblwip.a and this file (see net/lwip.mk).
 */
#ifndef QEDBOX_LWIP_HOST_H
#define QEDBOX_LWIP_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "lwip/tcp.h"

void lwip_host_init(void);

/* Delivers queued loopback packets and runs lwIP timers, advancing the simulated clock
 * by 1 ms per round, until done(ctx) is true (returns true) or max_ms simulated
 * milliseconds passed (returns false). */
bool lwip_host_run_until(bool (*done)(void *ctx), void *ctx, uint32_t max_ms);

/* Starts a TCP connection from a new pcb (*pcb) to 127.0.0.1:port, with arg and the
 * callbacks set; returns what tcp_connect() returned (ERR_MEM when no pcb was left). */
err_t lwip_host_connect(struct tcp_pcb **pcb, uint16_t port, void *arg, tcp_recv_fn recv,
			tcp_sent_fn sent, tcp_err_fn err, tcp_connected_fn connected);

/* Simulated milliseconds since lwip_host_init(). */
uint32_t lwip_host_now(void);

#endif
