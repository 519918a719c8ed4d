/* Host tests of MD5 (net/md5.c) against the RFC 1321 appendix A.5 test suite. */
#include "check.h"
#include "md5.h"

static void hex(const uint8_t *d, char *out)
{
	for (int i = 0; i < MD5_DIGEST_LEN; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void check_md5(const char *msg, const char *expected)
{
	struct md5 m;
	uint8_t d[MD5_DIGEST_LEN];
	char got[33];
	md5_init(&m);
	md5_update(&m, msg, strlen(msg));
	md5_final(&m, d);
	hex(d, got);
	CHECK_STR_EQ(expected, got);
}

static void test_rfc1321_suite(void)
{
	check_md5("", "d41d8cd98f00b204e9800998ecf8427e");
	check_md5("a", "0cc175b9c0f1b6a831c399e269772661");
	check_md5("abc", "900150983cd24fb0d6963f7d28e17f72");
	check_md5("message digest", "f96b697d7cb7938d525a2f31aaf161d0");
	check_md5("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b");
	check_md5("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
		  "d174ab98d277d9f5a5611c2c9f419d9f");
	check_md5("1234567890123456789012345678901234567890123456789012345678901234567890"
		  "1234567890",
		  "57edf4a22be3c955ac49da2e2107b67a");
}

static void test_piecewise_update_equals_one_update(void)
{
	const char *msg = "The quick brown fox jumps over the lazy dog, twice over, to fill blocks.";
	uint8_t one[16], pieces[16];
	struct md5 m;
	md5_init(&m);
	md5_update(&m, msg, strlen(msg));
	md5_final(&m, one);
	md5_init(&m);
	for (size_t i = 0; i < strlen(msg); i++)
		md5_update(&m, msg + i, 1);
	md5_final(&m, pieces);
	CHECK_MEM_EQ(one, pieces, 16);
}

int main(void)
{
	RUN(test_rfc1321_suite);
	RUN(test_piecewise_update_equals_one_update);
	return check_report("test_md5");
}
