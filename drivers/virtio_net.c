/*
 * virtio-net driver, device side: see virtio_net.h. One queue pair (rx 0, tx 1): reset,
 * feature negotiation, queues, MAC and link status from the device configuration, the
 * netif callbacks, and the poller. Moving frames is virtio_net_io.c's job.
 */
#include "virtio_net_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/etharp.h"
#include "lwip/pbuf.h"
#include "lwip/timeouts.h"
#include "platform.h"
#include "random.h"
#include "virtio_pci.h"

#define QUEUE_MAX_SIZE 256
#define LINK_CHECK_MS  1000

/* ---- link, poller, set-up ----------------------------------------------------------- */

static void link_check(void *arg)
{
	struct virtio_net *vn = arg;
	bool up = virtio_cfg_read16(&vn->vdev, VIRTIO_NET_CFG_STATUS) & VIRTIO_NET_S_LINK_UP;
	if (up && !netif_is_link_up(vn->netif))
		netif_set_link_up(vn->netif);
	else if (!up && netif_is_link_up(vn->netif))
		netif_set_link_down(vn->netif);
	sys_timeout(LINK_CHECK_MS, link_check, vn);
}

static bool virtio_net_poll(void *ctx)
{
	return vnet_poll(ctx);
}

/* INTx: the line is lowered before the rings are looked at a last time. */
static bool virtio_net_before_halt(void *ctx)
{
	struct virtio_net *vn = ctx;
	virtio_isr_ack(&vn->vdev);
	return vnet_before_halt(vn);
}

static int setup_device(struct virtio_net *vn, struct pci_dev *pci)
{
	uint64_t wanted = 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS |
			  1ull << VIRTIO_NET_F_CSUM | 1ull << VIRTIO_F_RING_INDIRECT_DESC |
			  1ull << VIRTIO_F_RING_EVENT_IDX;
	int rc = virtio_pci_init(&vn->vdev, pci);
	if (rc != 0)
		return rc;
	if ((rc = virtio_negotiate(&vn->vdev, wanted)) != 0 ||
	    (rc = virtio_setup_queue(&vn->vdev, VIRTIO_NET_RX_QUEUE, &vn->rxq, QUEUE_MAX_SIZE,
				     0)) != 0 ||
	    (rc = virtio_setup_queue(&vn->vdev, VIRTIO_NET_TX_QUEUE, &vn->txq, QUEUE_MAX_SIZE,
				     VNET_TX_MAX_BUFS)) != 0 ||
	    (rc = vnet_io_init(vn)) != 0) {
		virtio_fail(&vn->vdev);
		return rc;
	}
	virtio_driver_ok(&vn->vdev);
	return 0;
}

int virtio_net_attach(struct pci_dev *pci, struct virtio_net **out)
{
	struct virtio_net *vn = calloc(1, sizeof *vn);
	if (vn == NULL)
		return -ENOMEM;
	int rc = setup_device(vn, pci);
	if (rc != 0) {
		printf("virtio-net: device set-up failed (%d)\n", rc);
		free(vn);
		return rc;
	}
	vnet_rx_refill(vn);
	loop_add_poller(virtio_net_poll, vn);
	loop_add_halt_hook(virtio_net_before_halt, vn);
	*out = vn;
	return 0;
}

err_t virtio_net_netif_init(struct netif *netif)
{
	struct virtio_net *vn = netif->state;
	vn->netif = netif;
	netif->name[0] = 'v';
	netif->name[1] = 'n';
	netif->output = etharp_output;
	netif->linkoutput = vnet_linkoutput;
	netif->mtu = 1500;
	netif->hwaddr_len = ETH_HWADDR_LEN;
	for (unsigned i = 0; i < ETH_HWADDR_LEN; i++)
		netif->hwaddr[i] = virtio_has_feature(&vn->vdev, VIRTIO_NET_F_MAC)
				       ? virtio_cfg_read8(&vn->vdev, VIRTIO_NET_CFG_MAC + i)
				       : (uint8_t)(random_u32() >> 8);
	if (!virtio_has_feature(&vn->vdev, VIRTIO_NET_F_MAC))
		netif->hwaddr[0] = (netif->hwaddr[0] & 0xfe) | 0x02; /* unicast, local */
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
	/* With CSUM the device fills in TCP checksums (virtio_net_io.c). Received frames are
	 * always checked by lwIP: GUEST_CSUM is not negotiated, so the device delivers
	 * complete checksums and lwIP needs no per-packet trust decisions. */
	bool tx_csum = virtio_has_feature(&vn->vdev, VIRTIO_NET_F_CSUM);
	NETIF_SET_CHECKSUM_CTRL(netif, tx_csum ? NETIF_CHECKSUM_ENABLE_ALL & ~NETIF_CHECKSUM_GEN_TCP
					       : NETIF_CHECKSUM_ENABLE_ALL);
	if (virtio_has_feature(&vn->vdev, VIRTIO_NET_F_STATUS))
		link_check(vn);
	else
		netif_set_link_up(netif);
	printf("virtio-net: mac %02x:%02x:%02x:%02x:%02x:%02x, rx %u tx %u descriptors%s%s%s%s\n",
	       netif->hwaddr[0], netif->hwaddr[1], netif->hwaddr[2], netif->hwaddr[3],
	       netif->hwaddr[4], netif->hwaddr[5], vn->rxq.size, vn->txq.size,
	       vn->txq.indirect_max ? ", indirect" : "", vn->txq.event_idx ? ", event index" : "",
	       tx_csum ? ", tx checksum offload" : "",
	       vn->vdev.msix_entries ? "" : ", INTx");
	return ERR_OK;
}

