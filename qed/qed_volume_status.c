/*
 * The block_status op of a QED volume (lib/volume.h), for SCSI GET LBA STATUS: a
 * cluster that holds data is mapped; a zero cluster is deallocated (it reads zeros); an
 * unallocated cluster is deallocated too unless a backing image supplies its bytes, in
 * which case it is mapped (what the initiator reads there is not zeros).
 */
#include <errno.h>

#include "qed.h"
#include "qed_internal.h"

int qed_volume_block_status(struct volume *v, uint64_t offset, uint64_t len, bool *mapped,
			    uint64_t *bytes)
{
	struct qed_image *img = v->priv;
	enum qed_extent_state state;
	uint64_t image_offset;
	int rc = qed_map(img, offset, len, &state, bytes, &image_offset);
	if (rc)
		return rc;
	*mapped = state == QED_EXTENT_DATA ||
		  (state == QED_EXTENT_UNALLOCATED && img->backing != NULL);
	return 0;
}
