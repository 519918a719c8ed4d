/*
 * A growable text buffer with a hard cap: what the status page, the metrics and the JSON
 * answers are written into, so that no page can take more memory than its cap however
 * many volumes, sessions or events there are. Appends past the cap are dropped and the
 * buffer remembers it (truncated): the caller answers an error instead of a cut page.
 *
 *     struct strbuf b;
 *     strbuf_init(&b, 256 * 1024);
 *     strbuf_printf(&b, "<td>%u</td>", n);
 *     strbuf_html(&b, untrusted);    // escaped for HTML text and attribute values
 *     strbuf_json(&b, untrusted);    // a JSON string, quotes included
 *     ... b.data, b.len (NUL-terminated when b.data is not NULL) ...
 *     strbuf_free(&b);
 */
#ifndef QEDBOX_STRBUF_H
#define QEDBOX_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *data;	/* NULL until the first append */
	size_t len, size, cap;
	bool truncated; /* an append did not fit the cap, or memory ran out */
};

void strbuf_init(struct strbuf *b, size_t cap);
void strbuf_free(struct strbuf *b);

void strbuf_append(struct strbuf *b, const char *s, size_t n);
void strbuf_puts(struct strbuf *b, const char *s);
void strbuf_printf(struct strbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* s escaped for HTML text and quoted attribute values: & < > " ' */
void strbuf_html(struct strbuf *b, const char *s);
/* s as a JSON string with its quotes: " \ and control bytes escaped. */
void strbuf_json(struct strbuf *b, const char *s);

#endif
