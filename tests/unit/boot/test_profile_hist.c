/*
 * Host tests of boot/profile_hist.c, the sampling profiler's histogram: which bucket a
 * sample lands in (edges of the code, an unaligned start, idle, outside), that taking a
 * window moves every count out and starts the next one from zero, and the dump's lines
 * (address order, bucket addresses, whole lines only when the buffer is short).
 */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "profile_priv.h"

#define CODE_START 0x100040u
#define CODE_END   0x100200u /* 0x1c0 bytes: 28 buckets */
#define IDLE_START 0x100100u /* a hlt and the cli after it */
#define IDLE_END   0x100102u

static uint32_t buckets[64], snapshot[64];
static struct prof_hist h;

static void setup(void)
{
	prof_hist_init(&h, CODE_START, CODE_END, IDLE_START, IDLE_END, buckets);
}

static void test_bucket_count_covers_the_code(void)
{
	CHECK_EQ(28, prof_hist_buckets_for(CODE_START, CODE_END));
	CHECK_EQ(1, prof_hist_buckets_for(0x1000, 0x1001));
	CHECK_EQ(2, prof_hist_buckets_for(0x100f, 0x1011)); /* an unaligned start rounds down */
	CHECK_EQ(0, prof_hist_buckets_for(0x2000, 0x2000));
	CHECK_EQ(0, prof_hist_buckets_for(0x2000, 0x1000));
}

static void test_samples_land_in_their_bucket(void)
{
	setup();
	prof_hist_record(&h, CODE_START);	   /* bucket 0 */
	prof_hist_record(&h, CODE_START + 15);	   /* bucket 0 */
	prof_hist_record(&h, CODE_START + 16);	   /* bucket 1 */
	prof_hist_record(&h, CODE_END - 1);	   /* the last bucket */
	CHECK_EQ(2, buckets[0]);
	CHECK_EQ(1, buckets[1]);
	CHECK_EQ(1, buckets[27]);
	CHECK_EQ(0, h.counts.idle);
	CHECK_EQ(0, h.counts.outside);
	struct prof_counts c;
	CHECK_EQ(3, prof_hist_take(&h, snapshot, &c));
	CHECK_EQ(4, c.total);
}

static void test_idle_and_outside_take_no_bucket(void)
{
	setup();
	prof_hist_record(&h, IDLE_START);
	prof_hist_record(&h, IDLE_END - 1);
	prof_hist_record(&h, IDLE_END); /* the instruction after the halt's cli: busy */
	prof_hist_record(&h, CODE_START - 1);
	prof_hist_record(&h, CODE_END);
	prof_hist_record(&h, 0);
	prof_hist_record(&h, UINT64_MAX);
	CHECK_EQ(2, h.counts.idle);
	CHECK_EQ(4, h.counts.outside);
	uint32_t sum = 0;
	for (size_t i = 0; i < h.n_buckets; i++)
		sum += buckets[i];
	CHECK_EQ(1, sum);
	CHECK_EQ(1, buckets[(IDLE_END - CODE_START) / PROF_BUCKET_BYTES]);
	CHECK_EQ(0, buckets[28]); /* past the histogram: untouched */
	struct prof_counts c;
	prof_hist_take(&h, snapshot, &c);
	CHECK_EQ(7, c.total); /* each part once */
}

static void test_taking_a_window_starts_the_next_from_zero(void)
{
	setup();
	for (int i = 0; i < 5; i++)
		prof_hist_record(&h, CODE_START + 0x20);
	prof_hist_record(&h, IDLE_START);
	prof_hist_record(&h, 0);
	struct prof_counts c;
	CHECK_EQ(1, prof_hist_take(&h, snapshot, &c));
	CHECK_EQ(7, c.total);
	CHECK_EQ(1, c.idle);
	CHECK_EQ(1, c.outside);
	CHECK_EQ(5, snapshot[2]);
	for (size_t i = 0; i < h.n_buckets; i++)
		CHECK_EQ(0, buckets[i]);
	CHECK_EQ(0, h.counts.idle);
	CHECK_EQ(0, h.counts.outside);

	prof_hist_record(&h, CODE_START + 0x30);
	CHECK_EQ(1, prof_hist_take(&h, snapshot, &c));
	CHECK_EQ(1, c.total);
	CHECK_EQ(0, c.idle);
	CHECK_EQ(0, snapshot[2]);
	CHECK_EQ(1, snapshot[3]);
}

static void test_lines_in_address_order(void)
{
	setup();
	prof_hist_record(&h, CODE_END - 3);
	prof_hist_record(&h, CODE_START + 0x25);
	prof_hist_record(&h, CODE_START + 0x21);
	struct prof_counts c;
	CHECK_EQ(2, prof_hist_take(&h, snapshot, &c));
	char buf[2 * PROF_LINE_MAX + 1];
	size_t len = prof_hist_format(&h, snapshot, buf, sizeof(buf));
	CHECK_STR_EQ("sample 0x0000000000100060 2\n"
		     "sample 0x00000000001001f0 1\n", buf);
	CHECK_EQ(strlen(buf), len);
}

static void test_a_short_buffer_gets_whole_lines(void)
{
	setup();
	for (unsigned i = 0; i < 3; i++)
		prof_hist_record(&h, CODE_START + i * 0x40);
	struct prof_counts c;
	CHECK_EQ(3, prof_hist_take(&h, snapshot, &c));
	char buf[64];
	size_t len = prof_hist_format(&h, snapshot, buf, 50); /* room for one line and a half */
	CHECK_STR_EQ("sample 0x0000000000100040 1\n", buf);
	CHECK_EQ(28, len);
	CHECK_EQ(0, prof_hist_format(&h, snapshot, buf, 28)); /* the NUL needs a byte too */
	CHECK_STR_EQ("", buf);
	CHECK_EQ(0, prof_hist_format(&h, snapshot, buf, 0));
}

static void test_large_counts_fit_a_line(void)
{
	setup();
	buckets[5] = UINT32_MAX;
	struct prof_counts c;
	prof_hist_take(&h, snapshot, &c);
	char buf[PROF_LINE_MAX + 1];
	size_t len = prof_hist_format(&h, snapshot, buf, sizeof(buf));
	CHECK_STR_EQ("sample 0x0000000000100090 4294967295\n", buf);
	CHECK(len <= PROF_LINE_MAX);
}

int main(void)
{
	RUN(test_bucket_count_covers_the_code);
	RUN(test_samples_land_in_their_bucket);
	RUN(test_idle_and_outside_take_no_bucket);
	RUN(test_taking_a_window_starts_the_next_from_zero);
	RUN(test_lines_in_address_order);
	RUN(test_a_short_buffer_gets_whole_lines);
	RUN(test_large_counts_fit_a_line);
	return check_report("test_profile_hist");
}
