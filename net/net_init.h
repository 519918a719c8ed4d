/*
 * Bringing up the network (firmware only): one lwIP netif on top of a network driver,
 * addressed by DHCP or statically as the configuration says (net_config.h).
 *
 * Start-up, once the driver found its device:
 *     lwip_port_init();                                     // once, before any netif/pcb
 *     net_start(driver_state, virtio_net_netif_init, &cfg, 3260);  // netif + addressing
 *     net_on_bound(fn, ctx);                                // optional: called at bind
 * When an address is bound, "net: <ip>:<service_port>" is printed on the console (where
 * initiators should connect) and every net_on_bound callback runs once. TCP listeners
 * can be opened before that (bound to IP_ANY_TYPE).
 */
#ifndef QEDBOX_NET_INIT_H
#define QEDBOX_NET_INIT_H

#include <stdint.h>

#include "lwip/netif.h"
#include "net_config.h"

/* Adds the netif driven by init/state, makes it the default and up, starts DHCP or
 * sets the static address of cfg. 0, -EBUSY (already started), -ENODEV (the driver's
 * init failed) or -ENOMEM (DHCP did not start). */
int net_start(void *driver_state, netif_init_fn init, const struct net_config *cfg,
	      uint16_t service_port);

/* Registers fn(ctx, addr) to run once when the address is bound (at once if it already
 * is). addr is host order. Up to 4 callbacks; -ENOSPC beyond. */
int net_on_bound(void (*fn)(void *ctx, uint32_t addr), void *ctx);

#endif
