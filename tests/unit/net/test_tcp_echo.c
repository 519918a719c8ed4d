/*
 * Host tests of net/tcp_echo.c on the firmware's lwIP configuration (loopback): data of
 * several windows comes back byte for byte, concurrent connections stay apart, and a
 * peer that closes gets its data echoed before the echo side closes too.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lwip/tcp.h"
#include "lwip_host.h"
#include "tcp_echo.h"

#define ECHO_PORT 7

struct client {
	struct tcp_pcb *pcb;
	uint8_t *data;	 /* what is sent */
	uint8_t *echoed; /* what came back */
	size_t len, sent, received;
	bool connected, closed, failed, mismatch, close_after_send;
};

static uint8_t pattern_byte(size_t i, unsigned seed)
{
	return (uint8_t)((i * 2654435761u) >> 13 ^ seed);
}

static void client_push(struct client *c)
{
	while (c->sent < c->len && tcp_sndbuf(c->pcb) > 0) {
		size_t chunk = c->len - c->sent;
		if (chunk > tcp_sndbuf(c->pcb))
			chunk = tcp_sndbuf(c->pcb);
		if (tcp_write(c->pcb, c->data + c->sent, (u16_t)chunk, TCP_WRITE_FLAG_COPY) !=
		    ERR_OK)
			break;
		c->sent += chunk;
	}
	tcp_output(c->pcb);
	if (c->sent == c->len && c->close_after_send && !c->closed) {
		tcp_shutdown(c->pcb, 0, 1);
		c->close_after_send = false;
	}
}

/* Closes the client's side; the pcb lives on in lwIP (FIN_WAIT, TIME_WAIT) after the
 * test returns and its struct client is gone, so it must no longer point at it. */
static void client_close(struct client *c)
{
	tcp_arg(c->pcb, NULL);
	tcp_recv(c->pcb, NULL);
	tcp_sent(c->pcb, NULL);
	tcp_err(c->pcb, NULL);
	tcp_close(c->pcb);
}

static err_t client_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct client *c = arg;
	(void)err;
	if (p == NULL) {
		c->closed = true;
		client_close(c);
		return ERR_OK;
	}
	if (c->received + p->tot_len > c->len) {
		c->mismatch = true;
	} else {
		pbuf_copy_partial(p, c->echoed + c->received, p->tot_len, 0);
		c->received += p->tot_len;
	}
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
	if (c)
		c->failed = true;
}

static void client_start(struct client *c, size_t len, unsigned seed)
{
	memset(c, 0, sizeof *c);
	c->len = len;
	c->data = malloc(len);
	c->echoed = calloc(1, len);
	for (size_t i = 0; i < len; i++)
		c->data[i] = pattern_byte(i, seed);
	CHECK_EQ(ERR_OK, lwip_host_connect(&c->pcb, ECHO_PORT, c, client_recv, client_sent,
					   client_error, client_connected));
}

static void client_free(struct client *c)
{
	free(c->data);
	free(c->echoed);
}

static bool all_received(void *ctx)
{
	struct client *cs = ctx;
	for (struct client *c = cs; c->len; c++)
		if (c->failed || c->received < c->len)
			return c->failed;
	return true;
}

static bool closed(void *ctx)
{
	struct client *c = ctx;
	return c->closed || c->failed;
}

static void check_echo(const struct client *c)
{
	CHECK(c->connected);
	CHECK(!c->failed);
	CHECK(!c->mismatch);
	CHECK_EQ(c->len, c->received);
	CHECK_MEM_EQ(c->data, c->echoed, c->len);
}

static void test_megabytes_come_back_intact(void)
{
	struct client c[2] = {{0}};
	client_start(&c[0], 4 << 20, 1); /* 16 windows */
	CHECK(lwip_host_run_until(all_received, c, 600000));
	check_echo(&c[0]);
	client_close(&c[0]);
	client_free(&c[0]);
}

static void test_concurrent_connections_stay_apart(void)
{
	struct client c[4] = {{0}};
	for (unsigned i = 0; i < 3; i++)
		client_start(&c[i], (512 << 10) + i * 1000, 10 + i);
	CHECK(lwip_host_run_until(all_received, c, 600000));
	for (unsigned i = 0; i < 3; i++) {
		check_echo(&c[i]);
		client_close(&c[i]);
		client_free(&c[i]);
	}
}

static void test_peer_close_is_echoed_then_closed(void)
{
	struct client c;
	client_start(&c, 100000, 99);
	c.close_after_send = true;
	CHECK(lwip_host_run_until(closed, &c, 600000));
	check_echo(&c);
	CHECK(c.closed);
	client_free(&c);
}

int main(void)
{
	lwip_host_init();
	CHECK_EQ(0, tcp_echo_start(ECHO_PORT));
	RUN(test_megabytes_come_back_intact);
	RUN(test_concurrent_connections_stay_apart);
	RUN(test_peer_close_is_echoed_then_closed);
	return check_report("test_tcp_echo");
}
