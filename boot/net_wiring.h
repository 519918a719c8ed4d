/*
 * Network wiring (firmware only): brings up lwIP on the first virtio-net device and
 * starts the services the command line asks for. See net_wiring.c.
 */
#ifndef QEDBOX_NET_WIRING_H
#define QEDBOX_NET_WIRING_H

/* 0; -ENODEV without a usable virtio-net device; net_start()'s errors. */
int net_wiring_start(void);

#endif
