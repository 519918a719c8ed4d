/*
 * An HTTP/1.1 request parser for the appliance's own small web server (net/http_server.h;
 * docs/DESIGN.md says why not lwIP's httpd). Portable, host-tested and fuzzed
 * (tests/fuzz/fuzz_http_request.c). Bytes go in as they arrive; the parser answers
 * "more", "done" with the request, or "failed" with the status to answer.
 *
 *     struct http_parser *p = malloc(sizeof(*p));
 *     http_parser_init(p);
 *     size_t used;
 *     enum http_parse_state s = http_parser_feed(p, bytes, n, &used);
 *     if (s == HTTP_PARSE_DONE)   ... p->req ...
 *     if (s == HTTP_PARSE_FAILED) ... answer p->status and close ...
 *
 * Everything a client controls is bounded: the request line and headers together fit
 * HTTP_HEAD_MAX bytes (else 431), at most HTTP_HEADERS_MAX header lines (431), a body of
 * HTTP_BODY_MAX bytes (413) that only Content-Length announces (Transfer-Encoding: 411;
 * a POST without a length: 411), the target HTTP_TARGET_MAX bytes (414). A method other
 * than GET, HEAD and POST is 405; anything malformed 400; a version other than HTTP/1.x
 * 505. Only the headers the server needs are kept: Content-Length, Authorization,
 * Connection, Host; the others are checked for shape and dropped.
 */
#ifndef QEDBOX_HTTP_PARSE_H
#define QEDBOX_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_HEAD_MAX	 4096 /* request line and headers, with their CRLFs */
#define HTTP_BODY_MAX	 4096
#define HTTP_HEADERS_MAX 32
#define HTTP_TARGET_MAX	 256 /* the request target, query included */
#define HTTP_AUTH_MAX	 256 /* the Authorization value */
#define HTTP_HOST_MAX	 128

enum http_method { HTTP_GET, HTTP_HEAD, HTTP_POST };

struct http_request {
	enum http_method method;
	char path[HTTP_TARGET_MAX];	   /* the target up to '?' */
	char authorization[HTTP_AUTH_MAX]; /* "" when absent */
	char host[HTTP_HOST_MAX];	   /* "" when absent */
	bool close;			   /* Connection: close, or HTTP/1.0 */
	size_t body_len;
	char body[HTTP_BODY_MAX + 1];	   /* NUL-terminated */
};

enum http_parse_state { HTTP_PARSE_MORE, HTTP_PARSE_DONE, HTTP_PARSE_FAILED };

struct http_parser {
	enum http_parse_state state;
	bool in_body;
	int status; /* when failed: the status to answer (400, 405, 411, 413, 414, 431, 505) */
	size_t head_len, body_expected;
	char head[HTTP_HEAD_MAX];
	struct http_request req;
};

void http_parser_init(struct http_parser *p);

/* Takes bytes of the request; *used says how many (bytes past the request's end are not
 * taken). Once DONE or FAILED, further calls take nothing and say the same. */
enum http_parse_state http_parser_feed(struct http_parser *p, const void *data, size_t n,
				       size_t *used);

/* The reason phrase of a status code ("Not Found"); "Error" for one we never send. */
const char *http_reason(int status);

#endif
