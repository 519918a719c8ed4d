/*
 * Virtio 1.x constants and layouts, named as the specification names them
 * (Virtual I/O Device (VIRTIO) Version 1.1/1.2: §2.1 status, §2.7 split virtqueues,
 * §4.1 PCI transport, §5.1 network device, §5.2 block device, §5.4 entropy device,
 * §6 reserved feature bits). The one place every virtio constant of qedbox lives; drivers include it,
 * nothing redefines it.
 *
 * Everything on the wire is little-endian, as is x86: fields are used directly.
 * Structures the device reads or writes have only naturally aligned fields, so they
 * need no packing; the static asserts at the end pin their spec sizes.
 */
#ifndef QEDBOX_VIRTIO_SPEC_H
#define QEDBOX_VIRTIO_SPEC_H

#include <stdint.h>

/* ---- §2.1 device status field ----------------------------------------------------- */
#define VIRTIO_CONFIG_S_ACKNOWLEDGE        1
#define VIRTIO_CONFIG_S_DRIVER             2
#define VIRTIO_CONFIG_S_DRIVER_OK          4
#define VIRTIO_CONFIG_S_FEATURES_OK        8
#define VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET 64
#define VIRTIO_CONFIG_S_FAILED             128

/* ---- §6 reserved feature bits ------------------------------------------------------- */
#define VIRTIO_F_RING_INDIRECT_DESC 28
#define VIRTIO_F_RING_EVENT_IDX     29
#define VIRTIO_F_VERSION_1          32
#define VIRTIO_F_ACCESS_PLATFORM    33
#define VIRTIO_F_RING_PACKED        34

/* ---- §5 device types (PCI device ID = 0x1040 + type; transitional 0x1000..0x103f) --- */
#define VIRTIO_ID_NET   1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_RNG   4

#define VIRTIO_PCI_VENDOR_ID            0x1af4
#define VIRTIO_PCI_MODERN_DEVICE_BASE   0x1040
#define VIRTIO_PCI_TRANSITIONAL_FIRST   0x1000
#define VIRTIO_PCI_TRANSITIONAL_LAST    0x103f
#define VIRTIO_PCI_TRANSITIONAL_NET     0x1000
#define VIRTIO_PCI_TRANSITIONAL_BLOCK   0x1001
#define VIRTIO_PCI_TRANSITIONAL_RNG     0x1005

/* ---- §4.1.4 virtio structure PCI capabilities ---------------------------------------- */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG    3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG    5

/* Byte offsets inside struct virtio_pci_cap (a vendor-specific PCI capability). */
#define VIRTIO_PCI_CAP_CFG_TYPE_OFF 3
#define VIRTIO_PCI_CAP_BAR_OFF      4
#define VIRTIO_PCI_CAP_OFFSET_OFF   8
#define VIRTIO_PCI_CAP_LENGTH_OFF   12
/* struct virtio_pci_notify_cap: notify_off_multiplier follows the common part. */
#define VIRTIO_PCI_NOTIFY_CAP_MULT_OFF 16

/* §4.1.4.3 common configuration structure layout. */
struct virtio_pci_common_cfg {
	uint32_t device_feature_select; /* read-write */
	uint32_t device_feature;        /* read-only for driver */
	uint32_t driver_feature_select; /* read-write */
	uint32_t driver_feature;        /* read-write */
	uint16_t msix_config;           /* read-write */
	uint16_t num_queues;            /* read-only for driver */
	uint8_t device_status;          /* read-write */
	uint8_t config_generation;      /* read-only for driver */
	uint16_t queue_select;          /* read-write */
	uint16_t queue_size;            /* read-write */
	uint16_t queue_msix_vector;     /* read-write */
	uint16_t queue_enable;          /* read-write */
	uint16_t queue_notify_off;      /* read-only for driver */
	uint64_t queue_desc;            /* read-write */
	uint64_t queue_driver;          /* read-write: the available ring */
	uint64_t queue_device;          /* read-write: the used ring */
};

/* §4.1.5.1.2: "no vector" for msix_config / queue_msix_vector. */
#define VIRTIO_MSI_NO_VECTOR 0xffff

/* ---- §2.7 split virtqueues ------------------------------------------------------------ */
#define VIRTQ_DESC_F_NEXT     1 /* the buffer continues via the next field */
#define VIRTQ_DESC_F_WRITE    2 /* device write-only (otherwise device read-only) */
#define VIRTQ_DESC_F_INDIRECT 4 /* the buffer holds a table of descriptors */

#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY     1

/* Largest queue size the split ring allows (§2.7: a power of 2, at most 32768). */
#define VIRTQ_MAX_SIZE 32768

struct virtq_desc {
	uint64_t addr;  /* guest-physical */
	uint32_t len;
	uint16_t flags; /* VIRTQ_DESC_F_* */
	uint16_t next;
};

/* Followed in memory by ring[queue_size] and, with EVENT_IDX, uint16_t used_event. */
struct virtq_avail {
	uint16_t flags; /* VIRTQ_AVAIL_F_* */
	uint16_t idx;
	uint16_t ring[];
};

struct virtq_used_elem {
	uint32_t id;  /* head of the completed descriptor chain */
	uint32_t len; /* bytes the device wrote into the chain */
};

/* Followed in memory, with EVENT_IDX, by uint16_t avail_event. */
struct virtq_used {
	uint16_t flags; /* VIRTQ_USED_F_* */
	uint16_t idx;
	struct virtq_used_elem ring[];
};

/* §2.7.7, §2.7.10 (VIRTIO_F_RING_EVENT_IDX): whether moving a ring index from old_idx to
 * new_idx passes event_idx, i.e. writes the entry the other side asked to hear about
 * (event_idx in [old_idx, new_idx), 16-bit wrap-around). The driver asks for a used-buffer
 * notification with used_event, the device for an available-buffer one with avail_event.
 * The spec's vring_need_event(). Valid while fewer than 65536 entries were added since
 * old_idx. */
static inline int virtq_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}

/* §2.7 alignment of the three parts (modern devices). */
#define VIRTQ_DESC_ALIGN  16
#define VIRTQ_AVAIL_ALIGN 2
#define VIRTQ_USED_ALIGN  4

/* ---- §5.2 block device ---------------------------------------------------------------- */
#define VIRTIO_BLK_F_SIZE_MAX     1  /* size_max: largest segment */
#define VIRTIO_BLK_F_SEG_MAX      2  /* seg_max: most data segments per request */
#define VIRTIO_BLK_F_GEOMETRY     4
#define VIRTIO_BLK_F_RO           5
#define VIRTIO_BLK_F_BLK_SIZE     6
#define VIRTIO_BLK_F_FLUSH        9
#define VIRTIO_BLK_F_TOPOLOGY     10
#define VIRTIO_BLK_F_CONFIG_WCE   11
#define VIRTIO_BLK_F_MQ           12
#define VIRTIO_BLK_F_DISCARD      13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Byte offsets of the fields of struct virtio_blk_config (device configuration). */
#define VIRTIO_BLK_CFG_CAPACITY                 0  /* le64, 512-byte sectors */
#define VIRTIO_BLK_CFG_SIZE_MAX                 8  /* le32 */
#define VIRTIO_BLK_CFG_SEG_MAX                  12 /* le32 */
#define VIRTIO_BLK_CFG_BLK_SIZE                 20 /* le32 */
#define VIRTIO_BLK_CFG_WRITEBACK                32 /* u8 */
#define VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS      36 /* le32 */
#define VIRTIO_BLK_CFG_MAX_DISCARD_SEG          40 /* le32 */
#define VIRTIO_BLK_CFG_DISCARD_SECTOR_ALIGNMENT 44 /* le32 */
#define VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SECTORS 48 /* le32 */
#define VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SEG     52 /* le32 */

/* The unit of capacity and of the sector field, whatever blk_size says. */
#define VIRTIO_BLK_SECTOR_SIZE 512

#define VIRTIO_BLK_T_IN           0
#define VIRTIO_BLK_T_OUT          1
#define VIRTIO_BLK_T_FLUSH        4
#define VIRTIO_BLK_T_GET_ID       8
#define VIRTIO_BLK_T_DISCARD      11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

#define VIRTIO_BLK_S_OK     0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_ID_BYTES 20

/* Device-readable header that starts every request. */
struct virtio_blk_outhdr {
	uint32_t type; /* VIRTIO_BLK_T_* */
	uint32_t reserved;
	uint64_t sector; /* 512-byte units */
};

/* Data of DISCARD and WRITE_ZEROES: one or more of these. */
struct virtio_blk_discard_write_zeroes {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags; /* bit 0: unmap (WRITE_ZEROES only) */
};

#define VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP 1

/* ---- §5.1 network device -------------------------------------------------------------- */
#define VIRTIO_NET_F_CSUM       0  /* device computes partial tx checksums */
#define VIRTIO_NET_F_GUEST_CSUM 1  /* driver handles partial rx checksums */
#define VIRTIO_NET_F_MTU        3
#define VIRTIO_NET_F_MAC        5  /* mac in the device configuration */
#define VIRTIO_NET_F_MRG_RXBUF  15 /* rx packets may span several buffers */
#define VIRTIO_NET_F_STATUS     16 /* status in the device configuration */

/* Device configuration layout (byte offsets). */
#define VIRTIO_NET_CFG_MAC    0 /* u8[6] */
#define VIRTIO_NET_CFG_STATUS 6 /* le16, VIRTIO_NET_S_* */
#define VIRTIO_NET_CFG_MTU    10 /* le16 */

#define VIRTIO_NET_S_LINK_UP  1
#define VIRTIO_NET_S_ANNOUNCE 2

/* Queue numbers of the first (only) queue pair. */
#define VIRTIO_NET_RX_QUEUE 0
#define VIRTIO_NET_TX_QUEUE 1

#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1 /* checksum from csum_start, stored at +csum_offset */
#define VIRTIO_NET_HDR_F_DATA_VALID 2 /* rx: the device checked the checksum */
#define VIRTIO_NET_HDR_GSO_NONE     0

/* Precedes every packet in both directions (with VIRTIO_F_VERSION_1: always 12 bytes;
 * num_buffers is meaningful on rx with MRG_RXBUF only). */
struct virtio_net_hdr {
	uint8_t flags;    /* VIRTIO_NET_HDR_F_* */
	uint8_t gso_type; /* VIRTIO_NET_HDR_GSO_* */
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};

/* ---- §5.4 entropy device ---------------------------------------------------------------- */
/* No feature bits and no device configuration: one queue of device-writable buffers,
 * each returned filled with as many random bytes as the used length says. */
#define VIRTIO_RNG_REQUEST_QUEUE 0

_Static_assert(sizeof(struct virtio_pci_common_cfg) == 0x38, "common cfg layout");
_Static_assert(sizeof(struct virtq_desc) == 16, "descriptor layout");
_Static_assert(sizeof(struct virtq_used_elem) == 8, "used element layout");
_Static_assert(sizeof(struct virtio_blk_outhdr) == 16, "blk header layout");
_Static_assert(sizeof(struct virtio_blk_discard_write_zeroes) == 16, "discard layout");
_Static_assert(sizeof(struct virtio_net_hdr) == 12, "net header layout");

#endif
