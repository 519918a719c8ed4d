/*
 * The capped text buffer (strbuf.h). It doubles as it grows, never past cap + 1 bytes (the
 * NUL). An append that would pass the cap adds nothing and sets truncated: a half-written
 * escape or number is never left at the end.
 */
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STRBUF_FIRST_SIZE 1024

void strbuf_init(struct strbuf *b, size_t cap)
{
	*b = (struct strbuf){ .cap = cap };
}

void strbuf_free(struct strbuf *b)
{
	free(b->data);
	strbuf_init(b, b->cap);
}

/* Room for n more bytes and the NUL; false (and truncated) when the cap or memory says no. */
static bool reserve(struct strbuf *b, size_t n)
{
	if (b->truncated || n > b->cap - b->len) {
		b->truncated = true;
		return false;
	}
	size_t need = b->len + n + 1;
	if (need <= b->size)
		return true;
	size_t size = b->size ? b->size : STRBUF_FIRST_SIZE;
	while (size < need)
		size *= 2;
	if (size > b->cap + 1)
		size = b->cap + 1;
	char *data = realloc(b->data, size);
	if (!data) {
		b->truncated = true;
		return false;
	}
	b->data = data;
	b->size = size;
	return true;
}

void strbuf_append(struct strbuf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void strbuf_puts(struct strbuf *b, const char *s)
{
	strbuf_append(b, s, strlen(s));
}

void strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->truncated = true;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		strbuf_append(b, small, (size_t)n);
		return;
	}
	if (!reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void strbuf_html(struct strbuf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': strbuf_puts(b, "&amp;"); break;
		case '<': strbuf_puts(b, "&lt;"); break;
		case '>': strbuf_puts(b, "&gt;"); break;
		case '"': strbuf_puts(b, "&quot;"); break;
		case '\'': strbuf_puts(b, "&#39;"); break;
		default: strbuf_append(b, s, 1);
		}
	}
}

void strbuf_json(struct strbuf *b, const char *s)
{
	strbuf_append(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };
			strbuf_append(b, esc, 2);
		} else if (c < 0x20 || c >= 0x7f) { /* bytes past ASCII too: always valid UTF-8 */
			strbuf_printf(b, "\\u%04x", c);
		} else {
			strbuf_append(b, s, 1);
		}
	}
	strbuf_append(b, "\"", 1);
}
