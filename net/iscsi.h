/*
 * The iSCSI target (RFC 7143): sessions, login, discovery and the full feature phase over
 * any byte-stream transport. It executes SCSI commands through net/scsi.h and knows
 * nothing of TCP: a binding (lwIP in the firmware, a fake in host tests) moves the bytes.
 *
 * Use:
 *     struct iscsi_server srv;
 *     iscsi_server_init(&srv, &config);             // config outlives srv
 *   per accepted connection:
 *     c = iscsi_conn_open(&srv, &transport_ops, ctx);
 *     n = iscsi_conn_input(c, bytes, len);          // from the loop, any chunking; n < len:
 *                                                   // queue full, offer the rest later
 *     iscsi_conn_closed(c);                         // the transport is gone (peer closed,
 *                                                   // error, or after ops->close)
 *   every ISCSI_TICK_MS, from the loop:
 *     iscsi_server_tick(&srv);                      // NOP-In pings, drops dead initiators
 *                                                   // and logins past their deadline
 *
 * Threading: everything runs on the one event loop. iscsi_conn_input() never blocks; the
 * work runs in tasks (lib/task.h): one per connection for the PDUs in order, one per SCSI
 * command. ops->sendv is only ever called from those tasks and may block them.
 */
#ifndef QEDBOX_ISCSI_H
#define QEDBOX_ISCSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct scsi_lun;

/* One piece of a PDU handed to ops->sendv. */
struct iscsi_iov {
	const void *base;
	size_t len;
};

/* ops->sendv flags. ISCSI_SEND_LEND: the caller lends its pieces of ISCSI_LEND_MIN bytes
 * or more: the transport may send them by reference instead of copying them. Smaller
 * pieces (headers, digests, padding) are always copied: a reference costs more than
 * copying them. */
#define ISCSI_SEND_LEND 1u
#define ISCSI_LEND_MIN 1024u

/* What the target needs from the transport. */
struct iscsi_transport_ops {
	/* Sends the pieces of one PDU, in order after every earlier send. Called from a task
	 * only; may block it until the transport has taken the bytes (backpressure); the
	 * bytes leave by the end of the loop turn at the latest (the transport batches what
	 * its tasks send in one turn). With ISCSI_SEND_LEND, *lent_mark is set (when
	 * lent_mark is not NULL) to a mark that the caller passes to ops->wait_returned
	 * before it changes or frees any piece it lent (also when sendv failed: part of it
	 * may have been borrowed); 0 when the transport borrowed nothing. Returns 0, or a
	 * negative errno when the connection is gone (the target then stops sending). */
	int (*sendv)(void *ctx, const struct iscsi_iov *iov, unsigned n, unsigned flags,
		     uint64_t *lent_mark);
	/* Optional: blocks the calling task until the transport holds no byte lent up to
	 * mark (a TCP transport: the peer acknowledged them, or the connection is gone and
	 * its pcb freed). Called from a task, also after iscsi_conn_closed() (until
	 * release). A transport without it never borrows: the target lends nothing. */
	void (*wait_returned)(void *ctx, uint64_t mark);
	/* The target closes the connection (logout, protocol error, reinstatement). Called
	 * once, from a task or from iscsi_conn_input(). The transport must call
	 * iscsi_conn_closed() afterwards (it may do so from inside close). */
	void (*close)(void *ctx);
	/* Optional: the connection can take input again after iscsi_conn_input() consumed
	 * less than offered. Called from a task (never from inside iscsi_conn_input()); the
	 * binding may offer the rest right there or from the loop. */
	void (*resume)(void *ctx);
	/* Optional: the target is done with ctx, for good: the transport called
	 * iscsi_conn_closed() and the connection's last task has ended. The transport frees
	 * its per-connection state here; the target's reference count is the only one. May
	 * be called from inside iscsi_conn_closed(). */
	void (*release)(void *ctx);
	/* Optional: as close, but nothing queued need reach the peer, so the transport may
	 * drop the connection at once (a TCP reset) and free what it holds now. Used for
	 * connections the target evicts or whose login ran out of time. NULL: close. */
	void (*abort)(void *ctx);
};

/* A CHAP name and secret (RFC 7143 12.1.3: secrets of at least 12 bytes). secret NULL:
 * none is configured. */
struct iscsi_credential {
	const char *user, *secret;
};

/* How one initiator proves who it is: it must answer a CHAP challenge with chap (when
 * chap.secret is set); if it challenges us in turn, we answer with mutual (when
 * mutual.secret is set; else its login fails). Both secrets set and equal is refused
 * by the configuration (RFC 7143 12.1.3 forbids it). */
struct iscsi_auth {
	struct iscsi_credential chap, mutual;
};

/* One entry of a target's access list: an initiator by name, with its own credentials
 * (a NULL secret falls back to the target's default of the same kind). */
struct iscsi_acl_entry {
	const char *initiator;          /* InitiatorName */
	struct iscsi_auth auth;
};

/* One target: a name, a LUN 0, who may log in and how. Strings are NUL-terminated and
 * outlive the server. */
struct iscsi_target_config {
	const char *name;               /* iqn.... */
	const char *alias;              /* TargetAlias, or NULL */
	struct scsi_lun *lun;           /* served as LUN 0 */
	/* Who may log in: the initiators named here, each with its credentials; n_acl 0:
	 * any initiator, with the defaults. */
	const struct iscsi_acl_entry *acl;
	unsigned n_acl;
	struct iscsi_auth auth;         /* defaults for initiators without their own */
};

struct iscsi_config {
	const struct iscsi_target_config *targets;
	unsigned n_targets;
	const char *portal;             /* TargetAddress for SendTargets, "10.0.2.15:3260" */
	uint16_t tpgt;                  /* TargetPortalGroupTag, 1 if 0 */
	/* Negotiation limits; 0 picks the default named after each. */
	uint32_t max_recv_data_segment_length;  /* what we accept: 262144 */
	uint32_t max_burst_length;              /* 1048576 */
	uint32_t first_burst_length;            /* 65536 */
	uint32_t max_outstanding_r2t;           /* 4 */
	uint32_t cmd_window;                    /* commands per session: 64 */
	uint32_t session_buffer_bytes;  /* buffer bytes per session before the CmdSN
					 * window closes: 64 MiB */
	/* Discovery sessions must authenticate with these when discovery.chap.secret is set
	 * (mutual too, when set). SendTargets lists only the targets the initiator may log
	 * in to either way. */
	struct iscsi_auth discovery;
	/* Random bytes for CHAP challenges and identifiers, from a seeded cryptographic
	 * generator. NULL: there is none, and every login that needs CHAP is refused (a
	 * guessable challenge lets a recorded login be replayed). */
	void (*random)(void *ctx, void *buf, size_t len);
	void *random_ctx;
	/* Resource bounds (iscsi_session.c); 0 picks the default named after each. */
	uint64_t global_buffer_bytes;   /* buffer bytes of all sessions together: the
					 * appliance passes half its heap; 256 MiB */
	uint32_t max_tasks;             /* command and TMF tasks of all sessions: 1024 */
	/* Connection slots and the login phase; 0 picks the default named after each. */
	unsigned max_connections;               /* open at once: ISCSI_DEFAULT_MAX_CONNECTIONS */
	unsigned max_connections_per_source;    /* from one address: ..._PER_SOURCE */
	uint32_t login_timeout_ms;              /* accept to full feature phase: 15000 */
};

/* The period at which the binding calls iscsi_server_tick(): the liveness checks and the
 * login deadline count in ticks of this length. */
#define ISCSI_TICK_MS 5000

/* Slots. A connection holds one from iscsi_conn_open() until the target or the transport
 * ends it. 64 in all: ample for the initiators one appliance serves, each a few sessions.
 * 32 per source address: every initiator behind one NAT (or QEMU's user network) shares
 * an address, so the per-source cap must fit many of them; it stops one address from
 * taking every slot. When a cap is reached, the newcomer takes the slot of the oldest
 * connection still logging in (a real login takes milliseconds: the oldest is the likeliest
 * to be stuck or hostile); sessions in the full feature phase are never evicted, and when
 * every slot holds one the newcomer is refused. */
#define ISCSI_DEFAULT_MAX_CONNECTIONS 64
#define ISCSI_DEFAULT_MAX_CONNECTIONS_PER_SOURCE 32
/* From accept to the full feature phase: LIO's default login timeout, and open-iscsi's own
 * (an initiator has given up on a login by then, so a longer one serves nobody). Checked
 * at each tick: a login is ended between 15 and 20 s after it began. */
#define ISCSI_DEFAULT_LOGIN_TIMEOUT_MS 15000
/* Buffer bytes every connection may hold even when the shared pool is spent: two 1 MiB
 * commands, or a depth of 32 at 64 KiB. An honest session keeps going under a flood from
 * others (they get TASK SET FULL, then a closed window); 64 slots reserve 128 MiB. */
#define ISCSI_SESSION_GUARANTEED_BYTES (2ull * 1024 * 1024)
/* Login PDUs one connection may send, continuations (C bit) included. A real login takes a
 * handful (CHAP: 3-4); 64 KiB of login text in 8 KiB PDUs is 8 more. */
#define ISCSI_LOGIN_PDU_MAX 64

/* Where a connection comes from, for the per-source cap: the peer's address as bytes (4
 * for IPv4, 16 for IPv6). Connections with equal addresses share one allowance. */
struct iscsi_source {
	uint8_t len;
	uint8_t addr[16];
	uint16_t port;          /* the peer's TCP port, for the console and the status page */
};

/* A pool of buffer bytes (iscsi_budget.c): a session's, whose parent is the server's. */
struct iscsi_budget {
	struct iscsi_budget *parent;    /* charged too; NULL at the top */
	uint64_t limit;
	/* Bytes this budget may hold even when its parent has no room left: the parent's
	 * limit leaves room for every child's guarantee, so an honest session keeps going
	 * while others have spent the shared pool. */
	uint64_t guaranteed;
	uint64_t charged, high_water;   /* bytes now, the most ever */
	uint64_t refused;               /* charges that did not fit */
};

struct iscsi_session;
struct iscsi_conn;

/* What the data path did, all sessions together: the profiler divides these by the
 * commands to show the work per command and the copies per payload byte. "rx" is what
 * the target received, "tx" what it sent; payload is data segment bytes. rx_copied counts
 * each copy of received payload (out of the transport's buffers straight into a command's
 * buffer or a PDU's own, and the transport's spill copies); tx_copied every byte the
 * transport copied to send (headers included), tx_lent the payload it sent by reference
 * instead. */
struct iscsi_data_counters {
	uint64_t commands;              /* SCSI commands admitted */
	uint64_t rx_pdus, rx_payload_bytes, rx_copied_bytes;
	uint64_t rx_discarded_bytes;    /* payload not stored: refused commands' data and the like */
	uint64_t tx_pdus, tx_payload_bytes, tx_copied_bytes;
	uint64_t tx_lent_bytes;         /* payload sent by reference: the transport borrowed it */
	uint64_t tx_sends;              /* calls of ops->sendv: one per PDU */
};

/* Why a login failed, for the counters and the events. */
enum iscsi_login_failure {
	ISCSI_LOGIN_FAIL_UNKNOWN_TARGET,    /* TargetName names no target we serve */
	ISCSI_LOGIN_FAIL_NOT_IN_ACL,        /* the initiator is not in the target's list */
	ISCSI_LOGIN_FAIL_AUTH,              /* CHAP failed (wrong name or answer, no MD5) */
	ISCSI_LOGIN_FAIL_NO_CHAP,           /* CHAP required, but no seeded random source */
	ISCSI_LOGIN_FAIL_TIMEOUT,           /* the login ran past its deadline */
	ISCSI_LOGIN_FAIL_PDU_CAP,           /* more than ISCSI_LOGIN_PDU_MAX login PDUs */
	ISCSI_LOGIN_FAIL_EVICTED,           /* gave its slot to a newcomer */
	ISCSI_LOGIN_FAIL_REFUSED,           /* no slot: every one held a session */
	ISCSI_LOGIN_FAIL_PROTOCOL,          /* a malformed or inconsistent login request */
	ISCSI_LOGIN_FAIL_RESOURCES,         /* out of memory or the like */
	ISCSI_LOGIN_FAIL_CLOSED,            /* the initiator closed or reset the connection */
	ISCSI_LOGIN_FAIL_REASONS
};
/* The reason's words ("unknown target", "not in ACL", "CHAP failed", ...); "?" out of
 * range. */
const char *iscsi_login_failure_name(unsigned reason);

/* One session as the status page shows it (iscsi_server_sessions). */
struct iscsi_session_info {
	char initiator[224];            /* InitiatorName */
	char isid[13];                  /* 12 hex digits */
	char target[224];               /* TargetName; "" for discovery */
	char address[48];               /* the initiator's, "10.0.2.2:51234"; "" unknown */
	const char *auth;               /* "none", "CHAP", "mutual CHAP" */
	unsigned connections;           /* 1: a session has one connection (MaxConnections=1) */
	unsigned cmds_in_flight;        /* commands admitted and not yet responding */
	uint64_t bytes_in, bytes_out;   /* data segment payload received, sent */
	uint64_t cmds;                  /* SCSI commands admitted */
	uint64_t login_ns;              /* the server clock's time of the login */
	bool discovery;
};

/* The state of all sessions of one portal. Everything mutable lives here or below: a test
 * resets it by creating a new one. */
struct iscsi_server {
	const struct iscsi_config *cfg;
	struct iscsi_session *sessions; /* logged-in sessions, for reinstatement and resets */
	struct iscsi_conn *conns;       /* every open connection, for ticks */
	uint16_t next_tsih;
	/* figures */
	unsigned conns_open, sessions_open;
	/* Resource bounds and their figures: bytes charged now and at most (budget), tasks
	 * running, commands dropped outside the CmdSN window, commands answered TASK SET
	 * FULL, TMFs refused for a full TMF or task cap. */
	struct iscsi_budget budget;
	unsigned tasks;
	uint64_t cmds_dropped, task_set_full, tmfs_refused;
	unsigned conns_evicted;         /* login-phase connections that gave their slot away */
	unsigned conns_refused;         /* newcomers refused: every slot held a session */
	unsigned logins_timed_out;      /* past the login deadline or the login PDU cap */
	struct iscsi_data_counters data;
	/* Sessions over time: logins that reached the full feature phase, logins that
	 * failed (in all and per reason), sessions ended without a Logout. */
	uint64_t logins, login_failures, session_drops;
	uint64_t login_failures_by_reason[ISCSI_LOGIN_FAIL_REASONS];
	/* Where login_ns comes from; NULL: 0. Set after iscsi_server_init(). */
	uint64_t (*clock_ns)(void);
};

void iscsi_server_init(struct iscsi_server *srv, const struct iscsi_config *cfg);

/* Fills out with up to max of the logged-in sessions (full feature phase), discovery
 * ones included; returns how many it filled. */
unsigned iscsi_server_sessions(const struct iscsi_server *srv, struct iscsi_session_info *out,
			       unsigned max);

/* The limits in force for cfg, its zeros replaced by the defaults (for the console). */
uint32_t iscsi_session_cmd_window(const struct iscsi_config *cfg);
uint64_t iscsi_session_buffer_limit(const struct iscsi_config *cfg);
unsigned iscsi_server_max_tasks(const struct iscsi_config *cfg);

/* A new transport connection from source (NULL: unknown, held to the global cap only).
 * May evict an older connection still logging in (see the slot limits above). Returns
 * NULL when refused or out of memory: the transport then drops the connection. */
struct iscsi_conn *iscsi_conn_open_from(struct iscsi_server *srv,
					const struct iscsi_transport_ops *ops, void *ctx,
					const struct iscsi_source *source);
/* The same from an unknown source. */
struct iscsi_conn *iscsi_conn_open(struct iscsi_server *srv, const struct iscsi_transport_ops *ops,
				   void *ctx);

/* Bytes received, in order, any chunking. From the loop; never blocks. Returns how many
 * bytes were consumed: fewer than len when the connection's input queue is full (offer
 * the rest again after ops->resume or the next loop turn). After the target decided to
 * close, input is discarded (returns len). */
size_t iscsi_conn_input(struct iscsi_conn *c, const void *buf, size_t len);

/* The transport is gone: no sendv or close afterwards (wait_returned still may be). The connection is freed once its
 * tasks are done, and ops->release is called then; the caller must not use c again. */
void iscsi_conn_closed(struct iscsi_conn *c);

/* Liveness: sends a NOP-In ping on idle full-feature connections, and closes the ones
 * that neither answered the previous ping nor sent anything since, and connections whose
 * login made no progress for a whole period or outlived the login deadline. From the
 * loop, every ISCSI_TICK_MS. A session that keeps sending is never closed. */
void iscsi_server_tick(struct iscsi_server *srv);

#endif
