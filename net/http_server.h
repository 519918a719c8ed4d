/*
 * The appliance's web server on lwIP's raw API (firmware only; host-tested over lwIP's
 * loopback in tests/unit/net/test_http_server.c). One request per connection: the
 * request is parsed as it arrives (net/http_parse.h), handed to the handler in a task of
 * its own (a handler may block: the POST actions wait on disk I/O), and the response is
 * sent with Connection: close and flow control, then the connection is closed.
 *
 *     http_server_start(80, handle, ctx);     // after lwip_port_init()
 *     void handle(void *ctx, struct http_exchange *x)
 *     {
 *             x->content_type = "text/plain; charset=utf-8";
 *             strbuf_puts(&x->body, "hello\n");   // x->status is 200 unless set
 *     }
 *
 * Bounds: HTTP_SERVER_CONNS_MAX connections (a newcomer when all are taken closes the
 * oldest one still sending its request, never one being answered; with none such it is
 * refused), HTTP_SERVER_DEADLINE_S seconds from accept to the last byte queued (then the
 * connection is reset), the request's own bounds (http_parse.h), a response body of at
 * most HTTP_RESPONSE_MAX bytes (a handler that writes more answers 500).
 */
#ifndef QEDBOX_HTTP_SERVER_H
#define QEDBOX_HTTP_SERVER_H

#include <stdint.h>

#include "http_parse.h"
#include "strbuf.h"

#define HTTP_SERVER_CONNS_MAX  8
#define HTTP_SERVER_DEADLINE_S 10
#define HTTP_RESPONSE_MAX      (512 * 1024)

struct http_exchange {
	const struct http_request *req;
	uint32_t peer;		  /* the client's IPv4 address, a.b.c.d as a << 24 | ... */
	int status;		  /* 200 unless the handler sets another */
	const char *content_type; /* a static string */
	const char *headers;	  /* extra header lines, each ending in CRLF (static), or NULL */
	struct strbuf body;	  /* capped at HTTP_RESPONSE_MAX; not sent for HEAD */
};

/* Runs in a task; may block. */
typedef void (*http_handler_fn)(void *ctx, struct http_exchange *x);

/* Listens on port (any address). 0, or -ENOMEM / -EADDRINUSE. */
int http_server_start(uint16_t port, http_handler_fn handle, void *ctx);

#endif
