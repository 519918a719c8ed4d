/*
 * iSCSI service wiring from the command line; see iscsi_service.h. Builds the target
 * table once at boot (it lives as long as the firmware) and opens the lwIP listener.
 */
#include "iscsi_service.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi_lwip.h"
#include "iscsi_spec.h"
#include "net_init.h"
#include "platform.h"
#include "raw_volume.h"
#include "scsi.h"
#include "virtio_blk.h"

#define DEFAULT_IQN_PREFIX "iqn.2026-11.org.qedbox"
#define MAX_TARGETS 16
#define MAX_INITIATORS 16

static struct {
	struct iscsi_server srv;
	struct iscsi_config cfg;
	struct iscsi_target_config targets[MAX_TARGETS];
	struct raw_volume volumes[MAX_TARGETS];
	struct scsi_lun luns[MAX_TARGETS];
	char names[MAX_TARGETS][224]; /* iSCSI names are at most 223 bytes */
	const char *initiators[MAX_INITIATORS + 1];
	char initiator_list[1024];
	char chap_user[128], chap_secret[128];
	char portal[32];
} svc;

static uint16_t port_from_config(void)
{
	const char *p = config_get("iscsi_port");
	long v = p ? strtol(p, NULL, 10) : 0;
	return v > 0 && v <= 65535 ? (uint16_t)v : ISCSI_DEFAULT_PORT;
}

/* "a,b,c" into the NULL-terminated initiators table. */
static void parse_initiators(const char *list)
{
	unsigned n = 0;
	snprintf(svc.initiator_list, sizeof(svc.initiator_list), "%s", list);
	for (char *p = strtok(svc.initiator_list, ","); p && n < MAX_INITIATORS; p = strtok(NULL, ","))
		svc.initiators[n++] = p;
	svc.initiators[n] = NULL;
}

static int parse_chap(const char *value)
{
	const char *colon = strchr(value, ':');
	if (!colon || colon == value || strlen(colon + 1) < 12 ||
	    (size_t)(colon - value) >= sizeof(svc.chap_user) || strlen(colon + 1) >= sizeof(svc.chap_secret)) {
		printf("iscsi: chap=USER:SECRET with a secret of 12 to 127 bytes\n");
		return -EINVAL;
	}
	memcpy(svc.chap_user, value, (size_t)(colon - value));
	strcpy(svc.chap_secret, colon + 1);
	return 0;
}

static void on_bound(void *ctx, uint32_t addr)
{
	(void)ctx;
	snprintf(svc.portal, sizeof(svc.portal), "%u.%u.%u.%u:%u", (unsigned)(addr >> 24),
		 (unsigned)(addr >> 16) & 255, (unsigned)(addr >> 8) & 255, (unsigned)addr & 255,
		 port_from_config());
	svc.cfg.portal = svc.portal;
}

static unsigned add_raw_targets(const char *prefix)
{
	unsigned n = 0;
	for (unsigned i = 0; i < virtio_blk_count() && n < MAX_TARGETS; i++) {
		struct blkdev *dev = virtio_blk_disk(i);
		struct iscsi_target_config *t = &svc.targets[n];
		snprintf(svc.names[n], sizeof(svc.names[n]), "%s:%s", prefix,
			 dev->serial[0] ? dev->serial : "disk");
		raw_volume_init(&svc.volumes[n], dev);
		scsi_lun_init(&svc.luns[n], &svc.volumes[n].vol, svc.names[n]);
		t->name = svc.names[n];
		t->lun = &svc.luns[n];
		t->initiators = svc.initiators[0] ? svc.initiators : NULL;
		if (svc.chap_secret[0]) {
			t->chap_user = svc.chap_user;
			t->chap_secret = svc.chap_secret;
		}
		printf("iscsi: target %s (%llu bytes)\n", t->name, (unsigned long long)svc.volumes[n].vol.size);
		n++;
	}
	return n;
}

int iscsi_service_start(void)
{
	const char *mode = config_get("iscsi");
	if (!mode)
		return 0;
	if (strcmp(mode, "raw") != 0) {
		printf("iscsi: iscsi=%s: only iscsi=raw is served by this build\n", mode);
		return -EINVAL;
	}
	const char *prefix = config_get("iqn") ? config_get("iqn") : DEFAULT_IQN_PREFIX;
	if (config_get("initiators"))
		parse_initiators(config_get("initiators"));
	if (config_get("chap") && parse_chap(config_get("chap")) < 0)
		return -EINVAL;
	svc.cfg.targets = svc.targets;
	svc.cfg.n_targets = add_raw_targets(prefix);
	svc.cfg.tpgt = 1;
	iscsi_server_init(&svc.srv, &svc.cfg);
	int rc = iscsi_lwip_listen(&svc.srv, port_from_config());
	if (rc < 0) {
		printf("iscsi: cannot listen on port %u (%d)\n", port_from_config(), rc);
		return rc;
	}
	net_on_bound(on_bound, NULL);
	printf("iscsi: %u target(s) on port %u\n", svc.cfg.n_targets, port_from_config());
	return 0;
}
