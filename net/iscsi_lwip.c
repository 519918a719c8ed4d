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
 * Lifetime: one owner, the target. A tcp_conn lives exactly as long as its iscsi_conn,
 * whose reference count is the only one: the target calls ops->release (tcp_conn_free)
 * when the last reference goes, which is never before this binding has called
 * iscsi_conn_closed(). Hence one rule here: iscsi_conn_closed() is the last thing done
 * with a tcp_conn, after its pcb is detached (so no lwIP callback reaches it any more).
 * A task sleeping in send holds a reference of the iscsi_conn, so the tcp_conn outlives
 * the wait and the task wakes to a NULL pcb. The target may also close from inside
 * iscsi_conn_input(), while offer() still uses the tcp_conn: then offer() tells the
 * target once it is done with it.
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
	struct tcp_pcb *pcb;        /* NULL once detached, or freed by lwIP */
	struct iscsi_conn *conn;
	struct pbuf *pending;       /* received, not yet taken by the target */
	u16_t offset;               /* bytes of pending's first pbuf already taken */
	bool aborted;               /* tcp_abort() was called: lwIP wants ERR_ABRT */
	bool reoffer_scheduled;
	bool offering;              /* inside iscsi_conn_input(): see tcp_conn_close() */
	bool closed_while_offering;
	struct waitq senders;
};

static struct {
	struct iscsi_server server;
	struct iscsi_config *config;
	struct tcp_pcb *listener;
	char portal[32];
	uint16_t port;
} target;

static void reoffer(void *arg);

/* The target is done with c (ops->release). */
static void tcp_conn_free(void *ctx)
{
	struct tcp_conn *c = ctx;
	if (c->pending)
		pbuf_free(c->pending);
	free(c);
}

/* Takes the pcb from c: lwIP calls c no more, and senders wake to find it gone. */
static void detach_pcb(struct tcp_conn *c, bool abort)
{
	struct tcp_pcb *pcb = c->pcb;
	if (!pcb)
		return;
	c->pcb = NULL;
	waitq_wake_all(&c->senders);
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	if (abort || tcp_close(pcb) != ERR_OK) {
		tcp_abort(pcb);
		c->aborted = true;
	}
}

/* The transport is gone, whoever noticed. The last use of c: the target may free it
 * right here. */
static void tell_target_gone(struct tcp_conn *c)
{
	if (c->reoffer_scheduled)
		sys_untimeout(reoffer, c);
	iscsi_conn_closed(c->conn);
}

/* Hands pending bytes to the target until it takes no more. Returns what lwIP's recv
 * callback must return. */
static err_t offer(struct tcp_conn *c)
{
	c->offering = true;
	while (c->pending && c->pcb) {
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
	c->offering = false;
	/* Closing from inside iscsi_conn_input() may have aborted the pcb. */
	err_t rc = c->aborted ? ERR_ABRT : ERR_OK;
	if (c->closed_while_offering)
		tell_target_gone(c);
	return rc;
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
		/* The sending task holds a reference of the iscsi_conn: c outlives the wait. */
		waitq_sleep(&c->senders);
	}
	tcp_output(c->pcb);
	return 0;
}

/* The target ends the connection. When it does so from inside iscsi_conn_input(), offer()
 * still uses c afterwards, so it is offer() that tells the target. */
static void tcp_conn_close(void *ctx)
{
	struct tcp_conn *c = ctx;
	detach_pcb(c, false);
	if (c->offering)
		c->closed_while_offering = true;
	else
		tell_target_gone(c);
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
	.release = tcp_conn_free,
};

/* ---- lwIP callbacks ---------------------------------------------------------------- */

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct tcp_conn *c = arg;
	(void)pcb;
	if (p && err == ERR_OK) {
		if (c->pending)
			pbuf_cat(c->pending, p);
		else
			c->pending = p;
		return offer(c);
	}
	/* The peer closed (or lwIP gave up). */
	if (p)
		pbuf_free(p);
	detach_pcb(c, false);
	err_t rc = c->aborted ? ERR_ABRT : ERR_OK;
	tell_target_gone(c);
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
	waitq_wake_all(&c->senders);
	tell_target_gone(c);
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
