/*
 * The fw_cfg file directory lookup (fw_cfg.h): pure parsing of the bytes the device gave,
 * so it runs on the host against hand-made directories. The directory is big-endian
 * whatever the platform (fw_cfg_spec.h).
 */
#include "fw_cfg.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t load_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Whether the entry's name field holds exactly name, NUL-terminated inside the field. */
static bool entry_is(const uint8_t *entry, const char *name, size_t name_len)
{
	const char *field = (const char *)entry + FW_CFG_FILE_NAME_OFF;
	return memcmp(field, name, name_len) == 0 && field[name_len] == '\0';
}

int fw_cfg_dir_find(const void *dir, size_t dir_len, const char *name, struct fw_cfg_file *out)
{
	const uint8_t *d = dir;
	if (dir_len < FW_CFG_DIR_COUNT_BYTES)
		return -EINVAL;
	size_t present = (dir_len - FW_CFG_DIR_COUNT_BYTES) / FW_CFG_FILE_ENTRY_BYTES;
	uint32_t count = load_be32(d);
	if (count < present)
		present = count;
	size_t name_len = strlen(name);
	if (name_len >= FW_CFG_MAX_FILE_PATH)
		return -ENOENT; /* no entry can hold it with its NUL */
	for (size_t i = 0; i < present; i++) {
		const uint8_t *e = d + FW_CFG_DIR_COUNT_BYTES + i * FW_CFG_FILE_ENTRY_BYTES;
		if (!entry_is(e, name, name_len))
			continue;
		out->size = load_be32(e + FW_CFG_FILE_SIZE_OFF);
		out->select = load_be16(e + FW_CFG_FILE_SELECT_OFF);
		memcpy(out->name, name, name_len + 1);
		return 0;
	}
	return -ENOENT;
}
