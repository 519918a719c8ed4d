/*
 * PCI: enumeration through configuration mechanism 1 (ports 0xcf8/0xcfc), BAR
 * decoding, capability lists, MSI-X. Firmware only.
 *
 * Use:
 *     pci_scan();                       // once at boot: finds every function, prints
 *                                       // the device table on the console
 *     for (unsigned i = 0; i < pci_device_count(); i++) {
 *         struct pci_dev *d = pci_device(i);
 *         if (d->vendor_id == ... && d->device_id == ...) ...
 *     }
 *     pci_enable(d, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
 *     volatile void *regs = pci_map_bar(d, bar, offset, len);
 *     pci_msix_enable(d, &entries);     // every entry -> irq_wakeup_vector()
 *     or pci_intx_enable(d);            // without MSI-X: INTx, same effect
 *
 * BARs are used as the firmware (SeaBIOS) assigned them; nothing is reassigned.
 * The PCI constants of qedbox live here (PCI Local Bus 3.0, PCIe base spec names).
 */
#ifndef QEDBOX_PCI_H
#define QEDBOX_PCI_H

#include <stdbool.h>
#include <stdint.h>

/* ---- configuration space header (type 0 unless noted) ------------------------------- */
#define PCI_VENDOR_ID       0x00
#define PCI_DEVICE_ID       0x02
#define PCI_COMMAND         0x04
#define PCI_STATUS          0x06
#define PCI_REVISION_ID     0x08
#define PCI_PROG_IF         0x09
#define PCI_SUBCLASS        0x0a
#define PCI_CLASS           0x0b
#define PCI_HEADER_TYPE     0x0e
#define PCI_BAR0            0x10
#define PCI_SECONDARY_BUS   0x19 /* type 1 (bridge) */
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE  0x3c /* IRQ the firmware routed INTx to; 0xff: none */
#define PCI_INTERRUPT_PIN   0x3d /* 1-4: INTA#-INTD#; 0: no INTx */

#define PCI_COMMAND_IO            (1u << 0)
#define PCI_COMMAND_MEMORY        (1u << 1)
#define PCI_COMMAND_MASTER        (1u << 2)
#define PCI_COMMAND_INTX_DISABLE  (1u << 10)

#define PCI_STATUS_CAP_LIST (1u << 4)

#define PCI_HEADER_TYPE_MASK         0x7f
#define PCI_HEADER_TYPE_BRIDGE       0x01
#define PCI_HEADER_TYPE_MULTIFUNCTION 0x80

#define PCI_BAR_IO          0x1
#define PCI_BAR_MEM_TYPE_64 0x4 /* bits 2:1 == 10b */
#define PCI_BAR_MEM_PREFETCH 0x8

#define PCI_CLASS_BRIDGE     0x06
#define PCI_SUBCLASS_PCI_BRIDGE 0x04

/* ---- capabilities -------------------------------------------------------------------- */
#define PCI_CAP_ID_MSI    0x05
#define PCI_CAP_ID_VNDR   0x09 /* vendor specific: virtio's structures */
#define PCI_CAP_ID_MSIX   0x11

#define PCI_MSIX_FLAGS        2 /* u16 message control, from the capability */
#define PCI_MSIX_TABLE        4 /* u32 table offset | BIR */
#define PCI_MSIX_FLAGS_QSIZE  0x07ff /* table size - 1 */
#define PCI_MSIX_FLAGS_MASKALL (1u << 14)
#define PCI_MSIX_FLAGS_ENABLE (1u << 15)
#define PCI_MSIX_BIR_MASK     0x7

/* MSI-X table entry layout (16 bytes each). */
#define PCI_MSIX_ENTRY_SIZE       16
#define PCI_MSIX_ENTRY_ADDR_LO    0
#define PCI_MSIX_ENTRY_ADDR_HI    4
#define PCI_MSIX_ENTRY_DATA       8
#define PCI_MSIX_ENTRY_VECTOR_CTL 12
#define PCI_MSIX_ENTRY_CTRL_MASKBIT 1

#define PCI_MAX_BARS    6
#define PCI_MAX_DEVICES 64

struct pci_bar {
	uint64_t base; /* bus address (memory) or port (I/O); 0 when unimplemented */
	uint64_t size;
	bool io;
	bool mem64;
	bool prefetch;
};

struct pci_dev {
	uint8_t bus, slot, func;
	uint16_t vendor_id, device_id;
	uint8_t class_code, subclass, prog_if, revision;
	uint8_t header_type; /* without the multifunction bit */
	struct pci_bar bars[PCI_MAX_BARS];
};

/* Enumerates every bus reachable from bus 0 (following PCI-PCI bridges), decodes
 * BARs, and prints the device table. Returns the number of functions found. Calling
 * it again rescans from scratch. */
unsigned pci_scan(void);
void pci_print_table(void);
unsigned pci_device_count(void);
struct pci_dev *pci_device(unsigned index);

uint8_t pci_cfg_read8(const struct pci_dev *d, uint8_t off);
uint16_t pci_cfg_read16(const struct pci_dev *d, uint8_t off);
uint32_t pci_cfg_read32(const struct pci_dev *d, uint8_t off);
void pci_cfg_write16(const struct pci_dev *d, uint8_t off, uint16_t v);
void pci_cfg_write32(const struct pci_dev *d, uint8_t off, uint32_t v);

/* Offset of the first capability with id cap_id after the one at `after` (0: from the
 * start of the list), or 0 when there is none. Loops in a broken list are cut off. */
uint8_t pci_find_capability(const struct pci_dev *d, uint8_t cap_id, uint8_t after);

/* Sets the given PCI_COMMAND_* bits. */
void pci_enable(const struct pci_dev *d, uint16_t command_bits);

/* Maps [offset, offset+len) of a memory BAR; NULL when the BAR is I/O, unassigned, or
 * too small. */
volatile void *pci_map_bar(const struct pci_dev *d, unsigned bar, uint64_t offset,
			   uint64_t len);

/* Programs every MSI-X table entry to deliver irq_wakeup_vector() to this CPU,
 * unmasked, enables MSI-X and disables INTx. *entries gets the table size.
 * 0, -ENODEV (no MSI-X capability) or -EIO (table BAR not mappable). */
int pci_msix_enable(const struct pci_dev *d, unsigned *entries);

/* Routes the function's INTx pin, as the firmware wired it (the Interrupt Line
 * register), through irq_route_legacy() to wake this CPU, and enables INTx. The line
 * stays asserted until the device is acknowledged in its own way (see platform.h).
 * 0; -ENODEV when the function has no INTx pin, the firmware routed none, or no I/O
 * APIC pin serves it. */
int pci_intx_enable(const struct pci_dev *d);

/* A short name for known vendor:device pairs, else for the class; never NULL. */
const char *pci_device_name(const struct pci_dev *d);

#endif
