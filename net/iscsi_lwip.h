/*
 * The iSCSI target on lwIP's raw TCP API (firmware; also built on the host against the
 * loopback harness for tests). One listener; each accepted connection becomes an
 * iscsi_conn whose transport is the pcb:
 *
 *   bytes in    tcp_recv pbufs are offered to iscsi_conn_input(); only consumed bytes are
 *               acknowledged with tcp_recved(), so a busy target closes the TCP window
 *   bytes out   send() copies into the pcb with tcp_write() as far as tcp_sndbuf() allows
 *               and blocks the sending task until tcp_sent() makes room (backpressure)
 *   close       either side: tcp_close() after queued data, or lwIP's error callback
 *
 * Call iscsi_lwip_listen() once after lwIP is up (net_init); it also arms a lwIP timer
 * that runs iscsi_server_tick() every ISCSI_LWIP_TICK_MS.
 */
#ifndef QEDBOX_ISCSI_LWIP_H
#define QEDBOX_ISCSI_LWIP_H

#include <stdint.h>

#include "iscsi.h"

#define ISCSI_LWIP_TICK_MS 5000

/* Listens on port (ISCSI_DEFAULT_PORT: 3260) for srv. 0, or -ENOMEM / -EADDRINUSE. */
int iscsi_lwip_listen(struct iscsi_server *srv, uint16_t port);

#endif
