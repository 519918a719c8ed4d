/*
 * The iSCSI target on lwIP's raw TCP API (firmware only): a listener whose connections
 * feed net/iscsi.h. Everything runs in the event loop; the target's tasks block in send
 * until lwIP's send buffer has room (tcp_sent wakes them).
 *
 *     iscsi_lwip_start(&config, 3260);   // config outlives the server
 *
 * When config->portal is NULL, SendTargets answers with the address DHCP (or ip=) bound,
 * as "A.B.C.D:port".
 */
#ifndef QEDBOX_ISCSI_LWIP_H
#define QEDBOX_ISCSI_LWIP_H

#include <stdint.h>

#include "iscsi.h"

/* 0, or -ENOMEM / -EADDRINUSE (reported on the console). */
int iscsi_lwip_start(struct iscsi_config *config, uint16_t port);

#endif
