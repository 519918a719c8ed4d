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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iscsi.h"

/* 0, or -ENOMEM / -EADDRINUSE (reported on the console). Call once: it resets the
 * binding's state. Connection limits left 0 in config are filled in with the defaults. */
int iscsi_lwip_start(struct iscsi_config *config, uint16_t port);

/* The network driver's transmit fence, for a driver that holds a packet's pbufs after
 * linkoutput returned (until its device has read them): Data-In lent to lwIP by
 * reference is handed back to the target only once the driver let go of every packet
 * it took before lwIP let go of the bytes. handed(ctx): the number the next packet
 * handed to the driver gets; released(ctx, mark): every packet numbered below mark is
 * back. Not set: the link keeps no packet (lwIP's loopback copies). Call before
 * iscsi_lwip_start(), which keeps it; the struct is copied. */
struct iscsi_lwip_link {
	uint64_t (*handed)(void *ctx);
	bool (*released)(void *ctx, uint64_t mark);
	void *ctx;
};
void iscsi_lwip_set_link(const struct iscsi_lwip_link *link);

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
	uint64_t buffer_bytes;      /* command buffers charged now, all sessions */
	struct iscsi_data_counters data; /* the target's data path, since start */
};
void iscsi_lwip_stats(struct iscsi_lwip_stats *out);

/* The running target's server (sessions, counters), NULL before iscsi_lwip_start(). Read
 * it from the loop or a task: iscsi_server_sessions(iscsi_lwip_server(), out, max). */
const struct iscsi_server *iscsi_lwip_server(void);

#endif
