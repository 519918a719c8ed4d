/*
 * The profile dump (profile.h): the sampler's window and the counters of the data path,
 * each counter as its increase over the window.
 *
 * The counters come from each layer's own accessor, read only here, in the loop: the
 * iSCSI target's data path (iscsi_lwip_stats), lwIP's TCP statistics, the virtio-blk
 * disks and the virtio-net device (requests, flushes, notifications), the platform
 * (wake-up interrupts, halts). A new counter is one add() line in read_counters(); the
 * window's differences and the text follow from the table.
 */
#include "profile.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi_lwip.h"
#include "lwip/stats.h"
#include "network.h"
#include "platform.h"
#include "text_service.h"
#include "virtio_blk.h"
#include "virtio_net.h"

#define COUNTERS_MAX	  40
#define COUNTER_LINE_MAX  80 /* "count NAME VALUE\n" */
#define HEADER_MAX	  512

struct counter_set {
	size_t n;
	const char *name[COUNTERS_MAX];
	uint64_t value[COUNTERS_MAX];
	uint64_t modulus_mask[COUNTERS_MAX]; /* a 32-bit counter's increase wraps at 2^32 */
};

static struct {
	struct counter_set previous; /* at the start of the current window */
} profile;

static void add_counter(struct counter_set *s, const char *name, uint64_t value, uint64_t mask)
{
	if (s->n == COUNTERS_MAX)
		return; /* a table grown past COUNTERS_MAX loses its tail, never memory */
	s->name[s->n] = name;
	s->value[s->n] = value;
	s->modulus_mask[s->n] = mask;
	s->n++;
}

static void add(struct counter_set *s, const char *name, uint64_t value)
{
	add_counter(s, name, value, UINT64_MAX);
}

static void add32(struct counter_set *s, const char *name, uint32_t value)
{
	add_counter(s, name, value, UINT32_MAX);
}

static void read_blk_counters(struct counter_set *s)
{
	struct virtio_blk_stats sum = { 0 };
	for (unsigned i = 0; i < virtio_blk_count(); i++) {
		struct virtio_blk_stats st;
		virtio_blk_get_stats(virtio_blk_disk(i), &st);
		sum.requests += st.requests;
		sum.flushes += st.flushes;
		sum.queue.kicks += st.queue.kicks;
		sum.queue.kicks_suppressed += st.queue.kicks_suppressed;
		sum.queue.interrupts += st.queue.interrupts;
		sum.errors += st.errors;
	}
	add(s, "blk.requests", sum.requests);
	add(s, "blk.flushes", sum.flushes);
	add(s, "blk.kicks", sum.queue.kicks);
	add(s, "blk.kicks_suppressed", sum.queue.kicks_suppressed);
	add(s, "blk.interrupts", sum.queue.interrupts);
	add(s, "blk.errors", sum.errors);
}

static void read_net_counters(struct counter_set *s)
{
	struct virtio_net_stats nc = { 0 };
	if (network_nic())
		virtio_net_get_stats(network_nic(), &nc);
	add(s, "net.rx_frames", nc.rx_packets);
	add(s, "net.tx_frames", nc.tx_packets);
	add(s, "net.tx_copied", nc.tx_copied);
	add(s, "net.rx_kicks", nc.rxq.kicks);
	add(s, "net.tx_kicks", nc.txq.kicks);
	add(s, "net.kicks_suppressed", nc.rxq.kicks_suppressed + nc.txq.kicks_suppressed);
	add(s, "net.interrupts", nc.rxq.interrupts + nc.txq.interrupts);
	add(s, "net.dropped", nc.rx_dropped + nc.tx_dropped);
	add32(s, "tcp.segments_in", lwip_stats.tcp.recv);
	add32(s, "tcp.segments_out", lwip_stats.tcp.xmit);
	add32(s, "tcp.dropped", lwip_stats.tcp.drop);
}

static void read_counters(struct counter_set *s)
{
	s->n = 0;
	struct iscsi_lwip_stats is;
	iscsi_lwip_stats(&is);
	add(s, "iscsi.commands", is.data.commands);
	add(s, "iscsi.rx_pdus", is.data.rx_pdus);
	add(s, "iscsi.tx_pdus", is.data.tx_pdus);
	add(s, "iscsi.rx_payload_bytes", is.data.rx_payload_bytes);
	add(s, "iscsi.tx_payload_bytes", is.data.tx_payload_bytes);
	add(s, "iscsi.rx_copied_bytes", is.data.rx_copied_bytes);
	add(s, "iscsi.rx_discarded_bytes", is.data.rx_discarded_bytes);
	add(s, "iscsi.tx_copied_bytes", is.data.tx_copied_bytes);
	add(s, "iscsi.tx_lent_bytes", is.data.tx_lent_bytes);
	add(s, "iscsi.tx_sends", is.data.tx_sends);
	read_net_counters(s);
	read_blk_counters(s);
	struct platform_counters pc;
	platform_get_counters(&pc);
	add(s, "cpu.interrupts", pc.interrupts);
	add(s, "cpu.halts", pc.halts);
}

static size_t append(char *buf, size_t cap, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static size_t append(char *buf, size_t cap, size_t len, const char *fmt, ...)
{
	if (len >= cap)
		return len;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + len, cap - len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return len;
	return (size_t)n < cap - len ? len + (size_t)n : cap - 1;
}

/* One window as text (text_service_produce_fn). */
static char *produce_dump(void *ctx, size_t *len)
{
	(void)ctx;
	struct profiler_window w;
	if (!profiler_take_window(&w))
		return NULL;
	struct counter_set now;
	read_counters(&now);
	size_t cap = HEADER_MAX + w.lines * PROFILER_LINE_MAX + COUNTERS_MAX * COUNTER_LINE_MAX;
	char *buf = malloc(cap);
	if (!buf)
		return NULL;
	size_t n = append(buf, cap, 0,
			  "# qedbox profile: the samples and counters of one window, from the "
			  "previous dump (or the start) to now\n"
			  "hz %u\nwindow_ms %" PRIu64 "\ntotal %" PRIu64 "\nidle %" PRIu64
			  "\noutside %" PRIu64 "\n",
			  w.hz, w.ns / 1000000, w.samples, w.idle, w.outside);
	n += profiler_format_window(buf + n, cap - n);
	for (size_t i = 0; i < now.n; i++) {
		uint64_t increase = (now.value[i] - profile.previous.value[i]) & now.modulus_mask[i];
		n = append(buf, cap, n, "count %s %" PRIu64 "\n", now.name[i], increase);
	}
	n = append(buf, cap, n, "end\n");
	profile.previous = now;
	*len = n;
	return buf;
}

void profile_start(unsigned hz, uint16_t port)
{
	int rc = profiler_start(hz);
	if (rc < 0) {
		printf("qedbox: profiler: cannot start (%s)\n", strerror(-rc));
		return;
	}
	read_counters(&profile.previous);
	rc = text_service_start(port, produce_dump, NULL);
	if (rc < 0)
		printf("qedbox: profiler: cannot serve on port %u (%s)\n", port, strerror(-rc));
	else
		printf("qedbox: profiler: served on TCP port %u\n", port);
}
