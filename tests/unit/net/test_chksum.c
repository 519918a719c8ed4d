/* Host tests of net/lwip_port/chksum.c against a 16-bit-word reference. */
#include "arch/chksum.h"

#include <stdlib.h>

#include "check.h"

/* The definition: native (little-endian) 16-bit words, the odd last byte as a low byte. */
static uint16_t reference_sum(const uint8_t *p, int len)
{
	uint32_t sum = 0;
	for (; len >= 2; p += 2, len -= 2)
		sum += (uint32_t)(p[0] | p[1] << 8);
	if (len > 0)
		sum += p[0];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void test_matches_reference_for_every_length_and_offset(void)
{
	static uint8_t buf[2100];
	srand(7);
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)rand();
	unsigned mismatches = 0;
	for (int off = 0; off < 8; off++)
		for (int len = 0; len <= 2048; len++)
			if (lwip_port_chksum(buf + off, len) != reference_sum(buf + off, len) &&
			    mismatches++ == 0)
				CHECK_EQ(reference_sum(buf + off, len), lwip_port_chksum(buf + off, len));
	CHECK_EQ(0, mismatches);
}

static void test_carries_fold_back(void)
{
	static uint8_t ones[1500];
	memset(ones, 0xff, sizeof ones); /* every 64-bit addition carries */
	CHECK_EQ(0xffff, lwip_port_chksum(ones, sizeof ones));
	CHECK_EQ(reference_sum(ones, 1499), lwip_port_chksum(ones, 1499));
	CHECK_EQ(0, lwip_port_chksum(ones, 0));
	static const uint8_t one_byte[] = {0xab};
	CHECK_EQ(0x00ab, lwip_port_chksum(one_byte, 1));
}

int main(void)
{
	RUN(test_matches_reference_for_every_length_and_offset);
	RUN(test_carries_fold_back);
	return check_report("test_chksum");
}
