/*
 * Binding of the iSCSI target to lwIP's raw TCP API; see iscsi_lwip.h.
 *
 * Lifetime: a struct tcp_link lives while either lwIP's pcb or a task blocked in
 * link_send() may use it. The iscsi_conn never touches it after iscsi_conn_closed(); the
 * pcb's callbacks are detached before the pcb is closed; the last sender out frees it.
 */
#include "iscsi_lwip.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "task.h"

struct tcp_link {
	struct tcp_pcb *pcb;        /* NULL once closed or failed */
	struct iscsi_conn *conn;    /* NULL once iscsi_conn_closed() was called */
	struct pbuf *pending;       /* received, not yet consumed by the target */
	u16_t offset;               /* bytes of pending's first pbuf consumed */
	struct waitq send_room;     /* senders waiting for tcp_sent() */
	unsigned senders;           /* tasks inside link_send() */
	unsigned busy;              /* inside a callback that uses l after feeding */
	bool aborted;               /* the pcb was aborted (lwIP wants ERR_ABRT back) */
};

static void link_free_if_unused(struct tcp_link *l)
{
	if (!l->pcb && !l->conn && l->senders == 0 && l->busy == 0) {
		if (l->pending)
			pbuf_free(l->pending);
		free(l);
	}
}

static void detach_pcb(struct tcp_link *l)
{
	struct tcp_pcb *pcb = l->pcb;
	if (!pcb)
		return;
	l->pcb = NULL;
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	if (tcp_close(pcb) != ERR_OK) {
		tcp_abort(pcb);
		l->aborted = true;
	}
}

/* The transport is gone: tell the target (once) and wake blocked senders. */
static void end_conn(struct tcp_link *l)
{
	struct iscsi_conn *c = l->conn;
	waitq_wake_all(&l->send_room);
	if (c) {
		l->conn = NULL;
		iscsi_conn_closed(c);
	}
}

static void drop_first_pbuf(struct tcp_link *l)
{
	struct pbuf *head = l->pending;
	l->pending = head->next;
	head->next = NULL;
	head->tot_len = head->len;
	pbuf_free(head);
	l->offset = 0;
}

/* Offers pending bytes to the target until it stops taking them. The target may close
 * the connection meanwhile: callers hold l->busy so that l survives, then free it. */
static void feed(struct tcp_link *l)
{
	while (l->pending && l->conn && l->pcb) {
		struct pbuf *q = l->pending;
		u16_t avail = (u16_t)(q->len - l->offset);
		size_t used = avail ? iscsi_conn_input(l->conn, (const u8_t *)q->payload + l->offset, avail) : 0;
		if (!l->pcb)
			break; /* the target closed the connection meanwhile */
		if (used)
			tcp_recved(l->pcb, (u16_t)used);
		l->offset = (u16_t)(l->offset + used);
		if (l->offset < q->len)
			break; /* the target's input queue is full: resume() comes back */
		drop_first_pbuf(l);
	}
}

static int link_send(void *ctx, const void *buf, size_t len)
{
	struct tcp_link *l = ctx;
	const u8_t *p = buf;
	int rc = 0;

	l->senders++;
	while (len > 0) {
		if (!l->pcb) {
			rc = -EPIPE;
			break;
		}
		size_t room = tcp_sndbuf(l->pcb);
		size_t n = len < room ? len : room;
		if (n > 0xffff)
			n = 0xffff;
		err_t err = n ? tcp_write(l->pcb, p, (u16_t)n, TCP_WRITE_FLAG_COPY |
					  (n < len ? TCP_WRITE_FLAG_MORE : 0)) : ERR_MEM;
		if (err == ERR_MEM) {
			tcp_output(l->pcb); /* what is queued goes out; tcp_sent() frees room */
			waitq_sleep(&l->send_room);
			continue;
		}
		if (err != ERR_OK) {
			rc = -EIO;
			break;
		}
		p += n;
		len -= n;
	}
	l->senders--;
	link_free_if_unused(l);
	return rc;
}

static void link_flush(void *ctx)
{
	struct tcp_link *l = ctx;
	if (l->pcb)
		tcp_output(l->pcb);
}

static void link_close(void *ctx)
{
	struct tcp_link *l = ctx;
	detach_pcb(l); /* queued data still goes out before the FIN */
	end_conn(l);
	link_free_if_unused(l);
}

static void link_resume(void *ctx)
{
	struct tcp_link *l = ctx;
	l->busy++;
	feed(l);
	l->busy--;
	link_free_if_unused(l);
}

static const struct iscsi_transport_ops tcp_link_ops = {
	.send = link_send,
	.close = link_close,
	.resume = link_resume,
	.flush = link_flush,
};

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct tcp_link *l = arg;
	(void)pcb;
	(void)err;
	l->busy++;
	if (!p) { /* the initiator closed its side */
		detach_pcb(l);
		end_conn(l);
	} else {
		if (l->pending)
			pbuf_cat(l->pending, p);
		else
			l->pending = p;
		feed(l);
	}
	/* A pcb aborted inside its own callback must be reported, or lwIP uses it again. */
	bool aborted = l->aborted;
	l->busy--;
	link_free_if_unused(l);
	return aborted ? ERR_ABRT : ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct tcp_link *l = arg;
	(void)pcb;
	(void)len;
	waitq_wake_all(&l->send_room);
	return ERR_OK;
}

/* lwIP has already freed the pcb. */
static void on_error(void *arg, err_t err)
{
	struct tcp_link *l = arg;
	(void)err;
	if (!l)
		return;
	l->pcb = NULL;
	end_conn(l);
	link_free_if_unused(l);
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct iscsi_server *srv = arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	struct tcp_link *l = calloc(1, sizeof(*l));
	if (!l) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	l->pcb = pcb;
	l->send_room = (struct waitq)WAITQ_INIT;
	l->conn = iscsi_conn_open(srv, &tcp_link_ops, l);
	if (!l->conn) {
		free(l);
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	tcp_nagle_disable(pcb);
	tcp_arg(pcb, l);
	tcp_recv(pcb, on_recv);
	tcp_sent(pcb, on_sent);
	tcp_err(pcb, on_error);
	return ERR_OK;
}

static void on_tick(void *arg)
{
	iscsi_server_tick(arg);
	sys_timeout(ISCSI_LWIP_TICK_MS, on_tick, arg);
}

int iscsi_lwip_listen(struct iscsi_server *srv, uint16_t port)
{
	struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
	if (!pcb)
		return -ENOMEM;
	if (tcp_bind(pcb, IP_ANY_TYPE, port) != ERR_OK) {
		tcp_close(pcb);
		return -EADDRINUSE;
	}
	struct tcp_pcb *listener = tcp_listen_with_backlog(pcb, 8);
	if (!listener) {
		tcp_close(pcb);
		return -ENOMEM;
	}
	tcp_arg(listener, srv);
	tcp_accept(listener, on_accept);
	sys_timeout(ISCSI_LWIP_TICK_MS, on_tick, srv);
	return 0;
}
