/*
 * The smallest test harness that says what went wrong: each CHECK failure prints the
 * file, line, expression, and for the _EQ forms the expected and actual values, then
 * the test goes on. A test binary lists its cases in main() with RUN(case) and ends with
 * return check_report();  which prints "<binary>: N cases, N checks failed".
 */
#ifndef QEDBOX_CHECK_H
#define QEDBOX_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_failed, check_cases;
static const char *check_case_name = "";

#define CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n", __FILE__, __LINE__, \
				check_case_name, #cond); \
			check_failed++; \
		} \
	} while (0)

#define CHECK_EQ(expected, actual) \
	do { \
		long long check_e_ = (long long)(expected), check_a_ = (long long)(actual); \
		if (check_e_ != check_a_) { \
			fprintf(stderr, "%s:%d: %s: %s: expected %lld (0x%llx), got %lld (0x%llx)\n", \
				__FILE__, __LINE__, check_case_name, #actual, check_e_, \
				(unsigned long long)check_e_, check_a_, (unsigned long long)check_a_); \
			check_failed++; \
		} \
	} while (0)

#define CHECK_STR_EQ(expected, actual) \
	do { \
		const char *check_e_ = (expected), *check_a_ = (actual); \
		if (!check_a_ || strcmp(check_e_, check_a_) != 0) { \
			fprintf(stderr, "%s:%d: %s: %s: expected \"%s\", got \"%s\"\n", __FILE__, \
				__LINE__, check_case_name, #actual, check_e_, \
				check_a_ ? check_a_ : "(null)"); \
			check_failed++; \
		} \
	} while (0)

#define CHECK_MEM_EQ(expected, actual, len) \
	do { \
		const unsigned char *check_e_ = (const void *)(expected); \
		const unsigned char *check_a_ = (const void *)(actual); \
		size_t check_n_ = (len), check_i_; \
		for (check_i_ = 0; check_i_ < check_n_; check_i_++) \
			if (check_e_[check_i_] != check_a_[check_i_]) \
				break; \
		if (check_i_ < check_n_) { \
			fprintf(stderr, "%s:%d: %s: %s differs at byte %zu: expected 0x%02x, got 0x%02x\n", \
				__FILE__, __LINE__, check_case_name, #actual, check_i_, \
				check_e_[check_i_], check_a_[check_i_]); \
			check_failed++; \
		} \
	} while (0)

#define RUN(fn) \
	do { \
		check_case_name = #fn; \
		check_cases++; \
		fn(); \
	} while (0)

static inline int check_report(const char *name)
{
	printf("%s: %d cases, %d checks failed\n", name, check_cases, check_failed);
	return check_failed ? 1 : 0;
}

#endif
