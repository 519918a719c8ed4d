/*
 * A read-only text service on lwIP's raw API (firmware only; host-tested over lwIP's
 * loopback): each TCP connection to the port receives one text, made for it when it is
 * accepted, and is closed once the text is sent. The profiler's dump uses it
 * (app/profile.c).
 *
 *     text_service_start(port, produce, ctx);   // after lwip_port_init()
 *     char *produce(void *ctx, size_t *len);    // malloc'd text (the service frees it)
 *
 * It is a network service facing anyone who reaches the port, so nothing a client does
 * is parsed or grows: what it sends is acknowledged and dropped, one connection is
 * served at a time (a second one is reset), and a client that does not read its text
 * within TEXT_SERVICE_DEADLINE_S seconds is reset, freeing the slot.
 */
#ifndef QEDBOX_TEXT_SERVICE_H
#define QEDBOX_TEXT_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#define TEXT_SERVICE_DEADLINE_S 30

/* The text for a new connection, malloc'd, and its length; NULL: reset the connection. */
typedef char *(*text_service_produce_fn)(void *ctx, size_t *len);

/* Listens on port (any address). 0, or -ENOMEM / -EADDRINUSE. Call once per port. */
int text_service_start(uint16_t port, text_service_produce_fn produce, void *ctx);

#endif
