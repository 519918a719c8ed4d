/*
 * Persistent reservations that persist through power loss (SPC-4 5.13.5, APTPL): the
 * encoding of a LUN's persistent reservation state that the volume keeps
 * (lib/volume.h: save_reservations), and its restoring at start-up.
 *
 * What persists: every registration (key and I_T nexus identity), the reservation's
 * holder and type, PRgeneration, and the APTPL state itself (a blob saved by the
 * command that turned APTPL off restores nothing). RESERVE(6) does not persist.
 *
 * Encoding, big-endian, at most SCSI_PR_STORE_MAX bytes:
 *   0   4  magic       SCSI_PR_STORE_MAGIC
 *   4   1  version     1
 *   5   1  flags       bit 0: APTPL; the other bits 0
 *   6   1  type        the reservation's type, 0 none
 *   7   1  holder      index of the holder's entry; 0xff none (and all registrants types)
 *   8   4  generation  PRgeneration
 *   12  1  count       entries, <= SCSI_PR_MAX_REGISTRATIONS
 *   13  3  reserved    0
 *   16     count entries: key (8, nonzero), name length n (2, 1..SCSI_NEXUS_ID_MAX - 1),
 *          the nexus identity (n bytes, no NUL, each different)
 * The blob comes from the disk: the decoder trusts none of it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scsi_priv.h"

#define SCSI_PR_STORE_MAGIC 0x51505253u /* "QPRS" */
#define SCSI_PR_STORE_VERSION 1
#define STORE_HEADER 16
#define STORE_ENTRY_FIXED 10
#define STORE_FLAG_APTPL 0x01
#define STORE_NO_HOLDER 0xff

_Static_assert(SCSI_PR_STORE_MAX ==
	       STORE_HEADER + SCSI_PR_MAX_REGISTRATIONS * (STORE_ENTRY_FIXED + SCSI_NEXUS_ID_MAX - 1),
	       "SCSI_PR_STORE_MAX is the largest encoding");
_Static_assert(SCSI_PR_MAX_REGISTRATIONS < STORE_NO_HOLDER, "holder fits a byte");

void scsi_pr_copy_persistent(struct scsi_reservations *dst, const struct scsi_reservations *src)
{
	dst->generation = src->generation;
	memcpy(dst->reg, src->reg, sizeof(dst->reg));
	dst->type = src->type;
	dst->holder = src->holder;
	dst->aptpl = src->aptpl;
}

size_t scsi_pr_encode(const struct scsi_reservations *r, uint8_t *buf)
{
	memset(buf, 0, STORE_HEADER);
	put_be32(buf, SCSI_PR_STORE_MAGIC);
	buf[4] = SCSI_PR_STORE_VERSION;
	buf[5] = r->aptpl ? STORE_FLAG_APTPL : 0;
	buf[6] = r->type;
	buf[7] = STORE_NO_HOLDER;
	put_be32(buf + 8, r->generation);
	size_t n = STORE_HEADER;
	uint8_t count = 0;
	for (int i = 0; i < SCSI_PR_MAX_REGISTRATIONS; i++) {
		if (!r->reg[i].used)
			continue;
		if (r->type && !scsi_pr_all_registrants(r->type) && r->holder == i)
			buf[7] = count;
		size_t len = strlen(r->reg[i].nexus); /* NUL-terminated below SCSI_NEXUS_ID_MAX */
		put_be64(buf + n, r->reg[i].key);
		put_be16(buf + n + 8, (uint16_t)len);
		memcpy(buf + n + STORE_ENTRY_FIXED, r->reg[i].nexus, len);
		n += STORE_ENTRY_FIXED + len;
		count++;
	}
	buf[12] = count;
	return n;
}

static bool header_valid(const uint8_t *buf, size_t len)
{
	return len >= STORE_HEADER && get_be32(buf) == SCSI_PR_STORE_MAGIC &&
	       buf[4] == SCSI_PR_STORE_VERSION && (buf[5] & ~STORE_FLAG_APTPL) == 0 &&
	       buf[12] <= SCSI_PR_MAX_REGISTRATIONS && buf[13] == 0 && buf[14] == 0 &&
	       buf[15] == 0;
}

/* The reservation (type, holder) against the entries; holder as an entry index. */
static bool reservation_valid(uint8_t type, uint8_t holder, uint8_t count)
{
	if (type == 0)
		return holder == STORE_NO_HOLDER;
	if (!scsi_pr_valid_type(type) || count == 0)
		return false;
	if (scsi_pr_all_registrants(type))
		return holder == STORE_NO_HOLDER;
	return holder < count;
}

/* Entry i at *pos: bounded, nonzero key, a name without NUL not seen before. */
static bool decode_entry(const uint8_t *buf, size_t len, size_t *pos,
			 struct scsi_reservations *r, int i)
{
	if (len - *pos < STORE_ENTRY_FIXED)
		return false;
	uint64_t key = get_be64(buf + *pos);
	size_t n = get_be16(buf + *pos + 8);
	const uint8_t *name = buf + *pos + STORE_ENTRY_FIXED;
	if (key == 0 || n == 0 || n > SCSI_NEXUS_ID_MAX - 1 ||
	    len - *pos - STORE_ENTRY_FIXED < n || memchr(name, 0, n))
		return false;
	struct scsi_pr_registration *reg = &r->reg[i];
	reg->used = true;
	reg->key = key;
	memcpy(reg->nexus, name, n);
	reg->nexus[n] = 0;
	for (int k = 0; k < i; k++)
		if (strcmp(r->reg[k].nexus, reg->nexus) == 0)
			return false;
	*pos += STORE_ENTRY_FIXED + n;
	return true;
}

int scsi_pr_decode(const uint8_t *buf, size_t len, struct scsi_reservations *r)
{
	if (!header_valid(buf, len) || !reservation_valid(buf[6], buf[7], buf[12]))
		return -EINVAL;
	memset(r->reg, 0, sizeof(r->reg));
	size_t pos = STORE_HEADER;
	for (int i = 0; i < buf[12]; i++)
		if (!decode_entry(buf, len, &pos, r, i))
			return -EINVAL;
	if (pos != len)
		return -EINVAL;
	r->aptpl = (buf[5] & STORE_FLAG_APTPL) != 0;
	r->type = buf[6];
	r->holder = buf[7] == STORE_NO_HOLDER ? -1 : buf[7];
	r->generation = get_be32(buf + 8);
	return 0;
}

/* Loads and decodes into r, then installs it: registrations restored, or -errno. */
static int restore(struct scsi_lun *lun, uint8_t *buf, struct scsi_reservations *r)
{
	size_t len = 0;
	int rc = lun->vol->ops->load_reservations(lun->vol, buf, SCSI_PR_STORE_MAX, &len);
	if (rc == -ENOENT)
		return 0;
	if (rc == -EMSGSIZE)
		return -EINVAL; /* larger than any encoding of ours */
	if (rc)
		return rc;
	if (scsi_pr_decode(buf, len, r))
		return -EINVAL;
	if (!r->aptpl)
		return 0; /* saved by the command that turned APTPL off: nothing persists */
	scsi_pr_copy_persistent(&lun->res, r);
	int n = 0;
	for (int i = 0; i < SCSI_PR_MAX_REGISTRATIONS; i++)
		n += r->reg[i].used;
	return n;
}

int scsi_lun_restore(struct scsi_lun *lun)
{
	if (!lun->vol->ops->load_reservations)
		return 0;
	uint8_t *buf = malloc(SCSI_PR_STORE_MAX);
	struct scsi_reservations *r = malloc(sizeof(*r));
	int rc = buf && r ? restore(lun, buf, r) : -ENOMEM;
	free(buf);
	free(r);
	return rc;
}

int scsi_lun_store_reservations(struct scsi_lun *lun)
{
	if (!lun->vol->ops->save_reservations)
		return 0;
	task_lock(&lun->pr_lock); /* after any PERSISTENT RESERVE OUT storing now */
	int rc = 0;
	if (lun->res.aptpl) {
		uint8_t *buf = malloc(SCSI_PR_STORE_MAX);
		rc = buf ? lun->vol->ops->save_reservations(lun->vol, buf,
							    scsi_pr_encode(&lun->res, buf))
			 : -ENOMEM;
		free(buf);
	}
	task_unlock(&lun->pr_lock);
	return rc;
}
