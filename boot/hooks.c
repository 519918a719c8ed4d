/*
 * Where the other layers plug into start-up. main() calls these in order; each layer
 * defines its own (a strong definition replaces the empty one here):
 *   drivers_init()  drivers/: find PCI devices, start virtio-blk and virtio-net
 *   net_init()      net/: bring up lwIP on the network interface, start the iSCSI target
 * They may spawn tasks and add pollers; the loop runs them after "qedbox: ready".
 */
#include "hooks.h"

__attribute__((weak)) void drivers_init(void)
{
}
__attribute__((weak)) void net_init(void)
{
}
