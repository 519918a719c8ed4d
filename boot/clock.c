/*
 * The monotonic clock, clock_ns(): nanoseconds since the firmware's first C code.
 *
 * kvmclock when the hypervisor offers it (CPUID 0x40000001, KVM_FEATURE_CLOCKSOURCE2):
 * the host keeps a pvclock structure up to date and we scale the TSC with its figures.
 * Otherwise (TCG, other hypervisors) the TSC, its rate measured once at boot against
 * PIT channel 2 over 10 ms.
 */
#include "boot_priv.h"
#include "platform.h"

#define CPUID_HYPERVISOR_BASE	 0x40000000
#define CPUID_KVM_FEATURES	 0x40000001
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)
#define MSR_KVM_SYSTEM_TIME_NEW	 0x4b564d01
#define KVM_SIGNATURE_EBX	 0x4b4d564b /* "KVMKVMKVM\0\0\0" */
#define KVM_SIGNATURE_ECX	 0x564b4d56
#define KVM_SIGNATURE_EDX	 0x0000004d

#define PIT_HZ		     1193182
#define PIT_CHANNEL2	     0x42
#define PIT_COMMAND	     0x43
#define PIT_CH2_ONESHOT_LOHI 0xb0 /* channel 2, lobyte/hibyte, mode 0, binary */
#define PORT_NMI_SC	     0x61
#define NMI_SC_GATE2	     0x01
#define NMI_SC_SPEAKER	     0x02
#define NMI_SC_OUT2	     0x20
#define CALIBRATION_MS	     10

struct pvclock_time_info { /* written by the host */
	uint32_t version, pad0;
	uint64_t tsc_timestamp, system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags, pad[2];
} __attribute__((packed));

static volatile struct pvclock_time_info pvclock __attribute__((aligned(64)));
static enum { CLOCK_NONE, CLOCK_KVM, CLOCK_TSC } source;
static uint64_t boot_ns;       /* kvmclock: its value at the firmware's entry */
static uint64_t tsc_at_boot;   /* TSC: its value at the firmware's entry */
static uint64_t ns_per_tick32; /* TSC: nanoseconds per tick, 32.32 fixed point */
static uint64_t last_ns;       /* clock_ns() never goes backwards */

static bool kvmclock_offered(void)
{
	uint32_t r[4];
	cpuid(CPUID_HYPERVISOR_BASE, 0, r);
	if (r[1] != KVM_SIGNATURE_EBX || r[2] != KVM_SIGNATURE_ECX || r[3] != KVM_SIGNATURE_EDX ||
	    r[0] < CPUID_KVM_FEATURES)
		return false;
	cpuid(CPUID_KVM_FEATURES, 0, r);
	return r[0] & KVM_FEATURE_CLOCKSOURCE2;
}

/* TSC ticks to nanoseconds with the host's figures. */
static uint64_t pvclock_scale(uint64_t ticks)
{
	int shift = pvclock.tsc_shift;
	ticks = shift < 0 ? ticks >> -shift : ticks << shift;
	return (uint64_t)(((unsigned __int128)ticks * pvclock.tsc_to_system_mul) >> 32);
}

static uint64_t kvmclock_read(void)
{
	uint32_t version;
	uint64_t ns;
	do {
		version = pvclock.version;
		__asm__ volatile("" ::: "memory");
		ns = pvclock.system_time + pvclock_scale(rdtsc() - pvclock.tsc_timestamp);
		__asm__ volatile("" ::: "memory");
	} while ((version & 1) || version != pvclock.version); /* odd: host is updating */
	return ns;
}

/* TSC ticks during CALIBRATION_MS of PIT channel 2 counting down (mode 0). */
static uint64_t tsc_ticks_per_calibration(void)
{
	const uint16_t count = PIT_HZ * CALIBRATION_MS / 1000;
	outb(PORT_NMI_SC, (uint8_t)((inb(PORT_NMI_SC) & ~NMI_SC_SPEAKER) | NMI_SC_GATE2));
	outb(PIT_COMMAND, PIT_CH2_ONESHOT_LOHI);
	outb(PIT_CHANNEL2, count & 0xff);
	outb(PIT_CHANNEL2, count >> 8);
	uint64_t start = rdtsc();
	for (uint32_t spin = 0; spin < 100000000 && !(inb(PORT_NMI_SC) & NMI_SC_OUT2); spin++)
		;
	return rdtsc() - start;
}

void clock_init(uint64_t entry_tsc)
{
	if (kvmclock_offered()) {
		wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (uint64_t)&pvclock | 1); /* bit 0: enable */
		source = CLOCK_KVM;
		uint64_t now_tsc = rdtsc();
		boot_ns = kvmclock_read() - pvclock_scale(now_tsc - entry_tsc);
		return;
	}
	uint64_t ticks = tsc_ticks_per_calibration();
	uint64_t hz = ticks * (1000 / CALIBRATION_MS);
	if (hz == 0)
		hz = 1000000000; /* a TSC that does not tick: keep the clock defined */
	ns_per_tick32 = (uint64_t)(((unsigned __int128)1000000000 << 32) / hz);
	tsc_at_boot = entry_tsc;
	source = CLOCK_TSC;
}

const char *clock_source(void)
{
	return source == CLOCK_KVM ? "kvmclock" : source == CLOCK_TSC ? "tsc" : "none";
}

uint64_t clock_ns(void)
{
	uint64_t ns = 0;
	if (source == CLOCK_KVM)
		ns = kvmclock_read() - boot_ns;
	else if (source == CLOCK_TSC)
		ns = (uint64_t)(((unsigned __int128)(rdtsc() - tsc_at_boot) * ns_per_tick32) >> 32);
	if (ns < last_ns)
		ns = last_ns;
	last_ns = ns;
	return ns;
}
