/* Host tests of net/net_config.c: the ip= and gw= command-line keys. */
#include "net_config.h"

#include <errno.h>

#include "check.h"

static void test_no_ip_means_dhcp(void)
{
	struct net_config cfg;
	char err[128] = "";
	CHECK_EQ(0, net_config_parse(NULL, NULL, &cfg, err, sizeof err));
	CHECK(cfg.dhcp);
	CHECK_EQ(0, cfg.addr);
}

static void test_static_with_prefix_and_gateway(void)
{
	struct net_config cfg;
	char err[128] = "";
	CHECK_EQ(0, net_config_parse("10.0.2.15/24", "10.0.2.2", &cfg, err, sizeof err));
	CHECK(!cfg.dhcp);
	CHECK_EQ(0x0a00020f, cfg.addr);
	CHECK_EQ(0xffffff00, cfg.netmask);
	CHECK_EQ(0x0a000202, cfg.gateway);
}

static void test_prefix_defaults_to_24_and_bounds(void)
{
	uint32_t addr, mask;
	CHECK_EQ(0, net_parse_ipv4_prefix("192.168.1.7", &addr, &mask));
	CHECK_EQ(0xffffff00, mask);
	CHECK_EQ(0, net_parse_ipv4_prefix("192.168.1.7/32", &addr, &mask));
	CHECK_EQ(0xffffffff, mask);
	CHECK_EQ(0, net_parse_ipv4_prefix("192.168.1.7/1", &addr, &mask));
	CHECK_EQ(0x80000000, mask);
	CHECK_EQ(-EINVAL, net_parse_ipv4_prefix("192.168.1.7/0", &addr, &mask));
	CHECK_EQ(-EINVAL, net_parse_ipv4_prefix("192.168.1.7/33", &addr, &mask));
	CHECK_EQ(-EINVAL, net_parse_ipv4_prefix("192.168.1.7/", &addr, &mask));
}

static void test_malformed_addresses_rejected(void)
{
	static const char *const bad[] = {
	    "",	      "1.2.3",	  "1.2.3.4.5",	"256.1.1.1", "1.2.3.4x", " 1.2.3.4",
	    "1..2.3", "-1.2.3.4", "1.2.3.0004", "a.b.c.d",   "1.2.3.",
	};
	uint32_t addr;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (net_parse_ipv4(bad[i], &addr) != -EINVAL) {
			fprintf(stderr, "accepted \"%s\"\n", bad[i]);
			CHECK(!"malformed address accepted");
		}
	}
	CHECK_EQ(0, net_parse_ipv4("0.0.0.0", &addr));
	CHECK_EQ(0, addr);
	CHECK_EQ(0, net_parse_ipv4("255.255.255.255", &addr));
	CHECK_EQ(0xffffffff, addr);
}

static void test_bad_values_explained(void)
{
	struct net_config cfg;
	char err[128] = "";
	CHECK_EQ(-EINVAL, net_config_parse("10.0.2.300", NULL, &cfg, err, sizeof err));
	CHECK(strstr(err, "ip=10.0.2.300") != NULL);
	CHECK_EQ(-EINVAL, net_config_parse("10.0.2.15", "gw", &cfg, err, sizeof err));
	CHECK(strstr(err, "gw=gw") != NULL);
	CHECK_EQ(-EINVAL, net_config_parse("10.0.2.255/24", NULL, &cfg, err, sizeof err));
	CHECK(strstr(err, "not a host address") != NULL);
	CHECK_EQ(-EINVAL, net_config_parse("0.0.0.0/8", NULL, &cfg, err, sizeof err));
}

static void test_format_round_trips(void)
{
	char buf[16];
	uint32_t addr;
	CHECK_STR_EQ("10.0.2.15", net_format_ipv4(0x0a00020f, buf));
	CHECK_STR_EQ("255.255.255.255", net_format_ipv4(0xffffffff, buf));
	CHECK_EQ(0, net_parse_ipv4(buf, &addr));
	CHECK_EQ(0xffffffff, addr);
}

int main(void)
{
	RUN(test_no_ip_means_dhcp);
	RUN(test_static_with_prefix_and_gateway);
	RUN(test_prefix_defaults_to_24_and_bounds);
	RUN(test_malformed_addresses_rejected);
	RUN(test_bad_values_explained);
	RUN(test_format_round_trips);
	return check_report("test_net_config");
}
