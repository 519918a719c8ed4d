/*
 * Network bring-up: see net_init.h. The netif's status callback notices when an
 * address becomes valid (DHCP bind or static set-up), prints it once and runs the
 * registered callbacks; DHCP keeps renewing from lwIP's timers afterwards.
 */
#include "net_init.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "lwip/dhcp.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/timeouts.h"
#include "net_config.h"

#define MAX_BOUND_CALLBACKS 4
#define DHCP_WARN_MS        10000 /* tell the console when DHCP has no answer by then */

struct bound_callback {
	void (*fn)(void *ctx, uint32_t addr);
	void *ctx;
};

static struct {
	struct netif netif;
	bool started;
	bool bound;
	uint16_t service_port;
	struct bound_callback callbacks[MAX_BOUND_CALLBACKS];
	unsigned n_callbacks;
} net;

static uint32_t bound_address(void)
{
	return lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(&net.netif)));
}

static void status_changed(struct netif *netif)
{
	if (net.bound || !netif_is_up(netif) || ip4_addr_isany_val(*netif_ip4_addr(netif)))
		return;
	net.bound = true;
	char ip[16];
	printf("net: %s:%u\n", net_format_ipv4(bound_address(), ip), net.service_port);
	for (unsigned i = 0; i < net.n_callbacks; i++)
		net.callbacks[i].fn(net.callbacks[i].ctx, bound_address());
}

int net_on_bound(void (*fn)(void *ctx, uint32_t addr), void *ctx)
{
	if (net.n_callbacks == MAX_BOUND_CALLBACKS)
		return -ENOSPC;
	net.callbacks[net.n_callbacks++] = (struct bound_callback){fn, ctx};
	if (net.bound)
		fn(ctx, bound_address());
	return 0;
}

static void set_static(const struct net_config *cfg)
{
	ip4_addr_t addr, mask, gw;
	ip4_addr_set_u32(&addr, lwip_htonl(cfg->addr));
	ip4_addr_set_u32(&mask, lwip_htonl(cfg->netmask));
	ip4_addr_set_u32(&gw, lwip_htonl(cfg->gateway));
	netif_set_addr(&net.netif, &addr, &mask, &gw);
}

/* DHCP keeps trying in the background; the operator should know why nothing binds. */
static void dhcp_warn(void *arg)
{
	(void)arg;
	if (!net.bound)
		printf("net: no DHCP answer yet (still asking; ip= sets a static address)\n");
}

int net_start(void *driver_state, netif_init_fn init, const struct net_config *cfg,
	      uint16_t service_port)
{
	if (net.started)
		return -EBUSY;
	net.service_port = service_port;
	if (netif_add(&net.netif, NULL, NULL, NULL, driver_state, init, netif_input) == NULL) {
		printf("net: the network device did not initialise\n");
		return -ENODEV;
	}
	net.started = true;
	net.bound = false;
	netif_set_hostname(&net.netif, "qedbox");
	netif_set_status_callback(&net.netif, status_changed);
	netif_set_default(&net.netif);
	if (!cfg->dhcp)
		set_static(cfg);
	netif_set_up(&net.netif);
	if (cfg->dhcp && dhcp_start(&net.netif) != ERR_OK) {
		printf("net: DHCP did not start\n");
		return -ENOMEM;
	}
	if (cfg->dhcp)
		sys_timeout(DHCP_WARN_MS, dhcp_warn, NULL);
	return 0;
}
