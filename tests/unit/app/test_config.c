/* Host tests of the typed configuration (app/config.c): defaults, every key, refusals. */
#include <errno.h>

#include "check.h"
#include "config.h"

static struct config_text text;
static struct qedbox_config cfg;
static char reports[8][200];
static unsigned n_reports;

static void collect(void *ctx, const char *line)
{
	(void)ctx;
	if (n_reports < 8)
		snprintf(reports[n_reports], sizeof(reports[0]), "%s", line);
	n_reports++;
}

/* Loads cmdline; returns the number of problems reported. */
static unsigned load(const char *cmdline)
{
	n_reports = 0;
	CHECK_EQ(0, config_text_parse(&text, cmdline));
	unsigned problems = config_load(&cfg, &text, collect, NULL);
	CHECK_EQ(n_reports, problems);
	return problems;
}

static void test_defaults(void)
{
	CHECK_EQ(0, load(""));
	CHECK_STR_EQ(CONFIG_DEFAULT_IQN_PREFIX, cfg.iqn_prefix);
	CHECK_EQ(3260, cfg.iscsi_port);
	CHECK_EQ(65536, cfg.cluster_size);
	CHECK_EQ(0, cfg.n_format);
	CHECK_EQ(0, cfg.n_acl);
	CHECK_STR_EQ("", cfg.chap.secret);
	CHECK_STR_EQ("", cfg.portal);
	CHECK(cfg.net.dhcp);
	CHECK(cfg.net_ok);
	CHECK(!cfg.debug_exit);
	CHECK_EQ(POWEROFF_NEVER, cfg.poweroff);
	CHECK_EQ(0, cfg.looptest);
	CHECK_EQ(0, cfg.tcp_echo_port);
	CHECK_EQ(0, cfg.profile_hz); /* the profiler is off unless asked for */
	CHECK_EQ(3270, cfg.profile_port);
	CHECK_EQ(80, cfg.http_port); /* the web server is on by default */
	CHECK_STR_EQ("", cfg.admin_token); /* and refuses every action */
	CHECK_EQ(0, cfg.n_http_allow);
	CHECK(!cfg.write_through); /* a volatile cache, flushed when the initiator asks */
}

static void test_every_key(void)
{
	CHECK_EQ(0, load("iqn_prefix=iqn.2001-04.com.example:box format=a,bb,c cluster_size=4K "
			 "acl=a/iqn.1994-05.com.redhat:x,c/iqn.y:z chap=alice:twelve-bytes! "
			 "mutual_chap=tgt:another-secret portal=127.0.0.1:13260 iscsi_port=860 "
			 "exit=debug poweroff=idle looptest=10 crashtest=pf mmiotest help "
			 "selftest=scratch ip=10.0.2.15/24 gw=10.0.2.2 tcp_echo=7 iperf write_cache=off"));
	CHECK_STR_EQ("iqn.2001-04.com.example:box", cfg.iqn_prefix);
	CHECK_EQ(3, cfg.n_format);
	CHECK(config_formats(&cfg, "bb"));
	CHECK(!config_formats(&cfg, "b"));
	CHECK_EQ(4096, cfg.cluster_size);
	CHECK(cfg.write_through);
	CHECK_EQ(2, cfg.n_acl);
	CHECK_STR_EQ("c", cfg.acl[1].serial);
	CHECK_STR_EQ("iqn.y:z", cfg.acl[1].initiator);
	CHECK_STR_EQ("alice", cfg.chap.user);
	CHECK_STR_EQ("twelve-bytes!", cfg.chap.secret);
	CHECK_STR_EQ("tgt", cfg.mutual_chap.user);
	CHECK_STR_EQ("127.0.0.1:13260", cfg.portal);
	CHECK_EQ(860, cfg.iscsi_port);
	CHECK(cfg.debug_exit);
	CHECK_EQ(POWEROFF_IDLE, cfg.poweroff);
	CHECK_EQ(10, cfg.looptest);
	CHECK_STR_EQ("pf", cfg.crashtest);
	CHECK(cfg.mmiotest);
	CHECK(cfg.help);
	CHECK_STR_EQ("scratch", cfg.selftest);
	CHECK(!cfg.net.dhcp);
	CHECK_EQ(0x0a00020f, cfg.net.addr);
	CHECK_EQ(0xffffff00, cfg.net.netmask);
	CHECK_EQ(0x0a000202, cfg.net.gateway);
	CHECK_EQ(7, cfg.tcp_echo_port);
	CHECK(cfg.iperf);
}

/* A malformed value is reported with its key named, and the default stays. */
static void expect_refused(const char *setting, const char *key)
{
	char expected[64];
	snprintf(expected, sizeof(expected), "command line: %s", key);
	CHECK_EQ(1, load(setting));
	if (strncmp(reports[0], expected, strlen(expected)) != 0)
		CHECK_STR_EQ(expected, reports[0]);
}

static void test_malformed_values(void)
{
	expect_refused("iqn_prefix=example.com", "iqn_prefix");
	expect_refused("format=a,,b", "format");
	CHECK_EQ(0, cfg.n_format); /* a list is taken whole or not at all */
	expect_refused("format=serial-longer-than-twenty-bytes", "format");
	expect_refused("cluster_size=3K", "cluster_size");
	expect_refused("cluster_size=2K", "cluster_size");
	expect_refused("cluster_size=128M", "cluster_size");
	expect_refused("cluster_size=64Q", "cluster_size");
	CHECK_EQ(65536, cfg.cluster_size);
	expect_refused("acl=no-slash", "acl");
	expect_refused("acl=/iqn.x:y", "acl");
	expect_refused("acl=a/", "acl");
	expect_refused("acl=a/iqn.x:y,bad", "acl");
	CHECK_EQ(0, cfg.n_acl); /* a partial list would let in whoever the rest kept out */
	expect_refused("chap=alice", "chap");
	expect_refused("chap=alice:short", "chap");
	expect_refused("chap=:twelve-bytes!", "chap");
	CHECK_STR_EQ("", cfg.chap.secret);
	expect_refused("mutual_chap=tgt:another-secret", "mutual_chap"); /* without chap */
	CHECK_STR_EQ("", cfg.mutual_chap.secret);
	expect_refused("iscsi_port=0", "iscsi_port");
	expect_refused("iscsi_port=65536", "iscsi_port");
	expect_refused("iscsi_port=http", "iscsi_port");
	expect_refused("iscsi_port=1K", "iscsi_port"); /* a port is a plain number */
	CHECK_EQ(3260, cfg.iscsi_port);
	expect_refused("portal=", "portal");
	expect_refused("exit=yes", "exit");
	expect_refused("poweroff=later", "poweroff");
	expect_refused("write_cache=no", "write_cache");
	expect_refused("looptest=many", "looptest");
	expect_refused("crashtest=boom", "crashtest");
	expect_refused("tcp_echo=0", "tcp_echo");
	expect_refused("selftest=", "selftest");
}

static void test_profile_rate(void)
{
	CHECK_EQ(0, load("profile"));
	CHECK_EQ(1000, cfg.profile_hz);
	CHECK_EQ(0, load("profile=20 profile_port=9000"));
	CHECK_EQ(20, cfg.profile_hz);
	CHECK_EQ(9000, cfg.profile_port);
	CHECK_EQ(0, load("profile=10000"));
	CHECK_EQ(10000, cfg.profile_hz);
	expect_refused("profile=19", "profile");
	expect_refused("profile=10001", "profile");
	expect_refused("profile=-5", "profile");
	expect_refused("profile=1k", "profile");
	CHECK_EQ(0, cfg.profile_hz);
	expect_refused("profile_port=0", "profile_port");
	CHECK_EQ(3270, cfg.profile_port);
}

/* A malformed address turns networking off instead of falling back to DHCP. */
static void test_bad_address_turns_networking_off(void)
{
	expect_refused("ip=10.0.2.300", "ip=10.0.2.300: expected a.b.c.d or a.b.c.d/len");
	CHECK(!cfg.net_ok);
	expect_refused("ip=10.0.2.15 gw=10.0.2", "gw=10.0.2");
	CHECK(!cfg.net_ok);
}

static void test_acl_entries_with_credentials(void)
{
	CHECK_EQ(0, load("acl=vol0/iqn.a:x/alice:secret-of-alice/tgt:mutual-secret-1,"
			 "vol1/iqn.b:y/bob:secret-of-bob-1,vol1/iqn.c:z discovery_chap=d:discovery-secret"));
	CHECK(cfg.access_ok);
	CHECK_EQ(3, cfg.n_acl);
	CHECK_STR_EQ("alice", cfg.acl[0].chap.user);
	CHECK_STR_EQ("secret-of-alice", cfg.acl[0].chap.secret);
	CHECK_STR_EQ("tgt", cfg.acl[0].mutual.user);
	CHECK_STR_EQ("mutual-secret-1", cfg.acl[0].mutual.secret);
	CHECK_STR_EQ("secret-of-bob-1", cfg.acl[1].chap.secret);
	CHECK_STR_EQ("", cfg.acl[1].mutual.secret);
	CHECK_STR_EQ("iqn.c:z", cfg.acl[2].initiator);
	CHECK_STR_EQ("", cfg.acl[2].chap.secret);
	CHECK_STR_EQ("discovery-secret", cfg.discovery_chap.secret);
}

/* A refused access key serves nothing, rather than serving more openly than asked. */
static void test_bad_access_keys_fail_closed(void)
{
	static const char *const bad[] = {
		"acl=vol0/iqn.a:x/alice:short", "acl=vol0/iqn.a:x/alice:secret-of-alice/m:short",
		"acl=vol0/iqn.a:x/a:secret-of-alice/m:secret-of-mutual/extra", "chap=alice",
		"discovery_chap=d", "chap=alice:secret-of-alice mutual_chap=bob:secret-of-alice",
		"acl=v/iqn.a:x/a:same-secret-here/b:same-secret-here",
		"chap=a:other-secret-1 mutual_chap=m:same-secret-here acl=v/iqn.a:x/c:same-secret-here",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(load(bad[i]) >= 1);
		if (cfg.access_ok)
			CHECK_STR_EQ("access_ok false", bad[i]);
	}
	CHECK(strstr(reports[0], "same secret") != NULL);
	CHECK(strstr(reports[0], "no volume is served") != NULL);
}

/* What the console may show of the configuration: no secret. */
static void test_web_server_keys(void)
{
	CHECK_EQ(0, load("http=8080 admin_token=0123456789abcdef "
			 "http_allow=10.0.2.0/24,192.168.1.7,0.0.0.0/0"));
	CHECK_EQ(8080, cfg.http_port);
	CHECK_STR_EQ("0123456789abcdef", cfg.admin_token);
	CHECK_EQ(3, cfg.n_http_allow);
	CHECK_EQ(0x0a000200, cfg.http_allow[0].addr);
	CHECK_EQ(0xffffff00, cfg.http_allow[0].mask);
	CHECK_EQ(0xc0a80107, cfg.http_allow[1].addr);
	CHECK_EQ(0xffffffff, cfg.http_allow[1].mask);
	CHECK_EQ(0, cfg.http_allow[2].mask);
	CHECK_EQ(0, load("http=off http_allow=10.1.2.3/8"));
	CHECK_EQ(0, cfg.http_port);
	CHECK_EQ(0x0a000000, cfg.http_allow[0].addr); /* host bits dropped */
	char token[CONFIG_TOKEN_MAX + 2];
	memset(token, 'T', CONFIG_TOKEN_MAX);
	strcpy(token + CONFIG_TOKEN_MAX, "");
	char line[200];
	snprintf(line, sizeof(line), "admin_token=%s", token);
	CHECK_EQ(0, load(line));
	CHECK_EQ(CONFIG_TOKEN_MAX, strlen(cfg.admin_token));
}

static void test_web_server_keys_refused(void)
{
	expect_refused("http=0", "http");
	expect_refused("http=on", "http");
	CHECK_EQ(80, cfg.http_port);
	expect_refused("admin_token=fifteen-chars-x", "admin_token");
	CHECK_STR_EQ("", cfg.admin_token); /* no token: the actions stay refused */
	CHECK(strstr(reports[0], "(no action is allowed)") != NULL);
	char line[200] = "admin_token=";
	memset(line + 12, 'T', CONFIG_TOKEN_MAX + 1);
	line[12 + CONFIG_TOKEN_MAX + 1] = '\0';
	expect_refused(line, "admin_token");
	expect_refused("admin_token=\"sixteen chars here\"", "admin_token");
	static const char *const ranges[] = { "10.0.2.0/33", "10.0.2", "10.0.2.0/", "10.0.2.0/x",
					      "256.0.0.0/8", "10.0.2.0/24,", " 10.0.2.0/24" };
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		snprintf(line, sizeof(line), "http_allow=\"%s\"", ranges[i]);
		expect_refused(line, "http_allow");
		/* rather than show the pages to everyone, the server stays off */
		CHECK_EQ(0, cfg.http_port);
		CHECK_EQ(0, cfg.n_http_allow);
		CHECK(strstr(reports[0], "(the web server is off)") != NULL);
	}
}

static void test_describe_masks_secrets(void)
{
	char out[512];
	CHECK_EQ(0, config_text_parse(&text, "exit=debug chap=alice:secret-of-alice "
					   "acl=v0/iqn.a:x/b:secret-of-bob-1/m:mutual-secret-1,v1/iqn.b:y "
					   "mutual_chap=tgt:mutual-secret-2 poweroff "
					   "admin_token=secret-token-0123456789"));
	config_describe(&text, CONFIG_SOURCE_CMDLINE, out, sizeof(out));
	CHECK_STR_EQ("exit=debug chap=alice:*** acl=v0/iqn.a:x/b:***/m:***,v1/iqn.b:y "
		     "mutual_chap=tgt:*** poweroff admin_token=***", out);
	CHECK(strstr(out, "secret") == NULL);
}

static void test_unknown_keys_reported(void)
{
	CHECK_EQ(2, load("bogus=1 exit=debug other"));
	CHECK_STR_EQ("command line: unknown key 'bogus' (ignored)", reports[0]);
	CHECK_STR_EQ("command line: unknown key 'other' (ignored)", reports[1]);
	CHECK(cfg.debug_exit);
}

static void test_last_repeat_wins(void)
{
	CHECK_EQ(0, load("format=a format=b,c iscsi_port=1 iscsi_port=2"));
	CHECK_EQ(2, cfg.n_format);
	CHECK_STR_EQ("b", cfg.format[0]);
	CHECK_EQ(2, cfg.iscsi_port);
}

static unsigned help_lines;
static void count_line(void *ctx, const char *line)
{
	(void)ctx;
	CHECK(strncmp(line, "  ", 2) == 0);
	help_lines++;
}

static void test_help_lists_every_key(void)
{
	help_lines = 0;
	config_print_keys(count_line, NULL);
	CHECK_EQ(26, help_lines);
}

int main(void)
{
	RUN(test_defaults);
	RUN(test_every_key);
	RUN(test_malformed_values);
	RUN(test_profile_rate);
	RUN(test_bad_address_turns_networking_off);
	RUN(test_acl_entries_with_credentials);
	RUN(test_bad_access_keys_fail_closed);
	RUN(test_web_server_keys);
	RUN(test_web_server_keys_refused);
	RUN(test_describe_masks_secrets);
	RUN(test_unknown_keys_reported);
	RUN(test_last_repeat_wins);
	RUN(test_help_lists_every_key);
	return check_report("test_config");
}
