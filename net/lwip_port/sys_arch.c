/*
 * lwIP's platform hooks for NO_SYS=1: the millisecond clock (sys_now), random numbers
 * and TCP initial sequence numbers (from lib/random.h: the appliance seeds it before
 * networking starts), and the timer poller that runs lwIP's timeouts (TCP, ARP, DHCP,
 * IP reassembly) from the event loop.
 *
 * Call lwip_port_init() once at start-up: it initialises lwIP and registers the poller.
 * The poller runs expired timeouts and, when none is due, asks the loop to wake at the
 * next deadline, so an idle appliance halts between timer ticks instead of spinning.
 */
#include "lwip_port.h"

#include <string.h>

#include "lwip/init.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"
#include "platform.h"
#include "random.h"
#include "tcp_isn.h"

/* RFC 6528's secretkey: drawn at the first connection, not at lwip_port_init(), so that
 * everything mixed into the generator during start-up is behind it. */
static uint8_t isn_secret[RANDOM_HASH_KEY_BYTES];
static bool isn_secret_drawn;

u32_t sys_now(void)
{
	return (u32_t)(clock_ns() / 1000000u);
}

uint32_t lwip_port_rand(void)
{
	return random_u32();
}

/* The 4-tuple as F's input: addresses as stored (network order), ports big-endian. */
static void put_endpoint(uint8_t out[6], const ip_addr_t *ip, u16_t port)
{
	u32_t addr = ip4_addr_get_u32(ip_2_ip4(ip));
	memcpy(out, &addr, 4);
	out[4] = (uint8_t)(port >> 8);
	out[5] = (uint8_t)port;
}

u32_t lwip_port_tcp_isn(const ip_addr_t *local_ip, u16_t local_port,
			const ip_addr_t *remote_ip, u16_t remote_port)
{
	if (!isn_secret_drawn) {
		random_bytes(isn_secret, sizeof(isn_secret));
		isn_secret_drawn = true;
	}
	uint8_t tuple[12];
	put_endpoint(tuple, local_ip, local_port);
	put_endpoint(tuple + 6, remote_ip, remote_port);
	u32_t m = (u32_t)(clock_ns() / RFC6528_TIMER_TICK_NS);
	return m + random_keyed_hash32(isn_secret, tuple, sizeof(tuple));
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
	/* Credited nothing: only so that ids and ports differ between boots even when the
	 * appliance has seeded the generator with nothing better. */
	uint64_t now = clock_ns();
	random_mix(&now, sizeof(now), 0);
	isn_secret_drawn = false;
	lwip_init();
	loop_add_poller(lwip_timers_poll, NULL);
}
