/*
 * Host harness for lwIP users: see lwip_host.h. Provides the platform hooks that the
 * firmware's net/lwip_port/sys_arch.c provides there (sys_now, lwip_port_rand), on a
 * simulated clock so that tests are fast and repeatable.
 */
#include "lwip_host.h"

#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"

static uint32_t now_ms;
static uint64_t rand_state = 0x0123456789abcdefull;

u32_t sys_now(void)
{
	return now_ms;
}

uint32_t lwip_port_rand(void)
{
	rand_state ^= rand_state >> 12;
	rand_state ^= rand_state << 25;
	rand_state ^= rand_state >> 27;
	return (uint32_t)((rand_state * 0x2545F4914F6CDD1Dull) >> 32);
}

uint32_t lwip_host_now(void)
{
	return now_ms;
}

void lwip_host_init(void)
{
	now_ms = 0;
	lwip_init();
}

bool lwip_host_run_until(bool (*done)(void *ctx), void *ctx, uint32_t max_ms)
{
	uint32_t end = now_ms + max_ms;
	while (!done(ctx)) {
		if (now_ms == end)
			return false;
		netif_poll_all();
		sys_check_timeouts();
		now_ms++;
	}
	return true;
}

err_t lwip_host_connect(struct tcp_pcb **pcb, uint16_t port, void *arg, tcp_recv_fn recv,
			tcp_sent_fn sent, tcp_err_fn err, tcp_connected_fn connected)
{
	ip_addr_t loopback;
	IP_ADDR4(&loopback, 127, 0, 0, 1);
	*pcb = tcp_new();
	if (!*pcb)
		return ERR_MEM;
	tcp_arg(*pcb, arg);
	tcp_recv(*pcb, recv);
	tcp_sent(*pcb, sent);
	tcp_err(*pcb, err);
	return tcp_connect(*pcb, &loopback, port, connected);
}
