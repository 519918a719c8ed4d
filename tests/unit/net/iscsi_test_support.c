/* Test support for the iSCSI target; see iscsi_test_support.h. */
#include "iscsi_test_support.h"
#include "crc32c.h"
#include "event_log.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fx_append(struct fx_link *l, const void *buf, size_t len)
{
	if (l->out_len + len > l->out_cap) {
		l->out_cap = (l->out_len + len) * 2;
		l->out = realloc(l->out, l->out_cap);
		assert(l->out);
	}
	memcpy(l->out + l->out_len, buf, len);
	l->out_len += len;
}

/* Copies every piece: without wait_returned the target lends nothing. */
static int fx_sendv_fn(void *ctx, const struct iscsi_iov *iov, unsigned n, unsigned flags,
		       uint64_t *lent_mark)
{
	struct fx_link *l = ctx;
	assert(!flags && !lent_mark);
	while (l->hold) /* the target's task waits here, as in tcp_conn_sendv */
		waitq_sleep(&l->held);
	if (l->send_error)
		return l->send_error;
	for (unsigned i = 0; i < n; i++)
		fx_append(l, iov[i].base, iov[i].len);
	return 0;
}

static void fx_close_fn(void *ctx)
{
	struct fx_link *l = ctx;
	l->closed = true;
	if (!l->transport_gone) {
		l->transport_gone = true;
		iscsi_conn_closed(l->c);
	}
}

static void fx_resume_fn(void *ctx)
{
	struct fx_link *l = ctx;
	l->resumes++;
}

const struct iscsi_transport_ops fx_transport = {
	.sendv = fx_sendv_fn,
	.close = fx_close_fn,
	.resume = fx_resume_fn,
};

static struct iscsi_fixture *gate_owner; /* the fixture whose volume is gated */

static void wait_gate(void)
{
	while (gate_owner && gate_owner->gate_closed)
		waitq_sleep(&gate_owner->gate);
}

static int gated_read(struct volume *v, uint64_t off, void *buf, size_t len)
{
	wait_gate();
	return gate_owner->ram_ops->read(v, off, buf, len);
}

static int gated_write(struct volume *v, uint64_t off, const void *buf, size_t len)
{
	wait_gate();
	return gate_owner->ram_ops->write(v, off, buf, len);
}

void fx_run(void)
{
	while (task_run_ready() > 0)
		;
}

void fx_use(struct iscsi_fixture *f, struct fx_link *link)
{
	f->lk = link;
	f->c = link->c;
}

void fx_release(struct fx_link *link)
{
	link->hold = false;
	waitq_wake_all(&link->held);
	fx_run();
}

void fx_open_link_from(struct iscsi_fixture *f, struct fx_link *link, struct iscsi_conn **c,
		       const struct iscsi_source *source)
{
	memset(link, 0, sizeof(*link));
	*c = iscsi_conn_open_from(&f->srv, &fx_transport, link, source);
	assert(*c);
	link->c = *c;
	fx_run();
}

void fx_open_link(struct iscsi_fixture *f, struct fx_link *link, struct iscsi_conn **c)
{
	fx_open_link_from(f, link, c, NULL);
}

/* The target's events stay in the ring for the tests to read, off the test's output. */
static void fx_quiet_event(const char *line)
{
	(void)line;
}

void fx_init(struct iscsi_fixture *f)
{
	fx_setup(f);
	fx_start(f);
}

void fx_setup(struct iscsi_fixture *f)
{
	memset(f, 0, sizeof(*f));
	event_log_reset();
	event_log_set_sink(fx_quiet_event);
	fixture_init(&f->sf, FX_BLOCKS, FX_BLOCK_SIZE, true);
	fixture_init(&f->sf2, FX_BLOCKS, FX_BLOCK_SIZE, true);
	f->ram_ops = f->sf.rv.vol.ops;
	f->gated_ops = *f->ram_ops;
	f->gated_ops.read = gated_read;
	f->gated_ops.write = gated_write;
	f->sf.rv.vol.ops = &f->gated_ops;
	f->gate = (struct waitq)WAITQ_INIT;
	gate_owner = f;
	f->targets[0] = (struct iscsi_target_config){ .name = FX_TARGET, .alias = "disk0",
						      .lun = &f->sf.lun };
	f->targets[1] = (struct iscsi_target_config){ .name = FX_TARGET2, .lun = &f->sf2.lun };
	f->cfg = (struct iscsi_config){ .targets = f->targets, .n_targets = 2,
					.portal = "10.0.2.15:3260", .tpgt = 1 };
}

void fx_start(struct iscsi_fixture *f)
{
	iscsi_server_init(&f->srv, &f->cfg);
	iscsi_rx_init(&f->parser, 1u << 24);
	fx_open_link(f, &f->link, &f->c);
	f->lk = &f->link;
	f->cmdsn = 1;
}

void fx_fini(struct iscsi_fixture *f)
{
	f->gate_closed = false;
	waitq_wake_all(&f->gate);
	fx_run();
	for (struct iscsi_conn *c = f->srv.conns; c; c = c->next) {
		struct fx_link *l = c->ctx;
		l->hold = false;
		waitq_wake_all(&l->held);
	}
	fx_run();
	for (struct iscsi_conn *c = f->srv.conns, *next; c; c = next) {
		next = c->next;
		struct fx_link *l = c->ctx;
		if (!l->transport_gone) {
			l->transport_gone = true;
			iscsi_conn_closed(c);
		}
	}
	fx_run();
	if (f->srv.conns_open != 0 || task_count() != 0)
		fprintf(stderr, "fx_fini: %u connections and %u tasks left\n", f->srv.conns_open,
			task_count());
	assert(f->srv.conns_open == 0 && task_count() == 0);
	iscsi_rx_free(&f->parser);
	free(f->link.out);
	free(f->last.data);
	f->last.data = NULL;
	gate_owner = NULL;
	fixture_fini(&f->sf);
	fixture_fini(&f->sf2);
}

void fx_send_raw(struct iscsi_fixture *f, const void *bytes, size_t len)
{
	const uint8_t *p = bytes;
	size_t done = 0;
	unsigned stuck = 0;
	while (done < len && !f->lk->transport_gone) {
		size_t n = f->chunk && f->chunk < len - done ? f->chunk : len - done;
		size_t used = iscsi_conn_input(f->c, p + done, n);
		done += used;
		fx_run();
		stuck = used ? 0 : stuck + 1;
		assert(stuck < 100); /* input must progress once the worker ran */
	}
}

void fx_send(struct iscsi_fixture *f, uint8_t bhs[ISCSI_BHS_LEN], const void *data, uint32_t len)
{
	size_t padded = iscsi_pad4(len);
	uint8_t *buf = calloc(1, ISCSI_BHS_LEN + 8 + padded + 4);
	size_t n = 0;
	put_be24(bhs + ISCSI_BHS_DATA_SEGMENT_LENGTH, len);
	memcpy(buf, bhs, ISCSI_BHS_LEN);
	n = ISCSI_BHS_LEN;
	if (f->digests) {
		put_le32(buf + n, crc32c(0, bhs, ISCSI_BHS_LEN));
		n += 4;
	}
	if (len) {
		memcpy(buf + n, data, len);
		if (f->digests)
			put_le32(buf + n + padded, crc32c(0, buf + n, padded));
		n += padded + (f->digests ? 4 : 0);
	}
	fx_send_raw(f, buf, n);
	free(buf);
}

bool fx_next(struct iscsi_fixture *f, struct fx_pdu *p)
{
	struct fx_link *l = f->lk;
	struct iscsi_pdu *pdu = NULL;
	size_t used;

	f->parser.header_digest = f->parser.data_digest = f->digests && f->c->phase != ISCSI_PHASE_LOGIN;
	while (l->read_pos < l->out_len) {
		int rc = iscsi_rx_feed(&f->parser, l->out + l->read_pos, l->out_len - l->read_pos,
				       &used, &pdu);
		l->read_pos += used;
		assert(rc >= 0);
		if (rc == 1)
			break;
	}
	if (!pdu)
		return false;
	assert(pdu->reject_reason == 0); /* our own digests check out */
	free(f->last.data);
	memset(p, 0, sizeof(*p));
	memcpy(p->bhs, pdu->bhs, ISCSI_BHS_LEN);
	p->data = pdu->data;
	p->data_len = pdu->data_len;
	pdu->data = NULL;
	iscsi_pdu_free(pdu);
	p->opcode = p->bhs[0] & ISCSI_OPCODE_MASK;
	p->flags = p->bhs[1];
	p->itt = get_be32(p->bhs + ISCSI_BHS_INITIATOR_TASK_TAG);
	p->ttt = get_be32(p->bhs + ISCSI_BHS_TARGET_TRANSFER_TAG);
	p->statsn = get_be32(p->bhs + ISCSI_BHS_STATSN);
	p->expcmdsn = get_be32(p->bhs + ISCSI_BHS_EXPCMDSN);
	p->maxcmdsn = get_be32(p->bhs + ISCSI_BHS_MAXCMDSN);
	p->datasn = get_be32(p->bhs + ISCSI_BHS_DATASN);
	p->offset = get_be32(p->bhs + ISCSI_BHS_BUFFER_OFFSET);
	p->residual = get_be32(p->bhs + ISCSI_BHS_RESIDUAL_COUNT);
	p->desired = get_be32(p->bhs + ISCSI_BHS_DESIRED_DATA_TRANSFER_LENGTH);
	f->last = *p;
	f->expstatsn = p->statsn + 1;
	return true;
}

unsigned fx_pending(struct iscsi_fixture *f)
{
	struct fx_pdu p;
	size_t saved = f->lk->read_pos;
	struct fx_pdu last = f->last;
	uint8_t *keep = f->last.data;
	unsigned n = 0;
	f->last.data = NULL;
	while (fx_next(f, &p))
		n++;
	free(f->last.data);
	f->lk->read_pos = saved;
	f->last = last;
	f->last.data = keep;
	return n;
}

uint32_t fx_text(char *buf, size_t cap, const char *lines)
{
	size_t n = strlen(lines);
	assert(n + 1 <= cap);
	memcpy(buf, lines, n + 1);
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\n')
			buf[i] = 0;
	return (uint32_t)n + 1;
}

const char *fx_key(const struct fx_pdu *p, const char *key)
{
	size_t klen = strlen(key);
	for (uint32_t pos = 0; pos < p->data_len;) {
		const char *pair = (const char *)p->data + pos;
		if (!strncmp(pair, key, klen) && pair[klen] == '=')
			return pair + klen + 1;
		pos += (uint32_t)strnlen(pair, p->data_len - pos) + 1;
	}
	return NULL;
}

static const uint8_t fx_isid[6] = { 0x80, 0x12, 0x34, 0x56, 0, 1 };

void fx_login_req(struct iscsi_fixture *f, uint8_t flags, uint16_t tsih, const char *lines)
{
	char text[4096];
	uint8_t bhs[ISCSI_BHS_LEN] = { ISCSI_OP_LOGIN_REQ | ISCSI_IMMEDIATE, flags };
	memcpy(bhs + ISCSI_BHS_ISID, fx_isid, 6);
	put_be16(bhs + ISCSI_BHS_TSIH, tsih);
	put_be32(bhs + ISCSI_BHS_INITIATOR_TASK_TAG, 0x1000);
	put_be32(bhs + ISCSI_BHS_CMDSN, f->cmdsn);
	put_be32(bhs + ISCSI_BHS_EXPSTATSN, f->expstatsn);
	uint32_t len = lines ? fx_text(text, sizeof(text), lines) : 0;
	fx_send(f, bhs, text, len);
}

static int login_one_step(struct iscsi_fixture *f, const char *keys, const char *extra)
{
	char text[2048];
	struct fx_pdu r;
	snprintf(text, sizeof(text), "%s%s%s", keys, extra ? "\n" : "", extra ? extra : "");
	fx_login_req(f, ISCSI_FLAG_LOGIN_TRANSIT | (1 << ISCSI_FLAG_LOGIN_CSG_SHIFT) | 3, 0, text);
	if (!fx_next(f, &r))
		return -1;
	return r.bhs[ISCSI_BHS_STATUS_CLASS] << 8 | r.bhs[ISCSI_BHS_STATUS_DETAIL];
}

int fx_login(struct iscsi_fixture *f, const char *extra)
{
	return login_one_step(f, "InitiatorName=" FX_INITIATOR "\nTargetName=" FX_TARGET
				 "\nSessionType=Normal", extra);
}

int fx_login_discovery(struct iscsi_fixture *f, const char *extra)
{
	return login_one_step(f, "InitiatorName=" FX_INITIATOR "\nSessionType=Discovery", extra);
}

void fx_logout(struct iscsi_fixture *f)
{
	uint8_t bhs[ISCSI_BHS_LEN] = { ISCSI_OP_LOGOUT_REQ | ISCSI_IMMEDIATE,
				       ISCSI_FLAG_FINAL | ISCSI_LOGOUT_CLOSE_SESSION };
	put_be32(bhs + ISCSI_BHS_INITIATOR_TASK_TAG, 0xb0);
	put_be32(bhs + ISCSI_BHS_CMDSN, f->cmdsn);
	fx_send(f, bhs, NULL, 0);
}

bool fx_last_event_is(enum event_kind kind, const char *text)
{
	struct event_record ev;
	if (event_log_recent(&ev, 1) != 1) {
		fprintf(stderr, "expected event %s \"%s\", got none\n", event_kind_name(kind), text);
		return false;
	}
	if (ev.kind != kind || strcmp(ev.text, text) != 0) {
		fprintf(stderr, "expected event %s \"%s\", got %s \"%s\"\n", event_kind_name(kind),
			text, event_kind_name(ev.kind), ev.text);
		return false;
	}
	return true;
}

void fx_scsi_cmd(struct iscsi_fixture *f, uint8_t flags, uint32_t itt, uint32_t edtl,
		 const uint8_t *cdb, const void *data, uint32_t len)
{
	uint8_t bhs[ISCSI_BHS_LEN] = { ISCSI_OP_SCSI_CMD, flags };
	put_be32(bhs + ISCSI_BHS_INITIATOR_TASK_TAG, itt);
	put_be32(bhs + ISCSI_BHS_EXPECTED_DATA_TRANSFER_LENGTH, edtl);
	put_be32(bhs + ISCSI_BHS_CMDSN, f->cmdsn++);
	put_be32(bhs + ISCSI_BHS_EXPSTATSN, f->expstatsn);
	memcpy(bhs + ISCSI_BHS_CDB, cdb, 16);
	fx_send(f, bhs, data, len);
}

void fx_data_out(struct iscsi_fixture *f, uint32_t itt, uint32_t ttt, uint32_t datasn,
		 uint32_t offset, bool final, const void *data, uint32_t len)
{
	uint8_t bhs[ISCSI_BHS_LEN] = { ISCSI_OP_SCSI_DATA_OUT, final ? ISCSI_FLAG_FINAL : 0 };
	put_be32(bhs + ISCSI_BHS_INITIATOR_TASK_TAG, itt);
	put_be32(bhs + ISCSI_BHS_TARGET_TRANSFER_TAG, ttt);
	put_be32(bhs + ISCSI_BHS_EXPSTATSN, f->expstatsn);
	put_be32(bhs + ISCSI_BHS_DATASN, datasn);
	put_be32(bhs + ISCSI_BHS_BUFFER_OFFSET, offset);
	fx_send(f, bhs, data, len);
}

void fx_read10_cdb(uint8_t *cdb, uint32_t lba, uint16_t blocks)
{
	memset(cdb, 0, 16);
	cdb10(cdb, 0x28, 0, lba, blocks);
}

void fx_write10_cdb(uint8_t *cdb, uint32_t lba, uint16_t blocks)
{
	memset(cdb, 0, 16);
	cdb10(cdb, 0x2a, 0, lba, blocks);
}

void fx_nop_out(struct iscsi_fixture *f, uint32_t itt, uint32_t ttt, const void *data, uint32_t len)
{
	uint8_t bhs[ISCSI_BHS_LEN] = { ISCSI_OP_NOP_OUT | ISCSI_IMMEDIATE, ISCSI_FLAG_FINAL };
	put_be32(bhs + ISCSI_BHS_INITIATOR_TASK_TAG, itt);
	put_be32(bhs + ISCSI_BHS_TARGET_TRANSFER_TAG, ttt);
	put_be32(bhs + ISCSI_BHS_CMDSN, f->cmdsn);
	put_be32(bhs + ISCSI_BHS_EXPSTATSN, f->expstatsn);
	fx_send(f, bhs, data, len);
}

void fx_ready(struct iscsi_fixture *f, const char *extra)
{
	int status = fx_login(f, extra);
	assert(status == 0);
	(void)status;
	f->c->sess.nexus.unit_attention_reset = false;
}
