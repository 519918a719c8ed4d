/*
 * Reads what the boot loader handed over into struct boot_info: the memory map, the
 * command line and the ACPI RSDP, and notes where the loader's own structures lie so
 * that the heap stays clear of them.
 *
 *   PVH (QEMU -kernel):  struct hvm_start_info (Xen's start_info.h), version 1 or later
 *                        for the memory map.
 *   multiboot2 (GRUB):   the information tags: command line (1), memory map (6),
 *                        ACPI RSDP copies (14 old, 15 new).
 * Runs with the early page tables (first 4 GiB identity-mapped); every structure a
 * loader gives us lies below 4 GiB. Also built on the host, where
 * tests/unit/boot/test_bootinfo.c feeds it structures good and bad.
 */
#include <errno.h>
#include <string.h>

#include "boot_priv.h"

#define HVM_START_MAGIC 0x336ec578
/* Limits that only garbage exceeds: they keep a bad structure from sending the parser
 * through all of memory. */
#define PVH_MAX_MEMMAP_ENTRIES 1024
#define CMDLINE_SCAN_MAX       (64 * 1024)
#define MB2_INFO_MAX	       (1u << 20)

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
	uint64_t memmap_paddr; /* version >= 1 */
	uint32_t memmap_entries, reserved;
};

struct hvm_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

#define MB2_TAG_END	 0
#define MB2_TAG_CMDLINE	 1
#define MB2_TAG_MMAP	 6
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15

struct mb2_tag {
	uint32_t type, size;
};

struct mb2_mmap_entry {
	uint64_t base, len;
	uint32_t type, reserved;
};

struct boot_info boot_info;

const char *bootinfo_kind_name(int kind)
{
	return kind == BOOT_KIND_PVH ? "pvh" : kind == BOOT_KIND_MULTIBOOT2 ? "multiboot2" : "?";
}

static void add_region(struct boot_info *bi, uint64_t base, uint64_t len, uint32_t type)
{
	if (len == 0)
		return;
	if (bi->map_count == BOOT_MAX_REGIONS) {
		bi->regions_dropped++;
		return;
	}
	bi->map[bi->map_count++] = (struct mem_region){base, len, type};
}

static void add_busy(struct boot_info *bi, uint64_t base, uint64_t len)
{
	if (bi->busy_count < BOOT_MAX_BUSY)
		bi->busy[bi->busy_count++] = (struct mem_region){base, len, 0};
}

/* strnlen() is POSIX, which newlib hides from C11. */
static size_t bounded_strlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

/* s holds at most max bytes (it need not be terminated within them). */
static void copy_cmdline(struct boot_info *bi, const char *s, size_t max)
{
	size_t len = bounded_strlen(s, max);
	bi->cmdline_truncated = len >= sizeof(bi->cmdline);
	if (bi->cmdline_truncated)
		len = sizeof(bi->cmdline) - 1;
	memcpy(bi->cmdline, s, len);
	bi->cmdline[len] = '\0';
}

static int parse_pvh(uint64_t info, struct boot_info *bi)
{
	const struct hvm_start_info *si = (const struct hvm_start_info *)info;
	if (si->magic != HVM_START_MAGIC || si->version < 1 || !si->memmap_paddr ||
	    si->memmap_entries == 0 || si->memmap_entries > PVH_MAX_MEMMAP_ENTRIES)
		return -EINVAL;
	add_busy(bi, info, sizeof(*si));
	if (si->cmdline_paddr) {
		const char *s = (const char *)si->cmdline_paddr;
		copy_cmdline(bi, s, CMDLINE_SCAN_MAX);
		add_busy(bi, si->cmdline_paddr, bounded_strlen(s, CMDLINE_SCAN_MAX) + 1);
	}
	bi->rsdp = si->rsdp_paddr;
	const struct hvm_memmap_entry *e = (const struct hvm_memmap_entry *)si->memmap_paddr;
	add_busy(bi, si->memmap_paddr, (uint64_t)si->memmap_entries * sizeof(*e));
	for (uint32_t i = 0; i < si->memmap_entries; i++)
		add_region(bi, e[i].addr, e[i].size, e[i].type);
	return 0;
}

static void parse_mb2_mmap(const struct mb2_tag *tag, struct boot_info *bi)
{
	const uint8_t *p = (const uint8_t *)tag;
	if (tag->size < 16)
		return;
	uint32_t entry_size = *(const uint32_t *)(p + 8);
	if (entry_size < sizeof(struct mb2_mmap_entry))
		return;
	for (uint32_t off = 16; off + entry_size <= tag->size; off += entry_size) {
		const struct mb2_mmap_entry *e = (const struct mb2_mmap_entry *)(p + off);
		add_region(bi, e->base, e->len, e->type);
	}
}

static int parse_multiboot2(uint64_t info, struct boot_info *bi)
{
	uint32_t total = *(const uint32_t *)info;
	if (total < 16 || total > MB2_INFO_MAX)
		return -EINVAL;
	add_busy(bi, info, total);
	for (uint64_t off = 8; off + sizeof(struct mb2_tag) <= total;) {
		const struct mb2_tag *tag = (const struct mb2_tag *)(info + off);
		if (tag->type == MB2_TAG_END || tag->size < sizeof(*tag) || tag->size > total - off)
			break;
		if (tag->type == MB2_TAG_CMDLINE)
			copy_cmdline(bi, (const char *)(tag + 1), tag->size - sizeof(*tag));
		else if (tag->type == MB2_TAG_MMAP)
			parse_mb2_mmap(tag, bi);
		else if ((tag->type == MB2_TAG_ACPI_OLD && !bi->rsdp) ||
			 tag->type == MB2_TAG_ACPI_NEW)
			bi->rsdp = (uint64_t)(tag + 1);
		off += (tag->size + 7) & ~7u;
	}
	return bi->map_count ? 0 : -EINVAL;
}

int bootinfo_parse(int kind, uint64_t info, struct boot_info *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = kind;
	if (kind == BOOT_KIND_PVH)
		return parse_pvh(info, out);
	if (kind == BOOT_KIND_MULTIBOOT2)
		return parse_multiboot2(info, out);
	return -EINVAL;
}
