/*
 * SCSI constants, named as T10's SAM-5, SPC-4 and SBC-3 name them: operation codes,
 * service actions, SAM status codes, sense keys, additional sense codes (ASC/ASCQ pairs,
 * one 16-bit value ASC << 8 | ASCQ), VPD page codes and mode page codes. Every SCSI
 * constant qedbox uses lives here and only here.
 */
#ifndef QEDBOX_SCSI_SPEC_H
#define QEDBOX_SCSI_SPEC_H

/* ---- operation codes (SPC-4 and SBC-3) --------------------------------------------- */
#define TEST_UNIT_READY           0x00
#define REQUEST_SENSE             0x03
#define READ_6                    0x08
#define WRITE_6                   0x0a
#define INQUIRY                   0x12
#define MODE_SELECT_6             0x15
#define RESERVE_6                 0x16
#define RELEASE_6                 0x17
#define MODE_SENSE_6              0x1a
#define START_STOP_UNIT           0x1b
#define PREVENT_ALLOW_MEDIUM_REMOVAL 0x1e
#define READ_CAPACITY_10          0x25
#define READ_10                   0x28
#define WRITE_10                  0x2a
#define WRITE_AND_VERIFY_10       0x2e
#define VERIFY_10                 0x2f
#define PRE_FETCH_10              0x34
#define SYNCHRONIZE_CACHE_10      0x35
#define WRITE_SAME_10             0x41
#define UNMAP                     0x42
#define MODE_SELECT_10            0x55
#define PERSISTENT_RESERVE_IN     0x5e
#define PERSISTENT_RESERVE_OUT    0x5f
#define MODE_SENSE_10             0x5a
#define READ_16                   0x88
#define COMPARE_AND_WRITE         0x89
#define WRITE_16                  0x8a
#define ORWRITE_16                0x8b
#define WRITE_AND_VERIFY_16       0x8e
#define VERIFY_16                 0x8f
#define PRE_FETCH_16              0x90
#define SYNCHRONIZE_CACHE_16      0x91
#define WRITE_SAME_16             0x93
#define SERVICE_ACTION_IN_16      0x9e
#define REPORT_LUNS               0xa0
#define MAINTENANCE_IN            0xa3
#define READ_12                   0xa8
#define WRITE_12                  0xaa
#define WRITE_AND_VERIFY_12       0xae
#define VERIFY_12                 0xaf

/* SERVICE ACTION IN (16) service actions */
#define SAI_READ_CAPACITY_16      0x10
#define SAI_GET_LBA_STATUS        0x12
/* MAINTENANCE IN service actions */
#define MI_REPORT_SUPPORTED_OPERATION_CODES 0x0c

/* ---- SAM status ---------------------------------------------------------------------- */
#define SAM_STAT_GOOD             0x00
#define SAM_STAT_CHECK_CONDITION  0x02
#define SAM_STAT_BUSY             0x08
#define SAM_STAT_RESERVATION_CONFLICT 0x18
#define SAM_STAT_TASK_SET_FULL    0x28

/* ---- sense data (SPC-4 4.5.3, fixed format) --------------------------------------- */
#define SENSE_RESPONSE_CURRENT_FIXED 0x70
#define SENSE_VALID               0x80 /* byte 0: the INFORMATION field is valid */
#define SENSE_FIXED_LEN           18
#define SENSE_ADDITIONAL_LEN      10   /* bytes 8..17 */
#define SENSE_SKSV                0x80 /* byte 15: sense-key specific valid */
#define SENSE_SKS_CD              0x40 /* byte 15: the error is in the CDB (else data) */
#define SENSE_SKS_BPV             0x08 /* byte 15: BIT POINTER valid */

/* sense keys */
#define NO_SENSE                  0x0
#define RECOVERED_ERROR           0x1
#define NOT_READY                 0x2
#define MEDIUM_ERROR              0x3
#define HARDWARE_ERROR            0x4
#define ILLEGAL_REQUEST           0x5
#define UNIT_ATTENTION            0x6
#define DATA_PROTECT              0x7
#define ABORTED_COMMAND           0xb
#define MISCOMPARE                0xe

/* additional sense codes, ASC << 8 | ASCQ */
#define ASC_NO_ADDITIONAL_SENSE                 0x0000
#define ASC_LOGICAL_UNIT_NOT_READY_MANUAL_INTERVENTION_REQUIRED 0x0403
#define ASC_WRITE_ERROR                         0x0c00
#define ASC_INVALID_FIELD_IN_COMMAND_INFORMATION_UNIT 0x0e03
#define ASC_UNRECOVERED_READ_ERROR              0x1100
#define ASC_PARAMETER_LIST_LENGTH_ERROR         0x1a00
#define ASC_MISCOMPARE_DURING_VERIFY_OPERATION  0x1d00
#define ASC_INVALID_COMMAND_OPERATION_CODE      0x2000
#define ASC_LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE  0x2100
#define ASC_INVALID_FIELD_IN_CDB                0x2400
#define ASC_LOGICAL_UNIT_NOT_SUPPORTED          0x2500
#define ASC_INVALID_FIELD_IN_PARAMETER_LIST     0x2600
#define ASC_INVALID_RELEASE_OF_PERSISTENT_RESERVATION 0x2604
#define ASC_WRITE_PROTECTED                     0x2700
#define ASC_SPACE_ALLOCATION_FAILED_WRITE_PROTECT 0x2707
#define ASC_POWER_ON_RESET_OR_BUS_DEVICE_RESET_OCCURRED 0x2900
#define ASC_SAVING_PARAMETERS_NOT_SUPPORTED     0x3900
#define ASC_INTERNAL_TARGET_FAILURE             0x4400
#define ASC_INSUFFICIENT_REGISTRATION_RESOURCES 0x5504

/* ---- INQUIRY (SPC-4 6.6) ------------------------------------------------------------- */
#define INQUIRY_EVPD              0x01 /* byte 1 */
#define INQUIRY_CMDDT             0x02 /* byte 1, obsolete */
#define TYPE_DISK                 0x00 /* peripheral device type: direct access block */
#define TYPE_NO_LUN               0x7f /* qualifier 3, type 1Fh: no logical unit here */
#define INQUIRY_VERSION_SPC4      0x06
#define INQUIRY_HISUP             0x10 /* byte 3 */
#define INQUIRY_RESPONSE_DATA_FORMAT 0x02
#define INQUIRY_CMDQUE            0x02 /* byte 7 */

/* version descriptors */
#define VERSION_DESCRIPTOR_SAM5   0x00a0
#define VERSION_DESCRIPTOR_ISCSI  0x0960
#define VERSION_DESCRIPTOR_SPC4   0x0460
#define VERSION_DESCRIPTOR_SBC3   0x04c0

/* VPD page codes */
#define VPD_SUPPORTED_VPD_PAGES   0x00
#define VPD_UNIT_SERIAL_NUMBER    0x80
#define VPD_DEVICE_IDENTIFICATION 0x83
#define VPD_EXTENDED_INQUIRY_DATA 0x86
#define VPD_BLOCK_LIMITS          0xb0
#define VPD_BLOCK_DEVICE_CHARACTERISTICS 0xb1
#define VPD_LOGICAL_BLOCK_PROVISIONING   0xb2

/* designation descriptors (VPD 83h) */
#define DESIG_CODE_SET_BINARY     0x1
#define DESIG_CODE_SET_ASCII      0x2
#define DESIG_ASSOC_LOGICAL_UNIT  0x00
#define DESIG_TYPE_T10_VENDOR_ID  0x1
#define DESIG_TYPE_NAA            0x3
#define NAA_IEEE_REGISTERED_EXTENDED 0x6

/* VPD 86h byte 5 */
#define EXTENDED_INQUIRY_SIMPSUP  0x01
/* VPD B0h byte 4 */
#define BLOCK_LIMITS_WSNZ         0x01
/* VPD B1h */
#define MEDIUM_ROTATION_RATE_NON_ROTATING 0x0001
/* VPD B2h byte 5 and byte 6 */
#define LBP_LBPU                  0x80
#define LBP_LBPWS                 0x40
#define LBP_LBPWS10               0x20
#define LBP_LBPRZ                 0x04 /* SBC-4 LBPRZ field = 001b (SBC-3 bit 2) */
#define PROVISIONING_TYPE_THIN    0x02

/* READ CAPACITY (16) parameter data byte 14 */
#define READ_CAPACITY_LBPME       0x80
#define READ_CAPACITY_LBPRZ       0x40

/* ---- block commands (SBC-3) --------------------------------------------------------- */
#define SBC_FUA                   0x08 /* byte 1 of READ/WRITE 10/12/16 */
#define SBC_DPO                   0x10
#define SBC_PROTECT_MASK          0xe0 /* RDPROTECT / WRPROTECT / VRPROTECT */
#define VERIFY_BYTCHK_MASK        0x06
#define VERIFY_BYTCHK_SHIFT       1
#define WRITE_SAME_UNMAP          0x08
#define WRITE_SAME_ANCHOR         0x10
#define WRITE_SAME_PBDATA         0x04
#define WRITE_SAME_LBDATA         0x02
#define WRITE_SAME_NDOB           0x01 /* WRITE SAME (16) only */
#define UNMAP_ANCHOR              0x01
#define UNMAP_PARAM_HEADER_LEN    8
#define UNMAP_BLOCK_DESCRIPTOR_LEN 16
#define READ_CAPACITY_PMI         0x01
#define REQUEST_SENSE_DESC        0x01

/* GET LBA STATUS (SBC-3 5.6) */
#define LBA_STATUS_HEADER_LEN     8
#define LBA_STATUS_DESCRIPTOR_LEN 16
#define PROVISIONING_STATUS_MAPPED      0x0
#define PROVISIONING_STATUS_DEALLOCATED 0x1

/* ---- persistent reservations (SPC-4 6.15, 6.16) --------------------------------------- */
/* PERSISTENT RESERVE IN service actions */
#define PRIN_READ_KEYS            0x00
#define PRIN_READ_RESERVATION     0x01
#define PRIN_REPORT_CAPABILITIES  0x02
#define PRIN_READ_FULL_STATUS     0x03
/* READ FULL STATUS descriptor (SPC-4 6.15.5) and iSCSI TransportID (SPC-4 7.6.4.6) */
#define PR_FULL_STATUS_DESCRIPTOR_LEN 24
#define PR_FULL_STATUS_R_HOLDER   0x01 /* byte 12 */
#define TRANSPORT_ID_ISCSI_PORT   0x45 /* FORMAT CODE 01b (initiator port), protocol 5 */
#define TRANSPORT_ID_MIN_LEN      24
/* PERSISTENT RESERVE OUT service actions */
#define PROUT_REGISTER            0x00
#define PROUT_RESERVE             0x01
#define PROUT_RELEASE             0x02
#define PROUT_CLEAR               0x03
#define PROUT_PREEMPT             0x04
#define PROUT_PREEMPT_AND_ABORT   0x05
#define PROUT_REGISTER_AND_IGNORE_EXISTING_KEY 0x06
/* persistent reservation types (byte 2 bits 3-0 of PERSISTENT RESERVE OUT) */
#define PR_TYPE_WRITE_EXCLUSIVE                   0x1
#define PR_TYPE_EXCLUSIVE_ACCESS                  0x3
#define PR_TYPE_WRITE_EXCLUSIVE_REGISTRANTS_ONLY  0x5
#define PR_TYPE_EXCLUSIVE_ACCESS_REGISTRANTS_ONLY 0x6
#define PR_TYPE_WRITE_EXCLUSIVE_ALL_REGISTRANTS   0x7
#define PR_TYPE_EXCLUSIVE_ACCESS_ALL_REGISTRANTS  0x8
#define PR_TYPE_MASK              0x0f
#define PR_SCOPE_MASK             0xf0
#define PR_SCOPE_LU               0x00
/* PERSISTENT RESERVE OUT parameter list */
#define PROUT_PARAM_LEN           24
#define PROUT_SPEC_I_PT           0x08 /* byte 20 */
#define PROUT_ALL_TG_PT           0x04
#define PROUT_APTPL               0x01
/* REPORT CAPABILITIES parameter data */
#define PR_CAPS_LEN               8
#define PR_CAPS_PTPL_C            0x01 /* byte 2: persist through power loss capable */
#define PR_CAPS_TMV               0x80 /* byte 3: the type mask is valid */
#define PR_CAPS_PTPL_A            0x01 /* byte 3: persist through power loss activated */
#define PR_CAPS_WR_EX_AR          0x80 /* byte 4 */
#define PR_CAPS_EX_AC_RO          0x40
#define PR_CAPS_WR_EX_RO          0x20
#define PR_CAPS_EX_AC             0x08
#define PR_CAPS_WR_EX             0x02
#define PR_CAPS_EX_AC_AR          0x01 /* byte 5 */

/* ---- mode pages (SPC-4 7.5, SBC-3 6.4) ----------------------------------------------- */
#define MODE_PAGE_CACHING         0x08
#define MODE_PAGE_CONTROL         0x0a
#define MODE_PAGE_ALL             0x3f
#define MODE_SUBPAGE_ALL          0xff
#define MODE_PAGE_CODE_MASK       0x3f
#define MODE_PS                   0x80 /* page byte 0: parameters saveable */
#define MODE_DBD                  0x08 /* MODE SENSE byte 1 */
#define MODE_LLBAA                0x10 /* MODE SENSE (10) byte 1 */
#define MODE_PC_SHIFT             6
#define MODE_PC_CURRENT           0
#define MODE_PC_CHANGEABLE        1
#define MODE_PC_DEFAULT           2
#define MODE_PC_SAVED             3
#define MODE_SELECT_PF            0x10
#define MODE_SELECT_SP            0x01
#define MODE_DSP_WP               0x80 /* device-specific parameter: write protected */
#define MODE_DSP_DPOFUA           0x10
#define MODE_LONGLBA              0x01 /* MODE SENSE (10) header byte 4 */
#define CACHING_WCE               0x04
#define CONTROL_QAM_UNRESTRICTED  0x10 /* byte 3: queue algorithm modifier 1 */

/* ---- REPORT LUNS --------------------------------------------------------------------- */
#define REPORT_LUNS_SELECT_ALL    0x02

#endif
