/*
 * lwIP's platform hooks for NO_SYS=1: the millisecond clock (sys_now), random numbers,
 * and the timer poller that runs lwIP's timeouts (TCP, ARP, DHCP, IP reassembly) from
 * the event loop.
 *
 * Call lwip_port_init() once at start-up: it initialises lwIP and registers the poller.
 * The poller runs expired timeouts and, when none is due, asks the loop to wake at the
 * next deadline, so an idle appliance halts between timer ticks instead of spinning.
 */
#include "lwip_port.h"

#include "lwip/init.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"
#include "platform.h"

static uint64_t rand_state;

u32_t sys_now(void)
{
	return (u32_t)(clock_ns() / 1000000u);
}

/* xorshift64*: not cryptographic; lwIP only needs ids and ports that differ per boot. */
uint32_t lwip_port_rand(void)
{
	if (rand_state == 0)
		rand_state = clock_ns() * 0x9E3779B97F4A7C15ull | 1;
	rand_state ^= rand_state >> 12;
	rand_state ^= rand_state << 25;
	rand_state ^= rand_state >> 27;
	return (uint32_t)((rand_state * 0x2545F4914F6CDD1Dull) >> 32);
}

static bool lwip_timers_poll(void *ctx)
{
	(void)ctx;
	u32_t sleep_ms = sys_timeouts_sleeptime();
	if (sleep_ms == 0) {
		sys_check_timeouts();
		return true;
	}
	if (sleep_ms != SYS_TIMEOUTS_SLEEPTIME_INFINITE)
		loop_wake_at(clock_ns() + (uint64_t)sleep_ms * 1000000u);
	return false;
}

void lwip_port_init(void)
{
	rand_state = 0;
	lwip_init();
	loop_add_poller(lwip_timers_poll, NULL);
}
