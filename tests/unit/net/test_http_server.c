/*
 * Host tests of net/http_server.c on the firmware's lwIP configuration (loopback): a
 * request answered by the handler in a task (the peer's address given, a big body sent
 * whole with flow control, HEAD without a body), bad requests answered from the loop,
 * a body over the cap turned into a 500, a handler that blocks while its client goes
 * away or the deadline passes, the connection cap with eviction of the oldest client
 * still sending its request, and the deadline of a client that never finishes.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "http_server.h"
#include "lwip/tcp.h"
#include "lwip_host.h"
#include "task.h"

#define PORT	   8080
#define RECV_LIMIT (1u << 20)
#define BIG_BODY   (300u * 1024) /* more than lwIP's 256 KiB send buffer */

struct client {
	struct tcp_pcb *pcb;
	char *got;
	size_t len;
	bool connected, closed, reset;
};

static struct {
	unsigned handled;
	uint32_t last_peer;
	struct completion *blocked[HTTP_SERVER_CONNS_MAX + 1]; /* handlers waiting on /block */
	unsigned n_blocked;
} handler;

static char body_byte(size_t i)
{
	return (char)('a' + (i * 7 + i / 1000) % 26);
}

static void handle(void *ctx, struct http_exchange *x)
{
	(void)ctx;
	handler.handled++;
	handler.last_peer = x->peer;
	if (strcmp(x->req->path, "/big") == 0) {
		for (size_t i = 0; i < BIG_BODY; i++) {
			char c = body_byte(i);
			strbuf_append(&x->body, &c, 1);
		}
	} else if (strcmp(x->req->path, "/huge") == 0) {
		for (size_t i = 0; i <= HTTP_RESPONSE_MAX / 1024; i++)
			strbuf_printf(&x->body, "%01024d", 0);
	} else if (strcmp(x->req->path, "/block") == 0) {
		struct completion done;
		completion_init(&done);
		handler.blocked[handler.n_blocked++] = &done;
		completion_wait(&done);
		strbuf_puts(&x->body, "unblocked\n");
	} else if (strcmp(x->req->path, "/missing") == 0) {
		x->status = 404;
		x->headers = "X-Test: yes\r\n";
		strbuf_puts(&x->body, "no such page\n");
	} else {
		x->content_type = "text/html; charset=utf-8";
		strbuf_printf(&x->body, "<p>%s %s</p>\n", x->req->path, x->req->body);
	}
}

static void release_blocked(void)
{
	for (unsigned i = 0; i < handler.n_blocked; i++)
		completion_done(handler.blocked[i], 0);
	handler.n_blocked = 0;
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
	if (c->len + p->tot_len <= RECV_LIMIT)
		pbuf_copy_partial(p, c->got + c->len, p->tot_len, 0);
	c->len += p->tot_len;
	c->got[c->len < RECV_LIMIT ? c->len : RECV_LIMIT - 1] = '\0';
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

/* The loop of the firmware in small: tasks, then lwIP's packets and timers. */
static bool pump(bool (*done)(void *), void *ctx, uint32_t max_ms)
{
	for (uint32_t ms = 0; ms < max_ms; ms++) {
		task_run_ready();
		if (lwip_host_run_until(done, ctx, 1))
			return true;
	}
	return false;
}

static bool connected(void *ctx)
{
	struct client *c = ctx;
	return c->connected || c->reset;
}

static bool ended(void *ctx)
{
	struct client *c = ctx;
	return c->closed || c->reset;
}

static void client_send(struct client *c, const char *s)
{
	CHECK(pump(connected, c, 1000));
	CHECK_EQ(ERR_OK, tcp_write(c->pcb, s, (u16_t)strlen(s), TCP_WRITE_FLAG_COPY));
	tcp_output(c->pcb);
}

static void client_start(struct client *c, const char *request)
{
	memset(c, 0, sizeof(*c));
	c->got = calloc(1, RECV_LIMIT);
	CHECK_EQ(ERR_OK, lwip_host_connect(&c->pcb, PORT, c, client_recv, NULL, client_error,
					   client_connected));
	if (request)
		client_send(c, request);
}

static void client_free(struct client *c)
{
	if (!c->closed && !c->reset) {
		client_detach(c);
		tcp_abort(c->pcb);
	}
	free(c->got);
}

/* One request, run to the end of its connection; the caller frees c. */
static void exchange(struct client *c, const char *request)
{
	client_start(c, request);
	CHECK(pump(ended, c, 5000));
	CHECK(c->closed);
}

static void test_get_answered_from_a_task(void)
{
	struct client c;
	unsigned before = handler.handled;
	exchange(&c, "GET /hello?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
	CHECK_EQ(before + 1, handler.handled);
	CHECK_EQ(0x7f000001, handler.last_peer);
	CHECK(strncmp(c.got, "HTTP/1.1 200 OK\r\n", 17) == 0);
	CHECK(strstr(c.got, "Content-Type: text/html; charset=utf-8\r\n") != NULL);
	CHECK(strstr(c.got, "Content-Length: 15\r\nConnection: close\r\n") != NULL);
	const char *body = strstr(c.got, "\r\n\r\n");
	CHECK(body && strcmp(body + 4, "<p>/hello </p>\n") == 0);
	client_free(&c);
}

static void test_post_body_reaches_the_handler(void)
{
	struct client c;
	exchange(&c, "POST /x HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody");
	const char *body = strstr(c.got, "\r\n\r\n");
	CHECK(body && strcmp(body + 4, "<p>/x body</p>\n") == 0);
	client_free(&c);
}

static void test_big_body_whole(void)
{
	struct client c;
	exchange(&c, "GET /big HTTP/1.1\r\n\r\n");
	const char *body = strstr(c.got, "\r\n\r\n");
	CHECK(body != NULL);
	if (body) {
		body += 4;
		CHECK_EQ(BIG_BODY, c.len - (size_t)(body - c.got));
		size_t i = 0;
		while (i < BIG_BODY && body[i] == body_byte(i))
			i++;
		CHECK_EQ(BIG_BODY, i);
	}
	client_free(&c);
}

static void test_head_has_no_body(void)
{
	struct client c;
	exchange(&c, "HEAD /big HTTP/1.1\r\n\r\n");
	CHECK(strstr(c.got, "Content-Length: 307200\r\n") != NULL);
	const char *end = strstr(c.got, "\r\n\r\n");
	CHECK(end && end[4] == '\0');
	client_free(&c);
}

static void test_status_and_headers_of_the_handler(void)
{
	struct client c;
	exchange(&c, "GET /missing HTTP/1.1\r\n\r\n");
	CHECK(strncmp(c.got, "HTTP/1.1 404 Not Found\r\n", 24) == 0);
	CHECK(strstr(c.got, "X-Test: yes\r\n") != NULL);
	client_free(&c);
}

static void test_bad_requests_from_the_loop(void)
{
	unsigned before = handler.handled;
	struct client c;
	exchange(&c, "BREW /pot HTTP/1.1\r\n\r\n");
	CHECK(strncmp(c.got, "HTTP/1.1 405 ", 13) == 0);
	client_free(&c);
	exchange(&c, "garbage\r\n\r\n");
	CHECK(strncmp(c.got, "HTTP/1.1 400 ", 13) == 0);
	client_free(&c);
	static char big[HTTP_HEAD_MAX + 100];
	strcpy(big, "GET / HTTP/1.1\r\nX: ");
	memset(big + strlen(big), 'x', HTTP_HEAD_MAX);
	exchange(&c, big);
	CHECK(strncmp(c.got, "HTTP/1.1 431 ", 13) == 0);
	client_free(&c);
	CHECK_EQ(before, handler.handled);
}

static void test_body_over_the_cap_is_a_500(void)
{
	struct client c;
	exchange(&c, "GET /huge HTTP/1.1\r\n\r\n");
	CHECK(strncmp(c.got, "HTTP/1.1 500 ", 13) == 0);
	CHECK(strstr(c.got, "response too large") != NULL);
	client_free(&c);
}

static bool nothing_blocked(void *ctx)
{
	(void)ctx;
	return false;
}

static void test_client_gone_while_handling(void)
{
	struct client c;
	client_start(&c, "GET /block HTTP/1.1\r\n\r\n");
	pump(nothing_blocked, NULL, 50);
	CHECK_EQ(1, handler.n_blocked);
	client_detach(&c);
	tcp_abort(c.pcb); /* the server sees a reset while its handler waits */
	c.reset = true;
	pump(nothing_blocked, NULL, 50);
	release_blocked();
	pump(nothing_blocked, NULL, 50); /* the task frees the connection (ASan: no leak) */
	CHECK_EQ(0, task_count());
	client_free(&c);
	/* and the server still answers */
	exchange(&c, "GET / HTTP/1.1\r\n\r\n");
	CHECK(strncmp(c.got, "HTTP/1.1 200 ", 13) == 0);
	client_free(&c);
}

static void test_deadline_while_handling(void)
{
	struct client c;
	client_start(&c, "GET /block HTTP/1.1\r\n\r\n");
	CHECK(pump(ended, &c, (HTTP_SERVER_DEADLINE_S + 2) * 1000));
	CHECK(c.reset);
	release_blocked();
	pump(nothing_blocked, NULL, 50);
	CHECK_EQ(0, task_count());
	client_free(&c);
}

static void test_slow_client_reset_at_the_deadline(void)
{
	struct client c;
	uint32_t start = lwip_host_now();
	client_start(&c, "GET / HTTP/1.1\r\nHost:");
	CHECK(pump(ended, &c, (HTTP_SERVER_DEADLINE_S + 2) * 1000));
	CHECK(c.reset);
	CHECK(lwip_host_now() - start >= (HTTP_SERVER_DEADLINE_S - 1) * 1000);
	client_free(&c);
}

static void test_full_server_evicts_the_oldest_reader(void)
{
	struct client slow[HTTP_SERVER_CONNS_MAX], c;
	for (int i = 0; i < HTTP_SERVER_CONNS_MAX; i++) {
		client_start(&slow[i], "GET / HTTP/1.1\r\n");
		pump(nothing_blocked, NULL, 10);
	}
	exchange(&c, "GET / HTTP/1.1\r\n\r\n"); /* served: the oldest slow one made room */
	CHECK(strncmp(c.got, "HTTP/1.1 200 ", 13) == 0);
	client_free(&c);
	CHECK(slow[0].reset);
	for (int i = 1; i < HTTP_SERVER_CONNS_MAX; i++)
		CHECK(!slow[i].reset && !slow[i].closed);
	for (int i = 0; i < HTTP_SERVER_CONNS_MAX; i++)
		client_free(&slow[i]);
	pump(nothing_blocked, NULL, 100);
}

static void test_full_of_handlers_refuses_newcomers(void)
{
	struct client busy[HTTP_SERVER_CONNS_MAX], c;
	for (int i = 0; i < HTTP_SERVER_CONNS_MAX; i++) {
		client_start(&busy[i], "GET /block HTTP/1.1\r\n\r\n");
		pump(nothing_blocked, NULL, 10);
	}
	CHECK_EQ(HTTP_SERVER_CONNS_MAX, handler.n_blocked);
	client_start(&c, NULL);
	CHECK(pump(ended, &c, 1000));
	CHECK(c.reset);
	client_free(&c);
	release_blocked();
	for (int i = 0; i < HTTP_SERVER_CONNS_MAX; i++) {
		CHECK(pump(ended, &busy[i], 2000));
		CHECK(strstr(busy[i].got, "unblocked") != NULL);
		client_free(&busy[i]);
	}
}

int main(void)
{
	lwip_host_init();
	CHECK_EQ(0, http_server_start(PORT, handle, NULL));
	RUN(test_get_answered_from_a_task);
	RUN(test_post_body_reaches_the_handler);
	RUN(test_big_body_whole);
	RUN(test_head_has_no_body);
	RUN(test_status_and_headers_of_the_handler);
	RUN(test_bad_requests_from_the_loop);
	RUN(test_body_over_the_cap_is_a_500);
	RUN(test_client_gone_while_handling);
	RUN(test_deadline_while_handling);
	RUN(test_slow_client_reset_at_the_deadline);
	RUN(test_full_server_evicts_the_oldest_reader);
	RUN(test_full_of_handlers_refuses_newcomers);
	return check_report("test_http_server");
}
