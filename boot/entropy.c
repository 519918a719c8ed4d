/*
 * The CPU's entropy instructions (boot/platform.h cpu_entropy): RDSEED, the conditioned
 * output of the hardware noise source itself, and RDRAND, a DRBG the same source
 * reseeds. Each reports failure by clearing the carry flag when it has nothing ready, so
 * every 8-byte word is retried a bounded number of times (the retry counts of Intel's
 * DRNG software implementation guide: RDRAND fails only when the hardware is broken,
 * RDSEED also under load, when a short pause lets the source catch up).
 *
 * No state: CPUID is asked on each call (a call gathers many bytes at once, at start-up).
 */
#include <string.h>

#include "boot_priv.h"
#include "platform.h"

/* Intel SDM vol. 2A, CPUID: leaf, register (index into cpuid()'s r: eax, ebx, ecx, edx)
 * and bit of each feature. */
#define CPUID_MAX_LEAF    0
#define CPUID_FEATURES    1
#define CPUID_EXTENDED    7
#define CPUID_EBX         1
#define CPUID_ECX         2
#define CPUID_RDRAND_BIT  (1u << 30) /* leaf 1, ecx */
#define CPUID_RDSEED_BIT  (1u << 18) /* leaf 7, ebx */

#define RDRAND_RETRIES 10
#define RDSEED_RETRIES 100

enum cpu_source { SOURCE_NONE, SOURCE_RDRAND, SOURCE_RDSEED };

/* Whether the CPU has leaf (sub-leaf 0) and sets bit in its register reg. */
static bool cpuid_has(uint32_t leaf, unsigned reg, uint32_t bit)
{
	uint32_t r[4];
	cpuid(CPUID_MAX_LEAF, 0, r);
	if (r[0] < leaf)
		return false;
	cpuid(leaf, 0, r);
	return (r[reg] & bit) != 0;
}

static bool has_rdrand(void)
{
	return cpuid_has(CPUID_FEATURES, CPUID_ECX, CPUID_RDRAND_BIT);
}

static bool has_rdseed(void)
{
	return cpuid_has(CPUID_EXTENDED, CPUID_EBX, CPUID_RDSEED_BIT);
}

static enum cpu_source best_source(void)
{
	return has_rdseed() ? SOURCE_RDSEED : has_rdrand() ? SOURCE_RDRAND : SOURCE_NONE;
}

static bool rdseed64(uint64_t *v)
{
	for (unsigned i = 0; i < RDSEED_RETRIES; i++) {
		bool ok;
		__asm__ volatile("rdseed %0" : "=r"(*v), "=@ccc"(ok));
		if (ok)
			return true;
		__builtin_ia32_pause();
	}
	return false;
}

static bool rdrand64(uint64_t *v)
{
	for (unsigned i = 0; i < RDRAND_RETRIES; i++) {
		bool ok;
		__asm__ volatile("rdrand %0" : "=r"(*v), "=@ccc"(ok));
		if (ok)
			return true;
	}
	return false;
}

/* One word from the best instruction, falling back to RDRAND when RDSEED stays empty. */
static bool next_word(enum cpu_source src, bool rdrand_too, uint64_t *v)
{
	if (src == SOURCE_RDSEED && rdseed64(v))
		return true;
	return rdrand_too && rdrand64(v);
}

size_t cpu_entropy(void *buf, size_t len)
{
	enum cpu_source src = best_source();
	if (src == SOURCE_NONE)
		return 0;
	bool rdrand_too = src == SOURCE_RDRAND || has_rdrand();
	uint8_t *p = buf;
	size_t done = 0;
	while (done < len) {
		uint64_t v;
		if (!next_word(src, rdrand_too, &v))
			break;
		size_t n = len - done < sizeof(v) ? len - done : sizeof(v);
		memcpy(p + done, &v, n);
		done += n;
	}
	return done;
}

const char *cpu_entropy_source(void)
{
	switch (best_source()) {
	case SOURCE_RDSEED:
		return "rdseed";
	case SOURCE_RDRAND:
		return "rdrand";
	default:
		return "none";
	}
}
