/*
 * A volume in front of another one that can be switched to a third without failing a
 * request: what a snapshot needs (docs/DESIGN.md, "Snapshots and clones"). Served in
 * place of the volume below; every operation passes through unchanged.
 *
 * volume_gate_close() stops admitting operations (new ones wait, they do not fail) and
 * waits until those in flight have returned; volume_gate_open() sets the volume below
 * (the same one or another of the same geometry) and lets the waiting ones through.
 */
#ifndef QEDBOX_VOLUME_GATE_H
#define QEDBOX_VOLUME_GATE_H

#include "task.h"
#include "volume.h"

struct volume_gate {
	struct volume vol;      /* what is served */
	struct volume *below;
	bool closed;
	bool write_through;     /* writes and unmaps are flushed before they complete */
	unsigned in_flight;     /* operations inside below's calls now */
	struct waitq admit;     /* operations waiting for the gate to open */
	struct waitq drained;   /* the closer, waiting for in_flight to reach 0 */
};

/* vol takes below's geometry and serial (or serial, when not NULL). */
void volume_gate_init(struct volume_gate *g, struct volume *below, const char *serial);
/* Every write (and unmap) is durable when it completes: the gate flushes the volume below
 * after it, and reports no volatile write cache (SCSI: WCE 0). */
void volume_gate_set_write_through(struct volume_gate *g, bool on);
/* Blocks the calling task until nothing is in flight. Only one closer at a time. */
void volume_gate_close(struct volume_gate *g);
/* below: same size and block size as before; read_only and write_cache may change. */
void volume_gate_open(struct volume_gate *g, struct volume *below);

#endif
