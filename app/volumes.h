/*
 * The appliance's volumes: every disk holding a QED image becomes an iSCSI target
 * <iqn_prefix>:<serial> with LUN 0 (docs/DESIGN.md, "Volumes and configuration").
 *
 * volumes_open() opens them (checking images whose need-check bit is set, resolving
 * backing files by disk serial, formatting blank disks that format= names), fills the
 * iSCSI configuration with one target per served volume, and starts the idle flush.
 * Run it from a task: opening reads and may repair the images.
 */
#ifndef QEDBOX_VOLUMES_H
#define QEDBOX_VOLUMES_H

#include "config.h"
#include "disks.h"
#include "iscsi.h"

/* cfg and probes outlive the volumes; the targets in *iscsi point into them. */
void volumes_open(const struct qedbox_config *cfg, const struct disk_probe *probes,
		  unsigned n_disks, struct iscsi_config *iscsi);

#endif
