/*
 * lwIP configuration for the qedbox firmware (read by lwIP's opt.h).
 *
 * NO_SYS=1: lwIP runs inside the one event loop, raw API only (no sockets, no netconn,
 * no threads). The stack is sized for iSCSI: a few initiators, each keeping 32+ requests
 * of up to 1 MiB in flight (32 MiB per initiator), so TCP never waits for the
 * application's buffer space: windows and send buffers are large (256 KiB each way per
 * connection, a bandwidth-delay product far above a VM link's). The receive pool holds
 * the posted virtio-net buffers plus a few pbufs per connection (16 in order, 8 out of
 * order): the iSCSI binding copies what a stalled connection receives beyond them. What
 * is beyond a window waits in the initiator, not here.
 * Memory (static pools measured in the linked image; RAM is 128 MiB+):
 *   PBUF_POOL  2048 x 1560 B  =  3.05 MiB  receive buffers (256 posted + 24 per slot)
 *   TCP_SEG    8192 x   32 B  =  0.25 MiB  segments queued, unacked or out of order
 *   PBUF      15616 x   24 B  =  0.36 MiB  PBUF_REF/ROM: Data-In sent by reference
 *                                          (a segment's worth each: a full 256 KiB
 *                                          send buffer takes 180), lwIP's own (IP
 *                                          fragments, queued ARP)
 *   TCP_PCB     114 x  280 B  =  0.03 MiB  64 iSCSI slots + 16 backlog + 16 closing + 2 for
 *                                          the profile dump (one connection, one closing)
 *                                          + 16 for the web server's connections
 *   PBUF_RAM   from malloc (MEM_LIBC_MALLOC): copied send data (headers, small PDUs)
 *              and segment headers, at most TCP_SND_BUF (256 KiB) per connection while
 *              unacknowledged.
 */
#ifndef QEDBOX_LWIPOPTS_H
#define QEDBOX_LWIPOPTS_H

/* ---- system: one thread, no OS ----------------------------------------------------- */
#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0 /* interrupt handlers never touch lwIP */
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define LWIP_TIMERS 1 /* sys_check_timeouts() from a loop poller */

/* ---- memory ------------------------------------------------------------------------- */
/* PBUF_RAM and other variable-size allocations come from newlib's malloc: no separate
 * heap to size and no second allocator. MEM_SIZE only selects a 32-bit mem_size_t. */
#define MEM_LIBC_MALLOC 1
#define MEM_SIZE (1024 * 1024)
#define MEM_ALIGNMENT 8
#define MEMP_MEM_MALLOC 0

/* Receive pool: the driver posts up to 256 of these to the rx ring (one frame each,
 * 12-byte virtio_net_hdr + 1514-byte frame, rounded up), the rest hold segments that
 * TCP queued for the application: 256 KiB windows for about 6 busy connections. */
#define PBUF_POOL_SIZE 2048
#define PBUF_POOL_BUFSIZE 1536
/* PBUF_ROM/REF: one per segment of Data-In the iSCSI target sends by reference
 * (tcp_write() without TCP_WRITE_FLAG_COPY), freed when the peer acknowledges it; every
 * connection slot's send buffer full of them, and lwIP's own references. When the pool
 * runs short anyway, the target copies instead (net/iscsi_lwip.c). */
#define MEMP_NUM_PBUF (64 * (TCP_SND_BUF / TCP_MSS + 1) + 4096) /* 64 slots: iscsi.h */

/* The iSCSI target's 64 connection slots (net/iscsi.h), its listen backlog of 16
 * handshakes, and 16 for connections closing: a newcomer always gets a pcb and reaches
 * the target, which may evict a stuck login for it (net/iscsi_lwip.c checks the sum). */
/* + the profile dump's connection and its closing pcb, + the web server's 8 connections
 * and as many closing (net/http_server.h) */
#define MEMP_NUM_TCP_PCB (96 + 2 + 16)
#define MEMP_NUM_TCP_PCB_LISTEN 8
#define MEMP_NUM_UDP_PCB 4 /* DHCP */
#define MEMP_NUM_TCP_SEG 8192
#define MEMP_NUM_REASSDATA 8
#define MEMP_NUM_FRAG_PBUF 32
#define MEMP_NUM_ARP_QUEUE 64
/* lwIP's own timers plus ours, each one at a time: the driver's link check, the DHCP
 * warning, the iSCSI tick, its one re-offer, flush and driver-poll timeouts (each
 * shared by every connection); and as many spare. */
#define MEMP_NUM_SYS_TIMEOUT (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 8)

/* ---- protocols ---------------------------------------------------------------------- */
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define ARP_QUEUEING 1
#define LWIP_ETHERNET 1
#define ETH_PAD_SIZE 0
#define LWIP_ICMP 1
#define LWIP_RAW 0
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_IGMP 0
#define LWIP_DNS 0
#define LWIP_AUTOIP 0
#define LWIP_DHCP 1
/* No ARP probe of the offered address: saves a second at boot; a DHCP server that hands
 * out addresses in use is broken anyway (QEMU's never does). */
#define DHCP_DOES_ARP_CHECK 0
#define IP_REASSEMBLY 1
#define IP_FRAG 1

/* ---- TCP tuned for throughput ------------------------------------------------------- */
#define TCP_MSS 1460
#define LWIP_WND_SCALE 1
#define TCP_RCV_SCALE 3                  /* advertised window up to 512 KiB */
#define TCP_WND (256 * 1024)             /* receive window: 180 full segments */
#define TCP_SND_BUF (256 * 1024)         /* unacknowledged + queued send data per pcb */
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS) /* segments (and pbufs) per pcb */
/* Only sockets use the low-water marks (raw API: tcp_sent() fires on every ACK); lwIP
 * keeps them below 16 bits. */
#define TCP_SNDLOWAT (32 * 1024)
#define TCP_SNDQUEUELOWAT (TCP_SND_QUEUELEN / 2)
#define TCP_OVERSIZE TCP_MSS             /* tcp_write() fills whole segments */
#define TCP_QUEUE_OOSEQ 1
/* Out-of-order segments held per pcb, from the shared receive pool: enough to bridge a
 * lost segment or two; a peer sending a window of 1-byte segments out of order holds 8
 * pool pbufs, not thousands (net/iscsi_lwip.c bounds the in-order ones). */
#define TCP_OOSEQ_MAX_PBUFS 8
#define TCP_OOSEQ_MAX_BYTES (TCP_OOSEQ_MAX_PBUFS * TCP_MSS)
#define LWIP_TCP_SACK_OUT 1              /* tell the peer which segments we hold */
#define LWIP_TCP_TIMESTAMPS 0
#define TCP_LISTEN_BACKLOG 1
/* No TCP keepalive: the iSCSI target finds dead initiators itself, with NOP-In pings
 * (iscsi_server_tick), which also catch a peer whose TCP still answers. */
#define LWIP_TCP_KEEPALIVE 0
#define LWIP_CALLBACK_API 1

/* ---- TCP initial sequence numbers: RFC 6528 (tcp_isn.h, sys_arch.c) instead of lwIP's
 * guessable counter. The host build keeps the counter: its loopback harness
 * (tests/unit/net/lwip_host.c) has no generator to key the hash with. */
#ifndef QEDBOX_LWIP_HOST
#define LWIP_HOOK_FILENAME "tcp_isn.h"
#define LWIP_HOOK_TCP_ISN lwip_port_tcp_isn
#endif

/* ---- checksums: per netif, so the driver turns them off for what the device offloads */
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1
#define LWIP_CHECKSUM_ON_COPY 0
/* lwIP copies MAC addresses and headers with SMEMCPY: inline them (the firmware is built
 * freestanding, where gcc would call memcpy() for every constant-size copy). */
#define SMEMCPY(dst, src, len) __builtin_memcpy(dst, src, len)

/* ---- netif -------------------------------------------------------------------------- */
#define LWIP_NETIF_STATUS_CALLBACK 1 /* "net: <ip>" once DHCP or a static address binds */
#define LWIP_NETIF_LINK_CALLBACK 1
#define LWIP_NETIF_HOSTNAME 1
#define LWIP_NETIF_TX_SINGLE_PBUF 0 /* the driver sends pbuf chains as descriptor chains */
#define LWIP_NUM_NETIF_CLIENT_DATA 0

/* ---- host tests (tests/unit/net): the same stack on a loopback interface ------------ */
#ifdef QEDBOX_LWIP_HOST
#define LWIP_NETIF_LOOPBACK 1
#define LWIP_HAVE_LOOPIF 1
#define LWIP_LOOPBACK_MAX_PBUFS 0
#endif

/* ---- diagnostics -------------------------------------------------------------------- */
/* TCP's counters only (segments in and out, drops), for the profiler's
 * dump (app/profile.c): an increment per segment. 32-bit counters (LWIP_STATS_LARGE);
 * the dump reports differences, which survive a wrap. */
#define LWIP_STATS 1
#define LWIP_STATS_LARGE 1
#define LWIP_STATS_DISPLAY 0
#define TCP_STATS 1
#define LINK_STATS 0
#define ETHARP_STATS 0
#define IP_STATS 0
#define IPFRAG_STATS 0
#define ICMP_STATS 0
#define UDP_STATS 0
#define MEM_STATS 0
#define MEMP_STATS 0
#define SYS_STATS 0
/* LWIP_DEBUG stays undefined: lwIP tests it with #ifdef. */

#endif
