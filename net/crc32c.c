/*
 * CRC32C for the iSCSI digests: a slice-by-1 table built on first use, and the SSE4.2
 * crc32 instruction (8 bytes per step) when CPUID says the CPU has it. The instruction
 * only touches general registers, so it is safe in the firmware without FPU state.
 */
#include "crc32c.h"


#if defined(__x86_64__)
#include <cpuid.h>
#endif

#define CRC32C_POLY_REFLECTED 0x82f63b78u

/* Built once; the contents never change afterwards, so no reset is needed between tests. */
static uint32_t table[256];
static bool table_ready;

static void build_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ CRC32C_POLY_REFLECTED : c >> 1;
		table[i] = c;
	}
	table_ready = true;
}

uint32_t crc32c_table(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	if (!table_ready)
		build_table();
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

#if defined(__x86_64__)
bool crc32c_sse42_available(void)
{
	static int known = -1; /* a property of the CPU: never changes */
	if (known < 0) {
		unsigned a, b, c, d;
		known = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_2);
	}
	return known;
}

__attribute__((target("sse4.2"))) uint32_t crc32c_sse42(uint32_t crc, const void *buf,
							   size_t len)
{
	const uint8_t *p = buf;
	uint64_t c = ~crc;
	while (len && ((uintptr_t)p & 7)) {
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
		len--;
	}
	while (len >= 8) {
		uint64_t v;
		__builtin_memcpy(&v, p, 8); /* one load, also when built freestanding */
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		len -= 8;
	}
	while (len--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return ~(uint32_t)c;
}
#else
bool crc32c_sse42_available(void) { return false; }
uint32_t crc32c_sse42(uint32_t crc, const void *buf, size_t len)
{
	return crc32c_table(crc, buf, len);
}
#endif

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	if (crc32c_sse42_available())
		return crc32c_sse42(crc, buf, len);
	return crc32c_table(crc, buf, len);
}
