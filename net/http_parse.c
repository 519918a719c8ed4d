/*
 * The HTTP/1.1 request parser (http_parse.h). The head (request line and headers) is
 * gathered whole into a fixed buffer, refusing a bare LF or a NUL as it comes, then
 * parsed line by line; the body, whose length the head announced, follows into its own
 * fixed buffer. Nothing is allocated.
 */
#include "http_parse.h"

#include <string.h>
#include <strings.h>

/* A header line, or the request line, without its CRLF. */
struct line {
	const char *s;
	size_t len;
};

void http_parser_init(struct http_parser *p)
{
	memset(p, 0, sizeof(*p));
	p->state = HTTP_PARSE_MORE;
}

static enum http_parse_state fail(struct http_parser *p, int status)
{
	p->status = status;
	return p->state = HTTP_PARSE_FAILED;
}

/* RFC 9110 5.6.2: token characters. */
static bool is_tchar(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_token(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_tchar(s[i]))
			return false;
	return true;
}

static bool equals(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(s, word, n) == 0;
}

/* Copies s[n] into dst[cap] with a NUL; false when it does not fit. */
static bool copy_into(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return false;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return true;
}

/* The next CRLF-terminated line at *pos of the head; the head always ends in CRLF CRLF. */
static struct line next_line(const struct http_parser *p, size_t *pos)
{
	const char *start = p->head + *pos;
	const char *cr = memchr(start, '\r', p->head_len - *pos);
	struct line l = { start, (size_t)(cr - start) };
	*pos += l.len + 2;
	return l;
}

/* METHOD SP TARGET SP HTTP/1.x */
static int parse_request_line(struct http_parser *p, struct line l)
{
	const char *sp1 = memchr(l.s, ' ', l.len);
	const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', l.len - (size_t)(sp1 + 1 - l.s)) : NULL;
	if (!sp2)
		return 400;
	size_t method_len = (size_t)(sp1 - l.s), target_len = (size_t)(sp2 - sp1 - 1);
	const char *version = sp2 + 1;
	size_t version_len = l.len - (size_t)(version - l.s);
	if (!is_token(l.s, method_len) || target_len == 0 || sp1[1] != '/')
		return 400;
	for (size_t i = 0; i < target_len; i++)
		if (sp1[1 + i] <= ' ' || sp1[1 + i] >= 0x7f)
			return 400;
	if (version_len != 8 || memcmp(version, "HTTP/", 5) != 0 || !is_digit(version[5]) ||
	    version[6] != '.' || !is_digit(version[7]))
		return 400;
	if (version[5] != '1' || (version[7] != '0' && version[7] != '1'))
		return 505;
	p->req.close = version[7] == '0';
	if (equals(l.s, method_len, "GET"))
		p->req.method = HTTP_GET;
	else if (equals(l.s, method_len, "HEAD"))
		p->req.method = HTTP_HEAD;
	else if (equals(l.s, method_len, "POST"))
		p->req.method = HTTP_POST;
	else
		return 405;
	if (target_len >= HTTP_TARGET_MAX)
		return 414;
	const char *query = memchr(sp1 + 1, '?', target_len);
	copy_into(p->req.path, sizeof(p->req.path), sp1 + 1,
		  query ? (size_t)(query - sp1 - 1) : target_len);
	return 0;
}

/* Content-Length: digits only; a repeat must say the same. */
static int take_length(struct http_parser *p, const char *v, size_t n, bool *seen)
{
	size_t len = 0;
	if (n == 0)
		return 400;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return 400;
		if (len <= HTTP_BODY_MAX)
			len = len * 10 + (size_t)(v[i] - '0');
	}
	if (*seen && len != p->body_expected)
		return 400;
	*seen = true;
	p->body_expected = len;
	return len > HTTP_BODY_MAX ? 413 : 0;
}

/* Whether the comma-separated list v[n] holds the token word (any case). */
static bool list_has(const char *v, size_t n, const char *word)
{
	size_t w = strlen(word);
	for (size_t i = 0; i < n;) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		size_t start = i;
		while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
			i++;
		if (i - start == w && strncasecmp(v + start, word, w) == 0)
			return true;
	}
	return false;
}

/* Copies a header value kept once; a repeat is malformed, one too long too big. */
static int keep_once(char *dst, size_t cap, const char *v, size_t n)
{
	if (dst[0])
		return 400;
	return copy_into(dst, cap, v, n) ? 0 : 431;
}

struct head_state {
	bool has_length;
};

/* NAME ":" OWS VALUE OWS; only the headers we use are kept. */
static int parse_header(struct http_parser *p, struct line l, struct head_state *hs)
{
	const char *colon = memchr(l.s, ':', l.len);
	if (!colon || !is_token(l.s, (size_t)(colon - l.s)))
		return 400; /* obs-fold (a line starting with blanks) lands here too */
	size_t name_len = (size_t)(colon - l.s);
	const char *v = colon + 1, *end = l.s + l.len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	for (const char *c = v; c < end; c++)
		if ((unsigned char)*c < ' ' && *c != '\t')
			return 400;
	size_t n = (size_t)(end - v);
	if (name_len == 14 && strncasecmp(l.s, "Content-Length", 14) == 0)
		return take_length(p, v, n, &hs->has_length);
	if (name_len == 17 && strncasecmp(l.s, "Transfer-Encoding", 17) == 0)
		return 411; /* no chunked bodies: the length must be said up front */
	if (name_len == 13 && strncasecmp(l.s, "Authorization", 13) == 0)
		return n == 0 ? 400 : keep_once(p->req.authorization, HTTP_AUTH_MAX, v, n);
	if (name_len == 4 && strncasecmp(l.s, "Host", 4) == 0)
		return n == 0 ? 0 : keep_once(p->req.host, HTTP_HOST_MAX, v, n);
	if (name_len == 10 && strncasecmp(l.s, "Connection", 10) == 0 && list_has(v, n, "close"))
		p->req.close = true;
	return 0;
}

static enum http_parse_state parse_head(struct http_parser *p)
{
	size_t pos = 0;
	int status = parse_request_line(p, next_line(p, &pos));
	struct head_state hs = { false };
	for (unsigned headers = 0; status == 0; headers++) {
		struct line l = next_line(p, &pos);
		if (l.len == 0)
			break;
		status = headers == HTTP_HEADERS_MAX ? 431 : parse_header(p, l, &hs);
	}
	if (status == 0 && p->req.method == HTTP_POST && !hs.has_length)
		status = 411;
	if (status)
		return fail(p, status);
	p->in_body = true;
	return p->state = p->body_expected == 0 ? HTTP_PARSE_DONE : HTTP_PARSE_MORE;
}

/* Gathers head bytes until the empty line; *used counts what it took. */
static enum http_parse_state feed_head(struct http_parser *p, const char *s, size_t n,
				       size_t *used)
{
	for (; *used < n; (*used)++) {
		char c = s[*used];
		bool after_cr = p->head_len > 0 && p->head[p->head_len - 1] == '\r';
		if (c == '\0' || (c == '\n') != after_cr)
			return fail(p, 400); /* a NUL, a bare LF or a bare CR */
		if (p->head_len == HTTP_HEAD_MAX)
			return fail(p, 431);
		p->head[p->head_len++] = c;
		if (p->head_len >= 4 && memcmp(p->head + p->head_len - 4, "\r\n\r\n", 4) == 0) {
			(*used)++;
			return parse_head(p);
		}
		if (p->head_len == 2 && c == '\n')
			return fail(p, 400); /* an empty request line */
	}
	return HTTP_PARSE_MORE;
}

static enum http_parse_state feed_body(struct http_parser *p, const char *s, size_t n,
				       size_t *used)
{
	size_t take = p->body_expected - p->req.body_len;
	if (take > n - *used)
		take = n - *used;
	memcpy(p->req.body + p->req.body_len, s + *used, take);
	p->req.body_len += take;
	p->req.body[p->req.body_len] = '\0';
	*used += take;
	if (p->req.body_len == p->body_expected)
		p->state = HTTP_PARSE_DONE;
	return p->state;
}

enum http_parse_state http_parser_feed(struct http_parser *p, const void *data, size_t n,
				       size_t *used)
{
	*used = 0;
	if (p->state == HTTP_PARSE_MORE && !p->in_body)
		feed_head(p, data, n, used);
	if (p->state == HTTP_PARSE_MORE && p->in_body)
		feed_body(p, data, n, used);
	return p->state;
}

const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}
