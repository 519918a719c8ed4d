/*
 * Interrupts: the local APIC (xAPIC, memory-mapped at the address in IA32_APIC_BASE);
 * the I/O APIC is ioapic.c's. The legacy 8259 PICs are moved above the CPU exceptions
 * and masked; PIT channel 0 is left in one-shot mode so that it stops ticking.
 *
 * Devices signal VECTOR_WAKEUP by MSI-X (or VECTOR_WAKEUP_LEVEL by INTx, through the
 * I/O APIC); the LAPIC timer, armed one-shot by the loop for its next deadline, uses
 * VECTOR_WAKEUP too. Their handler (vectors.S) only sends EOI: interrupts end a hlt, the
 * loop does the work.
 */
#include "boot_priv.h"
#include "platform.h"

#define MSR_APIC_BASE	       0x1b
#define APIC_BASE_ENABLE       (1ull << 11)
#define APIC_BASE_ADDRESS_MASK 0x000ffffffffff000ull
#define APIC_ID		       0x20
#define APIC_TPR	       0x80
#define APIC_EOI	       0xb0
#define APIC_SVR	       0xf0
#define APIC_LVT_TIMER	       0x320
#define APIC_LVT_ERROR	       0x370
#define APIC_TIMER_INITIAL     0x380
#define APIC_TIMER_CURRENT     0x390
#define APIC_TIMER_DIVIDE      0x3e0
#define APIC_SVR_ENABLE	       0x100
#define APIC_LVT_MASKED	       0x10000
#define APIC_DIVIDE_BY_16      0x3
#define MSI_ADDRESS_BASE       0xfee00000ull
#define CALIBRATION_NS	       2000000ull /* the wake-up timer needs no precision: early is harmless */

#define PIC1_COMMAND	     0x20
#define PIC1_DATA	     0x21
#define PIC2_COMMAND	     0xa0
#define PIC2_DATA	     0xa1
#define PIC_ICW1_INIT_ICW4   0x11
#define PIC_ICW4_8086	     0x01
#define PIT_CHANNEL0	     0x40
#define PIT_COMMAND	     0x43
#define PIT_CH0_ONESHOT_LOHI 0x30

volatile uint32_t *lapic_eoi_register; /* read by irq_wakeup_entry (vectors.S) */
static volatile uint32_t *lapic;
static uint64_t timer_hz;
static uint64_t msi_address;
static uint8_t local_apic_id;

static uint32_t lapic_read(unsigned reg)
{
	return lapic[reg / 4];
}

static void lapic_write(unsigned reg, uint32_t v)
{
	lapic[reg / 4] = v;
}

static void legacy_pic_disable(void)
{
	outb(PIC1_COMMAND, PIC_ICW1_INIT_ICW4);
	outb(PIC2_COMMAND, PIC_ICW1_INIT_ICW4);
	outb(PIC1_DATA, VECTOR_PIC_BASE);
	outb(PIC2_DATA, VECTOR_PIC_BASE + 8);
	outb(PIC1_DATA, 4); /* slave on IRQ 2 */
	outb(PIC2_DATA, 2);
	outb(PIC1_DATA, PIC_ICW4_8086);
	outb(PIC2_DATA, PIC_ICW4_8086);
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
	/* The BIOS leaves channel 0 ticking at 18.2 Hz; one-shot mode stops it, so an idle
	 * VM costs the host no timer wakeups. */
	outb(PIT_COMMAND, PIT_CH0_ONESHOT_LOHI);
	outb(PIT_CHANNEL0, 0xff);
	outb(PIT_CHANNEL0, 0xff);
}

/* The timer's count rate, measured against clock_ns(). */
static uint64_t timer_calibrate(void)
{
	lapic_write(APIC_TIMER_INITIAL, 0xffffffff);
	uint64_t start = clock_ns(), now;
	while ((now = clock_ns()) - start < CALIBRATION_NS)
		;
	uint64_t ticks = 0xffffffffull - lapic_read(APIC_TIMER_CURRENT);
	lapic_write(APIC_TIMER_INITIAL, 0);
	uint64_t hz = ticks * 1000000000ull / (now - start);
	return hz ? hz : 1000000; /* a timer that does not count: any rate will do */
}

void apic_init(void)
{
	legacy_pic_disable();
	uint64_t base = rdmsr(MSR_APIC_BASE);
	wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
	lapic = (volatile uint32_t *)mmio_map(base & APIC_BASE_ADDRESS_MASK, 4096);
	lapic_eoi_register = &lapic[APIC_EOI / 4];
	lapic_write(APIC_SVR, APIC_SVR_ENABLE | VECTOR_SPURIOUS);
	lapic_write(APIC_TPR, 0);
	lapic_write(APIC_LVT_ERROR, APIC_LVT_MASKED);
	lapic_write(APIC_TIMER_DIVIDE, APIC_DIVIDE_BY_16);
	lapic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | VECTOR_WAKEUP);
	timer_hz = timer_calibrate();
	lapic_write(APIC_LVT_TIMER, VECTOR_WAKEUP); /* one-shot, unmasked; idle until armed */
	local_apic_id = (uint8_t)(lapic_read(APIC_ID) >> 24);
	msi_address = MSI_ADDRESS_BASE | (uint64_t)local_apic_id << 12;
}

void apic_timer_arm(uint64_t ns)
{
	if (ns == 0) {
		lapic_write(APIC_TIMER_INITIAL, 0);
		return;
	}
	uint64_t ticks = (uint64_t)(((unsigned __int128)ns * timer_hz) / 1000000000u);
	if (ticks == 0)
		ticks = 1;
	if (ticks > 0xffffffffull)
		ticks = 0xffffffffull; /* waking early is harmless: the loop re-arms */
	lapic_write(APIC_TIMER_INITIAL, (uint32_t)ticks);
}

uint8_t apic_local_id(void)
{
	return local_apic_id;
}

uint8_t irq_wakeup_vector(void)
{
	return VECTOR_WAKEUP;
}

uint64_t irq_msi_address(void)
{
	return msi_address;
}
