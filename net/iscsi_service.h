/*
 * Serving disks over iSCSI from the command line (firmware only). Until the volume
 * wiring (QED images per disk) lands, this serves each attached virtio-blk disk as it
 * is (a raw volume: lib/raw_volume.h), which is also the baseline for benchmarks:
 *
 *   iscsi=raw              one target per virtio-blk disk, named <iqn>:<serial>, LUN 0
 *   iqn=PREFIX             target name prefix (default iqn.2026-11.org.qedbox)
 *   iscsi_port=PORT        TCP port (default 3260; net_init prints it with the address)
 *   chap=USER:SECRET       one-way CHAP required on every target (secret >= 12 bytes)
 *   initiators=N1,N2,...   only these InitiatorNames may log in (default: any)
 *
 * Call iscsi_service_start() from net_init() after net_start().
 */
#ifndef QEDBOX_ISCSI_SERVICE_H
#define QEDBOX_ISCSI_SERVICE_H

/* Starts the target when iscsi= is on the command line. 0 (also when not asked), or a
 * negative errno (reported on the console). */
int iscsi_service_start(void);

#endif
