/*
 * iSCSI protocol constants (RFC 7143), named as the RFC names them. The one place where
 * wire values live: every other iSCSI file uses these names, never bare numbers.
 *
 * Every PDU starts with a 48-byte Basic Header Segment (BHS), big-endian fields:
 *
 *   byte 0      .I opcode (6 bits; I = immediate delivery, initiator PDUs only)
 *   byte 1      F and opcode-specific flags
 *   byte 4      TotalAHSLength, in 4-byte words
 *   bytes 5-7   DataSegmentLength, bytes, excluding the padding to 4 bytes
 *   bytes 8-15  LUN, or opcode-specific (login: ISID + TSIH)
 *   bytes 16-19 Initiator Task Tag
 *   bytes 20-47 opcode-specific (see the ISCSI_BHS_* offsets)
 *
 * then TotalAHSLength*4 bytes of AHS, a 4-byte header digest (CRC32C over BHS+AHS) when
 * negotiated, the data segment padded to 4 bytes, a 4-byte data digest over data+padding.
 */
#ifndef QEDBOX_ISCSI_SPEC_H
#define QEDBOX_ISCSI_SPEC_H

#define ISCSI_BHS_LEN 48
#define ISCSI_DIGEST_LEN 4
#define ISCSI_PAD_LEN 4
#define ISCSI_MAX_AHS_LEN (255 * 4)
#define ISCSI_RESERVED_TAG 0xffffffffu
#define ISCSI_DEFAULT_PORT 3260

/* ---- opcodes (BHS byte 0) --------------------------------------------------------- */
#define ISCSI_OPCODE_MASK 0x3f
#define ISCSI_IMMEDIATE 0x40
/* initiator to target */
#define ISCSI_OP_NOP_OUT 0x00
#define ISCSI_OP_SCSI_CMD 0x01
#define ISCSI_OP_SCSI_TASK_MGMT_REQ 0x02
#define ISCSI_OP_LOGIN_REQ 0x03
#define ISCSI_OP_TEXT_REQ 0x04
#define ISCSI_OP_SCSI_DATA_OUT 0x05
#define ISCSI_OP_LOGOUT_REQ 0x06
#define ISCSI_OP_SNACK_REQ 0x10
/* target to initiator */
#define ISCSI_OP_NOP_IN 0x20
#define ISCSI_OP_SCSI_RSP 0x21
#define ISCSI_OP_SCSI_TASK_MGMT_RSP 0x22
#define ISCSI_OP_LOGIN_RSP 0x23
#define ISCSI_OP_TEXT_RSP 0x24
#define ISCSI_OP_SCSI_DATA_IN 0x25
#define ISCSI_OP_LOGOUT_RSP 0x26
#define ISCSI_OP_R2T 0x31
#define ISCSI_OP_ASYNC_MSG 0x32
#define ISCSI_OP_REJECT 0x3f

/* ---- flags (BHS byte 1) ---------------------------------------------------------- */
#define ISCSI_FLAG_FINAL 0x80
/* SCSI Command */
#define ISCSI_FLAG_CMD_READ 0x40
#define ISCSI_FLAG_CMD_WRITE 0x20
#define ISCSI_FLAG_CMD_ATTR_MASK 0x07
/* SCSI Response and Data-In residual flags */
#define ISCSI_FLAG_RSP_BIDI_OVERFLOW 0x10
#define ISCSI_FLAG_RSP_BIDI_UNDERFLOW 0x08
#define ISCSI_FLAG_RSP_OVERFLOW 0x04
#define ISCSI_FLAG_RSP_UNDERFLOW 0x02
/* Data-In */
#define ISCSI_FLAG_DATA_ACK 0x40
#define ISCSI_FLAG_DATA_OVERFLOW 0x04
#define ISCSI_FLAG_DATA_UNDERFLOW 0x02
#define ISCSI_FLAG_DATA_STATUS 0x01
/* Login */
#define ISCSI_FLAG_LOGIN_TRANSIT 0x80
#define ISCSI_FLAG_LOGIN_CONTINUE 0x40
#define ISCSI_FLAG_LOGIN_CSG_MASK 0x0c
#define ISCSI_FLAG_LOGIN_CSG_SHIFT 2
#define ISCSI_FLAG_LOGIN_NSG_MASK 0x03
/* Text */
#define ISCSI_FLAG_TEXT_CONTINUE 0x40
/* Task management and logout: function / reason code in the low 7 bits */
#define ISCSI_FLAG_FUNCTION_MASK 0x7f

/* Login stages (CSG, NSG) */
#define ISCSI_SECURITY_NEGOTIATION_STAGE 0
#define ISCSI_LOGIN_OPERATIONAL_NEGOTIATION_STAGE 1
#define ISCSI_FULL_FEATURE_PHASE 3

#define ISCSI_VERSION 0x00

/* ---- BHS field offsets, bytes -------------------------------------------------------- */
#define ISCSI_BHS_OPCODE 0
#define ISCSI_BHS_FLAGS 1
#define ISCSI_BHS_RESPONSE 2            /* SCSI Response, TMF Response, Logout Response */
#define ISCSI_BHS_STATUS 3              /* SCSI Response, Data-In (with S) */
#define ISCSI_BHS_REJECT_REASON 2
#define ISCSI_BHS_TOTAL_AHS_LENGTH 4
#define ISCSI_BHS_DATA_SEGMENT_LENGTH 5 /* 3 bytes */
#define ISCSI_BHS_LUN 8                 /* 8 bytes */
#define ISCSI_BHS_INITIATOR_TASK_TAG 16
#define ISCSI_BHS_TARGET_TRANSFER_TAG 20
#define ISCSI_BHS_EXPECTED_DATA_TRANSFER_LENGTH 20 /* SCSI Command */
#define ISCSI_BHS_REFERENCED_TASK_TAG 20 /* Task Management Request */
#define ISCSI_BHS_CMDSN 24              /* initiator PDUs */
#define ISCSI_BHS_STATSN 24             /* target PDUs */
#define ISCSI_BHS_EXPSTATSN 28          /* initiator PDUs */
#define ISCSI_BHS_EXPCMDSN 28           /* target PDUs */
#define ISCSI_BHS_MAXCMDSN 32           /* target PDUs */
#define ISCSI_BHS_CDB 32                /* SCSI Command, 16 bytes */
#define ISCSI_BHS_CDB_LEN 16
#define ISCSI_BHS_REFCMDSN 32           /* Task Management Request */
#define ISCSI_BHS_DATASN 36             /* Data-In, Data-Out, Reject */
#define ISCSI_BHS_R2TSN 36
#define ISCSI_BHS_EXPDATASN 36          /* SCSI Response */
#define ISCSI_BHS_BUFFER_OFFSET 40
#define ISCSI_BHS_BIDI_RESIDUAL_COUNT 40
#define ISCSI_BHS_DESIRED_DATA_TRANSFER_LENGTH 44 /* R2T */
#define ISCSI_BHS_RESIDUAL_COUNT 44     /* SCSI Response, Data-In */
/* Login request and response */
#define ISCSI_BHS_VERSION_MAX 2
#define ISCSI_BHS_VERSION_MIN 3         /* request */
#define ISCSI_BHS_VERSION_ACTIVE 3      /* response */
#define ISCSI_BHS_ISID 8                /* 6 bytes */
#define ISCSI_ISID_LEN 6
#define ISCSI_NAME_MAX 224 /* an iSCSI name is at most 223 bytes (RFC 7143 4.2.7.1), and the NUL */
#define ISCSI_BHS_TSIH 14               /* 2 bytes */
#define ISCSI_BHS_CID 20                /* 2 bytes, login and logout requests */
#define ISCSI_BHS_STATUS_CLASS 36
#define ISCSI_BHS_STATUS_DETAIL 37
/* Logout response */
#define ISCSI_BHS_TIME2WAIT 40          /* 2 bytes */
#define ISCSI_BHS_TIME2RETAIN 42        /* 2 bytes */

/* Extended CDB AHS (AHSType 1) lets a CDB exceed 16 bytes; we do not serve such CDBs. */
#define ISCSI_AHS_TYPE_EXTENDED_CDB 1

/* ---- login status: class (byte 36) and detail (byte 37) ------------------------------ */
#define ISCSI_LOGIN_STATUS_SUCCESS 0x00
#define ISCSI_LOGIN_STATUS_REDIRECTION 0x01
#define ISCSI_LOGIN_STATUS_INITIATOR_ERROR 0x02
#define ISCSI_LOGIN_STATUS_TARGET_ERROR 0x03
/* details, as class << 8 | detail */
#define ISCSI_LOGIN_INITIATOR_ERROR 0x0200
#define ISCSI_LOGIN_AUTHENTICATION_FAILURE 0x0201
#define ISCSI_LOGIN_AUTHORIZATION_FAILURE 0x0202
#define ISCSI_LOGIN_NOT_FOUND 0x0203
#define ISCSI_LOGIN_TARGET_REMOVED 0x0204
#define ISCSI_LOGIN_UNSUPPORTED_VERSION 0x0205
#define ISCSI_LOGIN_TOO_MANY_CONNECTIONS 0x0206
#define ISCSI_LOGIN_MISSING_PARAMETER 0x0207
#define ISCSI_LOGIN_CANT_INCLUDE_IN_SESSION 0x0208
#define ISCSI_LOGIN_SESSION_TYPE_NOT_SUPPORTED 0x0209
#define ISCSI_LOGIN_SESSION_DOES_NOT_EXIST 0x020a
#define ISCSI_LOGIN_INVALID_DURING_LOGIN 0x020b
#define ISCSI_LOGIN_TARGET_ERROR 0x0300
#define ISCSI_LOGIN_SERVICE_UNAVAILABLE 0x0301
#define ISCSI_LOGIN_OUT_OF_RESOURCES 0x0302

/* ---- Reject reasons (byte 2) ----------------------------------------------------------- */
#define ISCSI_REASON_DATA_DIGEST_ERROR 0x02
#define ISCSI_REASON_SNACK_REJECT 0x03
#define ISCSI_REASON_PROTOCOL_ERROR 0x04
#define ISCSI_REASON_COMMAND_NOT_SUPPORTED 0x05
#define ISCSI_REASON_IMMEDIATE_COMMAND_REJECT 0x06
#define ISCSI_REASON_TASK_IN_PROGRESS 0x07
#define ISCSI_REASON_INVALID_DATA_ACK 0x08
#define ISCSI_REASON_INVALID_PDU_FIELD 0x09
#define ISCSI_REASON_LONG_OPERATION_REJECT 0x0a
#define ISCSI_REASON_WAITING_FOR_LOGOUT 0x0c

/* ---- Task Management: functions (byte 1 low bits) and responses (byte 2) -------------- */
#define ISCSI_TM_FUNC_ABORT_TASK 1
#define ISCSI_TM_FUNC_ABORT_TASK_SET 2
#define ISCSI_TM_FUNC_CLEAR_ACA 3
#define ISCSI_TM_FUNC_CLEAR_TASK_SET 4
#define ISCSI_TM_FUNC_LOGICAL_UNIT_RESET 5
#define ISCSI_TM_FUNC_TARGET_WARM_RESET 6
#define ISCSI_TM_FUNC_TARGET_COLD_RESET 7
#define ISCSI_TM_FUNC_TASK_REASSIGN 8

#define ISCSI_TM_RSP_FUNCTION_COMPLETE 0
#define ISCSI_TM_RSP_TASK_DOES_NOT_EXIST 1
#define ISCSI_TM_RSP_LUN_DOES_NOT_EXIST 2
#define ISCSI_TM_RSP_TASK_STILL_ALLEGIANT 3
#define ISCSI_TM_RSP_TASK_ALLEGIANCE_REASSIGNMENT_NOT_SUPPORTED 4
#define ISCSI_TM_RSP_FUNCTION_NOT_SUPPORTED 5
#define ISCSI_TM_RSP_FUNCTION_AUTHORIZATION_FAILED 6
#define ISCSI_TM_RSP_FUNCTION_REJECTED 255

/* ---- Logout: reason codes (request byte 1) and responses (byte 2) --------------------- */
#define ISCSI_LOGOUT_CLOSE_SESSION 0
#define ISCSI_LOGOUT_CLOSE_CONNECTION 1
#define ISCSI_LOGOUT_REMOVE_CONNECTION_FOR_RECOVERY 2

#define ISCSI_LOGOUT_RSP_SUCCESS 0
#define ISCSI_LOGOUT_RSP_CID_NOT_FOUND 1
#define ISCSI_LOGOUT_RSP_RECOVERY_NOT_SUPPORTED 2
#define ISCSI_LOGOUT_RSP_CLEANUP_FAILED 3

/* ---- SCSI Response: response byte ------------------------------------------------------ */
#define ISCSI_RSP_COMMAND_COMPLETED_AT_TARGET 0x00
#define ISCSI_RSP_TARGET_FAILURE 0x01

/* ---- text negotiation limits (RFC 7143 section 13) ------------------------------------- */
#define ISCSI_TEXT_MAX_KEY 63                  /* key names are at most 63 bytes */
#define ISCSI_TEXT_MAX_VALUE 8192              /* "at most 255 bytes" except lists */
#define ISCSI_MRDSL_MIN 512
#define ISCSI_MRDSL_MAX 16777215
#define ISCSI_DEFAULT_MRDSL 8192               /* MaxRecvDataSegmentLength when absent */
#define ISCSI_DEFAULT_MAX_BURST_LENGTH 262144
#define ISCSI_DEFAULT_FIRST_BURST_LENGTH 65536
#define ISCSI_DEFAULT_TIME2WAIT 2
#define ISCSI_DEFAULT_TIME2RETAIN 20
#define ISCSI_DEFAULT_MAX_OUTSTANDING_R2T 1

/* CHAP (RFC 1994) with MD5, algorithm number 5 */
#define ISCSI_CHAP_ALGORITHM_MD5 5
#define ISCSI_CHAP_MD5_LEN 16

#endif
