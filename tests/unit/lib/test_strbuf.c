/* Host tests of the capped text buffer (lib/strbuf.c) and its HTML and JSON escaping. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "strbuf.h"

static void test_grows_and_formats(void)
{
	struct strbuf b;
	strbuf_init(&b, 1 << 20);
	for (int i = 0; i < 1000; i++)
		strbuf_printf(&b, "%04d,", i);
	CHECK_EQ(5000, b.len);
	CHECK(!b.truncated);
	CHECK(memcmp(b.data + 4995, "0999,", 5) == 0);
	CHECK_EQ('\0', b.data[b.len]);
	char long_arg[600];
	memset(long_arg, 'x', sizeof(long_arg) - 1);
	long_arg[sizeof(long_arg) - 1] = '\0';
	strbuf_printf(&b, "[%s]", long_arg); /* longer than the stack buffer */
	CHECK_EQ(5000 + 601, b.len);
	CHECK_EQ(']', b.data[b.len - 1]);
	strbuf_free(&b);
	CHECK(b.data == NULL);
}

static void test_cap_is_hard(void)
{
	struct strbuf b;
	strbuf_init(&b, 10);
	strbuf_puts(&b, "12345678");
	strbuf_puts(&b, "abc"); /* would pass the cap: dropped whole */
	CHECK(b.truncated);
	CHECK_STR_EQ("12345678", b.data);
	strbuf_puts(&b, "9"); /* nothing more once truncated */
	CHECK_EQ(8, b.len);
	CHECK(b.size <= 11);
	strbuf_free(&b);
}

static void test_html_escaping(void)
{
	struct strbuf b;
	strbuf_init(&b, 1024);
	strbuf_html(&b, "<script>alert('x' & \"y\")</script>");
	CHECK_STR_EQ("&lt;script&gt;alert(&#39;x&#39; &amp; &quot;y&quot;)&lt;/script&gt;", b.data);
	strbuf_free(&b);
}

static void test_json_escaping(void)
{
	struct strbuf b;
	strbuf_init(&b, 1024);
	strbuf_json(&b, "a\"b\\c\n\x01\x7f\xc3\xa9");
	CHECK_STR_EQ("\"a\\\"b\\\\c\\u000a\\u0001\\u007f\\u00c3\\u00a9\"", b.data);
	strbuf_free(&b);
}

int main(void)
{
	RUN(test_grows_and_formats);
	RUN(test_cap_is_hard);
	RUN(test_html_escaping);
	RUN(test_json_escaping);
	return check_report("test_strbuf");
}
