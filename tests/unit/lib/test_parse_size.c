/* Host tests of the size syntax (lib/parse_size.c). */
#include <errno.h>

#include "check.h"
#include "parse_size.h"

static void test_plain_and_suffixed(void)
{
	uint64_t v;
	CHECK_EQ(0, parse_size("4096", &v));
	CHECK_EQ(4096, v);
	CHECK_EQ(0, parse_size("64K", &v));
	CHECK_EQ(65536, v);
	CHECK_EQ(0, parse_size("64M", &v));
	CHECK_EQ(64 << 20, v);
	CHECK_EQ(0, parse_size("2g", &v));
	CHECK_EQ(2ull << 30, v);
	CHECK_EQ(0, parse_size("1T", &v));
	CHECK_EQ(1ull << 40, v);
	CHECK_EQ(0, parse_size("1KiB", &v));
	CHECK_EQ(1024, v);
	CHECK_EQ(0, parse_size("1KB", &v));
	CHECK_EQ(1024, v);
	CHECK_EQ(0, parse_size("0x1000", &v));
	CHECK_EQ(4096, v);
	CHECK_EQ(0, parse_size("010", &v)); /* decimal, never octal */
	CHECK_EQ(10, v);
	CHECK_EQ(0, parse_size("0", &v));
	CHECK_EQ(0, v);
}

static void test_refused(void)
{
	uint64_t v = 7;
	CHECK_EQ(-EINVAL, parse_size(NULL, &v));
	CHECK_EQ(-EINVAL, parse_size("", &v));
	CHECK_EQ(-EINVAL, parse_size("-1", &v));
	CHECK_EQ(-EINVAL, parse_size(" 1", &v));
	CHECK_EQ(-EINVAL, parse_size("+1", &v));
	CHECK_EQ(-EINVAL, parse_size("0x", &v));
	CHECK_EQ(-EINVAL, parse_size("1Q", &v));
	CHECK_EQ(-EINVAL, parse_size("1Kb", &v));
	CHECK_EQ(-EINVAL, parse_size("1KiBx", &v));
	CHECK_EQ(-EINVAL, parse_size("99999999999999999999", &v));
	CHECK_EQ(-EINVAL, parse_size("17000000T", &v));
	CHECK_EQ(7, v); /* untouched on failure */
}

int main(void)
{
	RUN(test_plain_and_suffixed);
	RUN(test_refused);
	return check_report("test_parse_size");
}
