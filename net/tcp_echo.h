/*
 * A TCP echo service on lwIP's raw API (firmware only): everything a client sends comes
 * back unchanged. It proves the network path end to end (tests/system/test_net.sh) and
 * is the smallest example of a listener in this firmware: tcp_new, tcp_bind, tcp_listen,
 * tcp_accept, then per connection tcp_recv/tcp_sent/tcp_err with flow control (received
 * data is acknowledged to the peer with tcp_recved only once it has been queued back).
 *
 * Enabled by the command-line key tcp_echo=PORT; call tcp_echo_start() after
 * lwip_port_init(). Needs no address yet (it listens on any address).
 */
#ifndef QEDBOX_TCP_ECHO_H
#define QEDBOX_TCP_ECHO_H

#include <stdint.h>

/* Listens on port. 0, or -ENOMEM / -EADDRINUSE. */
int tcp_echo_start(uint16_t port);

#endif
