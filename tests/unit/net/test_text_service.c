/*
 * Host tests of net/text_service.c on the firmware's lwIP configuration (loopback): a
 * client receives the whole text (several send buffers of it) and then the close; what a
 * client sends is dropped; a second connection while one is served is reset; a client
 * that stops reading is reset at the deadline and the next one is served; a produce that
 * fails resets the connection.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lwip/tcp.h"
#include "lwip_host.h"
#include "text_service.h"

#define PORT	   3270
#define BIG_TEXT   (1u << 20) /* four of lwIP's 256 KiB send buffers */
#define RECV_LIMIT (2u << 20)

struct client {
	struct tcp_pcb *pcb;
	char *got;
	size_t len;
	bool connected, closed, reset, stop_reading;
};

static struct {
	size_t text_len;
	unsigned produced;
	bool fail;
} service;

static char text_byte(size_t i)
{
	return (char)('a' + (i * 7 + i / 1000) % 26);
}

static char *produce(void *ctx, size_t *len)
{
	(void)ctx;
	if (service.fail)
		return NULL;
	char *t = malloc(service.text_len + 1);
	for (size_t i = 0; i < service.text_len; i++)
		t[i] = text_byte(i);
	service.produced++;
	*len = service.text_len;
	return t;
}

static void client_detach(struct client *c)
{
	tcp_arg(c->pcb, NULL);
	tcp_recv(c->pcb, NULL);
	tcp_err(c->pcb, NULL);
}

static err_t client_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct client *c = arg;
	(void)err;
	if (p == NULL) {
		c->closed = true;
		client_detach(c);
		tcp_close(pcb);
		return ERR_OK;
	}
	if (c->stop_reading)
		return ERR_MEM; /* lwIP keeps it and offers it again: the window stays shut */
	if (c->len + p->tot_len <= RECV_LIMIT)
		pbuf_copy_partial(p, c->got + c->len, p->tot_len, 0);
	c->len += p->tot_len;
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static err_t client_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct client *c = arg;
	(void)pcb;
	c->connected = err == ERR_OK;
	return ERR_OK;
}

static void client_error(void *arg, err_t err)
{
	struct client *c = arg;
	(void)err;
	if (c)
		c->reset = true;
}

static void client_start(struct client *c)
{
	memset(c, 0, sizeof(*c));
	c->got = malloc(RECV_LIMIT);
	CHECK_EQ(ERR_OK, lwip_host_connect(&c->pcb, PORT, c, client_recv, NULL, client_error,
					   client_connected));
}

static void client_free(struct client *c)
{
	if (!c->closed && !c->reset) {
		client_detach(c);
		tcp_abort(c->pcb);
	}
	free(c->got);
}

static bool ended(void *ctx)
{
	struct client *c = ctx;
	return c->closed || c->reset;
}

static bool connected(void *ctx)
{
	struct client *c = ctx;
	return c->connected || c->reset;
}

static void check_text(const struct client *c, size_t len)
{
	CHECK(c->connected);
	CHECK(c->closed);
	CHECK(!c->reset);
	CHECK_EQ(len, c->len);
	size_t i = 0;
	while (i < len && i < c->len && c->got[i] == text_byte(i))
		i++;
	CHECK_EQ(len, i);
}

static void test_whole_text_then_close(void)
{
	service.text_len = BIG_TEXT;
	struct client c;
	client_start(&c);
	CHECK(lwip_host_run_until(ended, &c, 20000));
	check_text(&c, BIG_TEXT);
	client_free(&c);
}

static void test_each_connection_gets_a_new_text(void)
{
	service.text_len = 100;
	unsigned before = service.produced;
	for (int i = 0; i < 3; i++) {
		struct client c;
		client_start(&c);
		CHECK(lwip_host_run_until(ended, &c, 5000));
		check_text(&c, 100);
		client_free(&c);
	}
	CHECK_EQ(before + 3, service.produced);
}

static void test_what_a_client_sends_is_dropped(void)
{
	service.text_len = BIG_TEXT / 2;
	struct client c;
	client_start(&c);
	static char junk[32 * 1024];
	memset(junk, 'x', sizeof(junk));
	CHECK(lwip_host_run_until(connected, &c, 1000));
	for (int i = 0; i < 4 && !c.closed; i++)
		if (tcp_write(c.pcb, junk, sizeof(junk), TCP_WRITE_FLAG_COPY) == ERR_OK)
			tcp_output(c.pcb);
	CHECK(lwip_host_run_until(ended, &c, 20000));
	check_text(&c, BIG_TEXT / 2);
	client_free(&c);
}

static void test_one_connection_at_a_time(void)
{
	service.text_len = BIG_TEXT;
	struct client c[2];
	client_start(&c[0]);
	c[0].stop_reading = true; /* holds its slot */
	CHECK(!lwip_host_run_until(ended, &c[0], 1000));
	client_start(&c[1]);
	CHECK(lwip_host_run_until(ended, &c[1], 1000));
	CHECK(c[1].reset);
	CHECK_EQ(0, c[1].len);
	/* The reader that stalls is reset at the deadline, and the slot is free again. */
	CHECK(lwip_host_run_until(ended, &c[0], (TEXT_SERVICE_DEADLINE_S + 3) * 1000));
	CHECK(c[0].reset);
	CHECK(lwip_host_now() >= (TEXT_SERVICE_DEADLINE_S - 1) * 1000);
	client_free(&c[0]);
	client_free(&c[1]);
	struct client d;
	service.text_len = 1000;
	client_start(&d);
	CHECK(lwip_host_run_until(ended, &d, 5000));
	check_text(&d, 1000);
	client_free(&d);
}

static void test_failed_produce_resets(void)
{
	service.fail = true;
	struct client c;
	client_start(&c);
	CHECK(lwip_host_run_until(ended, &c, 5000));
	CHECK(c.reset);
	client_free(&c);
	service.fail = false;
	service.text_len = 10;
	client_start(&c);
	CHECK(lwip_host_run_until(ended, &c, 5000));
	check_text(&c, 10);
	client_free(&c);
}

int main(void)
{
	lwip_host_init();
	CHECK_EQ(0, text_service_start(PORT, produce, NULL));
	CHECK_EQ(-EADDRINUSE, text_service_start(PORT, produce, NULL));
	RUN(test_whole_text_then_close);
	RUN(test_each_connection_gets_a_new_text);
	RUN(test_what_a_client_sends_is_dropped);
	RUN(test_one_connection_at_a_time);
	RUN(test_failed_produce_resets);
	return check_report("test_text_service");
}
