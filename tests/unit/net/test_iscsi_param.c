/* Host tests of text parsing and operational key negotiation (net/iscsi_param.c). */
#include "check.h"
#include "iscsi_priv.h"

#include <errno.h>

static struct iscsi_limits ours = {
	.max_recv_data_segment_length = 262144, .max_burst_length = 1048576,
	.first_burst_length = 65536, .max_outstanding_r2t = 4,
};

/* Negotiates one key on fresh parameters; returns the answer text ("" when none). */
static const char *answer(struct iscsi_params *p, const char *key, const char *value)
{
	static char buf[256];
	struct iscsi_text_buf out;
	iscsi_params_init(p, &ours);
	iscsi_text_init(&out, 4096);
	int rc = iscsi_param_negotiate(p, &ours, key, value, &out);
	CHECK(rc >= 0);
	snprintf(buf, sizeof(buf), "%s", out.len ? out.buf : "");
	iscsi_text_free(&out);
	return buf;
}

static void test_defaults_are_rfc_defaults(void)
{
	struct iscsi_params p;
	iscsi_params_init(&p, &ours);
	CHECK_EQ(8192, p.initiator_mrdsl);
	CHECK_EQ(262144, p.max_burst_length);
	CHECK_EQ(65536, p.first_burst_length);
	CHECK(p.immediate_data);
	CHECK(p.initial_r2t);
	CHECK_EQ(1, p.max_outstanding_r2t);
	CHECK(!p.header_digest);
	CHECK(!p.data_digest);
	CHECK_EQ(0, p.error_recovery_level);
}

static void test_header_digest_picks_first_supported(void)
{
	struct iscsi_params p;
	CHECK_STR_EQ("HeaderDigest=CRC32C", answer(&p, "HeaderDigest", "CRC32C,None"));
	CHECK(p.header_digest);
	CHECK_STR_EQ("HeaderDigest=None", answer(&p, "HeaderDigest", "None,CRC32C"));
	CHECK(!p.header_digest);
	CHECK_STR_EQ("HeaderDigest=None", answer(&p, "HeaderDigest", "MD5,None"));
	CHECK_STR_EQ("HeaderDigest=Reject", answer(&p, "HeaderDigest", "MD5"));
}

static void test_data_digest(void)
{
	struct iscsi_params p;
	CHECK_STR_EQ("DataDigest=CRC32C", answer(&p, "DataDigest", "CRC32C"));
	CHECK(p.data_digest);
}

static void test_mrdsl_is_declarative_per_direction(void)
{
	struct iscsi_params p;
	CHECK_STR_EQ("", answer(&p, "MaxRecvDataSegmentLength", "512"));
	CHECK_EQ(512, p.initiator_mrdsl);       /* caps what we send */
	CHECK_EQ(262144, p.target_mrdsl);       /* ours, unchanged */
	CHECK_STR_EQ("MaxRecvDataSegmentLength=Reject", answer(&p, "MaxRecvDataSegmentLength", "100"));
	CHECK_EQ(8192, p.initiator_mrdsl);
}

static void test_finish_declares_our_mrdsl_once(void)
{
	struct iscsi_params p;
	struct iscsi_text_buf out;
	iscsi_params_init(&p, &ours);
	iscsi_text_init(&out, 4096);
	CHECK_EQ(0, iscsi_params_finish(&p, &out));
	CHECK_STR_EQ("MaxRecvDataSegmentLength=262144", out.buf);
	uint32_t len = out.len;
	CHECK_EQ(0, iscsi_params_finish(&p, &out));
	CHECK_EQ(len, out.len);
	iscsi_text_free(&out);
}

static void test_burst_lengths_take_the_minimum(void)
{
	struct iscsi_params p;
	CHECK_STR_EQ("MaxBurstLength=131072", answer(&p, "MaxBurstLength", "131072"));
	CHECK_EQ(131072, p.max_burst_length);
	CHECK_STR_EQ("MaxBurstLength=1048576", answer(&p, "MaxBurstLength", "16776192"));
	CHECK_STR_EQ("FirstBurstLength=65536", answer(&p, "FirstBurstLength", "262144"));
	CHECK_STR_EQ("FirstBurstLength=4096", answer(&p, "FirstBurstLength", "4096"));
	CHECK_STR_EQ("MaxBurstLength=Reject", answer(&p, "MaxBurstLength", "abc"));
	CHECK_STR_EQ("MaxBurstLength=Reject", answer(&p, "MaxBurstLength", "100"));
}

static void test_first_burst_never_exceeds_max_burst(void)
{
	struct iscsi_params p;
	struct iscsi_text_buf out;
	iscsi_params_init(&p, &ours);
	iscsi_text_init(&out, 4096);
	iscsi_param_negotiate(&p, &ours, "MaxBurstLength", "16384", &out);
	iscsi_param_negotiate(&p, &ours, "FirstBurstLength", "65536", &out);
	iscsi_params_finish(&p, &out);
	CHECK_EQ(16384, p.max_burst_length);
	CHECK_EQ(16384, p.first_burst_length);
	iscsi_text_free(&out);
}

static void test_boolean_keys(void)
{
	struct iscsi_params p;
	CHECK_STR_EQ("ImmediateData=Yes", answer(&p, "ImmediateData", "Yes"));
	CHECK_STR_EQ("ImmediateData=No", answer(&p, "ImmediateData", "No"));
	CHECK(!p.immediate_data);
	CHECK_STR_EQ("InitialR2T=No", answer(&p, "InitialR2T", "No"));
	CHECK(!p.initial_r2t);
	CHECK_STR_EQ("InitialR2T=Yes", answer(&p, "InitialR2T", "Yes"));
	CHECK_STR_EQ("DataPDUInOrder=Yes", answer(&p, "DataPDUInOrder", "No"));
	CHECK_STR_EQ("DataSequenceInOrder=Yes", answer(&p, "DataSequenceInOrder", "No"));
	CHECK_STR_EQ("ImmediateData=Reject", answer(&p, "ImmediateData", "maybe"));
}

static void test_numeric_keys(void)
{
	struct iscsi_params p;
	CHECK_STR_EQ("MaxOutstandingR2T=4", answer(&p, "MaxOutstandingR2T", "16"));
	CHECK_EQ(4, p.max_outstanding_r2t);
	CHECK_STR_EQ("MaxOutstandingR2T=1", answer(&p, "MaxOutstandingR2T", "1"));
	CHECK_STR_EQ("DefaultTime2Wait=5", answer(&p, "DefaultTime2Wait", "5"));
	CHECK_STR_EQ("DefaultTime2Wait=2", answer(&p, "DefaultTime2Wait", "0"));
	CHECK_STR_EQ("DefaultTime2Retain=0", answer(&p, "DefaultTime2Retain", "20"));
	CHECK_STR_EQ("ErrorRecoveryLevel=0", answer(&p, "ErrorRecoveryLevel", "2"));
	CHECK_STR_EQ("MaxConnections=1", answer(&p, "MaxConnections", "8"));
	CHECK_STR_EQ("MaxBurstLength=4096", answer(&p, "MaxBurstLength", "0x1000"));
}

static void test_legacy_marker_keys_answered_no(void)
{
	struct iscsi_params p;
	CHECK_STR_EQ("IFMarker=No", answer(&p, "IFMarker", "Yes"));
	CHECK_STR_EQ("OFMarkInt=Irrelevant", answer(&p, "OFMarkInt", "2048~8192"));
}

static void test_unknown_key_left_to_caller(void)
{
	struct iscsi_params p;
	struct iscsi_text_buf out;
	iscsi_params_init(&p, &ours);
	iscsi_text_init(&out, 4096);
	CHECK_EQ(0, iscsi_param_negotiate(&p, &ours, "X-com.example.Foo", "1", &out));
	CHECK_EQ(0, out.len);
	iscsi_text_free(&out);
}

static void test_irrelevant_and_notunderstood_keep_defaults(void)
{
	struct iscsi_params p;
	CHECK_STR_EQ("", answer(&p, "MaxBurstLength", "NotUnderstood"));
	CHECK_EQ(262144, p.max_burst_length);
	CHECK_STR_EQ("", answer(&p, "DefaultTime2Retain", "Irrelevant"));
}

struct seen {
	int n;
	char keys[8][64], values[8][64];
};

static int record(void *ctx, const char *key, const char *value)
{
	struct seen *s = ctx;
	if (s->n < 8) {
		snprintf(s->keys[s->n], 64, "%s", key);
		snprintf(s->values[s->n], 64, "%s", value);
	}
	s->n++;
	return 0;
}

static void test_parse_pairs(void)
{
	char buf[] = "A=1\0B=\0C=x=y\0\0";
	struct seen s = { 0 };
	CHECK_EQ(0, iscsi_text_parse(buf, sizeof(buf) - 1, record, &s));
	CHECK_EQ(3, s.n);
	CHECK_STR_EQ("A", s.keys[0]);
	CHECK_STR_EQ("1", s.values[0]);
	CHECK_STR_EQ("", s.values[1]);
	CHECK_STR_EQ("C", s.keys[2]);
	CHECK_STR_EQ("x=y", s.values[2]); /* only the first '=' separates */
}

static void test_parse_rejects_pair_without_equals(void)
{
	char buf[] = "A=1\0garbage\0";
	struct seen s = { 0 };
	CHECK_EQ(-EINVAL, iscsi_text_parse(buf, sizeof(buf) - 1, record, &s));
}

static void test_parse_rejects_missing_final_nul(void)
{
	char buf[] = "A=1\0B=2";
	struct seen s = { 0 };
	CHECK_EQ(-EINVAL, iscsi_text_parse(buf, sizeof(buf) - 1, record, &s));
}

static void test_parse_rejects_empty_or_long_key(void)
{
	char buf[] = "=1\0";
	struct seen s = { 0 };
	CHECK_EQ(-EINVAL, iscsi_text_parse(buf, sizeof(buf) - 1, record, &s));
	char longkey[100];
	memset(longkey, 'k', 70);
	memcpy(longkey + 70, "=v", 3);
	CHECK_EQ(-EINVAL, iscsi_text_parse(longkey, 73, record, &s));
}

static void test_text_buffer_is_bounded(void)
{
	struct iscsi_text_buf t;
	iscsi_text_init(&t, 16);
	CHECK_EQ(0, iscsi_text_add(&t, "A", "12345"));
	CHECK_EQ(-ENOSPC, iscsi_text_add(&t, "B", "1234567890"));
	CHECK_EQ(8, t.len);
	iscsi_text_free(&t);
}

int main(void)
{
	RUN(test_defaults_are_rfc_defaults);
	RUN(test_header_digest_picks_first_supported);
	RUN(test_data_digest);
	RUN(test_mrdsl_is_declarative_per_direction);
	RUN(test_finish_declares_our_mrdsl_once);
	RUN(test_burst_lengths_take_the_minimum);
	RUN(test_first_burst_never_exceeds_max_burst);
	RUN(test_boolean_keys);
	RUN(test_numeric_keys);
	RUN(test_legacy_marker_keys_answered_no);
	RUN(test_unknown_key_left_to_caller);
	RUN(test_irrelevant_and_notunderstood_keep_defaults);
	RUN(test_parse_pairs);
	RUN(test_parse_rejects_pair_without_equals);
	RUN(test_parse_rejects_missing_final_nul);
	RUN(test_parse_rejects_empty_or_long_key);
	RUN(test_text_buffer_is_bounded);
	return check_report("test_iscsi_param");
}
