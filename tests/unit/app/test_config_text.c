/*
 * Host tests of the command-line parser (app/config_text.c): syntax, quoting, repeated keys,
 * malformed words, limits, and the known-key table lookup.
 */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "config_text.h"

static struct config_text c; /* large: not on the stack */

static void test_key_value_and_flags(void)
{
	CHECK_EQ(0, config_text_parse(&c, "ip=10.0.2.15 poweroff  port=3260\t"));
	CHECK_EQ(3, c.count);
	CHECK_STR_EQ("10.0.2.15", config_text_lookup(&c, "ip"));
	CHECK_STR_EQ("", config_text_lookup(&c, "poweroff"));
	CHECK_STR_EQ("3260", config_text_lookup(&c, "port"));
	CHECK(config_text_lookup(&c, "missing") == NULL);
	CHECK(config_text_lookup(&c, "por") == NULL);
}

static void test_empty_lines(void)
{
	CHECK_EQ(0, config_text_parse(&c, NULL));
	CHECK_EQ(0, c.count);
	CHECK_EQ(0, config_text_parse(&c, "   \t\n "));
	CHECK_EQ(0, c.count);
}

static void test_empty_value_and_equals_in_value(void)
{
	CHECK_EQ(0, config_text_parse(&c, "a= b=x=y"));
	CHECK_STR_EQ("", config_text_lookup(&c, "a"));
	CHECK_STR_EQ("x=y", config_text_lookup(&c, "b"));
}

static void test_quotes(void)
{
	CHECK_EQ(0, config_text_parse(&c, "name=\"my disk 1\" secret=a\"b c\"d e"));
	CHECK_STR_EQ("my disk 1", config_text_lookup(&c, "name"));
	CHECK_STR_EQ("ab cd", config_text_lookup(&c, "secret"));
	CHECK_STR_EQ("", config_text_lookup(&c, "e"));
	CHECK_EQ(3, c.count);
}

static void test_unterminated_quote(void)
{
	CHECK_EQ(-EINVAL, config_text_parse(&c, "ok=1 bad=\"open ended"));
	CHECK_EQ(1, c.count);
	CHECK_EQ(1, c.rejected);
	CHECK_STR_EQ("1", config_text_lookup(&c, "ok"));
	CHECK(config_text_lookup(&c, "bad") == NULL);
}

static void test_last_repeat_wins(void)
{
	CHECK_EQ(0, config_text_parse(&c, "port=1 port=2"));
	CHECK_STR_EQ("2", config_text_lookup(&c, "port"));
}

static void test_malformed_keys_skipped(void)
{
	CHECK_EQ(-EINVAL, config_text_parse(&c, "=x good=1 b@d=2 \"q\"=3 ok.key-1_a=4"));
	CHECK_EQ(2, c.count);
	CHECK_EQ(3, c.rejected);
	CHECK_STR_EQ("1", config_text_lookup(&c, "good"));
	CHECK_STR_EQ("4", config_text_lookup(&c, "ok.key-1_a"));
	CHECK(config_text_lookup(&c, "b@d") == NULL);
}

static void test_kernel_path_skipped(void)
{
	CHECK_EQ(0, config_text_parse(&c, "/boot/qedbox.elf exit=debug"));
	CHECK_EQ(1, c.count);
	CHECK_STR_EQ("debug", config_text_lookup(&c, "exit"));
	CHECK(config_text_lookup(&c, "/boot/qedbox.elf") == NULL);
}

static void test_too_many_settings(void)
{
	char line[CONFIG_MAX_SETTINGS * 8 + 64] = "";
	size_t n = 0;
	for (int i = 0; i < CONFIG_MAX_SETTINGS + 3; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "k%d=%d ", i, i);
	CHECK_EQ(-E2BIG, config_text_parse(&c, line));
	CHECK_EQ(CONFIG_MAX_SETTINGS, c.count);
	CHECK_EQ(3, c.rejected);
	CHECK_STR_EQ("0", config_text_lookup(&c, "k0"));
	char last[16], first_dropped[16];
	snprintf(last, sizeof(last), "k%d", CONFIG_MAX_SETTINGS - 1);
	snprintf(first_dropped, sizeof(first_dropped), "k%d", CONFIG_MAX_SETTINGS);
	CHECK(config_text_lookup(&c, last) != NULL);
	CHECK(config_text_lookup(&c, first_dropped) == NULL);
}

static void test_text_too_long(void)
{
	size_t len = CONFIG_MAX_TEXT + 100;
	char *line = malloc(len + 32);
	strcpy(line, "first=1 long=");
	memset(line + 13, 'v', len);
	strcpy(line + 13 + len, " last=2");
	CHECK_EQ(-E2BIG, config_text_parse(&c, line));
	CHECK_STR_EQ("1", config_text_lookup(&c, "first"));
	CHECK(config_text_lookup(&c, "long") == NULL);
	CHECK_STR_EQ("2", config_text_lookup(&c, "last"));
	CHECK_EQ(1, c.rejected);
	free(line);
}

static void test_longest_value_that_fits(void)
{
	/* "k\0" + value + "\0" fill the buffer exactly. */
	char line[CONFIG_MAX_TEXT + 8];
	size_t vlen = CONFIG_MAX_TEXT - 3;
	strcpy(line, "k=");
	memset(line + 2, 'x', vlen);
	line[2 + vlen] = '\0';
	CHECK_EQ(0, config_text_parse(&c, line));
	CHECK_EQ(vlen, strlen(config_text_lookup(&c, "k")));
	line[2 + vlen] = 'x';
	line[3 + vlen] = '\0';
	CHECK_EQ(-E2BIG, config_text_parse(&c, line));
	CHECK(config_text_lookup(&c, "k") == NULL);
}

/* A file's settings, then the command line's: the later text overrides, each setting
 * remembers where it came from, and comments run to the end of their line. */
static void test_texts_added_in_order(void)
{
	CHECK_EQ(0, config_text_parse(&c, NULL));
	CHECK_EQ(0, config_text_add(&c, "# a comment line\nchap=alice:secret-of-alice # why\n"
				      "port=1\n", CONFIG_SOURCE_FILE));
	CHECK_EQ(0, config_text_add(&c, "port=2", CONFIG_SOURCE_CMDLINE));
	CHECK_EQ(3, c.count);
	CHECK_STR_EQ("2", config_text_lookup(&c, "port"));
	CHECK_STR_EQ(CONFIG_SOURCE_CMDLINE, config_text_find(&c, "port")->source);
	CHECK_STR_EQ(CONFIG_SOURCE_FILE, config_text_find(&c, "chap")->source);
	CHECK_STR_EQ("alice:secret-of-alice", config_text_lookup(&c, "chap"));
	CHECK(config_text_lookup(&c, "why") == NULL);
}

static void test_input_not_kept(void)
{
	char line[] = "a=1";
	CHECK_EQ(0, config_text_parse(&c, line));
	line[2] = '9';
	CHECK_STR_EQ("1", config_text_lookup(&c, "a"));
}

int main(void)
{
	RUN(test_key_value_and_flags);
	RUN(test_empty_lines);
	RUN(test_empty_value_and_equals_in_value);
	RUN(test_quotes);
	RUN(test_unterminated_quote);
	RUN(test_last_repeat_wins);
	RUN(test_malformed_keys_skipped);
	RUN(test_kernel_path_skipped);
	RUN(test_too_many_settings);
	RUN(test_text_too_long);
	RUN(test_longest_value_that_fits);
	RUN(test_texts_added_in_order);
	RUN(test_input_not_kept);
	return check_report("test_config_text");
}
