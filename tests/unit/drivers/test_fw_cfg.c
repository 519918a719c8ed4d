/*
 * Host test of the fw_cfg file directory lookup (drivers/fw_cfg_dir.c) on directories
 * built here byte by byte, big-endian as the device gives them: exact names only, sizes
 * and keys decoded, malformed or cut-off entries skipped, the count never trusted past
 * the buffer.
 */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "../../../drivers/fw_cfg.h"

#define CONFIG_NAME "opt/org.qedbox/config"

struct dir {
	uint8_t bytes[FW_CFG_DIR_COUNT_BYTES + 8 * FW_CFG_FILE_ENTRY_BYTES];
	unsigned entries;
};

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static size_t dir_len(const struct dir *d)
{
	return FW_CFG_DIR_COUNT_BYTES + d->entries * FW_CFG_FILE_ENTRY_BYTES;
}

/* Appends an entry; name_bytes of name go in the field (the rest stays 0). */
static void add_raw(struct dir *d, uint32_t size, uint16_t select, const char *name,
		    size_t name_bytes)
{
	uint8_t *e = d->bytes + dir_len(d);
	memset(e, 0, FW_CFG_FILE_ENTRY_BYTES);
	put_be32(e + FW_CFG_FILE_SIZE_OFF, size);
	e[FW_CFG_FILE_SELECT_OFF] = (uint8_t)(select >> 8);
	e[FW_CFG_FILE_SELECT_OFF + 1] = (uint8_t)select;
	memcpy(e + FW_CFG_FILE_NAME_OFF, name, name_bytes);
	d->entries++;
	put_be32(d->bytes, d->entries);
}

static void add(struct dir *d, uint32_t size, uint16_t select, const char *name)
{
	add_raw(d, size, select, name, strlen(name));
}

/* A directory like QEMU's, with the configuration file among others. */
static void qemu_like(struct dir *d)
{
	memset(d, 0, sizeof(*d));
	put_be32(d->bytes, 0);
	add(d, 0, 0x20, "bootorder");
	add(d, 0x14, 0x21, "etc/acpi/rsdp");
	add(d, 0x1234, 0x2a, CONFIG_NAME);
	add(d, 0x20000, 0x22, "etc/acpi/tables");
}

static void test_finds_a_file(void)
{
	struct dir d;
	struct fw_cfg_file f;
	qemu_like(&d);
	CHECK_EQ(0, fw_cfg_dir_find(d.bytes, dir_len(&d), CONFIG_NAME, &f));
	CHECK_EQ(0x1234, f.size);
	CHECK_EQ(0x2a, f.select);
	CHECK_STR_EQ(CONFIG_NAME, f.name);
	CHECK_EQ(0, fw_cfg_dir_find(d.bytes, dir_len(&d), "etc/acpi/tables", &f));
	CHECK_EQ(0x20000, f.size);
	CHECK_EQ(0x22, f.select);
	CHECK_EQ(0, fw_cfg_dir_find(d.bytes, dir_len(&d), "bootorder", &f));
	CHECK_EQ(0, f.size);
}

static void test_names_match_exactly(void)
{
	struct dir d;
	struct fw_cfg_file f;
	qemu_like(&d);
	CHECK_EQ(-ENOENT, fw_cfg_dir_find(d.bytes, dir_len(&d), "opt/org.qedbox/confi", &f));
	CHECK_EQ(-ENOENT, fw_cfg_dir_find(d.bytes, dir_len(&d), CONFIG_NAME "2", &f));
	CHECK_EQ(-ENOENT, fw_cfg_dir_find(d.bytes, dir_len(&d), "OPT/ORG.QEDBOX/CONFIG", &f));
	CHECK_EQ(-ENOENT, fw_cfg_dir_find(d.bytes, dir_len(&d), "", &f));
}

static void test_empty_directory(void)
{
	struct dir d;
	struct fw_cfg_file f;
	memset(&d, 0, sizeof(d));
	CHECK_EQ(-ENOENT, fw_cfg_dir_find(d.bytes, dir_len(&d), CONFIG_NAME, &f));
	CHECK_EQ(-EINVAL, fw_cfg_dir_find(d.bytes, 3, CONFIG_NAME, &f));
	CHECK_EQ(-EINVAL, fw_cfg_dir_find(d.bytes, 0, CONFIG_NAME, &f));
}

/* The longest name a field holds is 55 characters; a field of 56 without a NUL is
 * malformed, and never matches, not even the first 55. */
static void test_name_length_limits(void)
{
	char longest[FW_CFG_MAX_FILE_PATH], too_long[FW_CFG_MAX_FILE_PATH + 1];
	memset(longest, 'a', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	memset(too_long, 'b', sizeof(too_long) - 1);
	too_long[sizeof(too_long) - 1] = '\0';
	struct dir d;
	struct fw_cfg_file f;
	memset(&d, 0, sizeof(d));
	add(&d, 7, 0x30, longest);
	add_raw(&d, 8, 0x31, too_long, FW_CFG_MAX_FILE_PATH); /* no NUL in the field */
	CHECK_EQ(0, fw_cfg_dir_find(d.bytes, dir_len(&d), longest, &f));
	CHECK_EQ(0x30, f.select);
	CHECK_STR_EQ(longest, f.name);
	CHECK_EQ(-ENOENT, fw_cfg_dir_find(d.bytes, dir_len(&d), too_long, &f));
	too_long[FW_CFG_MAX_FILE_PATH - 1] = '\0'; /* its 55-character prefix */
	CHECK_EQ(-ENOENT, fw_cfg_dir_find(d.bytes, dir_len(&d), too_long, &f));
}

/* A count larger than the buffer: only whole entries inside the buffer are read. */
static void test_count_beyond_buffer(void)
{
	struct dir d;
	struct fw_cfg_file f;
	qemu_like(&d);
	size_t len = dir_len(&d);
	put_be32(d.bytes, 1000);
	CHECK_EQ(0, fw_cfg_dir_find(d.bytes, len, "etc/acpi/tables", &f));
	/* The last entry cut short by one byte is not looked at. */
	uint8_t *copy = malloc(len - 1);
	CHECK(copy != NULL);
	if (!copy)
		return;
	memcpy(copy, d.bytes, len - 1);
	CHECK_EQ(-ENOENT, fw_cfg_dir_find(copy, len - 1, "etc/acpi/tables", &f));
	CHECK_EQ(0, fw_cfg_dir_find(copy, len - 1, CONFIG_NAME, &f));
	free(copy);
}

/* A count smaller than the buffer: entries past it are not part of the directory. */
static void test_count_below_buffer(void)
{
	struct dir d;
	struct fw_cfg_file f;
	qemu_like(&d);
	put_be32(d.bytes, 2);
	CHECK_EQ(0, fw_cfg_dir_find(d.bytes, dir_len(&d), "etc/acpi/rsdp", &f));
	CHECK_EQ(-ENOENT, fw_cfg_dir_find(d.bytes, dir_len(&d), CONFIG_NAME, &f));
}

/* Big-endian fields with every byte distinct, so a byte-order slip shows. */
static void test_fields_are_big_endian(void)
{
	struct dir d;
	struct fw_cfg_file f;
	memset(&d, 0, sizeof(d));
	add(&d, 0x01020304, 0x0506, "x");
	CHECK_EQ(0, fw_cfg_dir_find(d.bytes, dir_len(&d), "x", &f));
	CHECK_EQ(0x01020304, f.size);
	CHECK_EQ(0x0506, f.select);
}

int main(void)
{
	RUN(test_finds_a_file);
	RUN(test_names_match_exactly);
	RUN(test_empty_directory);
	RUN(test_name_length_limits);
	RUN(test_count_beyond_buffer);
	RUN(test_count_below_buffer);
	RUN(test_fields_are_big_endian);
	return check_report("test_fw_cfg");
}
