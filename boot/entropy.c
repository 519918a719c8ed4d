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

#include "boot.h"
#include "platform.h"

/* Intel SDM vol. 2A, CPUID. */
#define CPUID_FEATURES            1
#define CPUID_FEATURES_ECX_RDRAND (1u << 30)
#define CPUID_EXTENDED            7
#define CPUID_EXTENDED_EBX_RDSEED (1u << 18)

#define RDRAND_RETRIES 10
#define RDSEED_RETRIES 100

enum cpu_source { SOURCE_NONE, SOURCE_RDRAND, SOURCE_RDSEED };

static bool has_rdrand(void)
{
	uint32_t r[4];
	cpuid(0, 0, r);
	if (r[0] < CPUID_FEATURES)
		return false;
	cpuid(CPUID_FEATURES, 0, r);
	return (r[2] & CPUID_FEATURES_ECX_RDRAND) != 0;
}

static bool has_rdseed(void)
{
	uint32_t r[4];
	cpuid(0, 0, r);
	if (r[0] < CPUID_EXTENDED)
		return false;
	cpuid(CPUID_EXTENDED, 0, r);
	return (r[1] & CPUID_EXTENDED_EBX_RDSEED) != 0;
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
