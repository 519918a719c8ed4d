/*
 * Names for the PCI device table printed at boot: the devices QEMU's pc and q35
 * machines carry, else the class. Only for humans reading the console.
 */
#include <stdio.h>

#include "pci.h"

struct known_device {
	uint16_t vendor, device;
	const char *name;
};

static const struct known_device known[] = {
	{ 0x8086, 0x1237, "i440FX host bridge" },
	{ 0x8086, 0x7000, "PIIX3 ISA bridge" },
	{ 0x8086, 0x7010, "PIIX3 IDE" },
	{ 0x8086, 0x7113, "PIIX4 ACPI" },
	{ 0x8086, 0x29c0, "Q35 host bridge" },
	{ 0x8086, 0x2918, "ICH9 LPC bridge" },
	{ 0x8086, 0x2922, "ICH9 AHCI" },
	{ 0x8086, 0x2930, "ICH9 SMBus" },
	{ 0x8086, 0x100e, "e1000" },
	{ 0x8086, 0x10d3, "e1000e" },
	{ 0x1234, 0x1111, "VGA" },
	{ 0x1b36, 0x000c, "PCIe root port" },
	{ 0x1af4, 0x1000, "virtio-net (transitional)" },
	{ 0x1af4, 0x1001, "virtio-blk (transitional)" },
	{ 0x1af4, 0x1041, "virtio-net" },
	{ 0x1af4, 0x1042, "virtio-blk" },
};

static const char *const class_names[] = {
	[0x00] = "unclassified", [0x01] = "storage", [0x02] = "network",
	[0x03] = "display", [0x04] = "multimedia", [0x05] = "memory",
	[0x06] = "bridge", [0x07] = "communication", [0x08] = "system",
	[0x0c] = "serial bus",
};

const char *pci_device_name(const struct pci_dev *d)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (known[i].vendor == d->vendor_id && known[i].device == d->device_id)
			return known[i].name;
	if (d->class_code < sizeof(class_names) / sizeof(class_names[0]) &&
	    class_names[d->class_code])
		return class_names[d->class_code];
	return "unknown";
}

void pci_print_table(void)
{
	printf("pci: %u functions\n", pci_device_count());
	printf("pci: bb:dd.f vendor:device class    name\n");
	for (unsigned i = 0; i < pci_device_count(); i++) {
		const struct pci_dev *d = pci_device(i);
		printf("pci: %02x:%02x.%x %04x:%04x  %02x%02x%02x  %s\n", d->bus, d->slot, d->func,
		       d->vendor_id, d->device_id, d->class_code, d->subclass, d->prog_if,
		       pci_device_name(d));
	}
}
