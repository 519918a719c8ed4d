/*
 * Host tests of the lwIP binding (net/iscsi_lwip.c) on the firmware's lwIP configuration
 * over loopback: a scripted initiator logs in, writes and reads back 1 MiB (several TCP
 * windows and send buffers: both directions of backpressure), logs out, and a connection
 * reset mid-transfer leaves nothing behind. Admission and bounds: a source at its cap
 * resets its oldest login for a newcomer, a flood of 1-byte segments holds few pbufs,
 * and many stalled connections share one re-offer timeout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "iscsi_priv.h"
#include "iscsi_lwip.h"
#include "lwip/prot/ip.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ppp/ppp_opts.h" /* PPP_NUM_TIMEOUTS, in MEMP_NUM_SYS_TIMEOUT */
#include "lwip_host.h"
#include "platform.h"
#include "scsi_test_support.h"

#define PORT 3260
#define XFER (1024 * 1024)

struct client {
	struct tcp_pcb *pcb;
	uint8_t *out;
	size_t out_len, out_cap, sent;
	uint8_t *in;
	size_t in_len, in_cap, parsed;
	struct iscsi_rx rx;
	bool connected, closed, failed;
	bool stalled;             /* takes what arrives but opens no window: a slow reader */
	size_t unrecved;          /* bytes taken while stalled, not yet given back */
	size_t tiny_from;         /* bytes from here on go out one per segment */
	bool tiny;
	uint8_t isid_tail;        /* distinct initiator ports: no reinstatement */
};

static struct client cl;
static struct iscsi_config cfg;
static struct {
	bool on;
	unsigned segments, lone_headers;
	uint64_t payload;
} wire; /* see count_wire() */
static uint32_t cmdsn;

/* net/net_init.c is firmware-only; the portal is configured, so this is never called. */
int net_on_bound(void (*fn)(void *ctx, uint32_t addr), void *ctx)
{
	(void)fn;
	(void)ctx;
	return 0;
}
/* boot/syscalls.c is firmware-only: a heap whose high-water mark the tests set. */
static uint64_t fake_high_water;
void heap_usage(uint64_t *in_use, uint64_t *high_water, uint64_t *size)
{
	*in_use = fake_high_water / 2;
	*high_water = fake_high_water;
	*size = 64ull << 20;
}

/* boot/clock.c is firmware-only too: the binding stamps logins with it. */
uint64_t clock_ns(void)
{
	return 0;
}

static struct iscsi_target_config target;
static struct scsi_fixture sf;

/* One byte in a segment of its own, once the previous one left (else lwIP would merge
 * them): a peer flooding tiny segments. */
static bool push_one_byte(struct client *c)
{
	if (c->pcb->unsent || tcp_sndqueuelen(c->pcb) + 1 >= TCP_SND_QUEUELEN ||
	    tcp_write(c->pcb, c->out + c->sent, 1, TCP_WRITE_FLAG_COPY) != ERR_OK)
		return false;
	c->sent++;
	tcp_output(c->pcb);
	return true;
}

static bool push_bulk(struct client *c)
{
	size_t n = c->out_len - c->sent;
	if (n > tcp_sndbuf(c->pcb))
		n = tcp_sndbuf(c->pcb);
	if (n > 0xffff)
		n = 0xffff;
	if (c->tiny && n > c->tiny_from - c->sent)
		n = c->tiny_from - c->sent;
	if (!n || tcp_write(c->pcb, c->out + c->sent, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK)
		return false;
	c->sent += n;
	return true;
}

static void client_push(struct client *c)
{
	while (c->pcb && c->sent < c->out_len) {
		bool tiny = c->tiny && c->sent >= c->tiny_from;
		if (!(tiny ? push_one_byte(c) : push_bulk(c)))
			break;
	}
	if (c->pcb)
		tcp_output(c->pcb);
}

static void queue_bytes(struct client *c, const void *p, size_t n)
{
	if (c->out_len + n > c->out_cap) {
		c->out_cap = (c->out_len + n) * 2;
		c->out = realloc(c->out, c->out_cap);
	}
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
	client_push(c);
}

static void queue_pdu(struct client *c, uint8_t *bhs, const void *data, uint32_t len)
{
	static const uint8_t zeros[4];
	put_be24(bhs + ISCSI_BHS_DATA_SEGMENT_LENGTH, len);
	queue_bytes(c, bhs, ISCSI_BHS_LEN);
	if (len) {
		queue_bytes(c, data, len);
		queue_bytes(c, zeros, iscsi_pad4(len) - len);
	}
}

static err_t client_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct client *c = arg;
	(void)err;
	if (!p) {
		c->closed = true;
		tcp_arg(pcb, NULL);
		tcp_recv(pcb, NULL);
		tcp_close(pcb);
		c->pcb = NULL;
		return ERR_OK;
	}
	if (c->in_len + p->tot_len > c->in_cap) {
		c->in_cap = (c->in_len + p->tot_len) * 2;
		c->in = realloc(c->in, c->in_cap);
	}
	pbuf_copy_partial(p, c->in + c->in_len, p->tot_len, 0);
	c->in_len += p->tot_len;
	if (wire.on && c == &cl) {
		wire.segments++;
		wire.payload += p->tot_len;
		wire.lone_headers += p->tot_len == ISCSI_BHS_LEN;
	}
	if (c->stalled)
		c->unrecved += p->tot_len;
	else
		tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static err_t client_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)pcb;
	(void)len;
	client_push(arg);
	return ERR_OK;
}

static err_t client_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct client *c = arg;
	(void)pcb;
	c->connected = err == ERR_OK;
	client_push(c);
	return ERR_OK;
}

static void client_error(void *arg, err_t err)
{
	struct client *c = arg;
	(void)err;
	if (c) {
		c->failed = true;
		c->pcb = NULL;
	}
}

static void client_connect(struct client *c)
{
	iscsi_rx_free(&c->rx);
	free(c->out);
	free(c->in);
	memset(c, 0, sizeof(*c));
	iscsi_rx_init(&c->rx, 1u << 24);
	CHECK_EQ(ERR_OK, lwip_host_connect(&c->pcb, PORT, c, client_recv, client_sent,
					   client_error, client_connected));
}

/* The next PDU the target sent, once it is complete; NULL otherwise. */
static struct iscsi_pdu *client_pdu(struct client *c)
{
	struct iscsi_pdu *pdu = NULL;
	size_t used;
	while (c->parsed < c->in_len) {
		int rc = iscsi_rx_feed(&c->rx, c->in + c->parsed, c->in_len - c->parsed, &used, &pdu);
		c->parsed += used;
		if (rc != 0)
			return rc == 1 ? pdu : NULL;
	}
	return NULL;
}

struct wait_pdu {
	struct client *c;
	struct iscsi_pdu *pdu;
	uint8_t opcode;
};

/* Runs tasks too: the loop's job in the firmware. */
static bool got_pdu(void *ctx)
{
	struct wait_pdu *w = ctx;
	while (task_run_ready())
		;
	while (!w->pdu) {
		struct iscsi_pdu *p = client_pdu(w->c);
		if (!p)
			return w->c->failed || w->c->closed;
		if (pdu_opcode(p) == w->opcode)
			w->pdu = p;
		else
			iscsi_pdu_free(p);
	}
	return true;
}

static struct iscsi_pdu *wait_on(struct client *c, uint8_t opcode)
{
	struct wait_pdu w = { c, NULL, opcode };
	lwip_host_run_until(got_pdu, &w, 20000);
	return w.pdu;
}

static struct iscsi_pdu *wait_for(uint8_t opcode) { return wait_on(&cl, opcode); }

static bool tasks_idle_and(void *ctx)
{
	bool (*cond)(void) = (bool (*)(void))ctx;
	while (task_run_ready())
		;
	return cond();
}

/* Every connection's worker task has ended: the connections are gone. */
static bool no_connections(void) { return task_count() == 0; }
static bool never(void *ctx)
{
	(void)ctx;
	return false;
}
static bool client_closed(void) { return cl.closed || cl.failed; }

/* Logs c in with the keys plus extra; then, unless the keys changed the framing
 * (digests), clears the unit attention. */
static void login_on(struct client *c, const char *extra, size_t extra_len, bool clear_ua)
{
	char text[512];
	uint8_t bhs[ISCSI_BHS_LEN] = { ISCSI_OP_LOGIN_REQ | ISCSI_IMMEDIATE,
				       ISCSI_FLAG_LOGIN_TRANSIT | (1 << ISCSI_FLAG_LOGIN_CSG_SHIFT) | 3 };
	static const char keys[] = "InitiatorName=iqn.test:lwip\0TargetName=iqn.test:disk\0"
				   "ImmediateData=Yes\0InitialR2T=No\0MaxBurstLength=1048576\0"
				   "FirstBurstLength=1048576\0MaxRecvDataSegmentLength=262144\0";
	memcpy(text, keys, sizeof(keys));
	memcpy(text + sizeof(keys) - 1, extra, extra_len);
	bhs[ISCSI_BHS_ISID] = 0x80;
	bhs[ISCSI_BHS_ISID + ISCSI_ISID_LEN - 1] = c->isid_tail;
	cmdsn = 1;
	put_be32(bhs + ISCSI_BHS_CMDSN, cmdsn);
	queue_pdu(c, bhs, text, (uint32_t)(sizeof(keys) - 1 + extra_len));
	struct iscsi_pdu *r = wait_on(c, ISCSI_OP_LOGIN_RSP);
	CHECK(r != NULL);
	if (r) {
		CHECK_EQ(0, r->bhs[ISCSI_BHS_STATUS_CLASS]);
		CHECK(r->bhs[ISCSI_BHS_FLAGS] & ISCSI_FLAG_LOGIN_TRANSIT);
	}
	iscsi_pdu_free(r);
	if (!clear_ua)
		return;
	/* The unit attention every new nexus reports once (POWER ON) goes to a TUR. */
	uint8_t tur[ISCSI_BHS_LEN] = { ISCSI_OP_SCSI_CMD, ISCSI_FLAG_FINAL };
	put_be32(tur + ISCSI_BHS_INITIATOR_TASK_TAG, 9);
	put_be32(tur + ISCSI_BHS_CMDSN, cmdsn++);
	queue_pdu(c, tur, NULL, 0);
	r = wait_on(c, ISCSI_OP_SCSI_RSP);
	CHECK(r != NULL);
	iscsi_pdu_free(r);
}

static void login_with(const char *extra, size_t extra_len, bool clear_ua)
{
	login_on(&cl, extra, extra_len, clear_ua);
}

static void login(void) { login_with("", 0, true); }

static void write_1mib(const uint8_t *data)
{
	uint8_t bhs[ISCSI_BHS_LEN] = { ISCSI_OP_SCSI_CMD, ISCSI_FLAG_CMD_WRITE };
	put_be32(bhs + ISCSI_BHS_INITIATOR_TASK_TAG, 1);
	put_be32(bhs + ISCSI_BHS_EXPECTED_DATA_TRANSFER_LENGTH, XFER);
	put_be32(bhs + ISCSI_BHS_CMDSN, cmdsn++);
	cdb10(bhs + ISCSI_BHS_CDB, 0x2a, 0, 0, XFER / 512);
	queue_pdu(&cl, bhs, data, 262144); /* immediate */
	for (uint32_t off = 262144, sn = 0; off < XFER; off += 262144, sn++) {
		uint8_t d[ISCSI_BHS_LEN] = { ISCSI_OP_SCSI_DATA_OUT, off + 262144 == XFER ? ISCSI_FLAG_FINAL : 0 };
		put_be32(d + ISCSI_BHS_INITIATOR_TASK_TAG, 1);
		put_be32(d + ISCSI_BHS_TARGET_TRANSFER_TAG, ISCSI_RESERVED_TAG);
		put_be32(d + ISCSI_BHS_DATASN, sn);
		put_be32(d + ISCSI_BHS_BUFFER_OFFSET, off);
		queue_pdu(&cl, d, data + off, 262144);
	}
}

static void read_len(uint32_t len)
{
	uint8_t bhs[ISCSI_BHS_LEN] = { ISCSI_OP_SCSI_CMD, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_READ };
	put_be32(bhs + ISCSI_BHS_INITIATOR_TASK_TAG, 2);
	put_be32(bhs + ISCSI_BHS_EXPECTED_DATA_TRANSFER_LENGTH, len);
	put_be32(bhs + ISCSI_BHS_CMDSN, cmdsn++);
	cdb10(bhs + ISCSI_BHS_CDB, 0x28, 0, 0, (uint16_t)(len / 512));
	queue_pdu(&cl, bhs, NULL, 0);
}

static void read_cmd(void) { read_len(XFER); }

static void test_write_read_logout_over_tcp(void)
{
	uint8_t *data = malloc(XFER), *back = calloc(1, XFER);
	for (size_t i = 0; i < XFER; i++)
		data[i] = (uint8_t)(i * 31 + (i >> 12));
	client_connect(&cl);
	login();
	write_1mib(data);
	struct iscsi_pdu *r = wait_for(ISCSI_OP_SCSI_RSP);
	CHECK(r != NULL);
	if (r)
		CHECK_EQ(0, r->bhs[ISCSI_BHS_STATUS]);
	iscsi_pdu_free(r);
	CHECK_MEM_EQ(data, sf.rv.data, XFER);

	read_cmd();
	uint32_t got = 0;
	bool status = false;
	while (!status) {
		r = wait_for(ISCSI_OP_SCSI_DATA_IN);
		CHECK(r != NULL);
		if (!r)
			break;
		uint32_t off = pdu_be32(r, ISCSI_BHS_BUFFER_OFFSET);
		CHECK(r->data_len <= 262144);
		if (off + r->data_len <= XFER)
			memcpy(back + off, r->data, r->data_len);
		got += r->data_len;
		status = r->bhs[ISCSI_BHS_FLAGS] & ISCSI_FLAG_DATA_STATUS;
		iscsi_pdu_free(r);
	}
	CHECK_EQ(XFER, got);
	CHECK_MEM_EQ(data, back, XFER);

	uint8_t bhs[ISCSI_BHS_LEN] = { ISCSI_OP_LOGOUT_REQ | ISCSI_IMMEDIATE, ISCSI_FLAG_FINAL };
	put_be32(bhs + ISCSI_BHS_CMDSN, cmdsn);
	queue_pdu(&cl, bhs, NULL, 0);
	r = wait_for(ISCSI_OP_LOGOUT_RSP);
	CHECK(r != NULL);
	iscsi_pdu_free(r);
	CHECK(lwip_host_run_until(tasks_idle_and, (void *)client_closed, 5000));
	CHECK(cl.closed); /* the target closed after the response */
	CHECK(lwip_host_run_until(tasks_idle_and, (void *)no_connections, 5000));
	printf("# 1 MiB written and read back over lwIP loopback in %u simulated ms\n", lwip_host_now());
	free(data);
	free(back);
}

static void test_reset_mid_transfer_leaves_nothing(void)
{
	client_connect(&cl);
	login();
	read_cmd();
	struct iscsi_pdu *r = wait_for(ISCSI_OP_SCSI_DATA_IN); /* the transfer is under way */
	CHECK(r != NULL);
	iscsi_pdu_free(r);
	tcp_abort(cl.pcb);
	cl.pcb = NULL;
	CHECK(lwip_host_run_until(tasks_idle_and, (void *)no_connections, 20000));
}

static void test_framing_error_closes_inside_receive_callback(void)
{
	static const char digests[] = "HeaderDigest=CRC32C\0";
	client_connect(&cl);
	login_with(digests, sizeof(digests) - 1, false);
	uint8_t bad[ISCSI_BHS_LEN + 4] = { ISCSI_OP_NOP_OUT | ISCSI_IMMEDIATE, ISCSI_FLAG_FINAL };
	queue_bytes(&cl, bad, sizeof(bad)); /* a header digest of zeros: wrong */
	/* FIN or RST (lwIP resets when unread input remains): either way it ends. */
	CHECK(lwip_host_run_until(tasks_idle_and, (void *)client_closed, 5000));
	CHECK(lwip_host_run_until(tasks_idle_and, (void *)no_connections, 5000));
}

/* ---- the transmit path: Data-In by reference, headers with data, one flush a turn ---- */

static void drop_all(void);

/* The segments the target sends, counted as cl receives them (wire): in order over
 * loopback, lwIP hands each segment to the receive callback by itself. How many carry
 * data, and how many nothing but one 48-byte header (a header sent on its own). */
static void count_wire(bool on)
{
	wire.on = on;
	wire.segments = wire.lone_headers = 0;
	wire.payload = 0;
}

/* Reads until the status; returns the data bytes received. */
static uint32_t read_data_in(void)
{
	uint32_t got = 0;
	for (;;) {
		struct iscsi_pdu *r = wait_for(ISCSI_OP_SCSI_DATA_IN);
		CHECK(r != NULL);
		if (!r)
			return got;
		got += r->data_len;
		bool status = r->bhs[ISCSI_BHS_FLAGS] & ISCSI_FLAG_DATA_STATUS;
		iscsi_pdu_free(r);
		if (status)
			return got;
	}
}

static bool buffers_free(void)
{
	struct iscsi_lwip_stats st;
	iscsi_lwip_stats(&st);
	return st.buffer_bytes == 0;
}

/* A 1 MiB read in four 256 KiB Data-In PDUs: the payload goes out by reference (only
 * the headers are copied), each header shares a segment with data, and the segments are
 * (nearly) all full: about 1 MiB / MSS of them. */
static void test_read_sent_by_reference_in_full_segments(void)
{
	struct iscsi_lwip_stats before, after;
	client_connect(&cl);
	login();
	iscsi_lwip_stats(&before);
	count_wire(true);
	read_cmd();
	CHECK_EQ(XFER, read_data_in());
	CHECK(lwip_host_run_until(tasks_idle_and, (void *)buffers_free, 5000));
	iscsi_lwip_stats(&after);
	uint64_t pdus = after.data.tx_pdus - before.data.tx_pdus;
	uint64_t copied = after.data.tx_copied_bytes - before.data.tx_copied_bytes;
	CHECK_EQ(4, pdus);
	CHECK_EQ(XFER, after.data.tx_lent_bytes - before.data.tx_lent_bytes);
	CHECK_EQ(pdus * ISCSI_BHS_LEN, copied); /* the headers, nothing of the payload */
	CHECK_EQ(pdus, after.data.tx_sends - before.data.tx_sends); /* one send per PDU */
	CHECK_EQ(XFER + pdus * ISCSI_BHS_LEN, wire.payload);
	unsigned full = (unsigned)((wire.payload + TCP_MSS - 1) / TCP_MSS);
	CHECK_EQ(0, wire.lone_headers);
	CHECK(wire.segments >= full && wire.segments <= full + 2);
	printf("# 1 MiB read: %u segments (%u if all full), %llu bytes copied of %llu sent, "
	       "%llu sent by reference\n", wire.segments, full, (unsigned long long)copied,
	       (unsigned long long)wire.payload,
	       (unsigned long long)(after.data.tx_lent_bytes - before.data.tx_lent_bytes));
	count_wire(false);
	drop_all();
}

/* Batching delays nothing past the loop turn: a 4 KiB read arrives whole within three
 * turns of the simulated loop (one per simulated ms: the command in, the task's answer
 * flushed, the answer in), with no timer needed to push it out (no Nagle, no delayed
 * flush: lwIP's fast timer would take 250 turns). The firmware's loop flushes before it
 * polls the NIC, in the turn of the answer. */
static void test_small_read_not_delayed(void)
{
	struct iscsi_lwip_stats before, after;
	client_connect(&cl);
	login();
	iscsi_lwip_stats(&before);
	uint32_t t0 = lwip_host_now();
	read_len(4096);
	CHECK_EQ(4096, read_data_in());
	printf("# 4 KiB read answered within %u turns\n", lwip_host_now() - t0);
	CHECK(lwip_host_now() - t0 <= 3); /* simulated ms: loop turns, not a timer */
	iscsi_lwip_stats(&after);
	CHECK_EQ(4096, after.data.tx_lent_bytes - before.data.tx_lent_bytes);
	drop_all();
}

static bool client_holds_window(void *ctx)
{
	size_t *bytes = ctx;
	while (task_run_ready())
		;
	return cl.unrecved >= *bytes;
}

/* A reader that stops opening its window: the target queues what fits its send buffer
 * and the command keeps its buffer (charged) while lwIP still refers to it. */
static void stall_reader_mid_read(uint32_t len)
{
	client_connect(&cl);
	login();
	cl.stalled = true;
	read_len(len);
	size_t window = TCP_WND - 4 * TCP_MSS; /* nearly all it advertised */
	CHECK(lwip_host_run_until(client_holds_window, &window, 5000));
	lwip_host_run_until(never, NULL, 100);
	struct iscsi_lwip_stats st;
	iscsi_lwip_stats(&st);
	CHECK_EQ(len, st.buffer_bytes); /* pinned: bytes of it are queued, unacknowledged */
	CHECK_EQ(2, task_count());      /* the worker and the command's task */
}

/* The reader resets the connection while Data-In sent by reference is queued: the pcb
 * and its segments go, the command frees its buffer (ASan: nobody reads it after). */
static void test_reset_with_lent_data_frees_command(void)
{
	stall_reader_mid_read(XFER);
	tcp_abort(cl.pcb);
	cl.pcb = NULL;
	CHECK(lwip_host_run_until(tasks_idle_and, (void *)no_connections, 5000));
	CHECK(buffers_free());
}

/* The network driver's fence, faked: it holds packets while link_held. */
static bool link_held;
static uint64_t fake_handed(void *ctx)
{
	(void)ctx;
	return 1;
}
static bool fake_released(void *ctx, uint64_t mark)
{
	(void)ctx;
	(void)mark;
	return !link_held;
}

/* The same reset while the driver still holds packets it took: lwIP let go of the lent
 * bytes, but the device may not have read them yet. The command keeps its buffer until
 * the driver gives them back. */
static void test_reset_waits_for_the_driver(void)
{
	iscsi_lwip_set_link(&(struct iscsi_lwip_link){ fake_handed, fake_released, NULL });
	stall_reader_mid_read(XFER);
	link_held = true;
	tcp_abort(cl.pcb);
	cl.pcb = NULL;
	lwip_host_run_until(tasks_idle_and, (void *)buffers_free, 500);
	struct iscsi_lwip_stats st;
	iscsi_lwip_stats(&st);
	CHECK_EQ(XFER, st.buffer_bytes);
	CHECK_EQ(1, task_count()); /* the command's task, waiting for the driver */
	link_held = false;
	CHECK(lwip_host_run_until(tasks_idle_and, (void *)no_connections, 5000));
	CHECK(buffers_free());
	iscsi_lwip_set_link(&(struct iscsi_lwip_link){ NULL, NULL, NULL });
}

/* All the Data-In is queued (the command has nothing more to send) but not acknowledged:
 * the command waits for the acknowledgements before it frees the buffer, and completes
 * once the reader reads on. */
static void test_command_waits_for_acknowledgement(void)
{
	uint32_t len = TCP_WND + 64 * 1024; /* the window, then less than a send buffer */
	stall_reader_mid_read(len);
	cl.stalled = false;
	tcp_recved(cl.pcb, (u16_t)cl.unrecved);
	cl.unrecved = 0;
	CHECK_EQ(len, read_data_in());
	CHECK(lwip_host_run_until(tasks_idle_and, (void *)buffers_free, 5000));
	CHECK_EQ(1, task_count()); /* the worker */
	drop_all();
}

/* A reader that stays stalled and silent pins the command only while the connection
 * lives: the liveness ping goes unanswered, the target ends the connection (a reset, as
 * lent bytes are unacknowledged) and the buffer is freed. */
static void test_slow_reader_pins_only_while_connected(void)
{
	stall_reader_mid_read(XFER);
	lwip_host_run_until(never, NULL, ISCSI_TICK_MS - 200); /* still pinned a while on */
	struct iscsi_lwip_stats st;
	iscsi_lwip_stats(&st);
	CHECK_EQ(XFER, st.buffer_bytes);
	CHECK(lwip_host_run_until(tasks_idle_and, (void *)no_connections, 4 * ISCSI_TICK_MS));
	CHECK(buffers_free());
	/* Reset, not closed: a closing pcb would go on sending from the freed buffer once
	 * the reader reads on. It finds the connection gone instead. */
	size_t had = cl.in_len;
	if (cl.pcb) {
		tcp_recved(cl.pcb, (u16_t)cl.unrecved);
		tcp_output(cl.pcb);
	}
	lwip_host_run_until(never, NULL, 2000);
	CHECK_EQ(had, cl.in_len);
	CHECK(cl.failed);
	drop_all();
}

/* ---- admission and bounds ----------------------------------------------------------- */

/* More than lwIP has timeouts in all: a timeout per stalled connection cannot fit. */
#define EXTRA (MEMP_NUM_SYS_TIMEOUT + 1)
static struct client extra[EXTRA];

static bool all_connected(void *ctx)
{
	struct client *c = ctx;
	for (unsigned i = 0; i < EXTRA && c[i].pcb; i++)
		if (!c[i].connected)
			return false;
	while (task_run_ready())
		;
	return true;
}

static void drop_client(struct client *c)
{
	if (c->pcb) {
		tcp_arg(c->pcb, NULL);
		tcp_abort(c->pcb);
		c->pcb = NULL;
	}
	iscsi_rx_free(&c->rx);
	free(c->out);
	free(c->in);
	memset(c, 0, sizeof(*c));
}

static void drop_all(void)
{
	for (unsigned i = 0; i < EXTRA; i++)
		drop_client(&extra[i]);
	if (cl.pcb) {
		tcp_arg(cl.pcb, NULL);
		tcp_abort(cl.pcb);
		cl.pcb = NULL;
	}
	CHECK(lwip_host_run_until(tasks_idle_and, (void *)no_connections, 20000));
}

static bool newcomer_in_oldest_out(void *ctx)
{
	(void)ctx;
	while (task_run_ready())
		;
	return cl.connected && extra[0].failed;
}

/* Everything from 127.0.0.1: at the per-source cap, a newcomer resets the oldest
 * connection still logging in (a reset frees its pcb at once) and logs in itself. */
static void test_source_at_cap_resets_oldest_login(void)
{
	unsigned cap = 4;
	cfg.max_connections_per_source = cap;
	for (unsigned i = 0; i < cap; i++)
		client_connect(&extra[i]);
	CHECK(lwip_host_run_until(all_connected, extra, 1000));
	client_connect(&cl);
	CHECK(lwip_host_run_until(newcomer_in_oldest_out, NULL, 1000));
	for (unsigned i = 1; i < cap; i++)
		CHECK(!extra[i].failed && !extra[i].closed);
	login();
	cfg.max_connections_per_source = ISCSI_DEFAULT_MAX_CONNECTIONS_PER_SOURCE;
	drop_all();
}

static void queue_nop_outs(struct client *c, uint32_t first_itt, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t bhs[ISCSI_BHS_LEN] = { ISCSI_OP_NOP_OUT | ISCSI_IMMEDIATE, ISCSI_FLAG_FINAL };
		put_be32(bhs + ISCSI_BHS_INITIATOR_TASK_TAG, first_itt + i);
		put_be32(bhs + ISCSI_BHS_TARGET_TRANSFER_TAG, ISCSI_RESERVED_TAG);
		put_be32(bhs + ISCSI_BHS_CMDSN, cmdsn);
		queue_pdu(c, bhs, NULL, 0);
	}
}

/* The target received (acknowledged) all c sent. Runs no task: the workers stay busy. */
static bool all_acked(void *ctx)
{
	struct client *c = ctx;
	return c->sent == c->out_len && c->pcb && !c->pcb->unsent && !c->pcb->unacked;
}

/* The NOP-Ins answering itts first.. first+n-1, in order. */
static void expect_nop_ins(struct client *c, uint32_t first_itt, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct iscsi_pdu *r = wait_on(c, ISCSI_OP_NOP_IN);
		CHECK(r != NULL);
		if (!r)
			return;
		CHECK_EQ(first_itt + i, pdu_be32(r, ISCSI_BHS_INITIATOR_TASK_TAG));
		iscsi_pdu_free(r);
	}
}

/* The worker is busy (no task runs) and its input queue full; the peer goes on in 1-byte
 * segments. The binding holds at most ISCSI_LWIP_HELD_PBUFS_MAX of them and copies the
 * rest; every byte reaches the target in order once the worker runs again. */
static void test_tiny_segments_hold_few_pbufs(void)
{
	enum { QUEUED = 40, TINY = 8 }; /* the input queue takes 32 PDUs */
	struct iscsi_lwip_stats st;
	client_connect(&cl);
	login();
	queue_nop_outs(&cl, 100, QUEUED);
	cl.tiny = true;
	cl.tiny_from = cl.out_len;
	tcp_nagle_disable(cl.pcb);
	queue_nop_outs(&cl, 100 + QUEUED, TINY);
	CHECK(lwip_host_run_until(all_acked, &cl, 20000));
	iscsi_lwip_stats(&st);
	CHECK(st.held_pbufs_peak <= ISCSI_LWIP_HELD_PBUFS_MAX);
	CHECK_EQ(ISCSI_LWIP_HELD_PBUFS_MAX, st.held_pbufs);
	CHECK(st.spilled_bytes > 0);
	expect_nop_ins(&cl, 100, QUEUED + TINY);
	iscsi_lwip_stats(&st);
	CHECK_EQ(0, st.held_pbufs);
	CHECK_EQ(0, st.spilled_bytes);
	drop_all();
}

/* More connections stall and resume at once than lwIP has spare timeouts: they share
 * one (each used to take its own, and lwIP asserted "pool MEMP_SYS_TIMEOUT is empty"). */
static void test_many_stalled_connections_share_one_reoffer_timeout(void)
{
	enum { QUEUED = 36 };
	struct iscsi_lwip_stats st;
	for (unsigned i = 0; i < EXTRA; i++) {
		client_connect(&extra[i]);
		extra[i].isid_tail = (uint8_t)(i + 1);
		login_on(&extra[i], "", 0, false);
	}
	for (unsigned i = 0; i < EXTRA; i++) {
		queue_nop_outs(&extra[i], 1, QUEUED);
		CHECK(lwip_host_run_until(all_acked, &extra[i], 20000));
	}
	while (task_run_ready()) /* every worker drains its queue and resumes its input */
		;
	iscsi_lwip_stats(&st);
	CHECK_EQ(EXTRA, st.reoffers_queued);
	for (unsigned i = 0; i < EXTRA; i++)
		expect_nop_ins(&extra[i], 1, QUEUED);
	iscsi_lwip_stats(&st);
	CHECK_EQ(0, st.reoffers_queued);
	drop_all();
}

/* The heap's high-water mark is printed from the tick, once per MiB it grew. */
static void test_memory_high_water_printed_per_mib_grown(void)
{
	char line[256];
	unsigned printed = 0;
	FILE *out = tmpfile();
	fflush(stdout);
	int saved = dup(STDOUT_FILENO);
	dup2(fileno(out), STDOUT_FILENO);
	static const uint64_t marks_kib[] = { 3072, 3500, 4000, 4096, 4100, 9000 };
	for (unsigned i = 0; i < sizeof(marks_kib) / sizeof(marks_kib[0]); i++) {
		fake_high_water = marks_kib[i] * 1024;
		lwip_host_run_until(never, NULL, ISCSI_TICK_MS);
	}
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	rewind(out);
	const char *expected[] = { "qedbox: memory high-water: 3072 KiB of 65536 KiB heap\n",
				   "qedbox: memory high-water: 4096 KiB of 65536 KiB heap\n",
				   "qedbox: memory high-water: 9000 KiB of 65536 KiB heap\n" };
	while (fgets(line, sizeof(line), out))
		if (!strncmp(line, "qedbox: memory", 14) && printed < 3)
			CHECK_STR_EQ(expected[printed++], line);
	CHECK_EQ(3, printed);
	fclose(out);
}

int main(void)
{
	lwip_host_init();
	fixture_init(&sf, 2 * XFER / 512, 512, true);
	target = (struct iscsi_target_config){ .name = "iqn.test:disk", .lun = &sf.lun };
	cfg = (struct iscsi_config){ .targets = &target, .n_targets = 1, .portal = "127.0.0.1:3260",
				     .first_burst_length = XFER, .max_burst_length = XFER };
	CHECK_EQ(0, iscsi_lwip_start(&cfg, PORT));
	RUN(test_write_read_logout_over_tcp);
	RUN(test_reset_mid_transfer_leaves_nothing);
	RUN(test_framing_error_closes_inside_receive_callback);
	RUN(test_read_sent_by_reference_in_full_segments);
	RUN(test_small_read_not_delayed);
	RUN(test_reset_with_lent_data_frees_command);
	RUN(test_reset_waits_for_the_driver);
	RUN(test_command_waits_for_acknowledgement);
	RUN(test_slow_reader_pins_only_while_connected);
	RUN(test_source_at_cap_resets_oldest_login);
	RUN(test_tiny_segments_hold_few_pbufs);
	RUN(test_many_stalled_connections_share_one_reoffer_timeout);
	RUN(test_memory_high_water_printed_per_mib_grown);
	iscsi_rx_free(&cl.rx);
	free(cl.out);
	free(cl.in);
	fixture_fini(&sf);
	return check_report("test_iscsi_lwip");
}
