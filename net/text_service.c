/*
 * The read-only text service (text_service.h). One connection at a time: its text is
 * made at accept, queued into lwIP (copied: the text is freed once queued) as the send
 * buffer allows, resumed from tcp_sent, and the connection closed gracefully after the
 * last byte is queued. Received bytes are acknowledged (tcp_recved, so the window stays
 * open and the close is not turned into a reset) and dropped. A poll each second counts
 * down the deadline; at zero the connection is reset.
 */
#include "text_service.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "lwip/tcp.h"

#define POLL_INTERVAL 2 /* lwIP's coarse timer ticks (500 ms): one poll a second */

struct text_service {
	text_service_produce_fn produce;
	void *ctx;
	struct text_conn *active; /* the one connection served, or NULL */
};

struct text_conn {
	struct text_service *svc;
	struct tcp_pcb *pcb;
	char *text;
	size_t len, queued;
	unsigned polls_left;
};

static void conn_free(struct text_conn *c)
{
	c->svc->active = NULL;
	free(c->text);
	free(c);
}

/* lwIP calls c no more; the pcb is closed gracefully, or reset when abort or when lwIP
 * cannot close it now. ERR_ABRT when reset (what a callback must then return). */
static err_t conn_end(struct text_conn *c, bool abort)
{
	struct tcp_pcb *pcb = c->pcb;
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	tcp_poll(pcb, NULL, 0);
	conn_free(c);
	if (abort || tcp_close(pcb) != ERR_OK) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	return ERR_OK;
}

/* Queues as much of the text as the send buffer takes. */
static void conn_push(struct text_conn *c)
{
	while (c->queued < c->len) {
		size_t n = c->len - c->queued;
		if (n > tcp_sndbuf(c->pcb))
			n = tcp_sndbuf(c->pcb);
		if (n == 0)
			break;
		u8_t flags = TCP_WRITE_FLAG_COPY | (c->queued + n < c->len ? TCP_WRITE_FLAG_MORE : 0);
		if (tcp_write(c->pcb, c->text + c->queued, (u16_t)n, flags) != ERR_OK)
			break; /* out of segments: tcp_sent or the poll tries again */
		c->queued += n;
	}
	tcp_output(c->pcb);
}

/* From tcp_sent and the poll, never from accept (lwIP still uses the pcb after it): the
 * connection ends once the whole text is queued. */
static err_t conn_continue(struct text_conn *c)
{
	conn_push(c);
	return c->queued == c->len ? conn_end(c, false) : ERR_OK;
}

static err_t conn_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)arg;
	(void)err;
	if (p) { /* a client has nothing to say: taken and dropped */
		tcp_recved(pcb, p->tot_len);
		pbuf_free(p);
	}
	return ERR_OK; /* p == NULL, the client's FIN: the text still goes out */
}

static err_t conn_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)pcb;
	(void)len;
	return conn_continue(arg);
}

static err_t conn_poll(void *arg, struct tcp_pcb *pcb)
{
	struct text_conn *c = arg;
	(void)pcb;
	if (c->polls_left == 0 || --c->polls_left == 0)
		return conn_end(c, true);
	return conn_continue(c);
}

/* lwIP has freed the pcb already. */
static void conn_error(void *arg, err_t err)
{
	(void)err;
	if (arg)
		conn_free(arg);
}

static err_t service_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct text_service *svc = arg;
	if (err != ERR_OK || pcb == NULL)
		return ERR_VAL;
	struct text_conn *c = svc->active ? NULL : calloc(1, sizeof(*c));
	if (c)
		c->text = svc->produce(svc->ctx, &c->len);
	if (!c || !c->text) {
		free(c);
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	c->svc = svc;
	c->pcb = pcb;
	c->polls_left = TEXT_SERVICE_DEADLINE_S;
	svc->active = c;
	tcp_arg(pcb, c);
	tcp_recv(pcb, conn_recv);
	tcp_sent(pcb, conn_sent);
	tcp_err(pcb, conn_error);
	tcp_poll(pcb, conn_poll, POLL_INTERVAL);
	conn_push(c);
	return ERR_OK;
}

int text_service_start(uint16_t port, text_service_produce_fn produce, void *ctx)
{
	struct text_service *svc = calloc(1, sizeof(*svc));
	struct tcp_pcb *pcb = svc ? tcp_new_ip_type(IPADDR_TYPE_ANY) : NULL;
	if (!pcb) {
		free(svc);
		return -ENOMEM;
	}
	if (tcp_bind(pcb, IP_ANY_TYPE, port) != ERR_OK) {
		tcp_close(pcb);
		free(svc);
		return -EADDRINUSE;
	}
	struct tcp_pcb *listener = tcp_listen_with_backlog(pcb, 1);
	if (!listener) {
		tcp_close(pcb);
		free(svc);
		return -ENOMEM;
	}
	*svc = (struct text_service){ .produce = produce, .ctx = ctx };
	tcp_arg(listener, svc);
	tcp_accept(listener, service_accept);
	return 0;
}
