/*
 * The web server (http_server.h). A connection goes through three phases:
 *
 *   READING   [loop]  received bytes feed the parser (and are acknowledged at once: what
 *                     follows a request is dropped); a bad request is answered from here
 *   HANDLING  [task]  the handler runs in its own task and fills the exchange
 *   SENDING   [loop]  the head and body are queued as tcp_sndbuf allows, resumed from
 *                     tcp_sent and the poll; after the last byte the pcb is closed
 *
 * The connection's memory belongs to the task while it handles: if lwIP drops the pcb
 * meanwhile (reset by the peer, the deadline), the pcb pointer is cleared and the task
 * frees the connection when the handler returns. Otherwise whoever ends the pcb frees it.
 */
#include "http_server.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/tcp.h"
#include "task.h"

#define POLL_INTERVAL 2 /* lwIP's coarse timer ticks (500 ms): one poll a second */
#define HEAD_MAX 512

enum phase { READING, HANDLING, SENDING };

struct http_server {
	http_handler_fn handle;
	void *ctx;
	struct http_conn *conns; /* every open connection, newest first */
	unsigned n_conns;
	uint64_t accepted;
};

struct http_conn {
	struct http_server *srv;
	struct http_conn *next;
	struct tcp_pcb *pcb; /* NULL once lwIP is done with it */
	uint64_t serial;     /* accept order: the lowest is the oldest */
	enum phase phase;
	unsigned polls_left;
	struct http_parser parser;
	struct http_exchange x;
	char head[HEAD_MAX];
	size_t head_len, total, queued; /* what goes out: head, then body (total bytes) */
};

static void conn_unlink(struct http_conn *c)
{
	struct http_conn **pp = &c->srv->conns;
	while (*pp != c)
		pp = &(*pp)->next;
	*pp = c->next;
	c->srv->n_conns--;
}

static void conn_free(struct http_conn *c)
{
	conn_unlink(c);
	strbuf_free(&c->x.body);
	free(c);
}

/* Detaches the pcb (closed gracefully, or reset when abort or when it cannot close now);
 * the connection is freed unless its task still runs. ERR_ABRT when reset. */
static err_t conn_end(struct http_conn *c, bool abort)
{
	struct tcp_pcb *pcb = c->pcb;
	err_t rc = ERR_OK;
	if (pcb) {
		tcp_arg(pcb, NULL);
		tcp_recv(pcb, NULL);
		tcp_sent(pcb, NULL);
		tcp_err(pcb, NULL);
		tcp_poll(pcb, NULL, 0);
		c->pcb = NULL;
		if (abort || tcp_close(pcb) != ERR_OK) {
			tcp_abort(pcb);
			rc = ERR_ABRT;
		}
	}
	if (c->phase != HANDLING)
		conn_free(c);
	return rc;
}

/* Queues as much of the response as the send buffer takes. */
static void conn_push(struct http_conn *c)
{
	while (c->queued < c->total) {
		const char *src = c->queued < c->head_len ? c->head + c->queued
							  : c->x.body.data + (c->queued - c->head_len);
		size_t n = (c->queued < c->head_len ? c->head_len : c->total) - c->queued;
		if (n > tcp_sndbuf(c->pcb))
			n = tcp_sndbuf(c->pcb);
		if (n == 0)
			break;
		u8_t flags = TCP_WRITE_FLAG_COPY | (c->queued + n < c->total ? TCP_WRITE_FLAG_MORE : 0);
		if (tcp_write(c->pcb, src, (u16_t)n, flags) != ERR_OK)
			break; /* out of segments: tcp_sent or the poll tries again */
		c->queued += n;
	}
	tcp_output(c->pcb);
}

/* From tcp_sent and the poll, never from a callback that lwIP still holds the pcb in
 * after returning OK (accept): the connection ends once everything is queued. */
static err_t conn_continue(struct http_conn *c)
{
	conn_push(c);
	return c->queued == c->total ? conn_end(c, false) : ERR_OK;
}

/* The status line and headers into c->head: their length, or -1 when they do not fit. */
static int http_head(struct http_conn *c, const struct http_exchange *x)
{
	int n = snprintf(c->head, sizeof(c->head),
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %lu\r\n"
			 "Connection: close\r\nCache-Control: no-store\r\n"
			 "X-Content-Type-Options: nosniff\r\n%s\r\n",
			 x->status, http_reason(x->status), x->content_type, (unsigned long)x->body.len,
			 x->headers ? x->headers : "");
	return n > 0 && (size_t)n < sizeof(c->head) ? n : -1;
}

/* Replaces an answer that cannot be sent whole with a short 500. */
static void answer_500(struct http_exchange *x, const char *why)
{
	strbuf_free(&x->body);
	x->status = 500;
	x->content_type = "text/plain; charset=utf-8";
	x->headers = NULL;
	strbuf_puts(&x->body, why);
}

/* Writes the status line and headers for the exchange and starts sending. */
static void conn_respond(struct http_conn *c)
{
	struct http_exchange *x = &c->x;
	if (x->body.truncated)
		answer_500(x, "response too large\n");
	int n = http_head(c, x);
	if (n < 0) { /* never a body without its status line */
		answer_500(x, "response headers too large\n");
		n = http_head(c, x);
	}
	c->head_len = (size_t)n;
	bool head_only = x->req && x->req->method == HTTP_HEAD;
	c->total = c->head_len + (head_only ? 0 : x->body.len);
	c->phase = SENDING;
}

/* The parser refused the request: a short text answer from the loop. */
static void conn_refuse(struct http_conn *c, int status)
{
	c->x.status = status;
	c->x.content_type = "text/plain; charset=utf-8";
	strbuf_printf(&c->x.body, "%d %s\n", status, http_reason(status));
	conn_respond(c);
}

static void handler_task(void *arg)
{
	struct http_conn *c = arg;
	c->srv->handle(c->srv->ctx, &c->x);
	if (!c->pcb) { /* lwIP dropped the connection while the handler ran */
		c->phase = SENDING;
		conn_free(c);
		return;
	}
	conn_respond(c);
	conn_continue(c);
}

static void conn_dispatch(struct http_conn *c)
{
	c->x.req = &c->parser.req;
	c->phase = HANDLING;
	if (!task_spawn(handler_task, c)) {
		c->phase = READING;
		conn_refuse(c, 503);
	}
}

static err_t conn_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct http_conn *c = arg;
	(void)err;
	if (!p) /* the client's FIN: a request cut short is not answered */
		return c->phase == READING ? conn_end(c, false) : ERR_OK;
	tcp_recved(pcb, p->tot_len);
	for (struct pbuf *q = p; q && c->phase == READING; q = q->next) {
		size_t used;
		enum http_parse_state s = http_parser_feed(&c->parser, q->payload, q->len, &used);
		if (s == HTTP_PARSE_FAILED)
			conn_refuse(c, c->parser.status);
		else if (s == HTTP_PARSE_DONE)
			conn_dispatch(c);
	}
	pbuf_free(p);
	return c->phase == SENDING ? conn_continue(c) : ERR_OK;
}

static err_t conn_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct http_conn *c = arg;
	(void)pcb;
	(void)len;
	return c->phase == SENDING ? conn_continue(c) : ERR_OK;
}

static err_t conn_poll(void *arg, struct tcp_pcb *pcb)
{
	struct http_conn *c = arg;
	(void)pcb;
	if (c->polls_left == 0 || --c->polls_left == 0)
		return conn_end(c, true);
	return c->phase == SENDING ? conn_continue(c) : ERR_OK;
}

/* lwIP has freed the pcb already. */
static void conn_error(void *arg, err_t err)
{
	struct http_conn *c = arg;
	(void)err;
	if (!c)
		return;
	c->pcb = NULL;
	if (c->phase != HANDLING)
		conn_free(c);
}

/* Makes room for a newcomer: resets the oldest connection still sending its request.
 * False when every connection is being answered. */
static bool evict_oldest_reading(struct http_server *srv)
{
	struct http_conn *oldest = NULL;
	for (struct http_conn *c = srv->conns; c; c = c->next)
		if (c->phase == READING && (!oldest || c->serial < oldest->serial))
			oldest = c;
	if (!oldest)
		return false;
	conn_end(oldest, true);
	return true;
}

static uint32_t peer_address(const struct tcp_pcb *pcb)
{
	return lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip)));
}

static err_t server_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct http_server *srv = arg;
	if (err != ERR_OK || pcb == NULL)
		return ERR_VAL;
	bool room = srv->n_conns < HTTP_SERVER_CONNS_MAX || evict_oldest_reading(srv);
	struct http_conn *c = room ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	c->srv = srv;
	c->pcb = pcb;
	c->serial = srv->accepted++;
	c->polls_left = HTTP_SERVER_DEADLINE_S;
	http_parser_init(&c->parser);
	c->x = (struct http_exchange){ .peer = peer_address(pcb), .status = 200,
				       .content_type = "text/plain; charset=utf-8" };
	strbuf_init(&c->x.body, HTTP_RESPONSE_MAX);
	c->next = srv->conns;
	srv->conns = c;
	srv->n_conns++;
	tcp_arg(pcb, c);
	tcp_recv(pcb, conn_recv);
	tcp_sent(pcb, conn_sent);
	tcp_err(pcb, conn_error);
	tcp_poll(pcb, conn_poll, POLL_INTERVAL);
	return ERR_OK;
}

int http_server_start(uint16_t port, http_handler_fn handle, void *ctx)
{
	struct http_server *srv = calloc(1, sizeof(*srv));
	struct tcp_pcb *pcb = srv ? tcp_new_ip_type(IPADDR_TYPE_ANY) : NULL;
	if (!pcb) {
		free(srv);
		return -ENOMEM;
	}
	if (tcp_bind(pcb, IP_ANY_TYPE, port) != ERR_OK) {
		tcp_close(pcb);
		free(srv);
		return -EADDRINUSE;
	}
	struct tcp_pcb *listener = tcp_listen_with_backlog(pcb, 1);
	if (!listener) {
		tcp_close(pcb);
		free(srv);
		return -ENOMEM;
	}
	*srv = (struct http_server){ .handle = handle, .ctx = ctx };
	tcp_arg(listener, srv);
	tcp_accept(listener, server_accept);
	return 0;
}
