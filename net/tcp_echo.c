/*
 * TCP echo service: see tcp_echo.h. Each connection keeps the pbufs it received but
 * could not yet queue for sending (send buffer full) and resumes from tcp_sent. Because
 * tcp_recved is called only for bytes queued back, the peer's sending is throttled by
 * our receive window, so a connection never holds more than one window of data.
 */
#include "tcp_echo.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "lwip/tcp.h"

struct echo_conn {
	struct tcp_pcb *pcb;
	struct pbuf *pending; /* received, not yet queued back */
	u16_t offset;	      /* bytes of pending's first pbuf already queued */
	bool peer_closed;
};

static void echo_free(struct echo_conn *c)
{
	if (c->pending)
		pbuf_free(c->pending);
	free(c);
}

static void echo_close(struct echo_conn *c)
{
	tcp_arg(c->pcb, NULL);
	tcp_recv(c->pcb, NULL);
	tcp_sent(c->pcb, NULL);
	tcp_err(c->pcb, NULL);
	if (tcp_close(c->pcb) != ERR_OK)
		tcp_abort(c->pcb);
	echo_free(c);
}

/* Drops the first pbuf of the pending chain; the rest, unlinked from it, keeps the
 * reference the link held. */
static void pop_pending(struct echo_conn *c)
{
	struct pbuf *head = c->pending;
	c->pending = head->next;
	head->next = NULL;
	head->tot_len = head->len;
	pbuf_free(head);
	c->offset = 0;
}

/* Queues as much pending data as the send buffer takes. */
static void echo_flush(struct echo_conn *c)
{
	bool queued = false;
	while (c->pending) {
		struct pbuf *q = c->pending;
		u16_t chunk = LWIP_MIN((u16_t)(q->len - c->offset), tcp_sndbuf(c->pcb));
		if (chunk == 0)
			break;
		u8_t flags = TCP_WRITE_FLAG_COPY | (q->next ? TCP_WRITE_FLAG_MORE : 0);
		if (tcp_write(c->pcb, (const u8_t *)q->payload + c->offset, chunk, flags) != ERR_OK)
			break;
		queued = true;
		tcp_recved(c->pcb, chunk);
		c->offset += chunk;
		if (c->offset == q->len)
			pop_pending(c);
	}
	if (queued)
		tcp_output(c->pcb);
	if (c->peer_closed && !c->pending)
		echo_close(c);
}

static err_t echo_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct echo_conn *c = arg;
	(void)pcb;
	(void)err;
	if (p == NULL) {
		c->peer_closed = true;
	} else if (c->pending) {
		pbuf_cat(c->pending, p);
	} else {
		c->pending = p;
		c->offset = 0;
	}
	echo_flush(c);
	return ERR_OK;
}

static err_t echo_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)pcb;
	(void)len;
	echo_flush(arg);
	return ERR_OK;
}

/* The pcb is already gone when lwIP reports an error. */
static void echo_error(void *arg, err_t err)
{
	(void)err;
	echo_free(arg);
}

static err_t echo_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	if (err != ERR_OK || pcb == NULL)
		return ERR_VAL;
	struct echo_conn *c = calloc(1, sizeof *c);
	if (c == NULL) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	c->pcb = pcb;
	tcp_nagle_disable(pcb);
	tcp_arg(pcb, c);
	tcp_recv(pcb, echo_recv);
	tcp_sent(pcb, echo_sent);
	tcp_err(pcb, echo_error);
	return ERR_OK;
}

int tcp_echo_start(uint16_t port)
{
	struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
	if (pcb == NULL)
		return -ENOMEM;
	if (tcp_bind(pcb, IP_ANY_TYPE, port) != ERR_OK) {
		tcp_close(pcb);
		return -EADDRINUSE;
	}
	struct tcp_pcb *listener = tcp_listen_with_backlog(pcb, 4);
	if (listener == NULL) {
		tcp_close(pcb);
		return -ENOMEM;
	}
	tcp_accept(listener, echo_accept);
	printf("net: tcp echo on port %u\n", port);
	return 0;
}
