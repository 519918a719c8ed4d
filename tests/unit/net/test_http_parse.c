/* Host tests of the HTTP request parser (net/http_parse.c): each bound its own case. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "http_parse.h"

static struct http_parser parser;

/* Feeds s whole; returns the state and leaves the parser in `parser`. */
static enum http_parse_state feed(const char *s, size_t n)
{
	size_t used;
	http_parser_init(&parser);
	return http_parser_feed(&parser, s, n, &used);
}

static enum http_parse_state feed_str(const char *s)
{
	return feed(s, strlen(s));
}

static int status_of(const char *s)
{
	return feed_str(s) == HTTP_PARSE_FAILED ? parser.status : 0;
}

static void test_simple_get(void)
{
	CHECK_EQ(HTTP_PARSE_DONE, feed_str("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n"
					   "Authorization: Bearer abc\r\nX-Other: y\r\n\r\n"));
	CHECK_EQ(HTTP_GET, parser.req.method);
	CHECK_STR_EQ("/metrics", parser.req.path);
	CHECK_STR_EQ("Bearer abc", parser.req.authorization);
	CHECK_STR_EQ("a", parser.req.host);
	CHECK(!parser.req.close);
	CHECK_EQ(0, parser.req.body_len);
}

static void test_post_with_body_byte_by_byte(void)
{
	const char *req = "POST /api/v1/volumes/vol0/snapshot HTTP/1.1\r\nContent-Length: 16\r\n"
			  "Connection: keep-alive, Close\r\n\r\n{\"onto\":\"spare\"}EXTRA";
	size_t used, total = 0;
	http_parser_init(&parser);
	enum http_parse_state s = HTTP_PARSE_MORE;
	for (size_t i = 0; i < strlen(req) && s == HTTP_PARSE_MORE; i++) {
		s = http_parser_feed(&parser, req + i, 1, &used);
		total += used;
	}
	CHECK_EQ(HTTP_PARSE_DONE, s);
	CHECK_EQ(strlen(req) - 5, total); /* the bytes past the body are not taken */
	CHECK_EQ(HTTP_POST, parser.req.method);
	CHECK_EQ(16, parser.req.body_len);
	CHECK_STR_EQ("{\"onto\":\"spare\"}", parser.req.body);
	CHECK(parser.req.close);
	CHECK_EQ(HTTP_PARSE_DONE, http_parser_feed(&parser, "x", 1, &used));
	CHECK_EQ(0, used);
}

static void test_http10_closes(void)
{
	CHECK_EQ(HTTP_PARSE_DONE, feed_str("HEAD / HTTP/1.0\r\n\r\n"));
	CHECK_EQ(HTTP_HEAD, parser.req.method);
	CHECK(parser.req.close);
}

static void test_malformed(void)
{
	CHECK_EQ(400, status_of("GET /\r\n\r\n"));
	CHECK_EQ(400, status_of("GET  / HTTP/1.1\r\n\r\n"));
	CHECK_EQ(400, status_of("GET x HTTP/1.1\r\n\r\n"));
	CHECK_EQ(400, status_of("GET / HTTP/1.1 x\r\n\r\n"));
	CHECK_EQ(400, status_of("GET / HTTP/1.1\n\n"));
	CHECK_EQ(400, status_of("GET / HTTP/1.1\r\rX\r\n\r\n"));
	CHECK_EQ(400, status_of("\r\n"));
	CHECK_EQ(400, status_of("GET / HTTP/1.1\r\nNoColon\r\n\r\n"));
	CHECK_EQ(400, status_of("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n"));
	CHECK_EQ(400, status_of("GET / HTTP/1.1\r\nBad Name: b\r\n\r\n"));
	CHECK_EQ(400, status_of("GET / HTTP/1.1\r\nA: b\x01\r\n\r\n"));
	CHECK_EQ(400, status_of("POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n"));
	CHECK_EQ(400, status_of("POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n"));
	CHECK_EQ(400, status_of("GET / HTTP/1.1\r\nAuthorization: a\r\nAuthorization: b\r\n\r\n"));
	CHECK_EQ(400, status_of("GET /\x7f HTTP/1.1\r\n\r\n"));
	CHECK_EQ(HTTP_PARSE_FAILED, feed("GET / HTTP/1.1\r\n\0\r\n\r\n", 20));
	CHECK_EQ(400, parser.status);
}

static void test_methods_and_versions(void)
{
	CHECK_EQ(405, status_of("DELETE / HTTP/1.1\r\n\r\n"));
	CHECK_EQ(405, status_of("PUT / HTTP/1.1\r\n\r\n"));
	CHECK_EQ(400, status_of("G@T / HTTP/1.1\r\n\r\n"));
	CHECK_EQ(505, status_of("GET / HTTP/2.0\r\n\r\n"));
	CHECK_EQ(505, status_of("GET / HTTP/1.2\r\n\r\n"));
}

static void test_lengths(void)
{
	CHECK_EQ(411, status_of("POST / HTTP/1.1\r\n\r\n"));
	CHECK_EQ(411, status_of("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"));
	CHECK_EQ(413, status_of("POST / HTTP/1.1\r\nContent-Length: 4097\r\n\r\n"));
	CHECK_EQ(413, status_of("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n"));
	CHECK_EQ(HTTP_PARSE_MORE, feed_str("POST / HTTP/1.1\r\nContent-Length: 4096\r\n\r\n"));
	/* a GET with a body: the body is read (and ignored by the server) */
	CHECK_EQ(HTTP_PARSE_DONE, feed_str("GET / HTTP/1.1\r\nContent-Length: 2\r\n\r\nab"));
}

static void test_head_bounds(void)
{
	char *big = malloc(HTTP_HEAD_MAX + 64);
	/* exactly HTTP_HEAD_MAX bytes of head is accepted */
	const char *line = "GET / HTTP/1.1\r\nX: ";
	size_t fill = HTTP_HEAD_MAX - strlen(line) - 4;
	strcpy(big, line);
	memset(big + strlen(line), 'a', fill);
	memcpy(big + strlen(line) + fill, "\r\n\r\n", 4);
	CHECK_EQ(HTTP_PARSE_DONE, feed(big, HTTP_HEAD_MAX));
	/* one more byte is not */
	memset(big + strlen(line), 'a', fill + 1);
	memcpy(big + strlen(line) + fill + 1, "\r\n\r\n", 4);
	CHECK_EQ(HTTP_PARSE_FAILED, feed(big, HTTP_HEAD_MAX + 1));
	CHECK_EQ(431, parser.status);
	/* a target too long */
	strcpy(big, "GET /");
	memset(big + 5, 'p', HTTP_TARGET_MAX);
	strcpy(big + 5 + HTTP_TARGET_MAX, " HTTP/1.1\r\n\r\n");
	CHECK_EQ(414, status_of(big));
	/* an Authorization value too long */
	strcpy(big, "GET / HTTP/1.1\r\nAuthorization: ");
	memset(big + strlen(big), 't', HTTP_AUTH_MAX);
	strcpy(big + strlen(big) - 0, "\r\n\r\n");
	CHECK_EQ(431, status_of(big));
	free(big);
}

static void test_header_count(void)
{
	char buf[HTTP_HEAD_MAX];
	strcpy(buf, "GET / HTTP/1.1\r\n");
	for (int i = 0; i < HTTP_HEADERS_MAX; i++)
		strcat(buf, "A: b\r\n");
	strcat(buf, "\r\n");
	CHECK_EQ(HTTP_PARSE_DONE, feed_str(buf));
	buf[strlen(buf) - 2] = '\0';
	strcat(buf, "A: b\r\n\r\n");
	CHECK_EQ(431, status_of(buf));
}

static void test_reasons(void)
{
	CHECK_STR_EQ("Not Found", http_reason(404));
	CHECK_STR_EQ("Request Header Fields Too Large", http_reason(431));
	CHECK_STR_EQ("Error", http_reason(599));
}

int main(void)
{
	RUN(test_simple_get);
	RUN(test_post_with_body_byte_by_byte);
	RUN(test_http10_closes);
	RUN(test_malformed);
	RUN(test_methods_and_versions);
	RUN(test_lengths);
	RUN(test_head_bounds);
	RUN(test_header_count);
	RUN(test_reasons);
	return check_report("test_http_parse");
}
