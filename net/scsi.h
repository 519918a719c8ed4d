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

#include "task.h"
#include "volume.h"

enum scsi_dir { SCSI_DIR_NONE, SCSI_DIR_READ, SCSI_DIR_WRITE };

/* The I_T nexus identity: the initiator port name, for iSCSI "<InitiatorName>,i,0x<ISID>"
 * (RFC 7143 10.1.1, SPC-4 TransportID), at most this long with its NUL. */
#define SCSI_NEXUS_ID_MAX 256
#define SCSI_PR_MAX_REGISTRATIONS 16

/* Reservations of a LUN (net/scsi_reserve.c, net/scsi_pr.c): SPC-2 RESERVE(6) and SPC-4
 * persistent reservations. Kept in memory only: they do not survive a reboot (PTPL_C 0). */
struct scsi_pr_registration {
	bool used;
	uint64_t key;
	char nexus[SCSI_NEXUS_ID_MAX];
};

struct scsi_reservations {
	uint32_t generation;       /* PRgeneration: counts registration changes */
	struct scsi_pr_registration reg[SCSI_PR_MAX_REGISTRATIONS];
	uint8_t type;              /* persistent reservation type, 0 when none */
	int holder;                /* reg index of the holder (unused for all-registrants) */
	bool reserved6;            /* RESERVE(6) held by reserve6_nexus */
	char reserve6_nexus[SCSI_NEXUS_ID_MAX];
};

/* What a LUN did, since scsi_lun_init(), measured around each command in scsi_exec()
 * (net/scsi_stats.c). Commands are counted in four classes; the rest (INQUIRY, TEST
 * UNIT READY, reservations, ...) are not counted. */
enum scsi_stat_class {
	SCSI_STAT_READ,         /* READ(6/10/12/16) */
	SCSI_STAT_WRITE,        /* WRITE(6/10/12/16), WRITE AND VERIFY, COMPARE AND WRITE */
	SCSI_STAT_FLUSH,        /* SYNCHRONIZE CACHE(10/16) */
	SCSI_STAT_OTHER,        /* UNMAP, WRITE SAME(10/16) */
	SCSI_STAT_CLASSES
};

/* Latency histogram bounds, microseconds, Prometheus style ("le"): bucket i counts the
 * commands that took at most scsi_latency_bounds_us[i] and more than the bound before;
 * the last bucket (+Inf) the rest. Stored per bucket; exporters add them up. */
#define SCSI_LATENCY_BOUNDS 12
#define SCSI_LATENCY_BUCKETS (SCSI_LATENCY_BOUNDS + 1)
extern const uint32_t scsi_latency_bounds_us[SCSI_LATENCY_BOUNDS];

struct scsi_class_stats {
	uint64_t ops;           /* commands ended, whatever their status */
	uint64_t bytes;         /* moved: Data-In sent, Data-Out used (GOOD only) */
	uint64_t errors;        /* commands ended with a status other than GOOD */
	uint64_t latency_ns_sum;
	uint64_t latency[SCSI_LATENCY_BUCKETS];
};

struct scsi_lun_stats {
	struct scsi_class_stats cls[SCSI_STAT_CLASSES];
	uint64_t device_errors; /* commands the volume failed with an I/O error */
	uint64_t space_errors;  /* writes the volume refused for lack of space (ENOSPC) */
};

/* A logical unit: one volume served as LUN 0 of one target. */
struct scsi_lun {
	struct volume *vol;
	uint8_t naa_id[16];        /* NAA IEEE Registered Extended designator: unique, stable */
	char product[17];
	char unit_serial[BLKDEV_SERIAL_MAX + 1];
	/* Writes in progress, so that COMPARE AND WRITE is atomic against overlapping
	 * writes: a write-type command waits while its range overlaps one in this list. */
	struct scsi_range *busy_ranges;
	struct waitq range_waiters;
	struct scsi_reservations res;
	/* Observability (net/scsi_stats.c): set clock_ns to measure latencies (NULL: they
	 * are not measured, the histogram stays empty); stats and in_flight are only read
	 * outside the SCSI layer. */
	uint64_t (*clock_ns)(void);
	struct scsi_lun_stats stats;
	unsigned in_flight;        /* commands inside scsi_exec() on this LUN now */
	/* The last outcome of each error class was an error: an event is logged when a
	 * class starts failing, not for every failing command (cleared by a success). */
	bool device_failing, space_failing;
};

/* The state one initiator (I_T nexus, an iSCSI session) keeps toward one LUN. */
struct scsi_nexus {
	bool unit_attention_reset; /* POWER ON, RESET, OR BUS DEVICE RESET OCCURRED pending */
	char id[SCSI_NEXUS_ID_MAX]; /* the I_T nexus identity, filled at login; "" unknown */
};

/* A block range a write-type command holds while it runs (scsi_rw.c). */
struct scsi_range {
	uint64_t lba, count;
	struct scsi_range *next;
};

#define SCSI_SENSE_MAX 18

struct scsi_cmd {
	/* in */
	const uint8_t *cdb;
	size_t cdb_len;
	enum scsi_dir dir;
	uint8_t *data;             /* Data-Out received (WRITE) or room for Data-In (READ) */
	uint32_t data_len;         /* the initiator's expected transfer length, bytes */
	/* Optional: asked before the command allocates scratch memory of its own (a bounce
	 * block, VERIFY's and the read-modify-write commands' buffers, WRITE SAME's pattern,
	 * at most SCSI_SCRATCH_MAX_BYTES at once): true when the bytes may be taken, given
	 * back with uncharge. Refused, the command ends with BUSY. NULL: no limit. */
	bool (*charge)(void *ctx, size_t bytes);
	void (*uncharge)(void *ctx, size_t bytes);
	void *charge_ctx;
	/* out */
	uint8_t status;            /* SAM status: 0x00 GOOD, 0x02 CHECK CONDITION, ... */
	uint8_t sense[SCSI_SENSE_MAX];
	uint8_t sense_len;
	uint32_t data_produced;    /* bytes of Data-In written to data (READ) */
	uint32_t transfer_len;     /* bytes the CDB itself asks to move (SPDTL), see below */
};

/*
 * Transfer lengths. data is never read or written past data_len, whatever the CDB says.
 * - Data-In commands (READ, INQUIRY, MODE SENSE, ...): transfer_len is what the command
 *   would send with an unlimited buffer (blocks * block size, or the allocation length
 *   capped by the data that exists); data_produced = min(transfer_len, data_len) on GOOD
 *   (a partial last block is sent as such), 0 on CHECK CONDITION.
 * - Data-Out commands (WRITE, UNMAP, MODE SELECT, ...): transfer_len is what the command
 *   needs (blocks * block size, or the parameter list length); only
 *   data[0 .. min(transfer_len, data_len)) is used. A WRITE (or WRITE AND VERIFY) whose
 *   data_len is short of transfer_len writes the whole blocks that came and succeeds
 *   (FCP-4 9.4.2 a, as tgt); any other Data-Out command short of data writes nothing and
 *   fails with ILLEGAL REQUEST, INVALID FIELD IN COMMAND INFORMATION UNIT (SAM-5 5.4.3 b).
 * transfer_len stays 0 when the command fails before its data is considered (a bad CDB,
 * an LBA out of range, a write-protected volume).
 * The iSCSI layer derives the residual from the two: transfer_len > data_len is an
 * overflow of transfer_len - data_len; transfer_len < data_len an underflow of
 * data_len - transfer_len. cmd->dir is not consulted: a READ sent as a write still reads.
 */

/* Fills a LUN for vol; the NAA designator is derived from the volume's serial and the
 * target name so that it is unique per volume and the same after every reboot. */
void scsi_lun_init(struct scsi_lun *lun, struct volume *vol, const char *target_name);

/* Executes cmd. lun NULL: the addressed LUN does not exist (INQUIRY answers peripheral
 * qualifier 3, REPORT LUNS still lists LUN 0, the rest fail with LOGICAL UNIT NOT
 * SUPPORTED). Never fails as a function: every outcome is in cmd->status and sense. */
void scsi_exec(struct scsi_lun *lun, struct scsi_nexus *nexus, struct scsi_cmd *cmd);

/* The I_T nexus ended (logout, connection lost, session reinstated): its RESERVE(6)
 * reservation is released (persistent reservations stay, as SPC-4 wants). */
void scsi_nexus_lost(struct scsi_lun *lun, const struct scsi_nexus *nexus);
/* LOGICAL UNIT RESET: releases the RESERVE(6) reservation (persistent ones stay). */
void scsi_lun_reset(struct scsi_lun *lun);

/* The largest transfer a command may ask for, bytes (reported in VPD B0h). */
#define SCSI_MAX_TRANSFER_BYTES (32u * 1024 * 1024)
/* The most scratch memory one command holds at once beyond its data buffer (VERIFY
 * works in pieces of this size; WRITE SAME's pattern is this big): 1 MiB. ORWRITE's
 * read-modify-write buffer is as big as its own Data-Out, which is charged already. */
#define SCSI_SCRATCH_MAX_BYTES (1024u * 1024)

#endif
