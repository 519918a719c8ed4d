/*
 * iSCSI over lwIP (iscsi_lwip.h).
 *
 * Receive: pbufs from tcp_recv stay on the connection until iscsi_conn_input() has taken
 * them; tcp_recved() acknowledges only what it took, so a slow connection closes its own
 * TCP window instead of growing our memory. When the target's input queue was full it
 * calls resume from a task; the rest is offered again from an lwIP timeout (the loop).
 *
 * Send: ops->send copies into lwIP (TCP_WRITE_FLAG_COPY) as far as the send buffer
 * allows, and otherwise sleeps on the connection's wait queue, woken by tcp_sent and by
 * errors.
 *
 * Lifetime: a connection is freed once lwIP is done with its pcb (closed or failed),
 * the target has been told (iscsi_conn_closed), and nobody holds a reference (a task
 * sleeping in send, or an offer in progress, during which the target may close).
 */
#include "iscsi_lwip.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "net_init.h"
#include "task.h"

#define TICK_MS 5000 /* iscsi_server_tick: NOP-In pings, dead-initiator detection */

struct tcp_conn {
	struct tcp_pcb *pcb;        /* NULL once lwIP is done with it */
	struct iscsi_conn *conn;    /* NULL once the target was told it is gone */
	struct pbuf *pending;       /* received, not yet taken by the target */
	u16_t offset;               /* bytes of pending's first pbuf already taken */
	bool aborted;               /* tcp_abort() was called: lwIP wants ERR_ABRT */
	struct waitq senders;
	unsigned refs;
	bool reoffer_scheduled;
};

static struct {
	struct iscsi_server server;
	struct iscsi_config *config;
	struct tcp_pcb *listener;
	char portal[32];
	uint16_t port;
} target;

static void reoffer(void *arg);

static void conn_release(struct tcp_conn *c)
{
	if (c->pcb || c->conn || c->refs)
		return;
	if (c->reoffer_scheduled)
		sys_untimeout(reoffer, c);
	if (c->pending)
		pbuf_free(c->pending);
	free(c);
}

static void detach_pcb(struct tcp_conn *c, bool abort)
{
	struct tcp_pcb *pcb = c->pcb;
	if (!pcb)
		return;
	c->pcb = NULL;
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	if (abort || tcp_close(pcb) != ERR_OK) {
		tcp_abort(pcb);
		c->aborted = true;
	}
}

/* The transport is gone, whoever noticed: wake the senders and tell the target. */
static void conn_gone(struct tcp_conn *c)
{
	waitq_wake_all(&c->senders);
	struct iscsi_conn *conn = c->conn;
	if (conn) {
		c->conn = NULL;
		iscsi_conn_closed(conn);
	}
}

/* Hands pending bytes to the target until it takes no more. */
static void offer(struct tcp_conn *c)
{
	c->refs++; /* the target may close (and so release) the connection from input */
	while (c->pending && c->conn) {
		struct pbuf *q = c->pending;
		size_t avail = (size_t)(q->len - c->offset);
		size_t took = iscsi_conn_input(c->conn, (const u8_t *)q->payload + c->offset, avail);
		if (c->pcb && took)
			tcp_recved(c->pcb, (u16_t)took);
		c->offset = (u16_t)(c->offset + took);
		if (took < avail)
			break; /* input queue full: the target calls resume */
		c->pending = q->next;
		q->next = NULL;
		q->tot_len = q->len;
		pbuf_free(q); /* the rest of the chain keeps the reference the link held */
		c->offset = 0;
	}
	c->refs--;
	conn_release(c);
}

static void reoffer(void *arg)
{
	struct tcp_conn *c = arg;
	c->reoffer_scheduled = false;
	offer(c);
}

/* ---- what the target calls (iscsi_transport_ops) ------------------------------------ */

static int tcp_conn_send(void *ctx, const void *buf, size_t len)
{
	struct tcp_conn *c = ctx;
	const u8_t *p = buf;
	while (len) {
		if (!c->pcb)
			return -ECONNRESET;
		size_t n = len < tcp_sndbuf(c->pcb) ? len : tcp_sndbuf(c->pcb);
		/* Leave queue entries for lwIP's own segments (ACKs, FIN). */
		if (tcp_sndqueuelen(c->pcb) + 8 >= TCP_SND_QUEUELEN)
			n = 0;
		err_t e = ERR_MEM;
		if (n)
			e = tcp_write(c->pcb, p, (u16_t)n,
				      TCP_WRITE_FLAG_COPY | (n < len ? TCP_WRITE_FLAG_MORE : 0));
		if (e == ERR_OK) {
			p += n;
			len -= n;
			continue;
		}
		if (e != ERR_MEM)
			return -EIO;
		tcp_output(c->pcb);
		c->refs++;
		waitq_sleep(&c->senders);
		c->refs--;
		if (!c->pcb) {
			conn_release(c);
			return -ECONNRESET;
		}
	}
	tcp_output(c->pcb);
	return 0;
}

static void tcp_conn_close(void *ctx)
{
	struct tcp_conn *c = ctx;
	c->refs++;
	detach_pcb(c, false);
	conn_gone(c);
	c->refs--;
	conn_release(c);
}

static void tcp_conn_resume(void *ctx)
{
	struct tcp_conn *c = ctx;
	if (!c->reoffer_scheduled && c->pending) {
		c->reoffer_scheduled = true;
		sys_timeout(0, reoffer, c);
	}
}

static const struct iscsi_transport_ops tcp_transport = {
	.send = tcp_conn_send,
	.close = tcp_conn_close,
	.resume = tcp_conn_resume,
};

/* ---- lwIP callbacks ---------------------------------------------------------------- */

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct tcp_conn *c = arg;
	(void)pcb;
	c->refs++;
	if (!p || err != ERR_OK) { /* the peer closed (or lwIP gave up) */
		if (p)
			pbuf_free(p);
		detach_pcb(c, false);
		conn_gone(c);
	} else {
		if (c->pending)
			pbuf_cat(c->pending, p);
		else
			c->pending = p;
		offer(c);
	}
	/* Closing from inside this callback may have aborted the pcb. */
	err_t rc = c->aborted ? ERR_ABRT : ERR_OK;
	c->refs--;
	conn_release(c);
	return rc;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct tcp_conn *c = arg;
	(void)pcb;
	(void)len;
	waitq_wake_all(&c->senders);
	return ERR_OK;
}

static void on_error(void *arg, err_t err)
{
	struct tcp_conn *c = arg;
	(void)err;
	c->pcb = NULL; /* lwIP has freed it */
	c->refs++;
	conn_gone(c);
	c->refs--;
	conn_release(c);
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	struct tcp_conn *c = calloc(1, sizeof(*c));
	if (!c) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	c->pcb = pcb;
	tcp_arg(pcb, c);
	tcp_recv(pcb, on_recv);
	tcp_sent(pcb, on_sent);
	tcp_err(pcb, on_error);
	tcp_nagle_disable(pcb); /* responses are small and sent whole: don't hold them */
	c->conn = iscsi_conn_open(&target.server, &tcp_transport, c);
	if (!c->conn) {
		detach_pcb(c, true);
		free(c);
		return ERR_ABRT;
	}
	return ERR_OK;
}

static void tick(void *arg)
{
	(void)arg;
	iscsi_server_tick(&target.server);
	sys_timeout(TICK_MS, tick, NULL);
}

static void set_portal(void *ctx, uint32_t addr)
{
	(void)ctx;
	snprintf(target.portal, sizeof(target.portal), "%u.%u.%u.%u:%u", (unsigned)(addr >> 24),
		 (unsigned)(addr >> 16) & 255, (unsigned)(addr >> 8) & 255, (unsigned)addr & 255,
		 target.port);
	target.config->portal = target.portal;
}

int iscsi_lwip_start(struct iscsi_config *config, uint16_t port)
{
	target.config = config;
	target.port = port;
	iscsi_server_init(&target.server, config);
	if (!config->portal)
		net_on_bound(set_portal, NULL);

	struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_ANY);
	if (!pcb) {
		printf("iscsi: out of memory for the listener\n");
		return -ENOMEM;
	}
	if (tcp_bind(pcb, IP_ANY_TYPE, port) != ERR_OK) {
		tcp_close(pcb);
		printf("iscsi: port %u is in use\n", port);
		return -EADDRINUSE;
	}
	target.listener = tcp_listen_with_backlog(pcb, 16);
	if (!target.listener) {
		tcp_close(pcb);
		printf("iscsi: out of memory for the listener\n");
		return -ENOMEM;
	}
	tcp_accept(target.listener, on_accept);
	sys_timeout(TICK_MS, tick, NULL);
	printf("iscsi: listening on port %u, %u target%s\n", port, config->n_targets,
	       config->n_targets == 1 ? "" : "s");
	return 0;
}
