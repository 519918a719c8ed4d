/*
 * Test support for the iSCSI target: a fake transport that records what the target sends,
 * a fixture with one target (LUN 0 over a RAM volume from scsi_test_support, with a gate
 * that holds reads and writes until the test opens it), and initiator-side helpers that
 * build PDUs, feed them in chunks of any size and parse the target's answers.
 *
 *     struct iscsi_fixture f;
 *     fx_init(&f);                                   // server, one target, one connection
 *     fx_login(&f, NULL);                            // normal session, default keys
 *     fx_scsi_cmd(&f, ISCSI_FLAG_CMD_READ, itt, 4096, cdb, NULL, 0);
 *     struct fx_pdu r; CHECK(fx_next(&f, &r)); CHECK_EQ(ISCSI_OP_SCSI_DATA_IN, r.opcode);
 *     fx_fini(&f);                                   // closes, checks nothing leaked
 */
#ifndef QEDBOX_ISCSI_TEST_SUPPORT_H
#define QEDBOX_ISCSI_TEST_SUPPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "event_log.h"
#include "iscsi_priv.h"
#include "scsi_test_support.h"

#define FX_TARGET "iqn.2026-11.org.qedbox:disk0"
#define FX_TARGET2 "iqn.2026-11.org.qedbox:disk1"
#define FX_INITIATOR "iqn.1994-05.com.example:client"
#define FX_BLOCKS 2048
#define FX_BLOCK_SIZE 512

struct fx_link {
	uint8_t *out;
	size_t out_len, out_cap, read_pos;
	bool closed;              /* the target called close */
	bool transport_gone;      /* iscsi_conn_closed was called */
	unsigned resumes;
	int send_error;           /* returned by send when non-zero */
	bool hold;                /* send blocks its task while set (a full TCP window) */
	struct waitq held;        /* the tasks blocked in send; fx_release wakes them */
	struct iscsi_conn *c;
};

struct fx_pdu {
	uint8_t bhs[ISCSI_BHS_LEN];
	uint8_t opcode, flags;
	uint8_t *data;
	uint32_t data_len;
	uint32_t itt, ttt, statsn, expcmdsn, maxcmdsn, datasn, offset, residual, desired;
};

struct iscsi_fixture {
	struct iscsi_server srv;
	struct iscsi_config cfg;
	struct iscsi_target_config targets[2];
	struct scsi_fixture sf, sf2;
	const struct volume_ops *ram_ops;
	struct volume_ops gated_ops;
	bool gate_closed;         /* volume I/O waits while set */
	struct waitq gate;
	struct iscsi_conn *c;     /* the connection the helpers talk to */
	struct fx_link *lk;       /* its link */
	struct fx_link link;      /* the first connection's link */
	size_t chunk;             /* feed in pieces of this size; 0: all at once */
	bool digests;             /* the test's side uses CRC32C digests */
	uint32_t cmdsn, expstatsn;
	struct iscsi_rx parser;   /* parses what the target sent */
	struct fx_pdu last;
};

extern const struct iscsi_transport_ops fx_transport;

void fx_init(struct iscsi_fixture *f);
/* fx_init in two steps, for tests that change f->cfg before the server starts. */
void fx_setup(struct iscsi_fixture *f);
void fx_start(struct iscsi_fixture *f);
/* Opens another connection (for multi-session tests) on f's server. */
void fx_open_link(struct iscsi_fixture *f, struct fx_link *link, struct iscsi_conn **c);
/* The same from a source address (per-source caps, the address in events). */
void fx_open_link_from(struct iscsi_fixture *f, struct fx_link *link, struct iscsi_conn **c,
		       const struct iscsi_source *source);
void fx_fini(struct iscsi_fixture *f);
void fx_run(void);
/* Makes the helpers talk over link (and its connection). */
void fx_use(struct iscsi_fixture *f, struct fx_link *link);
/* Ends link->hold: the sends blocked on it go on, and the tasks run. */
void fx_release(struct fx_link *link);

/* Sends one PDU (data padded, digests when f->digests) and lets the target run. */
void fx_send(struct iscsi_fixture *f, uint8_t bhs[ISCSI_BHS_LEN], const void *data, uint32_t len);
void fx_send_raw(struct iscsi_fixture *f, const void *bytes, size_t len);
/* Next PDU the target sent, or false. The data stays valid until the next call. */
bool fx_next(struct iscsi_fixture *f, struct fx_pdu *p);
/* How many PDUs the target sent and the test has not read yet. */
unsigned fx_pending(struct iscsi_fixture *f);

/* Text: "Key=Value\nKey=Value" becomes NUL-separated pairs in buf; returns the length. */
uint32_t fx_text(char *buf, size_t cap, const char *lines);
/* The value of key in a response's text, or NULL. */
const char *fx_key(const struct fx_pdu *p, const char *key);

/* A Login Request. */
void fx_login_req(struct iscsi_fixture *f, uint8_t flags, uint16_t tsih, const char *lines);
/* Logs in to a normal session in one step (CSG 1 -> FFP) with the default keys plus
 * extra (may be NULL); returns the final status (class << 8 | detail). */
int fx_login(struct iscsi_fixture *f, const char *extra);
int fx_login_discovery(struct iscsi_fixture *f, const char *extra);
/* Logout Request, close the session, immediate. */
void fx_logout(struct iscsi_fixture *f);
/* Whether the latest event the target logged is kind with text (else says what it was on
 * stderr). fx_setup empties the log and keeps its lines off the test's output. */
bool fx_last_event_is(enum event_kind kind, const char *text);

/* A SCSI Command: flags R/W (F is added unless no_final), ExpectedDataTransferLength edtl,
 * immediate data. Advances the test's CmdSN. */
void fx_scsi_cmd(struct iscsi_fixture *f, uint8_t flags, uint32_t itt, uint32_t edtl,
		 const uint8_t *cdb, const void *data, uint32_t len);
void fx_data_out(struct iscsi_fixture *f, uint32_t itt, uint32_t ttt, uint32_t datasn,
		 uint32_t offset, bool final, const void *data, uint32_t len);
void fx_read10_cdb(uint8_t *cdb, uint32_t lba, uint16_t blocks);
void fx_write10_cdb(uint8_t *cdb, uint32_t lba, uint16_t blocks);
/* NOP-Out ping with itt, immediate. */
void fx_nop_out(struct iscsi_fixture *f, uint32_t itt, uint32_t ttt, const void *data, uint32_t len);



/* Logs in (extra keys may be NULL), reads the response and clears the unit attention the
 * SCSI layer reports once per nexus, so that tests start with a quiet LUN. */
void fx_ready(struct iscsi_fixture *f, const char *extra);
#endif
