/*
 * QEMU's firmware configuration device (fw_cfg), as QEMU's docs/specs/fw_cfg.rst
 * describes it: the one place its constants live. Only the x86 I/O-port interface and
 * the file directory are used here (not the DMA interface).
 *
 * Write a 16-bit key (little-endian, an I/O port) to the selector port: the item's data
 * offset goes back to 0, and each byte read from the data port is the item's next byte
 * (0 past its end). Items from FW_CFG_FILE_FIRST on are "files", named in the directory
 * item: a big-endian u32 count, then count entries of 64 bytes:
 *
 *     offset  0  u32 size    big-endian: the item's bytes
 *             4  u16 select  big-endian: its key
 *             6  u16 reserved
 *             8  char name[56], NUL-terminated ASCII
 *
 * QEMU adds one with -fw_cfg name=opt/<reverse domain>/<file>,file=<host path>.
 */
#ifndef QEDBOX_FW_CFG_SPEC_H
#define QEDBOX_FW_CFG_SPEC_H

/* "Register Locations", x86 */
#define FW_CFG_PORT_SELECTOR 0x510
#define FW_CFG_PORT_DATA     0x511

/* Selector keys */
#define FW_CFG_SIGNATURE  0x0000 /* 4 bytes: "QEMU" */
#define FW_CFG_FILE_DIR   0x0019
#define FW_CFG_FILE_FIRST 0x0020

#define FW_CFG_SIGNATURE_VALUE "QEMU"
#define FW_CFG_SIGNATURE_BYTES 4

/* The file directory */
#define FW_CFG_DIR_COUNT_BYTES  4  /* big-endian u32 before the entries */
#define FW_CFG_FILE_ENTRY_BYTES 64
#define FW_CFG_FILE_SIZE_OFF    0  /* big-endian u32 */
#define FW_CFG_FILE_SELECT_OFF  4  /* big-endian u16 */
#define FW_CFG_FILE_NAME_OFF    8
#define FW_CFG_MAX_FILE_PATH    56 /* the name field, its NUL included */

#endif
