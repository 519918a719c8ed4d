/*
 * fw_cfg: named files from QEMU's firmware configuration device (fw_cfg_spec.h), the
 * way a host hands the appliance a configuration file without a disk:
 *     qemu ... -fw_cfg name=opt/org.qedbox/config,file=PATH
 *     char buf[4096]; size_t len;
 *     int rc = fw_cfg_read_file("opt/org.qedbox/config", buf, sizeof buf, &len);
 *
 * fw_cfg_read_file() talks to the device (firmware only; it never waits, so it may run
 * before the loop or inside it); fw_cfg_dir_find() is the directory lookup alone,
 * portable and tested on the host.
 */
#ifndef QEDBOX_FW_CFG_H
#define QEDBOX_FW_CFG_H

#include <stddef.h>
#include <stdint.h>

#include "fw_cfg_spec.h"

/* Directory entries past this many are not looked at (QEMU's default is 32 files). */
#define FW_CFG_MAX_FILES 1024

/* A directory entry, in host byte order. */
struct fw_cfg_file {
	uint32_t size;
	uint16_t select;
	char name[FW_CFG_MAX_FILE_PATH]; /* NUL-terminated */
};

/* Looks name up in dir, the directory item as read from the device (the count, then
 * the entries). Entries cut off by dir_len, and entries whose name lacks its NUL, are
 * skipped. 0 with *out filled; -ENOENT; -EINVAL when dir_len cannot hold the count. */
int fw_cfg_dir_find(const void *dir, size_t dir_len, const char *name, struct fw_cfg_file *out);

/* Copies the file called name into buf. 0 with *len = its size; -ENODEV without an
 * fw_cfg device; -ENOENT when no file has that name; -E2BIG when it is larger than cap
 * (*len = its size, buf untouched); -ENOMEM. */
int fw_cfg_read_file(const char *name, void *buf, size_t cap, size_t *len);

#endif
