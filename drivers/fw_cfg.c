/*
 * fw_cfg_read_file() (fw_cfg.h): the I/O-port side. Finds the device by its signature,
 * reads the file directory into memory, looks the name up (fw_cfg_dir.c) and reads the
 * file's item. Each read selects its item first, so nothing is kept between calls.
 */
#include "fw_cfg.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"

/* Selects item key and reads its first len bytes. */
static void read_item(uint16_t key, void *buf, size_t len)
{
	outw(FW_CFG_PORT_SELECTOR, key);
	insb(FW_CFG_PORT_DATA, buf, len);
}

/* Without the device, port reads give 0xff bytes, never the signature. */
static bool present(void)
{
	char sig[FW_CFG_SIGNATURE_BYTES];
	read_item(FW_CFG_SIGNATURE, sig, sizeof(sig));
	return memcmp(sig, FW_CFG_SIGNATURE_VALUE, FW_CFG_SIGNATURE_BYTES) == 0;
}

static int find_file(const char *name, struct fw_cfg_file *file)
{
	uint8_t count_be[FW_CFG_DIR_COUNT_BYTES];
	read_item(FW_CFG_FILE_DIR, count_be, sizeof(count_be));
	uint32_t count = (uint32_t)count_be[0] << 24 | (uint32_t)count_be[1] << 16 |
			 (uint32_t)count_be[2] << 8 | count_be[3];
	if (count > FW_CFG_MAX_FILES)
		count = FW_CFG_MAX_FILES;
	size_t dir_len = FW_CFG_DIR_COUNT_BYTES + (size_t)count * FW_CFG_FILE_ENTRY_BYTES;
	uint8_t *dir = malloc(dir_len);
	if (!dir)
		return -ENOMEM;
	/* Read again from the start: the directory as one buffer, count included. */
	read_item(FW_CFG_FILE_DIR, dir, dir_len);
	int rc = fw_cfg_dir_find(dir, dir_len, name, file);
	free(dir);
	return rc;
}

int fw_cfg_read_file(const char *name, void *buf, size_t cap, size_t *len)
{
	if (!present())
		return -ENODEV;
	struct fw_cfg_file file;
	int rc = find_file(name, &file);
	if (rc)
		return rc;
	*len = file.size;
	if (file.size > cap)
		return -E2BIG;
	read_item(file.select, buf, file.size);
	return 0;
}
