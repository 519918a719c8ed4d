#!/usr/bin/env python3
"""A workload that lives through a takeover, and its verifier (stdlib only).

test_ceph_takeover.sh kills the serving appliance in the middle of this workload and
lets a standby take its disks over on the same portal. The workload is an initiator that
carries on: when its connection drops it logs in again (as libiscsi and open-iscsi do)
and goes on writing.

  run HOST PORT TARGET JOURNAL AFTER
      writes sector-tagged data (powercut.py's tags: write id and sector in every
      sector) at random places of REGION, one command at a time, with SYNCHRONIZE CACHE
      every few writes; every step goes to JOURNAL (flushed line by line) before it is
      sent and once it is acknowledged. When the connection drops, it logs in again
      (every 0.2 s, for at most 180 s) and retries the write that was in flight until it
      succeeds; then AFTER more writes and a final SYNCHRONIZE CACHE. Prints
      "# drop-to-write S" (the connection's drop to the first write the new owner
      acknowledged) and "first-write-at T" (the wall clock of that write).
  verify JOURNAL RAW
      RAW is the volume read after the takeover (REGION from its start): per sector, a
      write acknowledged before a SYNCHRONIZE CACHE completed in the same session (one
      appliance) reads back, or a later write of that sector; any other sector holds
      its old zeros or the data of a write of that sector that was sent. Never another
      sector's data, never anything else.
"""
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client  # noqa: E402
from powercut import SECTOR, classify, tagged_sector  # noqa: E402

REGION = 8 << 20          # bytes written at the start of the volume
SYNC_EVERY = 4            # writes between SYNCHRONIZE CACHE (the last one of a group)
SYNC_CACHE_10 = b"\x35" + b"\0" * 9
UNIT_ATTENTION = 0x6
INITIATOR = "iqn.2026-11.org.qedbox.test:takeover"


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


class Journal:
    def __init__(self, path):
        self.f = open(path, "a")

    def log(self, *fields):
        self.f.write(" ".join(str(x) for x in fields) + "\n")
        self.f.flush()


def login(host, port, target, retry_for):
    deadline = time.monotonic() + retry_for
    while True:
        s = iscsi_client.Session(host, port, INITIATOR, target=target, timeout=60.0,
                                 connect_retry=1.0)
        try:
            s.login()
            return s
        except (iscsi_client.ISCSIError, OSError):
            s.close()
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)


def cmd_run(host, port, target, journal_path, after):
    port, after = int(port), int(after)
    rnd = random.Random(20261203)
    j = Journal(journal_path)
    s = login(host, port, target, 30)
    epoch, wid, done_after, dropped = 0, 0, None, None
    pending = None  # (kind, args) in flight when the connection dropped
    while done_after is None or done_after < after:
        if pending is None:
            wid += 1
            count = rnd.choice([1, 8, 16, 64, 128])
            lba = rnd.randrange(REGION // SECTOR - count)
            pending = ("w", wid, lba, count)
            j.log("W", wid, lba, count, epoch)
        try:
            if pending[0] == "w":
                _, i, lba, count = pending
                s.write16(lba, b"".join(tagged_sector(i, x) for x in range(lba, lba + count)))
                j.log("A", i, epoch)
                if dropped is not None and done_after is None:
                    print("# drop-to-write %.1f" % (time.time() - dropped))
                    print("first-write-at %.3f" % time.time())
                    done_after = 0
                if done_after is not None:
                    done_after += 1
                pending = ("s",) if i % SYNC_EVERY == 0 else None
            else:
                s.command(SYNC_CACHE_10, timeout=60)
                j.log("S", epoch)
                pending = None
        except (iscsi_client.ConnectionDropped, OSError):
            if dropped is not None:
                fail("the connection dropped twice")
            dropped = time.time()
            s.close()
            epoch += 1
            j.log("D", epoch)
            s = login(host, port, target, 180)
            if pending[0] == "w":  # sent again: a write of the same id and data
                j.log("W", pending[1], pending[2], pending[3], epoch)
        except iscsi_client.ScsiStatusError as e:
            if e.status == iscsi_client.STAT_CHECK_CONDITION and len(e.sense) > 2 and \
                    e.sense[2] & 0xF == UNIT_ATTENTION:
                continue  # a new session's first command (power on, reset): sent again
            fail("write %s: SCSI status %#x, sense %s" % (pending, e.status, e.sense[:18].hex()))
    s.command(SYNC_CACHE_10, timeout=60)
    j.log("S", epoch)
    s.logout()
    if dropped is None:
        fail("the connection never dropped (was the appliance killed?)")
    print("# takeover workload: %d writes, a SYNCHRONIZE CACHE every %d" % (wid, SYNC_EVERY))


def load(journal_path):
    """Writes in issue order as dicts (id, lba, count, epoch of each send, durable)."""
    writes, order, acked = {}, [], {}
    with open(journal_path) as f:
        for line in f:
            p = line.split()
            if p[0] == "W":
                i = int(p[1])
                if i not in writes:
                    writes[i] = {"id": i, "lba": int(p[2]), "count": int(p[3]), "durable": False}
                    order.append(i)
            elif p[0] == "A":
                acked[int(p[1])] = int(p[2])
            elif p[0] == "S":
                epoch = int(p[1])
                for i, e in list(acked.items()):
                    if e == epoch:  # acknowledged, then a completed sync by the same owner
                        writes[i]["durable"] = True
                        del acked[i]
            elif p[0] == "D":
                acked.clear()  # acknowledged by the dead owner, never synced: may be lost
    return [writes[i] for i in order]


def cmd_verify(journal_path, raw_path):
    writes = load(journal_path)
    with open(raw_path, "rb") as f:
        raw = f.read(REGION)
    if len(raw) != REGION:
        fail("read %d bytes, expected %d" % (len(raw), REGION))
    cover = {}
    for w in writes:
        for lba in range(w["lba"], w["lba"] + w["count"]):
            cover.setdefault(lba, []).append(w)
    errors, exact = [], 0
    for lba in range(REGION // SECTOR):
        ws = cover.get(lba, [])
        durable = [k for k, w in enumerate(ws) if w["durable"]]
        allowed = [w["id"] for w in ws[durable[-1]:]] if durable else [0] + [w["id"] for w in ws]
        exact += bool(durable)
        kind = classify(raw[lba * SECTOR:(lba + 1) * SECTOR])
        found = 0 if kind[0] == "zero" else kind[1] if kind[0] == "tag" and kind[2] == lba else None
        if found not in allowed:
            errors.append("sector %d holds %s, expected %s" % (
                lba, kind, " or ".join("write %d" % a if a else "zeros" for a in allowed)))
    for e in errors[:5]:
        print("FAIL: " + e)
    print("# takeover verify: %d writes, %d sectors had to read back exactly; %d wrong"
          % (len(writes), exact, len(errors)))
    return 1 if errors or not exact else 0


def main(argv):
    if len(argv) == 7 and argv[1] == "run":
        return cmd_run(*argv[2:]) or 0
    if len(argv) == 4 and argv[1] == "verify":
        return cmd_verify(*argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
