/*
 * The appliance's network: lwIP on the first virtio-net device, addressed as the
 * configuration says, with the test services it asks for. After pci_scan(); the iSCSI
 * target is started separately, once the volumes are open (app/main.c).
 */
#ifndef QEDBOX_NETWORK_H
#define QEDBOX_NETWORK_H

#include "config.h"

void network_start(const struct qedbox_config *cfg);

/* The device lwIP runs on (for its counters), NULL when networking is off. */
struct virtio_net *network_nic(void);

#endif
