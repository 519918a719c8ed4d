/*
 * libFuzzer target: the iSCSI target's receive path, login and full feature phase
 * (net/iscsi_*.c), bytes fed to iscsi_conn_input() on the fake transport of
 * tests/unit/net/iscsi_test_support.c. Two targets: the first open to anyone, the second
 * (and discovery sessions, with setup bit 3) behind CHAP with a fixed, known random
 * source, so that a recorded login with the right CHAP_R gets through.
 *
 * Input: [setup][chunk] then the bytes the initiator sends. setup: bit 0 the harness logs
 * in first (a normal session to the first target, default keys: the input starts in the
 * full feature phase, its first command takes CmdSN 1), bit 1 a liveness tick after every
 * chunk, bit 2 small limits (segments, bursts, window, buffers), bit 3 CHAP for
 * discovery, bit 4 volume I/O held until the end (commands stay in flight). chunk: the
 * bytes offered per call (0: all at once).
 *
 * Invariants: no crash or leak; input always progresses once the tasks ran (the
 * connection never stops reading while it is open); after the transport goes, no
 * connection or task is left (fx_fini asserts it).
 */
#include "event_log.h"
#include "fuzz.h"
#include "iscsi_test_support.h"

#include <string.h>

#define CHAP_USER FX_INITIATOR
#define CHAP_SECRET "chapsecret1234"
#define MUTUAL_USER "iqn.2026-11.org.qedbox:disk1"
#define MUTUAL_SECRET "mutualsecret99"

static struct iscsi_fixture f;
static uint8_t random_next;

/* Known "random" bytes 0x41, 0x42, ... from each input's start: CHAP_I is 0x41 and
 * CHAP_C 0x42..0x51 in the first challenge. Tests only: never a real random source. */
static void known_random(void *ctx, void *buf, size_t len)
{
	(void)ctx;
	uint8_t *p = buf;
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(0x41 + random_next++);
}

/* FUZZ_TRACE=1 prints the target's answers (without digests only): to check seeds. */
static void trace(void)
{
	struct fx_pdu r;
	while (fx_next(&f, &r))
		fprintf(stderr, "target: op 0x%02x flags 0x%02x itt 0x%x ttt 0x%x status %u/%u/%u "
			"statsn %u expcmdsn %u maxcmdsn %u len %u %.*s\n", r.opcode, r.flags, r.itt,
			r.ttt, r.bhs[2], r.bhs[3], r.bhs[ISCSI_BHS_STATUS_CLASS] << 8 |
			r.bhs[ISCSI_BHS_STATUS_DETAIL], r.statsn, r.expcmdsn, r.maxcmdsn, r.data_len,
			r.opcode == ISCSI_OP_LOGIN_RSP || r.opcode == ISCSI_OP_TEXT_RSP ?
			(int)r.data_len : 0, (const char *)r.data);
}

static void run_tasks(uint8_t setup)
{
	static int tracing = -1;
	if (tracing < 0)
		tracing = getenv("FUZZ_TRACE") != NULL;
	fx_run();
	if (setup & 2) {
		iscsi_server_tick(&f.srv);
		fx_run();
	}
	if (tracing)
		trace();
	f.link.out_len = f.link.read_pos = 0; /* what the target sent is not kept */
}

/* Events are formatted (their code runs) but not printed: the console of a fuzzer is
 * its own report. */
static void drop_event(const char *line)
{
	(void)line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t setup = fuzz_u8(&in);
	size_t chunk = fuzz_u8(&in);
	static const struct iscsi_auth chap = {
		.chap = { CHAP_USER, CHAP_SECRET }, .mutual = { MUTUAL_USER, MUTUAL_SECRET },
	};

	event_log_reset();
	event_log_set_sink(drop_event);
	random_next = 0;
	fx_setup(&f);
	f.cfg.random = known_random;
	f.targets[1].auth = chap;
	if (setup & 8)
		f.cfg.discovery = chap;
	if (setup & 4) {
		f.cfg.max_recv_data_segment_length = 512;
		f.cfg.max_burst_length = 4096;
		f.cfg.first_burst_length = 1024;
		f.cfg.max_outstanding_r2t = 2;
		f.cfg.cmd_window = 2;
		f.cfg.session_buffer_bytes = 8192;
		f.cfg.global_buffer_bytes = 16384;
		f.cfg.max_tasks = 3;
	}
	fx_start(&f);
	if (setup & 1)
		fx_ready(&f, NULL);
	f.link.out_len = f.link.read_pos = 0;
	f.gate_closed = setup & 0x10;

	const uint8_t *p = in.p;
	size_t left = in.left;
	unsigned stuck = 0;
	while (left && !f.link.transport_gone) {
		size_t n = chunk && chunk < left ? chunk : left;
		size_t used = iscsi_conn_input(f.c, p, n);
		FUZZ_ASSERT(used <= n);
		p += used;
		left -= used;
		run_tasks(setup);
		stuck = used ? 0 : stuck + 1;
		/* a full input queue drains once the worker ran, unless I/O is held */
		FUZZ_ASSERT(stuck < 100 || f.gate_closed);
		if (stuck >= 100)
			break;
	}
	run_tasks(setup);
	fx_fini(&f); /* opens the gate, closes the transport, asserts nothing is left */
	return 0;
}
