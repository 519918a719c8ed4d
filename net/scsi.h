/*
 * SCSI block command emulation over a volume (SBC-3/SPC-4 subset), the interface between
 * the iSCSI target (net/iscsi_*.c) and the commands (net/scsi_*.c). It knows nothing of
 * iSCSI: it takes a CDB and a data buffer and returns a SAM status with sense data.
 *
 * The iSCSI layer receives all Data-Out of a write before calling scsi_exec(), and sends
 * the Data-In that scsi_exec() produced afterwards. scsi_exec() blocks the calling task
 * while the volume does I/O; many commands may run at once on one LUN.
 */
#ifndef QEDBOX_SCSI_H
#define QEDBOX_SCSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "volume.h"

enum scsi_dir { SCSI_DIR_NONE, SCSI_DIR_READ, SCSI_DIR_WRITE };

/* A logical unit: one volume served as LUN 0 of one target. */
struct scsi_lun {
	struct volume *vol;
	uint8_t naa_id[16];        /* NAA IEEE Registered Extended designator: unique, stable */
	char product[17];
	char unit_serial[VOLUME_SERIAL_MAX + 1];
};

/* The state one initiator (I_T nexus, an iSCSI session) keeps toward one LUN. */
struct scsi_nexus {
	bool unit_attention_reset; /* POWER ON, RESET, OR BUS DEVICE RESET OCCURRED pending */
};

#define SCSI_SENSE_MAX 18

struct scsi_cmd {
	/* in */
	const uint8_t *cdb;
	size_t cdb_len;
	enum scsi_dir dir;
	uint8_t *data;             /* Data-Out received (WRITE) or room for Data-In (READ) */
	uint32_t data_len;         /* the initiator's expected transfer length, bytes */
	/* out */
	uint8_t status;            /* SAM status: 0x00 GOOD, 0x02 CHECK CONDITION, ... */
	uint8_t sense[SCSI_SENSE_MAX];
	uint8_t sense_len;
	uint32_t data_produced;    /* bytes of Data-In written to data (READ) */
};

/* Fills a LUN for vol; the NAA designator is derived from the volume's serial and the
 * target name so that it is unique per volume and the same after every reboot. */
void scsi_lun_init(struct scsi_lun *lun, struct volume *vol, const char *target_name);

/* Executes cmd. lun NULL: the addressed LUN does not exist (INQUIRY answers peripheral
 * qualifier 3, REPORT LUNS still lists LUN 0, the rest fail with LOGICAL UNIT NOT
 * SUPPORTED). Never fails as a function: every outcome is in cmd->status and sense. */
void scsi_exec(struct scsi_lun *lun, struct scsi_nexus *nexus, struct scsi_cmd *cmd);

/* The largest transfer a command may ask for, bytes (reported in VPD B0h). */
#define SCSI_MAX_TRANSFER_BYTES (8u * 1024 * 1024)

#endif
