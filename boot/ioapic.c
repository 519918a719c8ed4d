/*
 * The I/O APIC: legacy interrupts (PCI INTx) for devices without MSI-X, such as the
 * virtio-net device of QEMU's -nic shorthand.
 *
 * ioapic_find() reads the MADT while the early page tables map it: each I/O APIC's
 * address and first GSI, and the interrupt source overrides, which say on which GSI an
 * ISA IRQ arrives and with which polarity and trigger mode. ioapic_init() maps the I/O
 * APICs and masks every pin. irq_route_legacy() then sends one line to this CPU, on
 * VECTOR_WAKEUP_LEVEL (bootdefs.h says why not VECTOR_WAKEUP) when it is
 * level-triggered; lines may be shared, the handler only wakes the CPU.
 *
 * The IRQ comes from a PCI function's Interrupt Line register. SeaBIOS sets it on both
 * QEMU machines to the ISA IRQ it steered the function's PIRQ link to (10 or 11 on
 * pc/PIIX3 and on q35/ICH9), and both chipsets drive that I/O APIC pin as well as the
 * 8259's. QEMU's MADT overrides IRQs 5, 9, 10 and 11 as level-triggered, active high,
 * and its I/O APIC honours the polarity bit: programmed active low, as PCI lines are on
 * real hardware, a line would signal when the device is acknowledged instead of when
 * it asserts. So the overrides decide; a line without one gets what PCI specifies:
 * level-triggered, active low.
 *
 * A level-triggered line stays asserted until the device is acknowledged (virtio: a
 * read of its ISR status), so the I/O APIC sends the vector again as soon as the
 * handler's EOI arrives. vectors.S therefore returns from the wake-up handler with
 * interrupts disabled: that second delivery waits for the loop's next halt, by which
 * time the pollers have acknowledged their devices, instead of repeating forever.
 */
#include <errno.h>
#include <stdio.h>

#include "boot_priv.h"
#include "platform.h"

#define IOAPIC_MAX 4
#define ISA_IRQS   16

/* MADT (ACPI 6.x, section 5.2.12): entries follow the header and two u32 fields. */
#define MADT_ENTRIES	      44
#define MADT_TYPE_IOAPIC      1
#define MADT_TYPE_OVERRIDE    2
#define MADT_IOAPIC_ADDRESS   4
#define MADT_IOAPIC_GSI_BASE  8
#define MADT_OVERRIDE_BUS     2 /* 0: ISA */
#define MADT_OVERRIDE_SOURCE  3
#define MADT_OVERRIDE_GSI     4
#define MADT_OVERRIDE_FLAGS   8
#define MPS_INTI_POLARITY     0x3
#define MPS_INTI_ACTIVE_HIGH  0x1
#define MPS_INTI_TRIGGER      0xc
#define MPS_INTI_EDGE	      0x4

/* I/O APIC registers (82093AA datasheet), reached through a select/window pair. */
#define IOAPIC_REGSEL	       0x00
#define IOAPIC_WINDOW	       0x10
#define IOAPIC_VERSION	       0x01
#define IOAPIC_MAX_REDIR_SHIFT 16
#define IOAPIC_REDIRECTION     0x10 /* + 2 * pin: low dword, then high dword */
#define REDIR_DELIVERY_NMI     (4u << 8)
#define REDIR_ACTIVE_LOW       (1u << 13)
#define REDIR_LEVEL	       (1u << 15)
#define REDIR_MASKED	       (1u << 16)
#define REDIR_DEST_SHIFT       24 /* high dword: APIC ID, physical destination mode */

struct ioapic {
	uint64_t phys;
	uint32_t gsi_base;
	unsigned pins; /* 0 until mapped by ioapic_init() */
	volatile uint32_t *regs;
};

struct isa_route {
	uint32_t gsi;
	uint16_t flags; /* MPS INTI flags of its override; 0: none, "conforms to the bus" */
};

static struct ioapic ioapics[IOAPIC_MAX];
static unsigned ioapic_count, ioapics_ignored, override_count;
static struct isa_route isa_routes[ISA_IRQS];

static uint32_t ioapic_read(const struct ioapic *io, uint32_t reg)
{
	io->regs[IOAPIC_REGSEL / 4] = reg;
	return io->regs[IOAPIC_WINDOW / 4];
}

static void ioapic_write(const struct ioapic *io, uint32_t reg, uint32_t v)
{
	io->regs[IOAPIC_REGSEL / 4] = reg;
	io->regs[IOAPIC_WINDOW / 4] = v;
}

static void madt_entry(uint64_t e, uint8_t type, uint8_t len)
{
	if (type == MADT_TYPE_IOAPIC && len >= 12) {
		if (ioapic_count == IOAPIC_MAX) {
			ioapics_ignored++;
			return;
		}
		ioapics[ioapic_count++] = (struct ioapic){
			.phys = acpi_read32(e + MADT_IOAPIC_ADDRESS),
			.gsi_base = acpi_read32(e + MADT_IOAPIC_GSI_BASE) };
	} else if (type == MADT_TYPE_OVERRIDE && len >= 10) {
		uint8_t irq = *(const uint8_t *)(e + MADT_OVERRIDE_SOURCE);
		if (*(const uint8_t *)(e + MADT_OVERRIDE_BUS) != 0 || irq >= ISA_IRQS)
			return;
		isa_routes[irq] = (struct isa_route){ acpi_read32(e + MADT_OVERRIDE_GSI),
						      acpi_read16(e + MADT_OVERRIDE_FLAGS) };
		override_count++;
	}
}

void ioapic_find(const struct boot_info *bi)
{
	ioapic_count = ioapics_ignored = override_count = 0;
	for (unsigned irq = 0; irq < ISA_IRQS; irq++)
		isa_routes[irq] = (struct isa_route){ .gsi = irq }; /* identity unless overridden */
	uint64_t madt = acpi_find_table(bi, "APIC");
	if (!madt)
		return;
	uint64_t end = madt + acpi_read32(madt + ACPI_SDT_LENGTH);
	for (uint64_t e = madt + MADT_ENTRIES; e + 2 <= end;) {
		uint8_t len = *(const uint8_t *)(e + 1);
		if (len < 2 || e + len > end)
			break; /* a broken list: keep what came before */
		madt_entry(e, *(const uint8_t *)e, len);
		e += len;
	}
}

void ioapic_init(void)
{
	for (unsigned i = 0; i < ioapic_count; i++) {
		struct ioapic *io = &ioapics[i];
		io->regs = (volatile uint32_t *)mmio_map(io->phys, 4096);
		if (!io->regs)
			continue;
		io->pins = ((ioapic_read(io, IOAPIC_VERSION) >> IOAPIC_MAX_REDIR_SHIFT) & 0xff) + 1;
		for (unsigned pin = 0; pin < io->pins; pin++)
			ioapic_write(io, IOAPIC_REDIRECTION + 2 * pin, REDIR_MASKED);
	}
}

void ioapic_print(void)
{
	if (ioapic_count == 0)
		printf("qedbox: no I/O APIC in the ACPI tables: devices without MSI-X are unusable\n");
	for (unsigned i = 0; i < ioapic_count; i++)
		printf("qedbox: I/O APIC at %#llx: %u pins from GSI %u%s\n",
		       (unsigned long long)ioapics[i].phys, ioapics[i].pins, ioapics[i].gsi_base,
		       ioapics[i].pins ? "" : " (not mappable)");
	printf("qedbox: %u ISA interrupt overrides%s\n", override_count,
	       ioapics_ignored ? ", more I/O APICs than supported (ignored)" : "");
}

static struct ioapic *ioapic_of(uint32_t gsi, unsigned *pin)
{
	for (unsigned i = 0; i < ioapic_count; i++)
		if (gsi >= ioapics[i].gsi_base && gsi - ioapics[i].gsi_base < ioapics[i].pins) {
			*pin = gsi - ioapics[i].gsi_base;
			return &ioapics[i];
		}
	return NULL;
}

/* The redirection register of a legacy IRQ, after any interrupt source override. */
static struct ioapic *ioapic_of_irq(unsigned irq, struct isa_route *route, uint32_t *reg)
{
	*route = (struct isa_route){ .gsi = irq };
	if (irq < ISA_IRQS)
		*route = isa_routes[irq];
	unsigned pin = 0;
	struct ioapic *io = ioapic_of(route->gsi, &pin);
	*reg = IOAPIC_REDIRECTION + 2 * pin;
	return io;
}

int irq_route_legacy(unsigned irq)
{
	struct isa_route route;
	uint32_t reg;
	struct ioapic *io = ioapic_of_irq(irq, &route, &reg);
	if (!io)
		return -ENODEV;
	bool active_low = (route.flags & MPS_INTI_POLARITY) != MPS_INTI_ACTIVE_HIGH;
	bool level = (route.flags & MPS_INTI_TRIGGER) != MPS_INTI_EDGE;
	uint32_t entry = level ? VECTOR_WAKEUP_LEVEL | REDIR_LEVEL : VECTOR_WAKEUP;
	if (active_low)
		entry |= REDIR_ACTIVE_LOW;
	if (!(ioapic_read(io, reg) & REDIR_MASKED))
		return 0; /* already routed, for a device sharing the line */
	ioapic_write(io, reg + 1, (uint32_t)apic_local_id() << REDIR_DEST_SHIFT);
	ioapic_write(io, reg, entry);
	printf("irq: IRQ %u -> GSI %u, %s-triggered, active %s\n", irq, route.gsi,
	       level ? "level" : "edge", active_low ? "low" : "high");
	return 0;
}

/* An ISA line (the PIT's IRQ 0) is edge-triggered and active high unless an override
 * says otherwise; NMI delivery must be edge-triggered whatever the override says. */
int ioapic_route_nmi(unsigned irq)
{
	struct isa_route route;
	uint32_t reg;
	struct ioapic *io = ioapic_of_irq(irq, &route, &reg);
	if (!io)
		return -ENODEV;
	if (!(ioapic_read(io, reg) & REDIR_MASKED))
		return -EBUSY;
	bool active_low = (route.flags & MPS_INTI_POLARITY) != 0 &&
			  (route.flags & MPS_INTI_POLARITY) != MPS_INTI_ACTIVE_HIGH;
	ioapic_write(io, reg + 1, (uint32_t)apic_local_id() << REDIR_DEST_SHIFT);
	ioapic_write(io, reg, REDIR_DELIVERY_NMI | (active_low ? REDIR_ACTIVE_LOW : 0));
	printf("irq: IRQ %u -> GSI %u as NMI, edge-triggered, active %s\n", irq, route.gsi,
	       active_low ? "low" : "high");
	return 0;
}
