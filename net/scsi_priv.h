/*
 * What the net/scsi_*.c files share and nothing outside uses: the helpers that set status
 * and sense (scsi_sense.c), the Data-In and Data-Out rules of scsi.h (scsi_sense.c), the
 * block range checks and range locks (scsi_rw.c), and one prototype per command handler,
 * grouped under the file that owns it. The dispatch table in scsi.c calls the handlers
 * after checking the CDB length and the unit attention. Byte order: lib/byteorder.h.
 */
#ifndef QEDBOX_SCSI_PRIV_H
#define QEDBOX_SCSI_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "byteorder.h"
#include "scsi.h"
#include "scsi_spec.h"

/* Limits we advertise in VPD B0h, in bytes (divided by the block size when reported). */
#define SCSI_MAX_UNMAP_BYTES       (512ull * 1024 * 1024)
#define SCSI_MAX_UNMAP_DESCRIPTORS 256u
#define SCSI_MAX_WRITE_SAME_BYTES  (256ull * 1024 * 1024)
#define SCSI_MAX_COMPARE_AND_WRITE_BLOCKS 1u
#define SCSI_VENDOR "QEDBOX  "      /* T10 vendor identification, 8 bytes */
#define SCSI_REVISION "0001"

/* Scratch memory of a command (scsi.c): charged through cmd->charge before it is
 * allocated. NULL when refused or out of memory (end the command with -ENOMEM: BUSY). */
void *scsi_scratch_alloc(struct scsi_cmd *cmd, size_t bytes);
void scsi_scratch_free(struct scsi_cmd *cmd, void *p, size_t bytes);

typedef void scsi_handler(struct scsi_lun *lun, struct scsi_nexus *nexus,
			  struct scsi_cmd *cmd);

/* ---- scsi_opcodes.c: the command table ------------------------------------------ */
#define OP_UA_EXEMPT      0x1 /* runs even while a unit attention is pending */
#define OP_NO_LUN_OK      0x2 /* answered for a LUN that does not exist */
#define OP_SERVICE_ACTION 0x4 /* byte 1 bits 4-0 select an entry of actions */
#define OP_CONFLICT_READ  0x08 /* reads: refused by others' exclusive access reservations */
#define OP_CONFLICT_WRITE 0x10 /* writes: refused by any reservation of others */
#define OP_RESERVE6_OK    0x20 /* runs while another nexus holds RESERVE(6) */

struct scsi_op {
	scsi_handler *handler;
	uint8_t cdb_len;
	uint8_t flags;
	uint8_t service_action;
	const uint8_t *usage;  /* CDB USAGE DATA, cdb_len bytes, usage[0] the opcode */
	/* OP_SERVICE_ACTION opcodes: one entry per service action served, ended by an entry
	 * without handler; the opcode's own entry has no handler and no usage. */
	const struct scsi_op *actions;
};

/* The entry of a served opcode, NULL for any other. */
const struct scsi_op *scsi_op_lookup(uint8_t opcode);
/* For a service-action opcode, the entry of service action sa (NULL if not served);
 * any other op is returned as is. */
const struct scsi_op *scsi_op_action(const struct scsi_op *op, unsigned sa);
/* Finds the first set CDB bit that op does not use (a reserved or unsupported field). */
bool scsi_find_reserved_bit(const struct scsi_op *op, const uint8_t *cdb, unsigned *byte,
			    int *bit);
scsi_handler scsi_report_supported_opcodes;

static inline uint64_t lun_blocks(const struct scsi_lun *lun)
{
	return lun->vol->size / lun->vol->block_size;
}

static inline bool lun_is_thin(const struct scsi_lun *lun)
{
	return lun->vol->ops->unmap != NULL;
}

/* ---- scsi_stats.c: per-LUN statistics ------------------------------------------------ */
/* Around each command on a LUN: begin returns the start time (0 without a clock) and
 * counts the command in flight; end counts its outcome and latency. */
uint64_t scsi_stats_begin(struct scsi_lun *lun);
void scsi_stats_end(struct scsi_lun *lun, const struct scsi_cmd *cmd, uint64_t started_ns);

/* ---- scsi_sense.c: outcomes -------------------------------------------------------- */
void scsi_good(struct scsi_cmd *cmd);
/* CHECK CONDITION with fixed-format sense; asc_ascq as in scsi_spec.h. */
void scsi_check(struct scsi_cmd *cmd, uint8_t key, uint16_t asc_ascq);
/* INVALID FIELD IN CDB pointing at byte (and bit, or -1 for the whole byte). */
void scsi_invalid_cdb_field(struct scsi_cmd *cmd, unsigned byte, int bit);
/* INVALID FIELD IN PARAMETER LIST pointing at a byte of the Data-Out. */
void scsi_invalid_param_field(struct scsi_cmd *cmd, unsigned byte);
/* MISCOMPARE DURING VERIFY OPERATION with the offset in the INFORMATION field. */
void scsi_miscompare(struct scsi_cmd *cmd, uint32_t offset);
/* Translates a volume's negative errno; is_write picks the medium error ASC. */
void scsi_volume_error(struct scsi_cmd *cmd, int rc, bool is_write);
/* Sends buf as Data-In: len bytes exist, the CDB allows alloc_len; truncates both to
 * the smaller and to cmd->data_len, and completes GOOD. */
void scsi_data_in(struct scsi_cmd *cmd, const void *buf, uint32_t len, uint32_t alloc_len);
/* For a Data-Out command needing len bytes: records transfer_len; false (and CHECK
 * CONDITION set) when the initiator sent fewer. */
bool scsi_data_out_complete(struct scsi_cmd *cmd, uint32_t len);

/* ---- scsi_rw.c ---------------------------------------------------------------------- */
/* True when [lba, lba + count) lies in the volume; else LBA OUT OF RANGE is set. */
bool scsi_check_range(struct scsi_lun *lun, struct scsi_cmd *cmd, uint64_t lba,
		      uint64_t count);
/* Write-protect check for write-type commands; false (DATA PROTECT set) if read-only. */
bool scsi_check_writable(struct scsi_lun *lun, struct scsi_cmd *cmd);
void scsi_range_lock(struct scsi_lun *lun, struct scsi_range *r, uint64_t lba,
		     uint64_t count);
void scsi_range_unlock(struct scsi_lun *lun, struct scsi_range *r);
scsi_handler scsi_read, scsi_write, scsi_verify, scsi_prefetch;

/* ---- scsi_inquiry.c ----------------------------------------------------------------- */
scsi_handler scsi_inquiry;

/* ---- scsi_unit.c -------------------------------------------------------------------- */
scsi_handler scsi_test_unit_ready, scsi_request_sense, scsi_start_stop_unit,
	scsi_prevent_allow, scsi_report_luns, scsi_read_capacity_10,
	scsi_read_capacity_16, scsi_synchronize_cache;

/* ---- scsi_mode.c -------------------------------------------------------------------- */
scsi_handler scsi_mode_sense, scsi_mode_select;

/* ---- scsi_unmap.c ------------------------------------------------------------------- */
scsi_handler scsi_unmap, scsi_write_same;

/* ---- scsi_caw.c --------------------------------------------------------------------- */
scsi_handler scsi_compare_and_write, scsi_orwrite;

/* ---- scsi_reserve.c: reservation checks, RESERVE(6) / RELEASE(6) -------------------- */
const char *scsi_nexus_id(const struct scsi_nexus *nexus); /* "" for a NULL nexus */
/* The registration of nexus id, -1 when it has none. */
int scsi_pr_find(const struct scsi_lun *lun, const char *id);
bool scsi_pr_all_registrants(uint8_t type);
/* Whether registration reg (-1: none) holds the persistent reservation. */
bool scsi_pr_is_holder(const struct scsi_lun *lun, int reg);
/* Whether a reservation of another nexus refuses op to nexus. */
bool scsi_reservation_conflict(const struct scsi_lun *lun, const struct scsi_nexus *nexus,
			       const struct scsi_op *op);
/* RESERVATION CONFLICT status, no sense. */
void scsi_conflict(struct scsi_cmd *cmd);
scsi_handler scsi_reserve6, scsi_release6;

/* ---- scsi_pr.c: PERSISTENT RESERVE IN / OUT ----------------------------------------- */
scsi_handler scsi_prin_read_keys, scsi_prin_read_reservation,
	scsi_prin_report_capabilities, scsi_prin_read_full_status, scsi_prout;

/* ---- scsi_lba_status.c -------------------------------------------------------------- */
scsi_handler scsi_get_lba_status;

#endif
