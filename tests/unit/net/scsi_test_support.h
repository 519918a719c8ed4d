/*
 * Test support for the SCSI layer: a RAM volume with error injection, a read-only mode
 * and an optional task_yield() inside every I/O (to interleave concurrent commands), and
 * a fixture that runs one CDB against a LUN over it.
 *
 *     struct scsi_fixture f;
 *     fixture_init(&f, 1024, 512, true);        // 1024 blocks of 512 bytes, thin
 *     uint8_t cdb[10] = { READ_10, ... };
 *     run_cdb(&f, cdb, sizeof(cdb), buf, len);  // returns the SAM status
 *     CHECK_EQ(ASC_LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE, sense_asc(&f.cmd));
 *     fixture_fini(&f);
 */
#ifndef QEDBOX_SCSI_TEST_SUPPORT_H
#define QEDBOX_SCSI_TEST_SUPPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "byteorder.h"
#include "scsi.h"
#include "scsi_spec.h"

struct ram_volume {
	struct volume vol;
	uint8_t *data;
	/* error injection: a negative errno returned by every such call while set */
	int read_error, write_error, flush_error, unmap_error;
	bool yield_in_io;     /* task_yield() before each read and write completes */
	unsigned reads, writes, flushes, unmaps;
	unsigned writes_in_flight, max_writes_in_flight; /* concurrency seen by writes */
	uint64_t unmapped_bytes;
	uint64_t dirty_bytes; /* written since the last flush */
};

/* thin: the volume has an unmap operation. */
void ram_volume_init(struct ram_volume *rv, uint64_t blocks, uint32_t block_size, bool thin);
void ram_volume_fini(struct ram_volume *rv);

struct scsi_fixture {
	struct ram_volume rv;
	struct scsi_lun lun;
	struct scsi_nexus nexus;
	struct scsi_cmd cmd;
	/* scratch memory the commands charged: now, at most, and a limit (0: none) */
	uint64_t scratch, scratch_max, scratch_limit;
};

void fixture_init(struct scsi_fixture *f, uint64_t blocks, uint32_t block_size, bool thin);
void fixture_fini(struct scsi_fixture *f);

/* Runs cdb on the fixture's LUN with data as the buffer; returns cmd.status. */
uint8_t run_cdb(struct scsi_fixture *f, const uint8_t *cdb, size_t cdb_len, void *data,
		uint32_t data_len);
/* The same with no LUN (lun NULL). */
uint8_t run_cdb_no_lun(struct scsi_fixture *f, const uint8_t *cdb, size_t cdb_len,
		       void *data, uint32_t data_len);

uint8_t sense_key(const struct scsi_cmd *cmd);
uint16_t sense_asc(const struct scsi_cmd *cmd);   /* ASC << 8 | ASCQ */
uint32_t sense_information(const struct scsi_cmd *cmd);
uint16_t sense_field_pointer(const struct scsi_cmd *cmd); /* 0xffff when not valid */

/* CDB builders (big-endian fields). */
void cdb10(uint8_t *cdb, uint8_t op, uint8_t flags, uint32_t lba, uint16_t blocks);
void cdb16(uint8_t *cdb, uint8_t op, uint8_t flags, uint64_t lba, uint32_t blocks);

#endif
