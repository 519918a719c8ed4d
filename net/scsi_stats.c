/*
 * Per-LUN statistics (scsi.h, struct scsi_lun_stats), measured by scsi_exec() around
 * each command: scsi_stats_begin() before the handler, scsi_stats_end() after it. A
 * command's class comes from its operation code, its outcome from its status and sense:
 * a volume's EIO ends as MEDIUM ERROR (or HARDWARE ERROR for other errnos), its ENOSPC as
 * DATA PROTECT, SPACE ALLOCATION FAILED (scsi_volume_error), so nothing below the SCSI
 * layer has to report anything. The first failure of a class after a success logs one
 * event (lib/event_log.h), which the event log rate-limits further.
 */
#include "event_log.h"
#include "scsi_priv.h"

const uint32_t scsi_latency_bounds_us[SCSI_LATENCY_BOUNDS] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000,
};

/* The class a command counts in, or SCSI_STAT_CLASSES for one not counted. */
static enum scsi_stat_class class_of(uint8_t opcode)
{
	switch (opcode) {
	case READ_6: case READ_10: case READ_12: case READ_16:
		return SCSI_STAT_READ;
	case WRITE_6: case WRITE_10: case WRITE_12: case WRITE_16:
	case WRITE_AND_VERIFY_10: case WRITE_AND_VERIFY_12: case WRITE_AND_VERIFY_16:
	case COMPARE_AND_WRITE: case ORWRITE_16:
		return SCSI_STAT_WRITE;
	case SYNCHRONIZE_CACHE_10: case SYNCHRONIZE_CACHE_16:
		return SCSI_STAT_FLUSH;
	case UNMAP: case WRITE_SAME_10: case WRITE_SAME_16:
		return SCSI_STAT_OTHER;
	default:
		return SCSI_STAT_CLASSES;
	}
}

static unsigned latency_bucket(uint64_t ns)
{
	unsigned i = 0;
	while (i < SCSI_LATENCY_BOUNDS && ns > (uint64_t)scsi_latency_bounds_us[i] * 1000)
		i++;
	return i;
}

static uint8_t sense_key(const struct scsi_cmd *cmd)
{
	return cmd->sense_len > 2 ? cmd->sense[2] & 0x0f : 0;
}

static uint16_t sense_asc_ascq(const struct scsi_cmd *cmd)
{
	return cmd->sense_len > 13 ? (uint16_t)(cmd->sense[12] << 8 | cmd->sense[13]) : 0;
}

static bool is_device_error(const struct scsi_cmd *cmd)
{
	uint8_t key = sense_key(cmd);
	return cmd->status == SAM_STAT_CHECK_CONDITION &&
	       (key == MEDIUM_ERROR || key == HARDWARE_ERROR);
}

static bool is_space_error(const struct scsi_cmd *cmd)
{
	return cmd->status == SAM_STAT_CHECK_CONDITION && sense_key(cmd) == DATA_PROTECT &&
	       sense_asc_ascq(cmd) == ASC_SPACE_ALLOCATION_FAILED_WRITE_PROTECT;
}

/* Bytes the command moved over the wire: a read's Data-In, the Data-Out the others used
 * (a write's data, UNMAP's parameter list, WRITE SAME's block); 0 unless GOOD. */
static uint64_t bytes_moved(const struct scsi_cmd *cmd, enum scsi_stat_class cls)
{
	if (cmd->status != SAM_STAT_GOOD || cls == SCSI_STAT_FLUSH)
		return 0;
	if (cls == SCSI_STAT_READ)
		return cmd->data_produced;
	return cmd->transfer_len < cmd->data_len ? cmd->transfer_len : cmd->data_len;
}

/* Logs the first failure of a class after a success; a success re-arms it. */
static void note_failing(struct scsi_lun *lun, const struct scsi_cmd *cmd)
{
	bool device = is_device_error(cmd), space = is_space_error(cmd);
	if (device) {
		lun->stats.device_errors++;
		if (!lun->device_failing)
			event_log(EVENT_DEVICE_ERROR, "%s: opcode 0x%02x failed, sense %x/%04x",
				  lun->unit_serial, cmd->cdb[0], sense_key(cmd),
				  (unsigned)sense_asc_ascq(cmd));
	}
	if (space) {
		lun->stats.space_errors++;
		if (!lun->space_failing)
			event_log(EVENT_VOLUME_FULL, "%s: no space left for a write",
				  lun->unit_serial);
	}
	if (device || cmd->status == SAM_STAT_GOOD)
		lun->device_failing = device;
	if (space || (cmd->status == SAM_STAT_GOOD && class_of(cmd->cdb[0]) == SCSI_STAT_WRITE))
		lun->space_failing = space;
}

uint64_t scsi_stats_begin(struct scsi_lun *lun)
{
	lun->in_flight++;
	return lun->clock_ns ? lun->clock_ns() : 0;
}

void scsi_stats_end(struct scsi_lun *lun, const struct scsi_cmd *cmd, uint64_t started_ns)
{
	lun->in_flight--;
	note_failing(lun, cmd);
	enum scsi_stat_class cls = class_of(cmd->cdb[0]);
	if (cls == SCSI_STAT_CLASSES)
		return;
	struct scsi_class_stats *s = &lun->stats.cls[cls];
	s->ops++;
	s->bytes += bytes_moved(cmd, cls);
	if (cmd->status != SAM_STAT_GOOD)
		s->errors++;
	if (!lun->clock_ns)
		return;
	uint64_t now = lun->clock_ns();
	uint64_t ns = now > started_ns ? now - started_ns : 0;
	s->latency_ns_sum += ns;
	s->latency[latency_bucket(ns)]++;
}
