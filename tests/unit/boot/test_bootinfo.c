/*
 * Host tests of boot/bootinfo.c: the PVH start_info and multiboot2 information as the
 * loaders give them, and malformed ones (bad magic, sizes that run past the structure,
 * zero-sized tags, too many entries), which must be refused or cut, never followed.
 */
#include <errno.h>
#include <stdint.h>

#include "boot_priv.h"
#include "check.h"

static struct boot_info bi; /* large: not on the stack */

/* ---- multiboot2 information builder ----------------------------------------------------- */
static uint64_t mb2_words[1024];
static uint8_t *const mb2 = (uint8_t *)mb2_words;
static size_t mb2_len;

static void mb2_begin(void)
{
	memset(mb2_words, 0, sizeof(mb2_words));
	mb2_len = 8;
}

static void mb2_put32(size_t off, uint32_t v)
{
	memcpy(mb2 + off, &v, 4);
}

/* Appends a tag; returns its offset. */
static size_t mb2_tag(uint32_t type, const void *payload, uint32_t n)
{
	size_t at = mb2_len;
	mb2_put32(at, type);
	mb2_put32(at + 4, 8 + n);
	if (n)
		memcpy(mb2 + at + 8, payload, n);
	mb2_len += (8 + n + 7) & ~7u;
	return at;
}

struct mmap_entry {
	uint64_t base, len;
	uint32_t type, reserved;
};

static void mb2_mmap(const struct mmap_entry *e, unsigned n, uint32_t entry_size)
{
	uint8_t payload[8 + 8 * 32] = {0};
	memcpy(payload, &entry_size, 4);
	for (unsigned i = 0; i < n; i++)
		memcpy(payload + 8 + i * entry_size, &e[i], sizeof(e[i]));
	mb2_tag(6, payload, 8 + n * entry_size);
}

static uint64_t mb2_end(void)
{
	mb2_tag(0, NULL, 0);
	mb2_put32(0, (uint32_t)mb2_len);
	return (uint64_t)(uintptr_t)mb2;
}

static const struct mmap_entry three[] = {
    {0, 0x9fc00, MEM_RAM, 0},
    {0xf0000, 0x10000, MEM_RESERVED, 0},
    {0x100000, 0x7f00000, MEM_RAM, 0},
};

static void test_mb2_good(void)
{
	mb2_begin();
	mb2_tag(1, "exit=debug a=b", 15);
	mb2_mmap(three, 3, 24);
	size_t acpi = mb2_tag(15, "RSD PTR rest", 12);
	uint64_t info = mb2_end();
	CHECK_EQ(0, bootinfo_parse(BOOT_KIND_MULTIBOOT2, info, &bi));
	CHECK_EQ(BOOT_KIND_MULTIBOOT2, bi.kind);
	CHECK_STR_EQ("exit=debug a=b", bi.cmdline);
	CHECK_EQ(3, bi.map_count);
	CHECK_EQ(0x100000, bi.map[2].base);
	CHECK_EQ(0x7f00000, bi.map[2].len);
	CHECK_EQ(MEM_RESERVED, bi.map[1].type);
	CHECK_EQ(info + acpi + 8, bi.rsdp);
	CHECK_EQ(1, bi.busy_count);
	CHECK_EQ(info, bi.busy[0].base);
	CHECK_EQ(mb2_len, bi.busy[0].len);
	CHECK(!bi.cmdline_truncated);
}

static void test_mb2_new_rsdp_wins(void)
{
	mb2_begin();
	mb2_mmap(three, 1, 24);
	size_t acpi_new = mb2_tag(15, "new", 4);
	mb2_tag(14, "old", 4);
	uint64_t info = mb2_end();
	CHECK_EQ(0, bootinfo_parse(BOOT_KIND_MULTIBOOT2, info, &bi));
	CHECK_EQ(info + acpi_new + 8, bi.rsdp);
}

static void test_mb2_larger_entries(void)
{
	/* A later version of the map may have larger entries: step by entry_size. */
	mb2_begin();
	mb2_mmap(three, 3, 32);
	CHECK_EQ(0, bootinfo_parse(BOOT_KIND_MULTIBOOT2, mb2_end(), &bi));
	CHECK_EQ(3, bi.map_count);
	CHECK_EQ(0x100000, bi.map[2].base);
}

static void test_mb2_without_map(void)
{
	mb2_begin();
	mb2_tag(1, "x", 2);
	CHECK_EQ(-EINVAL, bootinfo_parse(BOOT_KIND_MULTIBOOT2, mb2_end(), &bi));
	mb2_begin();
	mb2_mmap(three, 3, 0); /* entry size 0: nothing usable */
	CHECK_EQ(-EINVAL, bootinfo_parse(BOOT_KIND_MULTIBOOT2, mb2_end(), &bi));
}

static void test_mb2_bad_total(void)
{
	mb2_begin();
	mb2_mmap(three, 3, 24);
	uint64_t info = mb2_end();
	mb2_put32(0, 8);
	CHECK_EQ(-EINVAL, bootinfo_parse(BOOT_KIND_MULTIBOOT2, info, &bi));
	mb2_put32(0, 0x7fffffff);
	CHECK_EQ(-EINVAL, bootinfo_parse(BOOT_KIND_MULTIBOOT2, info, &bi));
}

static void test_mb2_tag_past_the_end(void)
{
	/* The map comes first and counts; a tag claiming more than is left stops the walk. */
	mb2_begin();
	mb2_mmap(three, 2, 24);
	size_t bad = mb2_tag(1, "never read", 11);
	uint64_t info = mb2_end();
	mb2_put32(bad + 4, 4096);
	CHECK_EQ(0, bootinfo_parse(BOOT_KIND_MULTIBOOT2, info, &bi));
	CHECK_EQ(2, bi.map_count);
	CHECK_STR_EQ("", bi.cmdline);
}

static void test_mb2_zero_sized_tag(void)
{
	mb2_begin();
	mb2_mmap(three, 1, 24);
	size_t bad = mb2_tag(1, "abc", 4);
	mb2_mmap(three, 3, 24);
	uint64_t info = mb2_end();
	mb2_put32(bad + 4, 0); /* would loop forever if followed */
	CHECK_EQ(0, bootinfo_parse(BOOT_KIND_MULTIBOOT2, info, &bi));
	CHECK_EQ(1, bi.map_count);
}

static void test_mb2_unterminated_cmdline(void)
{
	/* No terminator inside the tag: the next tag's type (6: bytes 06 00 00 00) follows,
	 * and an unbounded copy would take its first byte too. */
	mb2_begin();
	mb2_tag(1, "abcdefgh", 8);
	mb2_mmap(three, 1, 24);
	CHECK_EQ(0, bootinfo_parse(BOOT_KIND_MULTIBOOT2, mb2_end(), &bi));
	CHECK_EQ(8, strlen(bi.cmdline));
	CHECK_STR_EQ("abcdefgh", bi.cmdline);
}

/* ---- PVH ------------------------------------------------------------------------------------ */
struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};

static struct hvm_start_info si;
static struct mmap_entry pvh_map[80];
static char pvh_cmdline[4096];

static uint64_t pvh_setup(const char *cmdline, unsigned entries)
{
	si = (struct hvm_start_info){
	    .magic = 0x336ec578,
	    .version = 1,
	    .cmdline_paddr = (uint64_t)(uintptr_t)pvh_cmdline,
	    .rsdp_paddr = 0xf5a40,
	    .memmap_paddr = (uint64_t)(uintptr_t)pvh_map,
	    .memmap_entries = entries,
	};
	snprintf(pvh_cmdline, sizeof(pvh_cmdline), "%s", cmdline);
	for (unsigned i = 0; i < 80; i++)
		pvh_map[i] = (struct mmap_entry){(uint64_t)i << 30, 1u << 20, MEM_RAM, 0};
	return (uint64_t)(uintptr_t)&si;
}

static void test_pvh_good(void)
{
	uint64_t info = pvh_setup("poweroff=ready", 3);
	CHECK_EQ(0, bootinfo_parse(BOOT_KIND_PVH, info, &bi));
	CHECK_EQ(BOOT_KIND_PVH, bi.kind);
	CHECK_STR_EQ("poweroff=ready", bi.cmdline);
	CHECK_EQ(3, bi.map_count);
	CHECK_EQ(2ull << 30, bi.map[2].base);
	CHECK_EQ(0xf5a40, bi.rsdp);
	CHECK_EQ(3, bi.busy_count); /* start_info, command line, memory map */
	CHECK_EQ((uint64_t)(uintptr_t)pvh_cmdline, bi.busy[1].base);
	CHECK_EQ(15, bi.busy[1].len);
	CHECK_EQ(3 * sizeof(struct mmap_entry), bi.busy[2].len);
}

static void test_pvh_refused(void)
{
	uint64_t info = pvh_setup("", 3);
	si.magic = 0x12345678;
	CHECK_EQ(-EINVAL, bootinfo_parse(BOOT_KIND_PVH, info, &bi));
	pvh_setup("", 3);
	si.version = 0; /* no memory map in version 0 */
	CHECK_EQ(-EINVAL, bootinfo_parse(BOOT_KIND_PVH, info, &bi));
	pvh_setup("", 0);
	CHECK_EQ(-EINVAL, bootinfo_parse(BOOT_KIND_PVH, info, &bi));
	pvh_setup("", 3);
	si.memmap_entries = 100000;
	CHECK_EQ(-EINVAL, bootinfo_parse(BOOT_KIND_PVH, info, &bi));
	pvh_setup("", 3);
	si.memmap_paddr = 0;
	CHECK_EQ(-EINVAL, bootinfo_parse(BOOT_KIND_PVH, info, &bi));
	CHECK_EQ(-EINVAL, bootinfo_parse(7, info, &bi));
}

static void test_pvh_too_many_regions(void)
{
	uint64_t info = pvh_setup("", 80);
	CHECK_EQ(0, bootinfo_parse(BOOT_KIND_PVH, info, &bi));
	CHECK_EQ(BOOT_MAX_REGIONS, bi.map_count);
	CHECK_EQ(80 - BOOT_MAX_REGIONS, bi.regions_dropped);
}

static void test_pvh_long_cmdline(void)
{
	char line[3000];
	memset(line, 'k', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	uint64_t info = pvh_setup(line, 1);
	CHECK_EQ(0, bootinfo_parse(BOOT_KIND_PVH, info, &bi));
	CHECK(bi.cmdline_truncated);
	CHECK_EQ(BOOT_MAX_CMDLINE - 1, strlen(bi.cmdline));
	CHECK_EQ(sizeof(line), bi.busy[1].len); /* the whole original stays out of the heap */
}

static void test_pvh_no_cmdline(void)
{
	uint64_t info = pvh_setup("", 1);
	si.cmdline_paddr = 0;
	CHECK_EQ(0, bootinfo_parse(BOOT_KIND_PVH, info, &bi));
	CHECK_STR_EQ("", bi.cmdline);
	CHECK_EQ(2, bi.busy_count);
}

int main(void)
{
	RUN(test_mb2_good);
	RUN(test_mb2_new_rsdp_wins);
	RUN(test_mb2_larger_entries);
	RUN(test_mb2_without_map);
	RUN(test_mb2_bad_total);
	RUN(test_mb2_tag_past_the_end);
	RUN(test_mb2_zero_sized_tag);
	RUN(test_mb2_unterminated_cmdline);
	RUN(test_pvh_good);
	RUN(test_pvh_refused);
	RUN(test_pvh_too_many_regions);
	RUN(test_pvh_long_cmdline);
	RUN(test_pvh_no_cmdline);
	return check_report("test_bootinfo");
}
