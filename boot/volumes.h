/*
 * The appliance's volumes: every virtio-blk disk holding a QED image becomes an iSCSI
 * target <iqn_prefix>:<serial> with LUN 0 (DESIGN.md, "Volumes and configuration").
 *
 * volumes_start() spawns the task that opens them (checking images whose need-check bit
 * is set, resolving backing files by disk serial, formatting blank disks that format=
 * names) and then hands the targets to the iSCSI server (net/iscsi_lwip.h).
 */
#ifndef QEDBOX_VOLUMES_H
#define QEDBOX_VOLUMES_H

void volumes_start(void);

#endif
