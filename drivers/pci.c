/*
 * PCI enumeration, BARs, capabilities, MSI-X and INTx (see pci.h for use).
 *
 * Configuration mechanism 1: write the function's address to 0xcf8, then access the
 * dword at 0xcfc (+ byte offset for narrower accesses). The scan starts at bus 0 and
 * follows PCI-PCI bridges to their secondary buses, as the firmware numbered them;
 * q35 and pc both put their devices on bus 0.
 */
#include "pci.h"

#include <errno.h>
#include <stdio.h>

#include "platform.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA    0xcfc
#define PCI_SLOTS          32
#define PCI_FUNCS          8
#define PCI_MAX_BUSES      256

/* The device table: filled by pci_scan(), reset by each scan. */
static struct pci_dev devices[PCI_MAX_DEVICES];
static unsigned device_count;
static bool bus_seen[PCI_MAX_BUSES];

static uint32_t config_address(uint8_t bus, uint8_t slot, uint8_t func, uint8_t off)
{
	return 0x80000000u | (uint32_t)bus << 16 | (uint32_t)slot << 11 |
	       (uint32_t)func << 8 | (off & 0xfc);
}

static uint32_t raw_read32(uint8_t bus, uint8_t slot, uint8_t func, uint8_t off)
{
	outl(PCI_CONFIG_ADDRESS, config_address(bus, slot, func, off));
	return inl(PCI_CONFIG_DATA);
}

uint32_t pci_cfg_read32(const struct pci_dev *d, uint8_t off)
{
	return raw_read32(d->bus, d->slot, d->func, off);
}

uint16_t pci_cfg_read16(const struct pci_dev *d, uint8_t off)
{
	outl(PCI_CONFIG_ADDRESS, config_address(d->bus, d->slot, d->func, off));
	return inw(PCI_CONFIG_DATA + (off & 2));
}

uint8_t pci_cfg_read8(const struct pci_dev *d, uint8_t off)
{
	outl(PCI_CONFIG_ADDRESS, config_address(d->bus, d->slot, d->func, off));
	return inb(PCI_CONFIG_DATA + (off & 3));
}

void pci_cfg_write32(const struct pci_dev *d, uint8_t off, uint32_t v)
{
	outl(PCI_CONFIG_ADDRESS, config_address(d->bus, d->slot, d->func, off));
	outl(PCI_CONFIG_DATA, v);
}

void pci_cfg_write16(const struct pci_dev *d, uint8_t off, uint16_t v)
{
	outl(PCI_CONFIG_ADDRESS, config_address(d->bus, d->slot, d->func, off));
	outw(PCI_CONFIG_DATA + (off & 2), v);
}

/* Sizes one BAR by writing all ones and reading back which bits stick; returns how
 * many BAR registers it used (2 for a 64-bit memory BAR). Decoding is off meanwhile. */
static unsigned decode_bar(const struct pci_dev *d, unsigned i, struct pci_bar *bar)
{
	uint8_t off = PCI_BAR0 + 4 * i;
	uint32_t lo = pci_cfg_read32(d, off);
	pci_cfg_write32(d, off, 0xffffffffu);
	uint32_t lo_mask = pci_cfg_read32(d, off);
	pci_cfg_write32(d, off, lo);
	if (lo & PCI_BAR_IO) {
		bar->io = true;
		bar->base = lo & ~3u;
		uint32_t m = lo_mask & ~3u & 0xffff;
		bar->size = m ? (~m & 0xffff) + 1 : 0;
		return 1;
	}
	bar->prefetch = (lo & PCI_BAR_MEM_PREFETCH) != 0;
	uint64_t base = lo & ~0xfu, mask = (lo_mask & ~0xfu) | 0xffffffff00000000ull;
	unsigned used = 1;
	if ((lo & 0x6) == PCI_BAR_MEM_TYPE_64 && i + 1 < PCI_MAX_BARS) {
		uint32_t hi = pci_cfg_read32(d, off + 4);
		pci_cfg_write32(d, off + 4, 0xffffffffu);
		uint32_t hi_mask = pci_cfg_read32(d, off + 4);
		pci_cfg_write32(d, off + 4, hi);
		bar->mem64 = true;
		base |= (uint64_t)hi << 32;
		mask = (mask & 0xffffffffull) | (uint64_t)hi_mask << 32;
		used = 2;
	}
	bar->base = base;
	/* No writable address bit: the BAR is not implemented. */
	bool implemented = bar->mem64 ? (mask & ~0xfull) != 0 : (lo_mask & ~0xfu) != 0;
	bar->size = implemented ? ~(mask & ~0xfull) + 1 : 0;
	if (!implemented)
		bar->base = 0;
	return used;
}

static void decode_bars(struct pci_dev *d)
{
	unsigned nbars = d->header_type == 0 ? 6 : d->header_type == 1 ? 2 : 0;
	uint16_t cmd = pci_cfg_read16(d, PCI_COMMAND);
	pci_cfg_write16(d, PCI_COMMAND, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	for (unsigned i = 0; i < nbars;)
		i += decode_bar(d, i, &d->bars[i]);
	pci_cfg_write16(d, PCI_COMMAND, cmd);
}

static void scan_bus(uint8_t bus);

static void add_function(uint8_t bus, uint8_t slot, uint8_t func, uint32_t id)
{
	if (device_count == PCI_MAX_DEVICES) {
		printf("pci: more than %d functions, %02x:%02x.%x ignored\n", PCI_MAX_DEVICES,
		       bus, slot, func);
		return;
	}
	struct pci_dev *d = &devices[device_count++];
	*d = (struct pci_dev){ .bus = bus, .slot = slot, .func = func,
			       .vendor_id = id & 0xffff, .device_id = id >> 16 };
	uint32_t class = pci_cfg_read32(d, PCI_REVISION_ID);
	d->revision = class & 0xff;
	d->prog_if = (class >> 8) & 0xff;
	d->subclass = (class >> 16) & 0xff;
	d->class_code = class >> 24;
	d->header_type = pci_cfg_read8(d, PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MASK;
	decode_bars(d);
	if (d->header_type == PCI_HEADER_TYPE_BRIDGE) {
		uint8_t secondary = pci_cfg_read8(d, PCI_SECONDARY_BUS);
		if (secondary != 0)
			scan_bus(secondary);
	}
}

static void scan_slot(uint8_t bus, uint8_t slot)
{
	uint32_t id = raw_read32(bus, slot, 0, PCI_VENDOR_ID);
	if ((id & 0xffff) == 0xffff)
		return;
	uint8_t header = raw_read32(bus, slot, 0, PCI_HEADER_TYPE & 0xfc) >> 16 & 0xff;
	unsigned funcs = (header & PCI_HEADER_TYPE_MULTIFUNCTION) ? PCI_FUNCS : 1;
	for (uint8_t f = 0; f < funcs; f++) {
		id = raw_read32(bus, slot, f, PCI_VENDOR_ID);
		if ((id & 0xffff) != 0xffff)
			add_function(bus, slot, f, id);
	}
}

static void scan_bus(uint8_t bus)
{
	if (bus_seen[bus])
		return; /* a misconfigured bridge pointing back: don't loop */
	bus_seen[bus] = true;
	for (uint8_t slot = 0; slot < PCI_SLOTS; slot++)
		scan_slot(bus, slot);
}

unsigned pci_scan(void)
{
	device_count = 0;
	for (unsigned b = 0; b < PCI_MAX_BUSES; b++)
		bus_seen[b] = false;
	scan_bus(0);
	pci_print_table();
	return device_count;
}

unsigned pci_device_count(void)
{
	return device_count;
}

struct pci_dev *pci_device(unsigned index)
{
	return index < device_count ? &devices[index] : NULL;
}

uint8_t pci_find_capability(const struct pci_dev *d, uint8_t cap_id, uint8_t after)
{
	if (!(pci_cfg_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	uint8_t off = after ? pci_cfg_read8(d, after + 1) : pci_cfg_read8(d, PCI_CAPABILITY_LIST);
	/* At most 48 capabilities fit in 192 bytes: more means a loop. */
	for (unsigned n = 0; off >= 0x40 && n < 48; n++) {
		off &= 0xfc;
		if (pci_cfg_read8(d, off) == cap_id)
			return off;
		off = pci_cfg_read8(d, off + 1);
	}
	return 0;
}

void pci_enable(const struct pci_dev *d, uint16_t command_bits)
{
	pci_cfg_write16(d, PCI_COMMAND, pci_cfg_read16(d, PCI_COMMAND) | command_bits);
}

volatile void *pci_map_bar(const struct pci_dev *d, unsigned bar, uint64_t offset,
			   uint64_t len)
{
	if (bar >= PCI_MAX_BARS)
		return NULL;
	const struct pci_bar *b = &d->bars[bar];
	if (b->io || b->base == 0 || offset > b->size || len > b->size - offset)
		return NULL;
	return mmio_map(b->base + offset, len);
}

int pci_msix_enable(const struct pci_dev *d, unsigned *entries)
{
	uint8_t cap = pci_find_capability(d, PCI_CAP_ID_MSIX, 0);
	if (!cap)
		return -ENODEV;
	uint16_t ctrl = pci_cfg_read16(d, cap + PCI_MSIX_FLAGS);
	uint32_t table = pci_cfg_read32(d, cap + PCI_MSIX_TABLE);
	unsigned n = (ctrl & PCI_MSIX_FLAGS_QSIZE) + 1;
	volatile uint8_t *t = pci_map_bar(d, table & PCI_MSIX_BIR_MASK, table & ~PCI_MSIX_BIR_MASK,
					  (uint64_t)n * PCI_MSIX_ENTRY_SIZE);
	if (!t)
		return -EIO;
	pci_enable(d, PCI_COMMAND_MEMORY);
	/* Program with the whole function masked, then unmask it. */
	pci_cfg_write16(d, cap + PCI_MSIX_FLAGS, ctrl | PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	uint64_t addr = irq_msi_address();
	for (unsigned i = 0; i < n; i++) {
		volatile uint32_t *e = (volatile uint32_t *)(t + i * PCI_MSIX_ENTRY_SIZE);
		e[PCI_MSIX_ENTRY_ADDR_LO / 4] = (uint32_t)addr;
		e[PCI_MSIX_ENTRY_ADDR_HI / 4] = (uint32_t)(addr >> 32);
		e[PCI_MSIX_ENTRY_DATA / 4] = irq_wakeup_vector(); /* fixed, edge */
		e[PCI_MSIX_ENTRY_VECTOR_CTL / 4] = 0;             /* unmasked */
	}
	pci_cfg_write16(d, cap + PCI_MSIX_FLAGS,
			(ctrl | PCI_MSIX_FLAGS_ENABLE) & ~PCI_MSIX_FLAGS_MASKALL);
	pci_enable(d, PCI_COMMAND_INTX_DISABLE);
	*entries = n;
	return 0;
}

int pci_intx_enable(const struct pci_dev *d)
{
	uint8_t pin = pci_cfg_read8(d, PCI_INTERRUPT_PIN);
	uint8_t line = pci_cfg_read8(d, PCI_INTERRUPT_LINE);
	if (pin == 0 || pin > 4 || line == 0xff)
		return -ENODEV;
	int rc = irq_route_legacy(line);
	if (rc)
		return rc;
	pci_cfg_write16(d, PCI_COMMAND, pci_cfg_read16(d, PCI_COMMAND) & ~PCI_COMMAND_INTX_DISABLE);
	return 0;
}
