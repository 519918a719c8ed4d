/*
 * The record area (qed_format.h): a small blob qedbox keeps with an image, today the
 * persistent reservations of its LUN (net/scsi_pr_store.c); to qed/ it is opaque bytes.
 *
 * Two slots written in turn, each with a sequence number and a CRC, so a write torn by a
 * power cut leaves the other slot, the previous record, valid; the store flushes before it
 * returns. Records are current only while autoclear bit 62 is set: QEMU clears unknown
 * autoclear bits on a read-write open, after which the records are stale and ignored. A
 * store writes and flushes its slot first and sets the bit after, with a sequence number
 * above every valid slot on the disk: a slot left from before QEMU cleared the bit never
 * becomes current again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qed_priv.h"

bool qed_record_room(const struct qed_image *img)
{
	return img->header_end >= QED_RECORD_AREA_END;
}

/* CRC of a slot holding len payload bytes, its crc field counted as 0. */
static uint32_t slot_crc(uint8_t *s, uint32_t len)
{
	uint32_t stored = get_le32(s + 28);
	put_le32(s + 28, 0);
	uint32_t crc = qed_crc32(s, QED_RECORD_HEADER_SIZE + len);
	put_le32(s + 28, stored);
	return crc;
}

static bool slot_valid(uint8_t *s, uint64_t *seq, uint32_t *len)
{
	uint32_t n = get_le32(s + 16);
	if (get_le32(s) != QED_RECORD_MAGIC || get_le32(s + 4) != QED_RECORD_VERSION ||
	    n > QED_RECORD_PAYLOAD_MAX || get_le32(s + 28) != slot_crc(s, n))
		return false;
	*seq = get_le64(s + 8);
	*len = n;
	return true;
}

/* Reads both slots: the newest valid one in record_slot and record_seq. */
static int scan_slots(struct qed_image *img, uint8_t *buf)
{
	img->record_slot = -1;
	img->record_seq = 0;
	for (unsigned slot = 0; slot < QED_RECORD_SLOTS; slot++) {
		int rc = blkdev_read(img->dev, qed_record_slot_offset(slot), buf,
				     QED_RECORD_SLOT_SIZE);
		if (rc)
			return rc;
		uint64_t seq;
		uint32_t len;
		if (slot_valid(buf, &seq, &len) &&
		    (img->record_slot < 0 || seq > img->record_seq)) {
			img->record_slot = (int)slot;
			img->record_seq = seq;
		}
	}
	img->records_scanned = true;
	return 0;
}

static int load_locked(struct qed_image *img, uint8_t *s, void *buf, size_t cap,
		       size_t *len)
{
	int rc = scan_slots(img, s);
	if (rc)
		return rc;
	if (img->record_slot < 0) {
		qed_logf(img, 1, "qed: record area: no valid slot, records ignored");
		return -ENOENT;
	}
	rc = blkdev_read(img->dev, qed_record_slot_offset((unsigned)img->record_slot), s,
			 QED_RECORD_SLOT_SIZE);
	uint64_t seq;
	uint32_t n;
	if (!rc && (!slot_valid(s, &seq, &n) || seq != img->record_seq))
		rc = -EIO; /* changed under us between two reads: the device misbehaves */
	if (!rc && n > cap)
		rc = -EMSGSIZE;
	if (rc)
		return rc;
	memcpy(buf, s + QED_RECORD_HEADER_SIZE, n);
	*len = n;
	return 0;
}

int qed_record_load(struct qed_image *img, void *buf, size_t cap, size_t *len)
{
	if (!(img->hdr.autoclear_features & QED_AF_QEDBOX_RECORDS) || !qed_record_room(img))
		return -ENOENT;
	uint8_t *s = malloc(QED_RECORD_SLOT_SIZE);
	if (!s)
		return -ENOMEM;
	task_lock(&img->hdr_lock);
	int rc = load_locked(img, s, buf, cap, len);
	task_unlock(&img->hdr_lock);
	free(s);
	return rc;
}

/* Sets autoclear bit 62 on the disk (once the first record is durable). */
static int set_records_bit(struct qed_image *img)
{
	if (img->hdr.autoclear_features & QED_AF_QEDBOX_RECORDS)
		return 0;
	img->hdr.autoclear_features |= QED_AF_QEDBOX_RECORDS;
	int rc = qed_header_write(img, img->hdr.features, img->ext_valid, img->durable_end);
	if (!rc)
		rc = blkdev_flush(img->dev);
	if (rc)
		img->hdr.autoclear_features &= ~QED_AF_QEDBOX_RECORDS;
	return rc;
}

static int store_locked(struct qed_image *img, uint8_t *s, const void *blob, size_t len)
{
	if (!img->records_scanned) {
		int rc = scan_slots(img, s);
		if (rc)
			return rc;
	}
	unsigned slot = img->record_slot == 0 ? 1 : 0;
	uint64_t seq = img->record_seq + 1;
	memset(s, 0, QED_RECORD_SLOT_SIZE);
	put_le32(s, QED_RECORD_MAGIC);
	put_le32(s + 4, QED_RECORD_VERSION);
	put_le64(s + 8, seq);
	put_le32(s + 16, (uint32_t)len);
	memcpy(s + QED_RECORD_HEADER_SIZE, blob, len);
	put_le32(s + 28, slot_crc(s, (uint32_t)len));
	int rc = blkdev_write(img->dev, qed_record_slot_offset(slot), s, QED_RECORD_SLOT_SIZE);
	if (!rc)
		rc = blkdev_flush(img->dev);
	/* Even a failed write may have landed: the next store must number above it, and
	 * goes to the same slot, leaving the current record alone. */
	img->record_seq = seq;
	if (rc)
		return rc;
	rc = set_records_bit(img);
	if (!rc)
		img->record_slot = (int)slot;
	return rc;
}

int qed_record_store(struct qed_image *img, const void *blob, size_t len)
{
	if (img->read_only)
		return -EROFS;
	if (!qed_record_room(img))
		return -ENOSPC;
	if (len > QED_RECORD_PAYLOAD_MAX)
		return -EMSGSIZE;
	uint8_t *s = malloc(QED_RECORD_SLOT_SIZE);
	if (!s)
		return -ENOMEM;
	task_lock(&img->hdr_lock);
	int rc = store_locked(img, s, blob, len);
	task_unlock(&img->hdr_lock);
	free(s);
	return rc;
}
