/* Host tests of CRC32C (net/crc32c.c) against the RFC 3720 appendix B.4 vectors. */
#include "check.h"
#include "crc32c.h"

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

static void check_vectors(crc_fn fn)
{
	uint8_t buf[48];

	memset(buf, 0, 32);
	CHECK_EQ(0x8a9136aau, fn(0, buf, 32));
	memset(buf, 0xff, 32);
	CHECK_EQ(0x62a8ab43u, fn(0, buf, 32));
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	CHECK_EQ(0x46dd794eu, fn(0, buf, 32));
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	CHECK_EQ(0x113fdb5cu, fn(0, buf, 32));

	/* The iSCSI Read (10) command PDU of RFC 3720 B.4. */
	static const uint8_t read_pdu[48] = {
		0x01, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0x14, 0, 0, 0, 0, 0, 0x04, 0, 0, 0, 0, 0x14, 0, 0, 0, 0x18,
		0x28, 0, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 0,
	};
	CHECK_EQ(0xd9963a56u, fn(0, read_pdu, 48));
	CHECK_EQ(0xe3069283u, fn(0, "123456789", 9));
}

static void test_table_matches_rfc3720_vectors(void) { check_vectors(crc32c_table); }

static void test_sse42_matches_rfc3720_vectors(void)
{
	if (!crc32c_sse42_available()) {
		printf("# SSE4.2 not available: hardware path not tested\n");
		return;
	}
	check_vectors(crc32c_sse42);
}

static void test_dispatch_matches_rfc3720_vectors(void) { check_vectors(crc32c); }

static void test_chained_calls_equal_one_call(void)
{
	uint8_t buf[1000];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	uint32_t whole = crc32c_table(0, buf, sizeof(buf));
	for (size_t split = 0; split <= sizeof(buf); split += 37) {
		CHECK_EQ(whole, crc32c(crc32c(0, buf, split), buf + split, sizeof(buf) - split));
		CHECK_EQ(whole, crc32c_table(crc32c_table(0, buf, split), buf + split,
					     sizeof(buf) - split));
	}
	/* unaligned starts for the 8-byte path */
	for (size_t off = 1; off < 8; off++)
		CHECK_EQ(crc32c_table(0, buf + off, 500), crc32c(0, buf + off, 500));
}

int main(void)
{
	RUN(test_table_matches_rfc3720_vectors);
	RUN(test_sse42_matches_rfc3720_vectors);
	RUN(test_dispatch_matches_rfc3720_vectors);
	RUN(test_chained_calls_equal_one_call);
	return check_report("test_crc32c");
}
