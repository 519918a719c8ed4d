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

#include <stddef.h>
#include <stdint.h>

#include "iscsi.h"

/* 0, or -ENOMEM / -EADDRINUSE (reported on the console). Call once: it resets the
 * binding's state. Connection limits left 0 in config are filled in with the defaults. */
int iscsi_lwip_start(struct iscsi_config *config, uint16_t port);

/* Received pbufs one connection may hold while the target is not taking its bytes; what
 * arrives beyond them is copied. 16 x 1460 B of full segments is 23 KiB, plenty to ride
 * out a short stall without copying; 64 connections x (16 + TCP_OOSEQ_MAX_PBUFS) plus the
 * NIC's posted buffers stay inside PBUF_POOL_SIZE (lwipopts.h, checked in iscsi_lwip.c). */
#define ISCSI_LWIP_HELD_PBUFS_MAX 16

/* What the binding holds now, for diagnostics and tests. */
struct iscsi_lwip_stats {
	unsigned held_pbufs;        /* received pbufs the target has not taken, all connections */
	unsigned held_pbufs_peak;   /* the most one connection ever held at once */
	size_t spilled_bytes;       /* received bytes copied out of pbufs, not yet taken */
	unsigned reoffers_queued;   /* connections waiting for the one re-offer timeout */
	struct iscsi_data_counters data; /* the target's data path, since start */
};
void iscsi_lwip_stats(struct iscsi_lwip_stats *out);

#endif
