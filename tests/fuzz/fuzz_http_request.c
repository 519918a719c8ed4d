/*
 * libFuzzer target: the web server's request parser (net/http_parse.c). The input is the
 * bytes of a connection, fed in pieces whose sizes the first byte picks (1 to 256), as
 * TCP segments would bring them.
 *
 * Invariants: the parser takes no byte more than it was given; a failure carries one of
 * the statuses it documents; a finished request has a path starting with '/', a body of
 * at most HTTP_BODY_MAX bytes, and strings that end inside their buffers.
 */
#include "fuzz.h"
#include "http_parse.h"

#include <string.h>

static bool documented_status(int status)
{
	static const int statuses[] = { 400, 405, 411, 413, 414, 431, 505 };
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (status == statuses[i])
			return true;
	return false;
}

static void check_request(const struct http_request *r)
{
	FUZZ_ASSERT(r->path[0] == '/');
	FUZZ_ASSERT(memchr(r->path, '\0', sizeof(r->path)) != NULL);
	FUZZ_ASSERT(memchr(r->authorization, '\0', sizeof(r->authorization)) != NULL);
	FUZZ_ASSERT(memchr(r->host, '\0', sizeof(r->host)) != NULL);
	FUZZ_ASSERT(r->body_len <= HTTP_BODY_MAX);
	FUZZ_ASSERT(r->method == HTTP_GET || r->method == HTTP_HEAD || r->method == HTTP_POST);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_parser p;
	struct fuzz_in in = { data, size };
	size_t piece = (size_t)fuzz_u8(&in) + 1;
	http_parser_init(&p);
	enum http_parse_state s = HTTP_PARSE_MORE;
	while (in.left && s == HTTP_PARSE_MORE) {
		size_t n = in.left < piece ? in.left : piece, used;
		s = http_parser_feed(&p, in.p, n, &used);
		FUZZ_ASSERT(used <= n);
		FUZZ_ASSERT(s != HTTP_PARSE_MORE || used == n);
		in.p += used;
		in.left -= used;
	}
	if (s == HTTP_PARSE_FAILED)
		FUZZ_ASSERT(documented_status(p.status));
	if (s == HTTP_PARSE_DONE)
		check_request(&p.req);
	return 0;
}
