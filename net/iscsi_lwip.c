/*
 * iSCSI over lwIP (iscsi_lwip.h).
 *
 * Receive: pbufs from tcp_recv stay on the connection until iscsi_conn_input() has taken
 * them; tcp_recved() acknowledges only what it took, so a slow connection closes its own
 * TCP window instead of growing our memory. The window bounds bytes, not pbufs: a peer
 * sending tiny segments would pin one pool pbuf (1.5 KiB) per byte, and the receive pool
 * is shared by every connection and the NIC. So a connection keeps at most
 * ISCSI_LWIP_HELD_PBUFS_MAX pbufs; what arrives beyond them is copied into its spill
 * buffer (heap, at most a window) and the pbufs go back at once. When the target's input queue was
 * full it calls resume from a task; the connection then waits on one list, offered again
 * from one lwIP timeout (the loop) for all of them: lwIP has few timeout slots.
 *
 * Send: ops->sendv writes one PDU's pieces into lwIP without tcp_output() between them,
 * so a Data-In header and the start of its data share a segment. Small pieces are copied
 * (TCP_WRITE_FLAG_COPY); lent data (ISCSI_SEND_LEND) goes in by reference (PBUF_ROM,
 * no copy), and the target keeps it unchanged until wait_returned says lwIP and the
 * driver are done with it: the peer acknowledged it (on_sent counts acknowledged bytes)
 * or the pcb is gone, and then the network driver gave back every packet it took before
 * (iscsi_lwip_set_link). A connection ending with lent bytes unacknowledged is reset
 * rather than closed: a closing pcb would go on sending them after we let go of it.
 * Output is batched: a connection that was written to is flushed once, from one lwIP
 * timeout at the end of the loop turn (shared by every connection, like the re-offer),
 * or at once when the send buffer is full and the sender must wait. A waiting sender
 * sleeps on the connection's wait queue, woken by tcp_sent and by errors, until a good
 * share of the buffer is free: writing every few freed bytes would send runts.
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
#include <string.h>

#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "event_log.h"
#include "net_init.h"
#include "platform.h"
#include "task.h"

#define SPILL_MIN (16 * 1024) /* the spill buffer's first size; it doubles up to TCP_WND */
#define RECVED_MAX 0xffff     /* tcp_recved() takes a u16_t */

/* The listen backlog: connections lwIP holds before on_accept (handshakes in flight). */
#define LISTEN_BACKLOG 16
/* Pcbs beyond our slots and the backlog, for connections closing (FIN_WAIT, TIME_WAIT,
 * which lwIP also reclaims when short) so that a newcomer still gets a pcb and reaches
 * on_accept, where it may evict a stuck login, rather than being refused by lwIP. */
#define PCB_HEADROOM 16
_Static_assert(MEMP_NUM_TCP_PCB >= ISCSI_DEFAULT_MAX_CONNECTIONS + LISTEN_BACKLOG + PCB_HEADROOM,
	       "lwIP's pcb pool must hold every iSCSI slot, the backlog and closing pcbs");
/* Pool pbufs not held by connections: the NIC's 256 posted buffers, IP reassembly, and
 * the out-of-order queues of pcbs closing. */
#define POOL_OTHERS 512
_Static_assert(PBUF_POOL_SIZE >= ISCSI_DEFAULT_MAX_CONNECTIONS *
			 (ISCSI_LWIP_HELD_PBUFS_MAX + TCP_OOSEQ_MAX_PBUFS) + POOL_OTHERS,
	       "the receive pool must outlast every connection holding its share");

/* Every slot's send buffer full of Data-In sent by reference: a pbuf per segment. */
_Static_assert(MEMP_NUM_PBUF >= ISCSI_DEFAULT_MAX_CONNECTIONS * (TCP_SND_BUF / TCP_MSS + 1),
	       "lwIP's PBUF_ROM pool must hold every slot's lent Data-In");

/* "qedbox: memory high-water" is printed again once the mark grew by this much. */
#define MEMORY_REPORT_STEP (1024 * 1024)

struct tcp_conn {
	struct tcp_pcb *pcb;        /* NULL once detached, or freed by lwIP */
	struct iscsi_conn *conn;
	struct pbuf *pending;       /* received, not yet taken by the target */
	u16_t offset;               /* bytes of pending's first pbuf already taken */
	u16_t pending_pbufs;        /* pbufs on pending: at most ISCSI_LWIP_HELD_PBUFS_MAX */
	/* Received after pending, not yet taken: bytes [pos, len) of buf (cap bytes). */
	struct {
		u8_t *buf;
		size_t pos, len, cap;
	} spill;
	bool aborted;               /* tcp_abort() was called: lwIP wants ERR_ABRT */
	bool resume_queued;         /* on target.resume_head */
	struct tcp_conn *resume_next;
	bool offering;              /* inside iscsi_conn_input(): see tcp_conn_close() */
	bool closed_while_offering;
	bool flush_queued;          /* on target.flush_head */
	struct tcp_conn *flush_next;
	/* Stream positions (bytes since the connection began): written into lwIP, the end
	 * of the last lent piece, acknowledged by the peer. */
	uint64_t written, lent_end, acked;
	u16_t unsent_tail;          /* bytes in lwIP's last unsent segment (of pcb->mss) */
	struct waitq senders;       /* tasks waiting for send buffer or acknowledgements */
};

static struct {
	struct iscsi_server server;
	struct iscsi_config *config;
	struct tcp_pcb *listener;
	char portal[32];
	uint16_t port;
	struct tcp_conn *resume_head; /* connections to offer again, from reoffer_all */
	bool reoffer_scheduled;
	struct tcp_conn *flush_head;  /* connections written to this turn, for flush_all */
	bool flush_scheduled;
	struct waitq nic_waiters;     /* tasks waiting for the driver's packets back */
	bool nic_poll_scheduled;
	uint64_t high_water_printed;
	struct iscsi_lwip_stats stats;
} target;

/* Set once by the appliance (iscsi_lwip_set_link), kept across iscsi_lwip_start(). */
static struct iscsi_lwip_link nic;

void iscsi_lwip_set_link(const struct iscsi_lwip_link *link)
{
	nic = *link;
}

/* The target is done with c (ops->release). */
static void tcp_conn_free(void *ctx)
{
	struct tcp_conn *c = ctx;
	if (c->pending)
		pbuf_free(c->pending);
	target.stats.held_pbufs -= c->pending_pbufs;
	target.stats.spilled_bytes -= c->spill.len - c->spill.pos;
	free(c->spill.buf);
	free(c);
}

/* Takes the pcb from c: lwIP calls c no more, and senders wake to find it gone. A pcb
 * holding lent bytes the peer has not acknowledged is reset: closed, it would live on
 * (FIN_WAIT) and send them from memory the target frees once we let go. */
static void detach_pcb(struct tcp_conn *c, bool abort)
{
	struct tcp_pcb *pcb = c->pcb;
	if (!pcb)
		return;
	if (c->acked < c->lent_end)
		abort = true;
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
static void resume_unlink(struct tcp_conn *c)
{
	for (struct tcp_conn **link = &target.resume_head; *link; link = &(*link)->resume_next) {
		if (*link == c) {
			*link = c->resume_next;
			break;
		}
	}
	c->resume_queued = false;
}

static void flush_unlink(struct tcp_conn *c)
{
	for (struct tcp_conn **link = &target.flush_head; *link; link = &(*link)->flush_next) {
		if (*link == c) {
			*link = c->flush_next;
			break;
		}
	}
	c->flush_queued = false;
}

static void tell_target_gone(struct tcp_conn *c)
{
	if (c->resume_queued)
		resume_unlink(c);
	if (c->flush_queued)
		flush_unlink(c);
	iscsi_conn_closed(c->conn);
}

/* Hands len bytes to the target, acknowledging what it took. Returns true when it took
 * them all. */
static bool offer_bytes(struct tcp_conn *c, const u8_t *bytes, size_t len, size_t *took)
{
	*took = iscsi_conn_input(c->conn, bytes, len);
	if (c->pcb && *took)
		tcp_recved(c->pcb, (u16_t)*took);
	return *took == len;
}

/* The pbufs first: returns true when they are all taken. */
static bool offer_pbufs(struct tcp_conn *c)
{
	while (c->pending && c->pcb) {
		struct pbuf *q = c->pending;
		size_t took;
		bool all = offer_bytes(c, (const u8_t *)q->payload + c->offset,
				       (size_t)(q->len - c->offset), &took);
		c->offset = (u16_t)(c->offset + took);
		if (!all)
			return false; /* input queue full: the target calls resume */
		c->pending = q->next;
		q->next = NULL;
		q->tot_len = q->len;
		pbuf_free(q); /* the rest of the chain keeps the reference the link held */
		c->pending_pbufs--;
		target.stats.held_pbufs--;
		c->offset = 0;
	}
	return !c->pending;
}

/* Then the spill buffer, freed once taken: an idle connection holds no copy. */
static void offer_spill(struct tcp_conn *c)
{
	while (c->spill.pos < c->spill.len && c->pcb) {
		size_t n = c->spill.len - c->spill.pos, took;
		bool all = offer_bytes(c, c->spill.buf + c->spill.pos, n < RECVED_MAX ? n : RECVED_MAX,
				       &took);
		c->spill.pos += took;
		target.stats.spilled_bytes -= took;
		if (!all)
			return;
	}
	if (c->spill.pos == c->spill.len) {
		free(c->spill.buf);
		c->spill.buf = NULL;
		c->spill.pos = c->spill.len = c->spill.cap = 0;
	}
}

/* Copies p after the spill buffer's bytes and frees it. -ENOMEM leaves p to the caller. */
static int spill_append(struct tcp_conn *c, struct pbuf *p)
{
	size_t held = c->spill.len - c->spill.pos;
	if (c->spill.pos && c->spill.cap - c->spill.len < p->tot_len) {
		memmove(c->spill.buf, c->spill.buf + c->spill.pos, held);
		c->spill.pos = 0;
		c->spill.len = held;
	}
	if (c->spill.cap - held < p->tot_len) {
		/* Doubling, but never past a window: the window bounds what is held. */
		size_t need = held + p->tot_len, cap = c->spill.cap ? 2 * c->spill.cap : SPILL_MIN;
		if (cap > TCP_WND)
			cap = TCP_WND;
		if (cap < need)
			cap = need;
		u8_t *buf = realloc(c->spill.buf, cap);
		if (!buf)
			return -ENOMEM;
		c->spill.buf = buf;
		c->spill.cap = cap;
	}
	pbuf_copy_partial(p, c->spill.buf + c->spill.len, p->tot_len, 0);
	target.server.data.rx_copied_bytes += p->tot_len;
	c->spill.len += p->tot_len;
	target.stats.spilled_bytes += p->tot_len;
	pbuf_free(p);
	return 0;
}

/* Keeps p until the target takes it: as pbufs while the connection holds few, else as
 * a copy. Returns ERR_MEM (lwIP keeps p and offers it again) when out of memory. */
static err_t hold(struct tcp_conn *c, struct pbuf *p)
{
	u16_t n = pbuf_clen(p);
	if (c->spill.pos == c->spill.len && c->pending_pbufs + n <= ISCSI_LWIP_HELD_PBUFS_MAX) {
		if (c->pending)
			pbuf_cat(c->pending, p);
		else
			c->pending = p;
		c->pending_pbufs = (u16_t)(c->pending_pbufs + n);
		target.stats.held_pbufs += n;
		if (c->pending_pbufs > target.stats.held_pbufs_peak)
			target.stats.held_pbufs_peak = c->pending_pbufs;
		return ERR_OK;
	}
	return spill_append(c, p) == 0 ? ERR_OK : ERR_MEM;
}

/* Hands held bytes to the target until it takes no more. Returns what lwIP's recv
 * callback must return. */
static err_t offer(struct tcp_conn *c)
{
	c->offering = true;
	if (offer_pbufs(c))
		offer_spill(c);
	c->offering = false;
	/* Closing from inside iscsi_conn_input() may have aborted the pcb. */
	err_t rc = c->aborted ? ERR_ABRT : ERR_OK;
	if (c->closed_while_offering)
		tell_target_gone(c);
	return rc;
}

/* The one timeout that offers again to every connection the target resumed. Each is
 * taken off the list before offer(), which may end (and free) it but no other. */
static void reoffer_all(void *arg)
{
	(void)arg;
	target.reoffer_scheduled = false;
	struct tcp_conn *c;
	while ((c = target.resume_head) != NULL) {
		target.resume_head = c->resume_next;
		c->resume_next = NULL;
		c->resume_queued = false;
		offer(c);
	}
}

/* ---- what the target calls (iscsi_transport_ops) ------------------------------------ */

/* The one timeout that sends what the tasks wrote in this loop turn: one tcp_output()
 * per connection and turn, however many PDUs and pieces it took. */
static void flush_all(void *arg)
{
	(void)arg;
	target.flush_scheduled = false;
	struct tcp_conn *c;
	while ((c = target.flush_head) != NULL) {
		target.flush_head = c->flush_next;
		c->flush_next = NULL;
		c->flush_queued = false;
		if (c->pcb)
			tcp_output(c->pcb);
	}
}

static void queue_flush(struct tcp_conn *c)
{
	if (c->flush_queued)
		return;
	c->flush_queued = true;
	c->flush_next = target.flush_head;
	target.flush_head = c;
	if (!target.flush_scheduled) {
		target.flush_scheduled = true;
		sys_timeout(0, flush_all, NULL);
	}
}

/* A waiting sender writes again once this much of the send buffer is free (or all it
 * has left): refilling it a few freed bytes at a time would send short segments. Below
 * 64 KiB: tcp_sndbuf() reports at most 0xffff. */
#define SEND_LOW_WATER (TCP_SND_BUF / 8)
_Static_assert(SEND_LOW_WATER < 0xffff, "tcp_sndbuf() must be able to reach the low water");
/* Queue entries (pbufs) left for lwIP's own segments (ACKs, FIN). */
#define QUEUE_RESERVE 8

/* The bytes of len that can be written now: 0 to wait. need: the room to wait for
 * first (the rest of the PDU up to the low water), so that a header is never queued
 * alone ahead of a wait. A lent write takes a header pbuf and a data pbuf per segment
 * (and maybe one more), which must fit the queue: an ERR_MEM from tcp_write() then only
 * means the shared pbuf pool is short. */
static size_t writable(struct tcp_conn *c, size_t len, bool lend, size_t need)
{
	size_t room = tcp_sndbuf(c->pcb);
	if (room < need || room == 0)
		return 0;
	size_t n = len < room ? len : room;
	if (n > 0xffff)
		n = 0xffff; /* tcp_write() takes a u16_t */
	size_t queued = tcp_sndqueuelen(c->pcb) + QUEUE_RESERVE;
	size_t entries = queued < TCP_SND_QUEUELEN ? TCP_SND_QUEUELEN - queued : 0;
	size_t per_segment = lend ? 2 : 1;
	size_t segments = entries / per_segment > 1 ? entries / per_segment - 1 : 0;
	if (n > segments * c->pcb->mss)
		n = segments * c->pcb->mss;
	/* While more follows, end on a segment boundary: lwIP fills its last unsent segment
	 * first, then whole ones, so no short segment leaves ahead of the rest. */
	if (c->pcb->unsent == NULL)
		c->unsent_tail = 0;
	size_t fill = (c->unsent_tail + n) % c->pcb->mss;
	if (n < len && n > fill)
		n -= fill;
	return n;
}

/* Writes one piece: lent by reference, else copied. A lent write that lwIP cannot take
 * by reference (its pbuf pool is shared and may run short) is copied instead. copy_flags:
 * TCP_WRITE_FLAG_MORE lets lwIP give a copied segment room for the next small pieces
 * (one pbuf per segment, not one per PDU); a PDU that lends leaves it out, or lwIP would
 * copy the first bytes of the lent data into that room. */
static err_t write_piece_part(struct tcp_conn *c, const u8_t *p, size_t n, bool lend,
			      u8_t copy_flags)
{
	if (lend) {
		/* lwIP fills the spare room of a copied segment before it references. */
		size_t copied = c->pcb->unsent_oversize < n ? c->pcb->unsent_oversize : n;
		if (tcp_write(c->pcb, p, (u16_t)n, 0) == ERR_OK) {
			target.server.data.tx_copied_bytes += copied;
			target.server.data.tx_lent_bytes += n - copied;
			c->lent_end = c->written + n;
			return ERR_OK;
		}
	}
	err_t e = tcp_write(c->pcb, p, (u16_t)n, TCP_WRITE_FLAG_COPY | copy_flags);
	if (e == ERR_OK)
		target.server.data.tx_copied_bytes += n;
	return e;
}

/* Writes one piece; rest: the bytes of the PDU from this piece on. */
static int write_piece(struct tcp_conn *c, const u8_t *p, size_t len, size_t rest, bool lend,
		       u8_t copy_flags)
{
	while (len) {
		if (!c->pcb)
			return -ECONNRESET;
		size_t n = writable(c, len, lend, rest < SEND_LOW_WATER ? rest : SEND_LOW_WATER);
		err_t e = n ? write_piece_part(c, p, n, lend, copy_flags) : ERR_MEM;
		if (e == ERR_OK) {
			c->unsent_tail = (u16_t)((c->unsent_tail + n) % c->pcb->mss);
			c->written += n;
			p += n;
			len -= n;
			rest -= n;
			continue;
		}
		if (e != ERR_MEM)
			return -EIO;
		tcp_output(c->pcb); /* what is queued leaves now: the buffer is full */
		/* The sending task holds a reference of the iscsi_conn: c outlives the wait. */
		waitq_sleep(&c->senders);
	}
	return 0;
}

static bool lendable(const struct iscsi_iov *iov, unsigned flags)
{
	return (flags & ISCSI_SEND_LEND) && iov->len >= ISCSI_LEND_MIN;
}

static int tcp_conn_sendv(void *ctx, const struct iscsi_iov *iov, unsigned n, unsigned flags,
			  uint64_t *lent_mark)
{
	struct tcp_conn *c = ctx;
	bool lends = false;
	size_t rest = 0;
	for (unsigned i = 0; i < n; i++) {
		lends |= lendable(&iov[i], flags);
		rest += iov[i].len;
	}
	u8_t copy_flags = lends ? 0 : TCP_WRITE_FLAG_MORE;
	int rc = 0;
	for (unsigned i = 0; i < n && rc == 0; i++) {
		rc = write_piece(c, iov[i].base, iov[i].len, rest, lendable(&iov[i], flags),
				 copy_flags);
		rest -= iov[i].len;
	}
	/* Also when the connection died mid-PDU: what was lent must still come back. */
	if (lent_mark)
		*lent_mark = c->lent_end;
	if (c->pcb)
		queue_flush(c);
	return rc;
}

/* How often tasks waiting for the driver look again: the device reads a packet within
 * microseconds; the NIC's poller takes it back in the loop. */
#define NIC_POLL_MS 1

static void wake_nic_waiters(void *arg)
{
	(void)arg;
	target.nic_poll_scheduled = false;
	waitq_wake_all(&target.nic_waiters);
}

/* lwIP has let go of the lent bytes (freed their segments) and hands out no packet with
 * them any more; the driver may still hold some it took before (a segment sent again
 * and acknowledged meanwhile, or queued when the connection was reset). They come back
 * as the device reads them (the device's pace, not the peer's); the waiting tasks look
 * again from one shared timeout. */
static void wait_link_released(void)
{
	if (!nic.released)
		return;
	uint64_t mark = nic.handed(nic.ctx);
	while (!nic.released(nic.ctx, mark)) {
		if (!target.nic_poll_scheduled) {
			target.nic_poll_scheduled = true;
			sys_timeout(NIC_POLL_MS, wake_nic_waiters, NULL);
		}
		waitq_sleep(&target.nic_waiters);
	}
}

/* Returns once the peer acknowledged every byte up to mark or the pcb is gone (reset
 * or aborted: lwIP freed its segments with it), and the driver gave back the packets
 * that carried them. */
static void tcp_conn_wait_returned(void *ctx, uint64_t mark)
{
	struct tcp_conn *c = ctx;
	while (c->pcb && c->acked < mark)
		waitq_sleep(&c->senders);
	wait_link_released();
}

/* The target ends the connection. When it does so from inside iscsi_conn_input(), offer()
 * still uses c afterwards, so it is offer() that tells the target. */
static void end_conn(struct tcp_conn *c, bool abort)
{
	detach_pcb(c, abort);
	if (c->offering)
		c->closed_while_offering = true;
	else
		tell_target_gone(c);
}

static void tcp_conn_close(void *ctx) { end_conn(ctx, false); }

/* Evicted or out of time: a reset frees the pcb now, where a close could leave it in
 * FIN_WAIT for as long as the peer likes. */
static void tcp_conn_abort(void *ctx) { end_conn(ctx, true); }

static void tcp_conn_resume(void *ctx)
{
	struct tcp_conn *c = ctx;
	if (c->resume_queued || (!c->pending && c->spill.pos == c->spill.len))
		return;
	c->resume_queued = true;
	c->resume_next = target.resume_head;
	target.resume_head = c;
	if (!target.reoffer_scheduled) {
		target.reoffer_scheduled = true;
		sys_timeout(0, reoffer_all, NULL);
	}
}

static const struct iscsi_transport_ops tcp_transport = {
	.sendv = tcp_conn_sendv,
	.wait_returned = tcp_conn_wait_returned,
	.close = tcp_conn_close,
	.resume = tcp_conn_resume,
	.release = tcp_conn_free,
	.abort = tcp_conn_abort,
};

/* ---- lwIP callbacks ---------------------------------------------------------------- */

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct tcp_conn *c = arg;
	(void)pcb;
	if (p && err == ERR_OK) {
		if (hold(c, p) != ERR_OK)
			return ERR_MEM;
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
	c->acked += len;
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
	struct iscsi_source source = { .len = 4 };
	u32_t addr = ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip)); /* network order */
	memcpy(source.addr, &addr, sizeof(addr));
	source.port = pcb->remote_port;
	c->conn = iscsi_conn_open_from(&target.server, &tcp_transport, c, &source);
	if (!c->conn) {
		detach_pcb(c, true);
		free(c);
		return ERR_ABRT;
	}
	return ERR_OK;
}

/* The heap's high-water mark on the console whenever it grew by MEMORY_REPORT_STEP since
 * it was last printed: how close the appliance came to running out, without flooding. */
static void report_memory(void)
{
	uint64_t in_use, high_water, size;
	heap_usage(&in_use, &high_water, &size);
	if (high_water < target.high_water_printed + MEMORY_REPORT_STEP)
		return;
	target.high_water_printed = high_water;
	printf("qedbox: memory high-water: %llu KiB of %llu KiB heap\n",
	       (unsigned long long)(high_water / 1024), (unsigned long long)(size / 1024));
}

static void tick(void *arg)
{
	(void)arg;
	iscsi_server_tick(&target.server);
	report_memory();
	event_log_flush(); /* "N events suppressed", once the rate limit let up */
	sys_timeout(ISCSI_TICK_MS, tick, NULL);
}

/* The slots this binding can hold: the defaults, or fewer when configured so; never more
 * than lwIP's pcb pool was sized for. */
static void settle_limits(struct iscsi_config *config)
{
	if (!config->max_connections || config->max_connections > ISCSI_DEFAULT_MAX_CONNECTIONS)
		config->max_connections = ISCSI_DEFAULT_MAX_CONNECTIONS;
	if (!config->max_connections_per_source)
		config->max_connections_per_source = ISCSI_DEFAULT_MAX_CONNECTIONS_PER_SOURCE;
	if (!config->login_timeout_ms)
		config->login_timeout_ms = ISCSI_DEFAULT_LOGIN_TIMEOUT_MS;
}

static void print_limits(const struct iscsi_config *config)
{
	printf("iscsi: limits: %u connections, %u per address; login within %u s and %u PDUs; "
	       "%u receive pbufs per connection\n", config->max_connections,
	       config->max_connections_per_source, (unsigned)(config->login_timeout_ms / 1000),
	       ISCSI_LOGIN_PDU_MAX, ISCSI_LWIP_HELD_PBUFS_MAX);
	printf("iscsi: limits: %u commands and %llu MiB of buffers per session, %llu MiB shared "
	       "and %llu MiB more guaranteed to each connection, %u tasks in all\n",
	       iscsi_session_cmd_window(config),
	       (unsigned long long)(iscsi_session_buffer_limit(config) >> 20),
	       (unsigned long long)(target.server.budget.limit >> 20),
	       (unsigned long long)(ISCSI_SESSION_GUARANTEED_BYTES >> 20),
	       iscsi_server_max_tasks(config));
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
	target.resume_head = NULL;
	target.reoffer_scheduled = false;
	target.flush_head = NULL;
	target.flush_scheduled = false;
	target.nic_waiters = (struct waitq)WAITQ_INIT;
	target.nic_poll_scheduled = false;
	target.high_water_printed = 0;
	target.stats = (struct iscsi_lwip_stats){ 0 };
	settle_limits(config);
	iscsi_server_init(&target.server, config);
	target.server.clock_ns = clock_ns;
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
	target.listener = tcp_listen_with_backlog(pcb, LISTEN_BACKLOG);
	if (!target.listener) {
		tcp_close(pcb);
		printf("iscsi: out of memory for the listener\n");
		return -ENOMEM;
	}
	tcp_accept(target.listener, on_accept);
	sys_timeout(ISCSI_TICK_MS, tick, NULL);
	printf("iscsi: listening on port %u, %u target%s\n", port, config->n_targets,
	       config->n_targets == 1 ? "" : "s");
	print_limits(config);
	return 0;
}

const struct iscsi_server *iscsi_lwip_server(void)
{
	return target.config ? &target.server : NULL;
}

void iscsi_lwip_stats(struct iscsi_lwip_stats *out)
{
	*out = target.stats;
	out->data = target.server.data;
	out->buffer_bytes = target.server.budget.charged;
	out->reoffers_queued = 0;
	for (const struct tcp_conn *c = target.resume_head; c; c = c->resume_next)
		out->reoffers_queued++;
}
