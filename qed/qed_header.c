/*
 * The QED header: decoding and encoding (the one place the on-disk struct is converted),
 * validation as a chain of small checks each with its own message, the durable-end
 * extension, and header writes.
 *
 * The header, the backing file name and the extension share the first 512 bytes. Every
 * header write rewrites the whole first device sector from img->hdr_sector (read at
 * open), so one write either lands whole or not at all: the need-check bit, the
 * autoclear bit and the durable end can never disagree on disk.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "qed_priv.h"

void qed_logf(const struct qed_image *img, int level, const char *fmt, ...)
{
	if (!img->opts.log)
		return;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	img->opts.log(img->opts.log_ctx, level, msg);
}

void qed_header_decode(const void *buf, struct qed_header *h)
{
	const uint8_t *b = buf;
	h->magic = get_le32(b + 0);
	h->cluster_size = get_le32(b + 4);
	h->table_size = get_le32(b + 8);
	h->header_size = get_le32(b + 12);
	h->features = get_le64(b + 16);
	h->compat_features = get_le64(b + 24);
	h->autoclear_features = get_le64(b + 32);
	h->l1_table_offset = get_le64(b + 40);
	h->image_size = get_le64(b + 48);
	h->backing_filename_offset = get_le32(b + 56);
	h->backing_filename_size = get_le32(b + 60);
}

void qed_header_encode(const struct qed_header *h, void *buf)
{
	uint8_t *b = buf;
	put_le32(b + 0, h->magic);
	put_le32(b + 4, h->cluster_size);
	put_le32(b + 8, h->table_size);
	put_le32(b + 12, h->header_size);
	put_le64(b + 16, h->features);
	put_le64(b + 24, h->compat_features);
	put_le64(b + 32, h->autoclear_features);
	put_le64(b + 40, h->l1_table_offset);
	put_le64(b + 48, h->image_size);
	put_le32(b + 56, h->backing_filename_offset);
	put_le32(b + 60, h->backing_filename_size);
}

/* ---- validation: each check returns 0, or a negative errno after saying what is wrong */
static int refuse(const struct qed_image *img, int err, const char *what, uint64_t value)
{
	qed_logf(img, 0, "qed: refusing image: %s (%" PRIu64 ")", what, value);
	return err;
}

static int refuse_hex(const struct qed_image *img, int err, const char *what, uint64_t value)
{
	qed_logf(img, 0, "qed: refusing image: %s (0x%" PRIx64 ")", what, value);
	return err;
}

static int check_magic(const struct qed_image *img, const struct qed_header *h)
{
	return h->magic == QED_MAGIC ? 0 : refuse_hex(img, -EINVAL, "not a QED image, magic", h->magic);
}

static int check_features(const struct qed_image *img, const struct qed_header *h)
{
	uint64_t unknown = h->features & ~QED_FEATURE_MASK;
	return unknown ? refuse_hex(img, -ENOTSUP, "unknown feature bits", unknown) : 0;
}

static int check_geometry(const struct qed_image *img, const struct qed_header *h)
{
	if (!qed_is_cluster_size_valid(h->cluster_size))
		return refuse(img, -EINVAL, "cluster size not a power of two in 4 KiB..64 MiB",
			      h->cluster_size);
	if (!qed_is_table_size_valid(h->table_size))
		return refuse(img, -EINVAL, "table size not a power of two in 1..16 clusters",
			      h->table_size);
	if (h->header_size == 0 || h->header_size > UINT32_MAX / h->cluster_size)
		return refuse(img, -EINVAL, "header size in clusters out of range", h->header_size);
	if (!qed_is_image_size_valid(h->image_size, h->cluster_size, h->table_size))
		return refuse(img, -EINVAL,
			      "image size not a multiple of 512 or beyond what the tables address",
			      h->image_size);
	return 0;
}

static int check_placement(const struct qed_image *img, const struct qed_header *h)
{
	uint64_t header_end = (uint64_t)h->header_size * h->cluster_size;
	uint64_t dev_end = qed_start_of_cluster(img->dev->capacity, h->cluster_size);
	uint64_t table_bytes = (uint64_t)h->table_size * h->cluster_size;

	if (header_end > dev_end)
		return refuse(img, -EINVAL, "header larger than the device, bytes", header_end);
	if (!qed_is_extent_valid(h->l1_table_offset, table_bytes, header_end, dev_end,
				 h->cluster_size))
		return refuse(img, -EINVAL, "L1 table offset misaligned, in the header or past "
			      "the end of the device", h->l1_table_offset);
	return 0;
}

static int check_backing(const struct qed_image *img, const struct qed_header *h)
{
	if (!(h->features & QED_F_BACKING_FILE))
		return 0;
	uint64_t header_end = (uint64_t)h->header_size * h->cluster_size;
	uint64_t name_end = (uint64_t)h->backing_filename_offset + h->backing_filename_size;
	if (h->backing_filename_offset < QED_HEADER_DISK_SIZE || name_end > header_end)
		return refuse(img, -EINVAL, "backing file name outside the header, offset",
			      h->backing_filename_offset);
	if (h->backing_filename_size == 0 || h->backing_filename_size > QED_BACKING_NAME_MAX)
		return refuse(img, -EINVAL, "backing file name length out of 1..1023",
			      h->backing_filename_size);
	return 0;
}

int qed_header_validate(const struct qed_image *img, const struct qed_header *h)
{
	int (*const checks[])(const struct qed_image *, const struct qed_header *) = {
		check_magic, check_features, check_geometry, check_placement,
		check_backing,
	};
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		int rc = checks[i](img, h);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- the durable-end extension -------------------------------------------------------- */
uint32_t qed_crc32(const void *buf, size_t len)
{
	const uint8_t *b = buf;
	uint32_t crc = 0xffffffffu;
	for (size_t i = 0; i < len; i++) {
		crc ^= b[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

bool qed_ext_decode(const struct qed_image *img, uint64_t *end)
{
	uint32_t off = qed_ext_offset(&img->hdr);
	if (!(img->hdr.autoclear_features & QED_AF_QEDBOX_DURABLE_END) || off == 0)
		return false;
	const uint8_t *e = img->hdr_sector + off;
	if (get_le32(e) != QED_EXT_MAGIC || get_le32(e + 4) != QED_EXT_VERSION)
		return false;
	if (get_le32(e + 28) != qed_crc32(e, 28))
		return false;
	*end = get_le64(e + 8);
	return true;
}

static void ext_encode(uint8_t *e, uint64_t durable_end)
{
	memset(e, 0, QED_EXT_SIZE);
	put_le32(e, QED_EXT_MAGIC);
	put_le32(e + 4, QED_EXT_VERSION);
	put_le64(e + 8, durable_end);
	put_le32(e + 28, qed_crc32(e, 28));
}

/* ---- the volume record --------------------------------------------------------------- */
static bool volrec_name_ok(const char *name, size_t len)
{
	if (len == 0 || len > QED_VOLREC_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (name[i] <= ' ' || name[i] > '~')
			return false;
	return true;
}

bool qed_volrec_decode(const struct qed_header *h, const uint8_t *sector, char *name)
{
	uint32_t off = qed_volrec_offset(h);
	if (!(h->autoclear_features & QED_AF_QEDBOX_VOLUME) || off == 0)
		return false;
	const uint8_t *r = sector + off;
	if (get_le32(r) != QED_VOLREC_MAGIC || get_le32(r + 4) != QED_VOLREC_VERSION ||
	    get_le32(r + 36) != qed_crc32(r, 36))
		return false;
	const char *n = (const char *)r + 8;
	size_t len = 0;
	while (len <= QED_VOLREC_NAME_MAX && n[len])
		len++;
	if (!volrec_name_ok(n, len))
		return false;
	memcpy(name, n, len);
	name[len] = 0;
	return true;
}

int qed_volrec_encode(struct qed_header *h, uint8_t *sector, const char *name)
{
	uint32_t off = qed_volrec_offset(h);
	if (off == 0 || !volrec_name_ok(name, strlen(name)))
		return -EINVAL;
	uint8_t *r = sector + off;
	memset(r, 0, QED_VOLREC_SIZE);
	put_le32(r, QED_VOLREC_MAGIC);
	put_le32(r + 4, QED_VOLREC_VERSION);
	memcpy(r + 8, name, strlen(name));
	put_le32(r + 36, qed_crc32(r, 36));
	h->autoclear_features |= QED_AF_QEDBOX_VOLUME;
	return 0;
}

/* ---- header writes ----------------------------------------------------------------------- */
int qed_header_write(struct qed_image *img, uint64_t features, bool with_ext,
		     uint64_t durable_end)
{
	struct qed_header h = img->hdr;
	uint32_t ext_off = qed_ext_offset(&h);

	h.features = features;
	with_ext = with_ext && img->ext_usable && ext_off != 0;
	if (with_ext) {
		h.autoclear_features |= QED_AF_QEDBOX_DURABLE_END;
		ext_encode(img->hdr_sector + ext_off, durable_end);
	} else {
		h.autoclear_features &= ~QED_AF_QEDBOX_DURABLE_END;
	}
	qed_header_encode(&h, img->hdr_sector);

	/* In memory, need-check set means "set on the disk, and no write that clears it is
	 * under way": allocating writes skip setting it on that word alone (without
	 * hdr_lock), so it must turn false before a clearing write is sent. */
	if (!(features & QED_F_NEED_CHECK))
		img->hdr.features &= ~QED_F_NEED_CHECK;
	int rc = blkdev_write(img->dev, 0, img->hdr_sector, img->hdr_sector_len);
	if (rc) {
		/* The sector may hold the old or the new header. Forget that need-check is
		 * set, so the next allocating write sets it again before relying on it. */
		img->hdr.features &= ~QED_F_NEED_CHECK;
		qed_logf(img, 0, "qed: header write failed (%d)", rc);
		return rc;
	}
	img->hdr = h;
	img->ext_valid = with_ext;
	if (with_ext)
		img->durable_end = durable_end;
	return 0;
}

int qed_need_check_set(struct qed_image *img)
{
	int rc = 0;
	if (img->hdr.features & QED_F_NEED_CHECK)
		return 0;
	task_lock(&img->hdr_lock);
	if (!(img->hdr.features & QED_F_NEED_CHECK)) {
		/* The durable end stays what the last flush made durable. */
		uint64_t end = img->ext_valid ? img->durable_end : qed_durable_candidate(img);
		rc = qed_header_write(img, img->hdr.features | QED_F_NEED_CHECK,
				      img->ext_usable, end);
		/* Not set in memory until durable: allocating writes read the bit without
		 * hdr_lock and must not link anything while the header is only written. */
		img->hdr.features &= ~QED_F_NEED_CHECK;
		if (!rc)
			rc = blkdev_flush(img->dev);
		if (!rc)
			img->hdr.features |= QED_F_NEED_CHECK;
	}
	task_unlock(&img->hdr_lock);
	return rc;
}
