/* The RAM volume and the CDB fixture of scsi_test_support.h. */
#include "scsi_test_support.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "task.h"

static struct ram_volume *ram(struct volume *v)
{
	return v->priv;
}

static int check_io(struct volume *v, uint64_t offset, uint64_t len)
{
	if (offset % v->block_size || len % v->block_size)
		return -EINVAL;
	if (offset > v->size || len > v->size - offset)
		return -EINVAL;
	return 0;
}

static void maybe_yield(struct ram_volume *rv)
{
	if (rv->yield_in_io && task_current())
		task_yield();
}

static int ram_read(struct volume *v, uint64_t offset, void *buf, size_t len)
{
	struct ram_volume *rv = ram(v);
	int rc = check_io(v, offset, len);
	rv->reads++;
	if (!rc && rv->read_error)
		rc = rv->read_error;
	maybe_yield(rv);
	if (!rc)
		memcpy(buf, rv->data + offset, len);
	return rc;
}

static int ram_write(struct volume *v, uint64_t offset, const void *buf, size_t len)
{
	struct ram_volume *rv = ram(v);
	int rc = check_io(v, offset, len);
	rv->writes++;
	if (!rc && v->read_only)
		rc = -EROFS;
	if (!rc && rv->write_error)
		rc = rv->write_error;
	if (++rv->writes_in_flight > rv->max_writes_in_flight)
		rv->max_writes_in_flight = rv->writes_in_flight;
	maybe_yield(rv);
	rv->writes_in_flight--;
	if (!rc) {
		memcpy(rv->data + offset, buf, len);
		rv->dirty_bytes += len;
	}
	return rc;
}

static int ram_flush(struct volume *v)
{
	struct ram_volume *rv = ram(v);
	rv->flushes++;
	if (rv->flush_error)
		return rv->flush_error;
	rv->dirty_bytes = 0;
	return 0;
}

static int ram_unmap(struct volume *v, uint64_t offset, uint64_t len)
{
	struct ram_volume *rv = ram(v);
	int rc = check_io(v, offset, len);
	rv->unmaps++;
	if (!rc && v->read_only)
		rc = -EROFS;
	if (!rc && rv->unmap_error)
		rc = rv->unmap_error;
	if (!rc) {
		memset(rv->data + offset, 0, len);
		rv->unmapped_bytes += len;
	}
	return rc;
}

static const struct volume_ops thin_ops = {
	.read = ram_read, .write = ram_write, .flush = ram_flush, .unmap = ram_unmap,
};
static const struct volume_ops thick_ops = {
	.read = ram_read, .write = ram_write, .flush = ram_flush,
};

void ram_volume_init(struct ram_volume *rv, uint64_t blocks, uint32_t block_size, bool thin)
{
	memset(rv, 0, sizeof(*rv));
	rv->vol.ops = thin ? &thin_ops : &thick_ops;
	rv->vol.size = blocks * block_size;
	rv->vol.block_size = block_size;
	rv->vol.unmap_granularity = 64 * 1024;
	rv->vol.write_cache = true;
	strcpy(rv->vol.serial, "RAMVOL0001");
	rv->vol.priv = rv;
	rv->data = calloc(1, (size_t)rv->vol.size);
}

void ram_volume_fini(struct ram_volume *rv)
{
	free(rv->data);
	rv->data = NULL;
}

void fixture_init(struct scsi_fixture *f, uint64_t blocks, uint32_t block_size, bool thin)
{
	memset(f, 0, sizeof(*f));
	ram_volume_init(&f->rv, blocks, block_size, thin);
	scsi_lun_init(&f->lun, &f->rv.vol, "iqn.2026-11.test:target");
}

void fixture_fini(struct scsi_fixture *f)
{
	ram_volume_fini(&f->rv);
}

static bool scratch_charge(void *ctx, size_t bytes)
{
	struct scsi_fixture *f = ctx;
	if (f->scratch_limit && f->scratch + bytes > f->scratch_limit)
		return false;
	f->scratch += bytes;
	if (f->scratch > f->scratch_max)
		f->scratch_max = f->scratch;
	return true;
}

static void scratch_uncharge(void *ctx, size_t bytes)
{
	struct scsi_fixture *f = ctx;
	f->scratch -= bytes;
}

static uint8_t run(struct scsi_fixture *f, struct scsi_lun *lun, const uint8_t *cdb,
		   size_t cdb_len, void *data, uint32_t data_len)
{
	memset(&f->cmd, 0xee, sizeof(f->cmd)); /* outputs must all be set by scsi_exec */
	f->cmd.cdb = cdb;
	f->cmd.cdb_len = cdb_len;
	f->cmd.dir = SCSI_DIR_NONE;
	f->cmd.data = data;
	f->cmd.data_len = data_len;
	f->cmd.charge = scratch_charge;
	f->cmd.uncharge = scratch_uncharge;
	f->cmd.charge_ctx = f;
	scsi_exec(lun, &f->nexus, &f->cmd);
	return f->cmd.status;
}

uint8_t run_cdb(struct scsi_fixture *f, const uint8_t *cdb, size_t cdb_len, void *data,
		uint32_t data_len)
{
	return run(f, &f->lun, cdb, cdb_len, data, data_len);
}

uint8_t run_cdb_no_lun(struct scsi_fixture *f, const uint8_t *cdb, size_t cdb_len,
		       void *data, uint32_t data_len)
{
	return run(f, NULL, cdb, cdb_len, data, data_len);
}

uint8_t sense_key(const struct scsi_cmd *cmd)
{
	return cmd->sense_len >= 3 ? cmd->sense[2] & 0x0f : 0xff;
}

uint16_t sense_asc(const struct scsi_cmd *cmd)
{
	return cmd->sense_len >= 14 ? (uint16_t)(cmd->sense[12] << 8 | cmd->sense[13]) : 0xffff;
}

uint32_t sense_information(const struct scsi_cmd *cmd)
{
	const uint8_t *s = cmd->sense;
	return (uint32_t)s[3] << 24 | (uint32_t)s[4] << 16 | (uint32_t)s[5] << 8 | s[6];
}

uint16_t sense_field_pointer(const struct scsi_cmd *cmd)
{
	if (cmd->sense_len < 18 || !(cmd->sense[15] & 0x80))
		return 0xffff;
	return (uint16_t)(cmd->sense[16] << 8 | cmd->sense[17]);
}

void cdb10(uint8_t *cdb, uint8_t op, uint8_t flags, uint32_t lba, uint16_t blocks)
{
	memset(cdb, 0, 10);
	cdb[0] = op;
	cdb[1] = flags;
	for (int i = 0; i < 4; i++)
		cdb[2 + i] = (uint8_t)(lba >> (24 - 8 * i));
	cdb[7] = (uint8_t)(blocks >> 8);
	cdb[8] = (uint8_t)blocks;
}

void cdb16(uint8_t *cdb, uint8_t op, uint8_t flags, uint64_t lba, uint32_t blocks)
{
	memset(cdb, 0, 16);
	cdb[0] = op;
	cdb[1] = flags;
	for (int i = 0; i < 8; i++)
		cdb[2 + i] = (uint8_t)(lba >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		cdb[10 + i] = (uint8_t)(blocks >> (24 - 8 * i));
}
