/*
 * Internal interface of the iSCSI target, shared by net/iscsi_*.c; prototypes grouped by
 * the file that owns them. Nothing here is for users of the target (see iscsi.h).
 *
 * Objects and ownership:
 *   iscsi_server   every connection (srv->conns); allocates TSIHs.
 *   iscsi_conn     one transport connection and, once logged in, its session (ERL 0 and
 *                  MaxConnections=1: a session lives and dies with its one connection).
 *                  Reference counted, the one count of a connection's lifetime: the
 *                  transport (until iscsi_conn_closed), the worker task, each command,
 *                  TMF and ping task, and iscsi_conn_input() and iscsi_server_tick()
 *                  while they run hold one. The last one frees it, and ops->release
 *                  the transport's state with it.
 *   iscsi_pdu      one received PDU, queued from the loop to the connection's worker.
 *   iscsi_cmd      one SCSI command, from its SCSI Command PDU to its last response.
 */
#ifndef QEDBOX_ISCSI_PRIV_H
#define QEDBOX_ISCSI_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "byteorder.h"
#include "iscsi.h"
#include "iscsi_spec.h"
#include "scsi.h"
#include "task.h"

/* Serial number arithmetic on 32-bit sequence numbers (RFC 1982). */
static inline bool sn_lt(uint32_t a, uint32_t b) { return a != b && (uint32_t)(b - a) < 0x80000000u; }
static inline bool sn_le(uint32_t a, uint32_t b) { return a == b || sn_lt(a, b); }

static inline uint32_t iscsi_pad4(uint32_t n) { return (n + 3) & ~3u; }

/* The target serves one LUN, 0; a LUN field of any other value names none. */
static inline bool iscsi_lun_served(const uint8_t lun[8])
{
	for (int i = 0; i < 8; i++)
		if (lun[i])
			return false;
	return true;
}

/* ---- iscsi_budget.c: buffer bytes, per session and global ------------------------------ */
void iscsi_budget_init(struct iscsi_budget *b, uint64_t limit, struct iscsi_budget *parent);
/* Charges bytes to b and its parents before they are allocated: true, or false (nothing
 * charged, refused counted) when some level lacks the room. b NULL: always true. */
bool iscsi_budget_charge(struct iscsi_budget *b, uint64_t bytes);
/* Charges bytes even past the limits: for memory bounded elsewhere that cannot wait. */
void iscsi_budget_force(struct iscsi_budget *b, uint64_t bytes);
void iscsi_budget_release(struct iscsi_budget *b, uint64_t bytes);
/* The bytes a charge could take now: the least room of b and its parents. */
uint64_t iscsi_budget_room(const struct iscsi_budget *b);

/* ---- iscsi_rx.c: the receive state machine -------------------------------------------- */
/* Where a PDU's data segment goes. The state machine only frames; its owner decides, once
 * the header (and its digest) is complete, through iscsi_rx.place. */
enum iscsi_rx_dest {
	ISCSI_RX_OWN_BUFFER,    /* a buffer of the PDU's own (pdu->data), charged to rx->budget:
				 * login, text, NOP-Out and the like */
	ISCSI_RX_PLACED,        /* straight into the caller's memory (a command's buffer) */
	ISCSI_RX_DISCARD,       /* counted and digested, not stored (framing kept) */
};

struct iscsi_cmd;

struct iscsi_pdu {
	struct iscsi_pdu *next;
	struct iscsi_budget *budget; /* data's bytes are charged here until the PDU is freed */
	uint8_t bhs[ISCSI_BHS_LEN];
	uint8_t *data;          /* own data segment, NUL-terminated after data_len; NULL if empty,
				 * placed or discarded */
	uint32_t data_len;      /* DataSegmentLength, without the padding */
	uint16_t ahs_len;       /* bytes of AHS received (their content is not kept) */
	uint8_t reject_reason;  /* non-zero: the receiver found the PDU bad; answer Reject */
	uint8_t dest;           /* enum iscsi_rx_dest: what became of the data segment */
	/* SCSI PDUs judged when their header was complete (iscsi_cmd_place): */
	uint8_t verdict;        /* SCSI Command: enum iscsi_verdict */
	uint8_t verdict_reason; /* ISCSI_VERDICT_REJECT: the Reject reason */
	struct iscsi_cmd *cmd;  /* SCSI Command: the command admitted for it, owned by this PDU
				 * until the worker starts it; Data-Out: the command it was
				 * matched to, held (cmd->holds) until the PDU is freed */
};

static inline uint8_t pdu_opcode(const struct iscsi_pdu *p) { return p->bhs[0] & ISCSI_OPCODE_MASK; }
static inline bool pdu_immediate(const struct iscsi_pdu *p) { return p->bhs[0] & ISCSI_IMMEDIATE; }
static inline uint32_t pdu_be32(const struct iscsi_pdu *p, int off) { return get_be32(p->bhs + off); }

enum iscsi_rx_state { ISCSI_RX_BHS, ISCSI_RX_AHS, ISCSI_RX_HDIGEST, ISCSI_RX_DATA, ISCSI_RX_DDIGEST };

/* Called once per PDU when its header is complete and its data segment fits max_data_len
 * (also for an empty one): decides pdu->dest. For ISCSI_RX_PLACED it sets *at to memory
 * for data_len bytes that stays valid until the PDU is freed (the padding is not
 * stored). The PDU is the caller's to annotate (verdict, cmd). */
typedef enum iscsi_rx_dest (*iscsi_rx_place_fn)(void *ctx, struct iscsi_pdu *pdu, uint8_t **at);

struct iscsi_rx {
	enum iscsi_rx_state state;
	uint32_t pos;           /* bytes of the current part received */
	uint32_t part_len;      /* bytes the current part has */
	struct iscsi_pdu *pdu;  /* being received */
	uint32_t crc;           /* running digest of the current part */
	uint8_t digest[ISCSI_DIGEST_LEN];
	bool too_long;          /* data segment past max_data_len: counted, not stored */
	uint8_t *at;            /* where the data segment goes; NULL: nowhere */
	/* set by the connection */
	bool header_digest, data_digest;
	uint32_t max_data_len;  /* longer data segments are skipped and the PDU rejected */
	struct iscsi_budget *budget; /* own buffers are charged here; NULL: not counted */
	iscsi_rx_place_fn place; /* NULL: every segment gets a buffer of its own */
	void *place_ctx;
};

void iscsi_rx_init(struct iscsi_rx *rx, uint32_t max_data_len);
void iscsi_rx_free(struct iscsi_rx *rx);
/* Consumes bytes until one PDU is complete or buf is used up; *used says how many.
 * Returns 1 with *out (the caller owns it), 0 when more bytes are needed, or -EPROTO (bad
 * header digest: framing is lost) / -ENOMEM; after an error the stream is unusable. */
int iscsi_rx_feed(struct iscsi_rx *rx, const uint8_t *buf, size_t len, size_t *used,
		  struct iscsi_pdu **out);
/* Frees a PDU: its own buffer, its charge, and its claim on a command (iscsi_cmd.c). */
void iscsi_pdu_free(struct iscsi_pdu *pdu);

/* ---- iscsi_param.c: text keys and operational negotiation ------------------------------ */
struct iscsi_text_buf {
	char *buf;
	uint32_t len, cap;      /* cap: the most this buffer may grow to */
};

#define ISCSI_TEXT_LIMIT 65536  /* the most text one login or text exchange may carry */

void iscsi_text_init(struct iscsi_text_buf *t, uint32_t cap);
void iscsi_text_free(struct iscsi_text_buf *t);
int iscsi_text_append(struct iscsi_text_buf *t, const void *data, uint32_t len);
int iscsi_text_add(struct iscsi_text_buf *t, const char *key, const char *value);
int iscsi_text_add_u32(struct iscsi_text_buf *t, const char *key, uint32_t value);
/* Calls fn for each key=value of a data segment (buf[len] must be writable: the pairs
 * are split in place). Returns 0, -EINVAL for a pair without '=' or a segment not ending
 * in NUL, or fn's first negative return. */
typedef int (*iscsi_kv_fn)(void *ctx, const char *key, const char *value);
int iscsi_text_parse(char *buf, uint32_t len, iscsi_kv_fn fn, void *ctx);

struct iscsi_params {
	bool header_digest, data_digest;
	uint32_t initiator_mrdsl;   /* the initiator's MaxRecvDataSegmentLength: caps sends */
	uint32_t target_mrdsl;      /* ours: caps what the initiator sends us */
	bool target_mrdsl_declared;
	uint32_t max_burst_length, first_burst_length;
	bool immediate_data, initial_r2t;
	uint32_t max_outstanding_r2t;
	bool data_pdu_in_order, data_sequence_in_order;
	uint32_t default_time2wait, default_time2retain;
	uint32_t error_recovery_level, max_connections;
};

struct iscsi_limits {
	uint32_t max_recv_data_segment_length, max_burst_length, first_burst_length;
	uint32_t max_outstanding_r2t;
};

void iscsi_limits_from_config(struct iscsi_limits *l, const struct iscsi_config *cfg);
void iscsi_params_init(struct iscsi_params *p, const struct iscsi_limits *ours);
/* Negotiates one operational key, appending the answer to out. Returns 1 when key is an
 * operational key, 0 when it is not (the caller handles it), or a negative errno when
 * out is full. */
int iscsi_param_negotiate(struct iscsi_params *p, const struct iscsi_limits *ours,
			  const char *key, const char *value, struct iscsi_text_buf *out);
/* Declares our MaxRecvDataSegmentLength once and makes FirstBurstLength <= MaxBurstLength. */
int iscsi_params_finish(struct iscsi_params *p, struct iscsi_text_buf *out);

/* ---- iscsi_chap.c: CHAP with MD5 (RFC 1994, RFC 7143 12.1.3) ---------------------------- */
struct iscsi_chap {
	uint8_t id;
	uint8_t challenge[ISCSI_CHAP_MD5_LEN];
	bool challenged;            /* CHAP_I/CHAP_C were sent */
};

/* The key values the initiator sent in one login request (pointers into its data). */
struct iscsi_chap_keys {
	const char *a, *n, *r, *i, *c;
};

/* Whether CHAP can be offered: the configuration gave a cryptographic random source. */
bool iscsi_chap_available(const struct iscsi_server *srv);
/* Answers CHAP_A (a list): picks MD5 and sends CHAP_A, CHAP_I, CHAP_C. -EACCES when the
 * list has no MD5, -EAGAIN when CHAP is not available. */
int iscsi_chap_challenge(struct iscsi_chap *chap, struct iscsi_server *srv, const char *chap_a,
			 struct iscsi_text_buf *out);
/* Checks CHAP_N/CHAP_R against auth->chap and answers a mutual challenge (CHAP_I/CHAP_C)
 * with auth->mutual. Returns 0, or -EACCES on authentication failure. */
int iscsi_chap_verify(struct iscsi_chap *chap, const struct iscsi_auth *auth,
		      const struct iscsi_chap_keys *keys, struct iscsi_text_buf *out);
/* Decodes a CHAP binary value, "0x" hex or "0b" base64. Returns its length or -EINVAL. */
int iscsi_chap_decode(const char *value, uint8_t *out, size_t max);
void iscsi_chap_md5(uint8_t id, const char *secret, const uint8_t *challenge, size_t len,
		    uint8_t digest[ISCSI_CHAP_MD5_LEN]);

/* ---- iscsi_cmd.c: one SCSI command, from admission to response ------------------------ */
#define ISCSI_MAX_R2T 16

/* One R2T of a command and the Data-Out sequence that answers it. */
struct iscsi_r2t {
	bool active;
	uint32_t ttt, offset, len;
	uint32_t next_offset;       /* the offset the next Data-Out must carry */
	uint32_t next_datasn;
};

struct iscsi_cmd {
	struct iscsi_cmd *next;     /* the connection's commands */
	struct iscsi_conn *conn;
	uint32_t itt;
	uint8_t lun_field[8];
	uint8_t cdb[ISCSI_BHS_CDB_LEN];
	bool read, write;
	uint32_t edtl;              /* ExpectedDataTransferLength */
	uint8_t *buf;
	uint32_t received;          /* Data-Out bytes received */
	/* unsolicited data: immediate plus Data-Out with TTT 0xffffffff */
	uint32_t unsolicited_end, unsolicited_next, unsolicited_datasn;
	/* solicited data */
	uint32_t solicit_next;      /* the offset the next R2T asks for */
	uint32_t gap_offset, gap_len; /* unsolicited data the initiator ended early: solicited */
	uint32_t r2tsn;
	struct iscsi_r2t r2t[ISCSI_MAX_R2T];
	bool started;               /* its command PDU reached the worker in CmdSN order */
	unsigned holds;             /* Data-Out PDUs being received or queued that point into
				     * buf: the command is neither freed nor executed while any */
	bool executing;             /* handed to its task (lib/task.h), which runs scsi_exec */
	bool aborted;               /* by a TMF or the connection's end: send nothing more */
	bool released;              /* its share of window and budget is given back */
	uint64_t lent;              /* the transport may hold buf up to this mark (0: never) */
	struct scsi_cmd scsi;
};

/* What the connection decided for a SCSI Command PDU when its header was complete; the
 * worker acts on it in CmdSN order (refusals are sent then). */
enum iscsi_verdict {
	ISCSI_VERDICT_NONE,         /* not judged (it came before the login's end): Reject */
	ISCSI_VERDICT_ADMITTED,     /* pdu->cmd holds the command */
	ISCSI_VERDICT_REJECT,       /* pdu->verdict_reason */
	ISCSI_VERDICT_TOO_LONG,     /* EDTL past any transfer: CHECK CONDITION */
	ISCSI_VERDICT_TASK_SET_FULL,
	ISCSI_VERDICT_BUSY,         /* out of memory */
};

/* The connection's iscsi_rx.place for SCSI Command and Data-Out PDUs, in the loop: admits
 * a command at its header (window slot, budget charge, buffer) so that its immediate data
 * lands in its buffer, and points a Data-Out that fits its command's buffer at buffer +
 * offset. Everything else about the PDU is checked by the worker in order. */
enum iscsi_rx_dest iscsi_cmd_place(struct iscsi_conn *c, struct iscsi_pdu *pdu, uint8_t **at);
/* The worker: a SCSI Command PDU in CmdSN order. Starts the command admitted for it, or
 * sends its refusal. */
void iscsi_cmd_start(struct iscsi_conn *c, struct iscsi_pdu *pdu);
/* A Data-Out PDU. Returns 0, or -EPROTO when the connection must end (ERL 0). */
int iscsi_cmd_data_out(struct iscsi_conn *c, struct iscsi_pdu *pdu);
/* A PDU with pdu->cmd is freed: gives up its hold, or disposes of a command never started. */
void iscsi_cmd_pdu_gone(struct iscsi_pdu *pdu);
/* The started command with this ITT (TMFs): the one still collecting or executing, else
 * one sending its last response (an ITT is free for reuse once that began), or NULL. */
struct iscsi_cmd *iscsi_cmd_find(struct iscsi_conn *c, uint32_t itt);
/* Aborts one command: marks it so that it sends nothing more and wakes its owner, which
 * frees it (the worker in iscsi_cmds_reap(), or the command's task). Never frees: the
 * owner may hold cmd across a blocking send. */
void iscsi_cmd_abort(struct iscsi_cmd *cmd);
/* Aborts every started command of c (connection end, logout, task set aborts, resets).
 * Commands admitted but not started come after the abort in CmdSN order: they stay. */
void iscsi_cmds_abort_all(struct iscsi_conn *c);
/* The worker only, at a point where it holds no command: frees the aborted commands it
 * owns (those still collecting data) once no PDU holds them, and executes a command whose
 * data was complete while a stray Data-Out still held it. */
void iscsi_cmds_reap(struct iscsi_conn *c);
/* Whether any command of c is marked aborted and still executing. */
bool iscsi_cmds_aborting(const struct iscsi_conn *c);

/* ---- iscsi_tmf.c ----------------------------------------------------------------------- */
void iscsi_tmf_handle(struct iscsi_conn *c, struct iscsi_pdu *pdu);

/* ---- iscsi_login.c --------------------------------------------------------------------- */
struct iscsi_login;
/* Handles one PDU of the login phase. Returns 0, or a negative errno when the login
 * failed and the connection must close (the failure response has been sent). */
int iscsi_login_handle(struct iscsi_conn *c, struct iscsi_pdu *pdu);
void iscsi_login_free(struct iscsi_login *l);

/* ---- iscsi_text.c: Text requests (SendTargets), with continuation both ways ----------- */
void iscsi_text_handle(struct iscsi_conn *c, struct iscsi_pdu *pdu);
/* Whether initiator may log in to t (it is in t's access list, or t has none); if so and
 * auth is not NULL, *auth is what it must prove: its own credentials, each one it lacks
 * taken from t's defaults. */
bool iscsi_target_admits(const struct iscsi_target_config *t, const char *initiator,
			 struct iscsi_auth *auth);
const struct iscsi_target_config *iscsi_target_find(const struct iscsi_config *cfg,
						    const char *name);

/* ---- the session and the connection (iscsi_session.c, iscsi_conn.c) ------------------- */

struct iscsi_session {
	bool logged_in;             /* full feature phase reached */
	bool discovery;
	const struct iscsi_target_config *target;
	char initiator_name[ISCSI_NAME_MAX];
	uint8_t isid[ISCSI_ISID_LEN];
	uint16_t tsih;
	uint32_t exp_cmdsn;
	uint32_t max_cmdsn_sent;    /* the highest MaxCmdSN advertised: the window's end */
	bool max_cmdsn_valid;       /* max_cmdsn_sent was set */
	struct iscsi_pdu *pending;  /* commands received ahead of ExpCmdSN, by CmdSN */
	unsigned pending_count;
	unsigned cmds_in_flight;    /* admitted and not yet responding: window slots */
	unsigned tmfs;              /* TMF tasks running */
	struct iscsi_budget budget; /* this session's bytes; parent: the server's */
	uint64_t responding_bytes;  /* charged to commands sending their last response */
	struct scsi_nexus nexus;
	/* for the status page (iscsi_info.c) */
	uint8_t auth_method;        /* enum iscsi_auth_method the login completed with */
	uint64_t login_ns;          /* srv->clock_ns at the login's end */
	uint64_t cmds;              /* SCSI commands admitted */
	uint64_t bytes_in, bytes_out; /* data segment payload received, sent */
};

enum iscsi_auth_method { ISCSI_AUTH_NONE, ISCSI_AUTH_CHAP, ISCSI_AUTH_MUTUAL_CHAP };

enum iscsi_phase { ISCSI_PHASE_LOGIN, ISCSI_PHASE_FULL_FEATURE, ISCSI_PHASE_LOGGED_OUT };

#define ISCSI_INPUT_QUEUE_MAX 32    /* received PDUs waiting for the worker */
#define ISCSI_INPUT_QUEUE_BYTES (1024 * 1024) /* and their data bytes, at most (plus one) */

struct iscsi_conn {
	struct iscsi_conn *next;    /* srv->conns */
	struct iscsi_server *srv;
	const struct iscsi_transport_ops *ops;
	void *ctx;
	unsigned refs;
	bool closing;               /* no new work; sends fail */
	bool transport_gone;
	enum iscsi_phase phase;
	struct iscsi_params params;
	struct iscsi_session sess;
	/* receive */
	struct iscsi_rx rx;
	struct iscsi_pdu *inq_head, *inq_tail;
	unsigned inq_count;
	uint32_t inq_bytes;
	bool input_stalled;
	struct task *worker;
	bool worker_idle;
	/* send */
	struct task_lock send_lock;
	uint32_t stat_sn;
	uint32_t next_ttt;
	/* phases */
	struct iscsi_login *login;
	struct iscsi_cmd *cmds;
	struct waitq cmds_done;     /* woken whenever a command ends (TMFs wait here) */
	struct iscsi_text_buf text_in;      /* a Text request continued with the C bit */
	uint32_t text_in_ttt;               /* the tag its next part carries */
	struct iscsi_text_buf text_out;     /* a Text response sent in pieces */
	uint32_t text_out_pos, text_out_ttt;
	/* liveness */
	uint64_t rx_bytes, rx_bytes_at_ping;
	bool ping_outstanding;
	/* admission at header time (iscsi_cmd_place): from the login's final response on,
	 * with the parameters it negotiated (c->params changes only once it has left) */
	bool admitting;
	struct iscsi_params admit_params;
	/* admission (iscsi_conn.c): the slot and the login's limits */
	struct iscsi_source source;
	unsigned login_ticks;       /* ticks seen while in the login phase */
	unsigned login_pdus;        /* PDUs received in the login phase */
	/* observability (iscsi_info.c) */
	bool login_failure_counted; /* this connection's failed login was counted */
	const char *end_why;        /* why the target ended the session ("no answer to
				     * ping", ...); NULL: the first of the ends decides */
};

void iscsi_conn_get(struct iscsi_conn *c);
void iscsi_conn_put(struct iscsi_conn *c);
/* The target ends the connection: calls ops->close once and stops the worker. */
void iscsi_conn_close(struct iscsi_conn *c);
/* The same for a connection owed nothing more (evicted, out of time): ops->abort when the
 * transport has one. */
void iscsi_conn_abort(struct iscsi_conn *c);
uint32_t iscsi_conn_new_ttt(struct iscsi_conn *c);
/* Makes the worker look at its connection again (an aborted command to free). */
void iscsi_conn_wake_worker(struct iscsi_conn *c);

/* iscsi_session.c */
/* The MaxCmdSN to advertise now; remembers the highest one sent (the window never
 * shrinks for the initiator: RFC 7143 4.2.2.1). */
uint32_t iscsi_session_max_cmdsn(struct iscsi_conn *c);
/* Whether one more command fits the session's and the server's caps (window slots,
 * tasks); immediate commands are held to the same. */
bool iscsi_session_slot_free(const struct iscsi_conn *c);
/* Orders PDUs that carry a CmdSN: returns them one by one in CmdSN order. Feeds pdu
 * (may be NULL to only drain), and returns the next deliverable PDU or NULL. PDUs outside
 * the window are freed (dropped, RFC 7143 3.2.2.1). */
struct iscsi_pdu *iscsi_session_order(struct iscsi_conn *c, struct iscsi_pdu *pdu);
void iscsi_session_free_pending(struct iscsi_conn *c);
uint16_t iscsi_session_new_tsih(struct iscsi_server *srv);
/* Ends every other logged-in session of the same initiator (same ISID and name) and target:
 * for a normal session that has just authenticated (iscsi_login.c). */
void iscsi_session_reinstate(struct iscsi_conn *c);

/* ---- iscsi_info.c: sessions and logins for the console and the status page ---------- */
const char *iscsi_auth_method_name(unsigned method);
/* "10.0.2.2:51234" (IPv4), or "" when the source is unknown. */
void iscsi_source_format(const struct iscsi_source *s, char *out, size_t size);
/* Counts a failed login and logs its event; initiator, target and source may be NULL
 * (unknown). */
void iscsi_login_failed(struct iscsi_server *srv, const struct iscsi_source *source,
			const char *initiator, const char *target, enum iscsi_login_failure why);
/* The same for c's login, once per connection: target NULL names the target the login
 * chose, if any. */
void iscsi_conn_login_failed(struct iscsi_conn *c, const char *target,
			     enum iscsi_login_failure why);
/* The session began (the final login response is sent): counts it, stamps it, logs it. */
void iscsi_session_logged_in(struct iscsi_conn *c);
/* The session ended: a Logout (phase logged out) or a drop, why from c->end_why. */
void iscsi_session_ended(struct iscsi_conn *c);

/* ---- iscsi_send.c: the PDUs the target sends ------------------------------------------ */
enum iscsi_statsn { ISCSI_STATSN_NONE, ISCSI_STATSN_PEEK, ISCSI_STATSN_ADVANCE };

void iscsi_bhs_init(uint8_t bhs[ISCSI_BHS_LEN], uint8_t opcode, uint8_t flags, uint32_t itt);
/* Sends one PDU: fills DataSegmentLength, StatSN (as asked), ExpCmdSN and MaxCmdSN, adds
 * padding and the negotiated digests. Serialised per connection. From a task only.
 * Returns 0 or a negative errno (connection gone); so do the builders below. */
int iscsi_send_pdu(struct iscsi_conn *c, uint8_t bhs[ISCSI_BHS_LEN], const void *data,
		   uint32_t len, enum iscsi_statsn statsn);
/* The same, lending data of ISCSI_LEND_MIN bytes or more to the transport when it can
 * borrow (ops->wait_returned): then *lent is raised to a mark, and the caller keeps data
 * unchanged until iscsi_conn_wait_returned(c, *lent). lent NULL: data is copied. */
int iscsi_send_pdu_lent(struct iscsi_conn *c, uint8_t bhs[ISCSI_BHS_LEN], const void *data,
			uint32_t len, enum iscsi_statsn statsn, uint64_t *lent);
/* Blocks the calling task until the transport holds none of the bytes lent up to mark
 * lent (0: none were lent): they were delivered, or the connection is gone. */
void iscsi_conn_wait_returned(struct iscsi_conn *c, uint64_t lent);
/* Reject (RFC 7143 11.17) carrying the offending header. */
int iscsi_send_reject(struct iscsi_conn *c, const uint8_t bad_bhs[ISCSI_BHS_LEN], uint8_t reason);

/* R2T (RFC 7143 11.8): asks for len bytes at offset, to be sent under ttt. */
struct iscsi_r2t_pdu {
	uint32_t itt;
	const uint8_t *lun;         /* 8 bytes, as the command carried them */
	uint32_t ttt, r2tsn, offset, len;
};
int iscsi_send_r2t(struct iscsi_conn *c, const struct iscsi_r2t_pdu *r);

/* How much less (underflow) or more (overflow) data a command moved than the initiator
 * expected (RFC 7143 11.4.5). */
struct iscsi_residual {
	uint8_t flag;               /* ISCSI_FLAG_RSP_OVERFLOW or _UNDERFLOW, or 0 */
	uint32_t count;
};

/* SCSI Data-In (RFC 7143 11.7): len bytes of read data at offset. */
struct iscsi_data_in_pdu {
	uint32_t itt;
	const uint8_t *lun;         /* 8 bytes */
	uint32_t datasn, offset;
	bool final;                 /* F: the last PDU of a sequence */
	bool with_status;           /* S: carries the command's status and residual */
	uint8_t status;
	struct iscsi_residual residual;
};
/* data is lent (see iscsi_send_pdu_lent) when lent is not NULL. */
int iscsi_send_data_in(struct iscsi_conn *c, const struct iscsi_data_in_pdu *d,
		       const void *data, uint32_t len, uint64_t *lent);

/* SCSI Response (RFC 7143 11.4), with the sense data when there is some. */
struct iscsi_scsi_response_pdu {
	uint32_t itt;
	uint8_t status;
	const uint8_t *sense;
	uint8_t sense_len;
	struct iscsi_residual residual;
	uint32_t exp_datasn;        /* Data-In PDUs sent for the command before this */
};
int iscsi_send_scsi_response(struct iscsi_conn *c, const struct iscsi_scsi_response_pdu *r);

#endif
