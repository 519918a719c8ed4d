/*
 * Shared by the libFuzzer targets of tests/fuzz/ (tests/fuzz/build.mk). Each target is one
 * C file defining LLVMFuzzerTestOneInput; the sanitizers (ASan, LeakSanitizer, UBSan)
 * catch memory errors, and FUZZ_ASSERT states the target's own invariants: a failed one
 * aborts, which libFuzzer reports as a crash and saves the input.
 */
#ifndef QEDBOX_FUZZ_H
#define QEDBOX_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

/* Reads the input front to back; past its end every read gives zeros. */
struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
	uint16_t hi = fuzz_u8(in);
	return (uint16_t)(hi << 8 | fuzz_u8(in));
}

static inline uint32_t fuzz_u24(struct fuzz_in *in)
{
	uint32_t hi = fuzz_u16(in);
	return hi << 8 | fuzz_u8(in);
}

#endif
