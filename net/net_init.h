/*
 * Bringing up the network (firmware only): one lwIP netif on top of a network driver,
 * addressed by DHCP or by the ip=/gw= keys of the command line (net_config.h).
 *
 * Boot wiring, once the driver found its device:
 *     lwip_port_init();                                  // once, before any netif/pcb
 *     net_start(driver_state, virtio_net_netif_init);    // netif_add + DHCP or static
 *     net_on_bound(iscsi_start, ctx);                    // optional: called at bind
 * When an address is bound, "net: <ip>:<port>" is printed on the console (port from
 * iscsi_port, default 3260: where initiators should connect) and every net_on_bound
 * callback runs once. TCP listeners can be opened before that (bound to IP_ANY_TYPE).
 */
#ifndef QEDBOX_NET_INIT_H
#define QEDBOX_NET_INIT_H

#include <stdint.h>

#include "lwip/netif.h"

/* Adds the netif driven by init/state, makes it the default and up, starts DHCP or
 * sets the static address. 0, -EINVAL (bad ip=/gw=, reported on the console), -EBUSY
 * (already started) or -ENODEV (the driver's init failed). */
int net_start(void *driver_state, netif_init_fn init);

/* The netif, or NULL before net_start(). */
struct netif *net_netif(void);

/* Registers fn(ctx, addr) to run once when the address is bound (at once if it already
 * is). addr is host order. Up to 4 callbacks; -ENOSPC beyond. */
int net_on_bound(void (*fn)(void *ctx, uint32_t addr), void *ctx);

#endif
