/* Host tests of the serving keys' parser (boot/serve_keys.c). */
#include <errno.h>

#include "check.h"
#include "serve_keys.h"

/* A command line of key=value pairs, looked up as config_get() would. */
static const char *const *line;

static const char *lookup(const char *key)
{
	for (const char *const *kv = line; kv && kv[0]; kv += 2)
		if (strcmp(kv[0], key) == 0)
			return kv[1];
	return NULL;
}

static int parse(struct serve_keys *k, const char *const *kv, char *err)
{
	line = kv;
	return serve_keys_parse(k, lookup, err, 128);
}

static void test_defaults(void)
{
	struct serve_keys k;
	char err[128];
	CHECK_EQ(0, parse(&k, NULL, err));
	CHECK_STR_EQ(SERVE_DEFAULT_IQN_PREFIX, k.iqn_prefix);
	CHECK_EQ(3260, k.port);
	CHECK_EQ(65536, k.cluster_size);
	CHECK_EQ(0, k.n_format);
	CHECK_EQ(0, k.n_acl);
	CHECK_STR_EQ("", k.chap_secret);
	CHECK_STR_EQ("", k.portal);
}

static void test_every_key(void)
{
	static const char *const kv[] = {
		"iqn_prefix", "iqn.2001-04.com.example:box", "format", "a,bb,c",
		"cluster_size", "4K", "acl", "a/iqn.1994-05.com.redhat:x,c/iqn.y:z",
		"chap", "alice:twelve-bytes!", "mutual_chap", "tgt:another-secret",
		"portal", "127.0.0.1:13260", "iscsi_port", "860", NULL,
	};
	struct serve_keys k;
	char err[128];
	CHECK_EQ(0, parse(&k, kv, err));
	CHECK_STR_EQ("iqn.2001-04.com.example:box", k.iqn_prefix);
	CHECK_EQ(3, k.n_format);
	CHECK(serve_keys_formats(&k, "bb"));
	CHECK(!serve_keys_formats(&k, "b"));
	CHECK_EQ(4096, k.cluster_size);
	CHECK_EQ(2, k.n_acl);
	CHECK_STR_EQ("c", k.acl[1].serial);
	CHECK_STR_EQ("iqn.y:z", k.acl[1].initiator);
	CHECK_STR_EQ("alice", k.chap_user);
	CHECK_STR_EQ("twelve-bytes!", k.chap_secret);
	CHECK_STR_EQ("tgt", k.mutual_user);
	CHECK_STR_EQ("127.0.0.1:13260", k.portal);
	CHECK_EQ(860, k.port);
}

/* Each malformed value is refused with its key named, and the default stays. */
static void expect_refused(const char *key, const char *value)
{
	const char *kv[] = { key, value, NULL };
	struct serve_keys k;
	char err[128];
	CHECK_EQ(-EINVAL, parse(&k, kv, err));
	if (strncmp(err, key, strlen(key)) != 0)
		CHECK_STR_EQ(key, err);
}

static void test_malformed_values(void)
{
	expect_refused("iqn_prefix", "example.com");
	expect_refused("format", "a,,b");
	expect_refused("format", "serial-longer-than-twenty-bytes");
	expect_refused("cluster_size", "3K");
	expect_refused("cluster_size", "2K");
	expect_refused("cluster_size", "128M");
	expect_refused("cluster_size", "64Q");
	expect_refused("acl", "no-slash");
	expect_refused("acl", "/iqn.x:y");
	expect_refused("acl", "a/");
	expect_refused("chap", "alice");
	expect_refused("chap", "alice:short");
	expect_refused("chap", ":twelve-bytes!");
	expect_refused("mutual_chap", "tgt:another-secret"); /* without chap */
	expect_refused("iscsi_port", "0");
	expect_refused("iscsi_port", "65536");
	expect_refused("iscsi_port", "http");
	expect_refused("portal", "");
}

static void test_parse_size(void)
{
	uint64_t v;
	CHECK_EQ(0, serve_parse_size("4096", &v));
	CHECK_EQ(4096, v);
	CHECK_EQ(0, serve_parse_size("64M", &v));
	CHECK_EQ(64 << 20, v);
	CHECK_EQ(0, serve_parse_size("2g", &v));
	CHECK_EQ(2ull << 30, v);
	CHECK_EQ(-EINVAL, serve_parse_size("", &v));
	CHECK_EQ(-EINVAL, serve_parse_size("-1", &v));
	CHECK_EQ(-EINVAL, serve_parse_size("1KB", &v));
	CHECK_EQ(-EINVAL, serve_parse_size("99999999999999999999", &v));
	CHECK_EQ(-EINVAL, serve_parse_size("17000000T", &v));
}

int main(void)
{
	RUN(test_defaults);
	RUN(test_every_key);
	RUN(test_malformed_values);
	RUN(test_parse_size);
	return check_report("test_serve_keys");
}
