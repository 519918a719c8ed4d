/*
 * The network of the appliance (network.h): the first virtio-net device becomes lwIP's
 * netif, addressed by DHCP or ip=/gw= (net/net_init.h), with the optional test services:
 *   tcp_echo=PORT   TCP echo service (net/tcp_echo.h)
 *   iperf           lwIP's iperf2 server on port 5001 (lwiperf)
 * and the web server (http=PORT, default 80; app/http_service.h).
 */
#include "network.h"

#include <stdio.h>

#include "http_service.h"
#include "iscsi_lwip.h"
#include "lwip/apps/lwiperf.h"
#include "lwip_port.h"
#include "net_init.h"
#include "pci.h"
#include "tcp_echo.h"
#include "virtio_net.h"
#include "virtio_pci.h"

static struct virtio_net *nic; /* the one lwIP runs on, NULL without one */

static struct virtio_net *find_virtio_net(void)
{
	for (unsigned i = 0; i < pci_device_count(); i++) {
		struct pci_dev *d = pci_device(i);
		struct virtio_net *vn;
		if (virtio_pci_device_type(d) == VIRTIO_ID_NET && virtio_net_attach(d, &vn) == 0)
			return vn;
	}
	return NULL;
}

/* One console line per iperf test, e.g. for tests/system/test_net.sh. */
static void iperf_report(void *arg, enum lwiperf_report_type type, const ip_addr_t *local_addr,
			 u16_t local_port, const ip_addr_t *remote_addr, u16_t remote_port,
			 u32_t bytes, u32_t ms, u32_t kbit_per_s)
{
	(void)arg;
	(void)local_addr;
	(void)local_port;
	(void)remote_addr;
	(void)remote_port;
	printf("net: iperf %s: %lu bytes in %lu ms (%lu kbit/s)\n",
	       type == LWIPERF_TCP_DONE_SERVER ? "done" : "aborted", (unsigned long)bytes,
	       (unsigned long)ms, (unsigned long)kbit_per_s);
}

/* The driver's transmit fence, for the iSCSI target's Data-In sent by reference. */
static uint64_t link_handed(void *ctx)
{
	return virtio_net_tx_handed(ctx);
}

static bool link_released(void *ctx, uint64_t mark)
{
	return virtio_net_tx_released(ctx, mark);
}

static void start_services(const struct qedbox_config *cfg)
{
	if (cfg->tcp_echo_port && tcp_echo_start(cfg->tcp_echo_port) != 0)
		printf("net: tcp_echo=%u: cannot listen there\n", cfg->tcp_echo_port);
	if (cfg->iperf && lwiperf_start_tcp_server_default(iperf_report, NULL) != NULL)
		printf("net: iperf server on port %u\n", LWIPERF_TCP_PORT_DEFAULT);
	if (cfg->http_port && http_service_start(cfg) != 0)
		printf("http: http=%u: cannot listen there\n", cfg->http_port);
}

void network_start(const struct qedbox_config *cfg)
{
	lwip_port_init();
	if (!cfg->net_ok) {
		printf("net: networking off (see the command line above)\n");
		return;
	}
	struct virtio_net *vn = nic = find_virtio_net();
	if (vn == NULL) {
		printf("net: no virtio-net device, networking off\n");
		return;
	}
	if (net_start(vn, virtio_net_netif_init, &cfg->net, cfg->iscsi_port) != 0)
		return;
	iscsi_lwip_set_link(&(struct iscsi_lwip_link){ link_handed, link_released, vn });
	start_services(cfg);
}

struct virtio_net *network_nic(void)
{
	return nic;
}
