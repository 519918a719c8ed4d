#!/usr/bin/env python3
"""Power cuts of the whole appliance, rebuilt from QEMU's write log (stdlib only).

test_powercut.sh boots qedbox on a QED disk behind QEMU's `blklogwrites` driver, which
records every write and flush the firmware's virtio-blk driver sends, in the
dm-log-writes format (QEMU block/blklogwrites.c):

  log sector 0    super: le64 magic 0x6a736677736872, le64 version 1, le64 nr_entries
                  (rewritten only at each flush, so entries after the last flush are
                  found by walking), le32 sector size
  then entries    one log sector: le64 sector, le64 nr_sectors, le64 flags
                  (1 FLUSH, 2 FUA, 4 DISCARD, 8 MARK), le64 data_len (0); followed by
                  nr_sectors data sectors (none for a discard)

A disk write's entry is reserved when the write completes, a flush's after the flush
completes, so every write the firmware saw complete before it sent a flush sits before
that flush in the log.

Commands:
  workload DIR URL SEED     drive the volume at URL with qemu-io: synchronous writes of
                            sector-tagged data (some FUA), batches of aio writes of byte
                            patterns, SYNCHRONIZE CACHE at chosen points; DIR/ops.json
                            records them in issue order
  analyze DIR INIT LOG QEDTOOL SEED STATES BOOTS
                            rebuild STATES power-cut disks from INIT and LOG (cuts at
                            flushes and between, spread over the whole log, the
                            unflushed writes kept, lost or torn per sector), check each
                            with qemu-img check, open it with qedtool (the firmware's
                            QED core: its check repairs), verify what it reads; keep
                            BOOTS of them unrepaired as DIR/boot/N.img, listed in
                            DIR/boot/list ("N CUT IMAGE CORRUPTIONS-THE-HOST-REPAIRED"),
                            for booted recoveries; DIR/figures gets the run's figures
                            ("name value" lines) for test_powercut.sh to assert
  verify DIR LOG CUT RAW [after]
                            verify a raw read of the volume (after a booted recovery)
                            against what a cut before log entry CUT allows; with
                            "after", AFTER's range must hold AFTER's byte; prints
                            "exact N", the sectors that had to read back exactly

Verification, per guest sector: a write acknowledged before a SYNCHRONIZE CACHE (or a
FUA write) that provably completed before the cut reads back exactly, or a later write
of that sector does; any other sector holds its old content (zeros) or the data of a
write of that very sector whose data had reached the log before the cut. Stale disk
content (the disk is pre-filled with a STALE pattern past the image) or another
sector's data fails. "Provably completed": data of a write issued after it is in the
log before the cut.
"""
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import time

SECTOR = 512
LOG_MAGIC = 0x6a736677736872
FLUSH, FUA, DISCARD, MARK = 1, 2, 4, 8
TAG = b"PCUT"          # sector-tagged data: TAG, le32 write id, le64 guest sector
STALE = b"STALE-DISK-DATA!"  # what the disk held before (must never be read back)
VOLUME = 32 << 20      # guest bytes of the test volume
AFTER = (30 << 20, 31 << 20, 0xEE)  # the write after a booted recovery: range, byte


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


# ---- the log --------------------------------------------------------------------------
def parse_log(path):
    """Entries as dicts: flags, sector, count, data (bytes, writes only)."""
    with open(path, "rb") as f:
        log = f.read()
    if len(log) < SECTOR:
        fail("%s: no log super block" % path)
    magic, version, nr_flushed, ssize = struct.unpack_from("<QQQI", log, 0)
    if not magic and not version and not ssize:
        ssize = SECTOR  # the super block is written at the first flush: none came
    elif magic != LOG_MAGIC or version != 1 or ssize != SECTOR:
        fail("%s: bad super block (magic %#x version %d sector %d)" % (path, magic, version, ssize))
    entries, off = [], ssize
    while off + ssize <= len(log):
        sector, count, flags, _ = struct.unpack_from("<QQQQ", log, off)
        if flags & ~(FLUSH | FUA | DISCARD | MARK) or (not flags and not count):
            break  # end of the log, or a slot reserved and never written (in flight)
        end = off + ssize + (0 if flags & DISCARD else count * ssize)
        if end > len(log):
            break
        entries.append({"flags": flags, "sector": sector, "count": count,
                        "data": log[off + ssize:end] if not flags & (DISCARD | FLUSH) else b""})
        off = end
    if len(entries) < nr_flushed:
        fail("%s: %d entries, the super block says %d" % (path, len(entries), nr_flushed))
    return entries


def is_write(e):
    return not e["flags"] & (FLUSH | DISCARD | MARK) and e["count"] > 0


# ---- guest data -----------------------------------------------------------------------
def tagged_sector(wid, lba):
    return (TAG + struct.pack("<IQ", wid, lba)) * (SECTOR // 16)


def classify(sector):
    """('zero',), ('tag', id, lba), ('byte', b) or ('garbage',)."""
    if sector.count(0) == SECTOR:
        return ("zero",)
    if sector[:4] == TAG:
        wid, lba = struct.unpack_from("<IQ", sector, 4)
        if sector == tagged_sector(wid, lba):
            return ("tag", wid, lba)
    if sector.count(sector[0]) == SECTOR:
        return ("byte", sector[0])
    return ("garbage",)


# ---- workload -------------------------------------------------------------------------
def plan_workload(seed):
    """Ops in issue order: write (sync, tagged, maybe FUA), aio (batch of byte-pattern
    writes, drained), flush. Offsets: new L2 tables, new clusters under existing
    tables, in-place rewrites; unaligned heads and tails."""
    rnd = random.Random(seed)
    ops, written, next_id, next_byte = [], [], 1, 1

    def extent():
        if written and rnd.random() < 0.4:  # in place (or overlapping) rewrite
            lba, n = rnd.choice(written)
            lba += rnd.randrange(n)
        else:
            lba = rnd.randrange(AFTER[0] // SECTOR - 64)  # AFTER stays for later
            if rnd.random() < 0.5:
                lba -= lba % 8  # cluster aligned
        n = rnd.choice([1, 3, 8, 8, 16, 24, 40])
        n = min(n, VOLUME // SECTOR - lba)
        written.append((lba, n))
        return lba, n

    for _ in range(30):
        if rnd.random() < 0.6 or next_byte > 240:
            for _ in range(rnd.randint(1, 3)):
                lba, n = extent()
                ops.append({"op": "write", "id": next_id, "lba": lba, "count": n,
                            "fua": rnd.random() < 0.25})
                next_id += 1
        else:
            # The second flush clears need-check (nothing allocated since the first):
            # the batch's allocating writes then race to set it again.
            ops += [{"op": "flush"}, {"op": "flush"}]
            batch, used = [], set()
            for _ in range(rnd.randint(3, 6)):
                lba, n = extent()
                span = set(range(lba, lba + n))
                if span & used:  # writes in flight together never overlap
                    continue
                used |= span
                batch.append({"id": next_id, "lba": lba, "count": n, "byte": next_byte})
                next_id += 1
                next_byte += 1
            ops.append({"op": "aio", "writes": batch})
        if rnd.random() < 0.6:
            ops.append({"op": "flush"})
    # The last flush is proven complete by the write after it; that one stays unflushed.
    ops.append({"op": "flush"})
    lba, n = extent()
    ops.append({"op": "write", "id": next_id, "lba": lba, "count": n, "fua": False})
    return ops


def qemu_io_commands(ops, d):
    cmds = []
    for op in ops:
        if op["op"] == "write":
            path = os.path.join(d, "w%d.bin" % op["id"])
            with open(path, "wb") as f:
                for lba in range(op["lba"], op["lba"] + op["count"]):
                    f.write(tagged_sector(op["id"], lba))
            cmds.append("write %s-s %s %d %d" % ("-f " if op["fua"] else "", path,
                                                 op["lba"] * SECTOR, op["count"] * SECTOR))
        elif op["op"] == "aio":
            for w in op["writes"]:
                cmds.append("aio_write -P %d %d %d" % (w["byte"], w["lba"] * SECTOR,
                                                      w["count"] * SECTOR))
            cmds.append("aio_flush")
        else:
            cmds.append("flush")
    return cmds


def cmd_workload(d, url, seed):
    ops = plan_workload(int(seed))
    cmds = qemu_io_commands(ops, d)
    args = ["qemu-io", "-f", "raw"]
    for c in cmds:
        args += ["-c", c]
    r = subprocess.run(args + [url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=300)
    out = r.stdout.decode(errors="replace")
    writes = sum(1 for c in cmds if "write" in c)
    if r.returncode or "failed" in out or out.count("wrote ") != writes:
        fail("qemu-io (status %d, %d writes): %s" % (r.returncode, writes, out[-2000:]))
    with open(os.path.join(d, "ops.json"), "w") as f:
        json.dump(ops, f)
    nflush = sum(1 for o in ops if o["op"] == "flush")
    fua = sum(1 for o in ops if o["op"] == "write" and o["fua"])
    print("# workload: %d writes (%d FUA, %d aio), %d SYNCHRONIZE CACHE"
          % (writes, fua, sum(1 for c in cmds if c.startswith("aio_write")), nflush))


# ---- what a cut may leave -------------------------------------------------------------
class Model:
    """The guest's writes, where their data first reached the log, and from which log
    entry on each is durable."""

    def __init__(self, ops, entries):
        self.entries = entries
        self.writes, by_byte, seqs = {}, {}, []
        for seq, op in enumerate(ops):
            group = [op] if op["op"] == "write" else op.get("writes", [])
            for w in group:
                self.writes[w["id"]] = dict(w, seq=seq)
                if "byte" in w:
                    by_byte[w["byte"]] = w["id"]
            seqs.append(op)
        self.by_byte = by_byte
        inf = len(entries) + 1
        self.first, self.first_sector = {}, {}
        for idx, e in enumerate(entries):
            if not is_write(e):
                continue
            for i in range(e["count"]):
                kind = classify(e["data"][i * SECTOR:(i + 1) * SECTOR])
                wid = kind[1] if kind[0] == "tag" else by_byte.get(kind[1]) if kind[0] == "byte" else None
                if wid not in self.writes:
                    continue
                self.first.setdefault(wid, idx)
                if kind[0] == "tag":
                    self.first_sector.setdefault((wid, kind[2]), idx)
        # proof[s]: first log entry holding data of a write issued after op s completed.
        proof, best = [inf] * (len(ops) + 1), inf
        for seq in range(len(ops) - 1, -1, -1):
            proof[seq] = best
            for w in ([ops[seq]] if ops[seq]["op"] == "write" else ops[seq].get("writes", [])):
                best = min(best, self.first.get(w["id"], inf))
        flush_seqs = [s for s, op in enumerate(ops) if op["op"] == "flush"]
        for w in self.writes.values():
            later = [proof[s] for s in flush_seqs if s > w["seq"]]
            w["durable"] = min(later[:1] + ([proof[w["seq"]]] if w.get("fua") else []) + [inf])
        self.cover = {}
        for w in sorted(self.writes.values(), key=lambda w: w["seq"]):
            for lba in range(w["lba"], w["lba"] + w["count"]):
                self.cover.setdefault(lba, []).append(w["id"])
        self.untouched = []
        start = None
        for lba in range(VOLUME // SECTOR + 1):
            free = lba < VOLUME // SECTOR and lba not in self.cover
            if free and start is None:
                start = lba
            elif not free and start is not None:
                self.untouched.append((start, lba))
                start = None

    def reached(self, wid, lba, cut):
        w = self.writes[wid]
        first = self.first_sector.get((wid, lba)) if "byte" not in w else self.first.get(wid)
        return first is not None and first < cut

    def allowed(self, lba, cut):
        ids = self.cover[lba]
        durable = [i for i, wid in enumerate(ids) if self.writes[wid]["durable"] < cut]
        cands = ids[durable[-1]:] if durable else [0] + ids
        return [wid for wid in cands if wid == 0 or self.reached(wid, lba, cut)], bool(durable)

    def whose(self, kind, lba):
        """The write id whose data a sector of guest sector lba holds; 0: its old zeros."""
        if kind[0] == "zero":
            return 0
        if kind[0] == "byte":
            return self.by_byte.get(kind[1])
        if kind[0] == "tag" and kind[2] == lba:
            return kind[1]
        return None

    def verify(self, raw, cut, what, after=False):
        """Error strings (at most a few) for a raw read of the volume, and the number of
        sectors that had to read back exactly."""
        errors, exact = [], 0
        if after and len(raw) == VOLUME:
            a, b, byte = AFTER
            if raw[a:b] != bytes([byte]) * (b - a):
                errors.append("%s: the write after the recovery does not read back" % what)
            raw = raw[:a] + bytes(b - a) + raw[b:]
        if len(raw) != VOLUME:
            return ["%s: read %d bytes, expected %d" % (what, len(raw), VOLUME)], 0
        for lba in sorted(self.cover):
            sector = raw[lba * SECTOR:(lba + 1) * SECTOR]
            kind = classify(sector)
            found = self.whose(kind, lba)
            allowed, durable = self.allowed(lba, cut)
            exact += durable
            if found not in allowed:
                errors.append("%s: sector %d holds %s, expected %s" % (
                    what, lba, describe(sector, kind), " or ".join(
                        "write %d" % w if w else "its old zeros" for w in allowed) or "nothing"))
        for a, b in self.untouched:
            if raw.count(b"\0", a * SECTOR, b * SECTOR) != (b - a) * SECTOR:
                lba = next(x for x in range(a, b)
                           if raw.count(b"\0", x * SECTOR, (x + 1) * SECTOR) != SECTOR)
                sector = raw[lba * SECTOR:(lba + 1) * SECTOR]
                errors.append("%s: never written sector %d holds %s" % (what, lba, describe(sector, classify(sector))))
        return errors[:5] + (["... %d more" % (len(errors) - 5)] if len(errors) > 5 else []), exact


def describe(sector, kind):
    if kind[0] == "tag":
        return "write %d's data for sector %d" % (kind[1], kind[2])
    if kind[0] == "byte":
        return "byte pattern %#x" % kind[1]
    if kind[0] == "zero":
        return "zeros"
    return "stale disk content" if STALE in sector else "garbage %r" % sector[:16]


def tail_of(model, cut):
    """The last flush before the cut (-1: none) and the write entries after it."""
    last = max([i for i in range(cut) if model.entries[i]["flags"] & FLUSH], default=-1)
    return last, [i for i in range(last + 1, cut) if is_write(model.entries[i])]


def spread(items, k, rnd):
    """k of the items, evenly spaced over them in sorted order (a random phase): a budget
    smaller than the list still reaches its end."""
    items = sorted(items)
    if k >= len(items):
        return items
    step = len(items) / k
    phase = rnd.random() * step
    return [items[int(phase + i * step)] for i in range(k)]


def plan_states(model, seed, count):
    """(cut, policy) pairs, count of them, sorted. Two thirds at cuts just before a flush
    whose unflushed tail holds several writes, spread over the whole log: at half of
    them the first of those writes lost and the later ones kept (the order a missing
    flush between them would betray: an L2 table under its L1 entry, a need-check
    header under an L2 entry), at a quarter random subsets with tearing, at a quarter
    another single write lost. Then random cuts anywhere with random subsets; plus the
    end of the log with all unflushed writes lost and all kept."""
    rnd = random.Random(seed)
    n = len(model.entries)
    flushes = [i for i, e in enumerate(model.entries) if e["flags"] & FLUSH]
    tails = {f: len(tail_of(model, f)[1]) for f in flushes}
    rich = [f for f in flushes if tails[f] >= 2]
    budget = max(count * 2 // 3 - 2, 0)
    states = [(n, "none"), (n, "all")]
    states += [(f, "drop0") for f in spread(rich, budget // 2, rnd)]
    states += [(f, "rnd%d" % rnd.randrange(1 << 30)) for f in spread(rich, budget // 4, rnd)]
    states += [(f, "drop%d" % rnd.randrange(1, tails[f]))
               for f in spread(rich, budget - budget // 2 - budget // 4, rnd)]
    states = list(dict.fromkeys(states))[:count]
    chosen = set(states)
    while len(states) < count:
        s = (rnd.randrange(1, n + 1), "rnd%d" % rnd.randrange(1 << 30))
        if s not in chosen:
            chosen.add(s)
            states.append(s)
    return sorted(states), len(flushes)


def build_image(model, init, cut, policy, path):
    """Writes up to the last flush before the cut, then a subset of those after it (each
    kept, lost, or torn at sector granularity). Returns the number of tail writes lost
    or torn."""
    shutil.copyfile(init, path)
    last_flush, tail = tail_of(model, cut)
    drop = tail[int(policy[4:])] if policy.startswith("drop") else None
    rnd = random.Random(policy)
    changed = 0
    with open(path, "r+b") as f:
        for idx in range(cut):
            e = model.entries[idx]
            if not is_write(e):
                continue
            sectors = range(e["count"])
            if idx > last_flush and policy != "all" and not (drop is not None and idx != drop):
                if policy == "none" or drop is not None or rnd.random() < 0.4:
                    sectors, changed = [], changed + 1
                elif e["count"] > 1 and rnd.random() < 0.3:
                    sectors = [s for s in sectors if rnd.random() < 0.5]
                    changed += 1
            for s in sectors:
                os.pwrite(f.fileno(), e["data"][s * SECTOR:(s + 1) * SECTOR], (e["sector"] + s) * SECTOR)
    return changed


def run(args):
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    return r.returncode, r.stdout


def check_state(model, d, init, qedtool, cut, policy):
    """Errors of one state, the corruptions the open found and repaired (crash debris),
    and the sectors that had to read back exactly. The host
    does what the firmware does at boot: open read-write (the QED check runs only when
    need-check is set on the disk), then serve; after that open the image must be
    consistent whatever a later check looks at."""
    img = os.path.join(d, "state.img")
    build_image(model, init, cut, policy, img)
    what = "cut before entry %d of %d (%s)" % (cut, len(model.entries), policy)
    rc, out = run(["qemu-img", "check", "-f", "qed", img])
    if rc not in (0, 3):
        return ["%s: qemu-img check before recovery: status %d: %s" % (what, rc, out.decode()[-600:])], 0, 0
    with open(os.devnull, "rb") as nothing:  # open read-write, write nothing, close
        r = subprocess.run([qedtool, "write", img, "0"], stdin=nothing, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=120)
    m = re.search(rb"qed check: (\d+) corruptions", r.stdout)
    debris = int(m.group(1)) if m else 0
    if r.returncode:
        return ["%s: open for recovery (qedtool write): status %d: %s" % (what, r.returncode, r.stdout.decode()[-600:])], debris, 0
    rc, out = run([qedtool, "check", "--json", img])
    if rc not in (0, 3):
        return ["%s: qedtool check after the recovery open: status %d: %s" % (what, rc, out.decode()[-600:])], debris, 0
    rc, out = run(["qemu-img", "check", "-f", "qed", img])
    if rc not in (0, 3):
        return ["%s: qemu-img check after recovery: status %d: %s" % (what, rc, out.decode()[-600:])], debris, 0
    with open(img + ".raw", "w+b") as f:  # a file: much faster than a pipe
        r = subprocess.run([qedtool, "read", img, "0", str(VOLUME)], stdout=f,
                           stderr=subprocess.PIPE, timeout=120)
        if r.returncode:
            return ["%s: qedtool read: status %d: %s" % (what, r.returncode, r.stderr[-600:])], debris, 0
        f.seek(0)
        raw = f.read()
    errors, exact = model.verify(raw, cut, what)
    return errors, debris, exact


def load(d, logpath):
    with open(os.path.join(d, "ops.json")) as f:
        ops = json.load(f)
    return Model(ops, parse_log(logpath))


def quarters(model, cuts):
    """How many of the cuts fall in each quarter of the log."""
    n = len(model.entries)
    q = [0, 0, 0, 0]
    for c in cuts:
        q[min(3, (c - 1) * 4 // n)] += 1
    return q


def cmd_analyze(d, init, logpath, qedtool, seed, count, boots):
    """Checks the states; DIR/figures gets what the run measured ("name value" lines,
    asserted by test_powercut.sh), DIR/boot/list the states to boot: N CUT IMAGE
    CORRUPTIONS (what the host's open found and repaired on that image)."""
    model = load(d, logpath)
    writes = sum(1 for e in model.entries if is_write(e))
    flushes = sum(1 for e in model.entries if e["flags"] & FLUSH)
    lost = [w for w in model.writes if w not in model.first]
    print("# log: %d entries (%d writes, %d flushes), %d guest writes, %d of them never reached the disk"
          % (len(model.entries), writes, flushes, len(model.writes), len(lost)))
    states, _ = plan_states(model, int(seed), int(count))
    errors, debris, exact, checked, started = [], {}, 0, 0, time.time()
    for cut, policy in states:
        errs, found, sectors = check_state(model, d, init, qedtool, cut, policy)
        errors += errs
        exact += sectors
        checked += 1
        if found:
            debris[(cut, policy)] = found
    for tmp in ("state.img", "state.img.raw"):
        if os.path.exists(os.path.join(d, tmp)):
            os.remove(os.path.join(d, tmp))
    secs = time.time() - started
    for e in errors[:10]:  # all states are checked: the boots need what each repaired
        print("FAIL: " + e)
    if len(errors) > 10:
        print("FAIL: ... %d more" % (len(errors) - 10))
    n = len(model.entries)
    cuts = set(c for c, _ in states)
    at_flush = len(set(c for c in cuts if c < n and model.entries[c]["flags"] & FLUSH))
    q = quarters(model, [c for c, _ in states])
    print("# power cuts: %d states checked on the host (%d cut points, %d of them at flushes; "
          "per quarter of the log %s), %d with crash debris repaired by the QED check, "
          "%d sectors read back exactly; %.1f s" % (
              checked, len(cuts), at_flush, "/".join(map(str, q)), len(debris), exact, secs))
    # Booted recoveries: two thirds with debris, the rest without, each spread over the log.
    rnd = random.Random(int(seed) + 1)
    boots = int(boots)
    pick = spread(debris, boots - boots // 3, rnd)
    pick += spread([s for s in states if s not in pick], boots - len(pick), rnd)
    bq = quarters(model, [c for c, _ in pick])
    os.makedirs(os.path.join(d, "boot"), exist_ok=True)
    with open(os.path.join(d, "boot", "list"), "w") as f:
        for i, (cut, policy) in enumerate(pick):
            img = os.path.join(d, "boot", "%d.img" % i)
            build_image(model, init, cut, policy, img)
            f.write("%d %d %s %d\n" % (i, cut, img, debris.get((cut, policy), 0)))
    figures = {"log_entries": n, "log_writes": writes, "log_flushes": flushes,
               "guest_writes": len(model.writes), "states": checked, "cut_points": len(cuts),
               "cuts_at_flushes": at_flush, "cuts_between_flushes": len(cuts) - at_flush,
               "cuts_min_quarter": min(q), "debris_states": len(debris), "exact_sectors": exact,
               "boots_planned": len(pick), "boots_with_debris": sum(1 for s in pick if s in debris),
               "boots_min_half": min(bq[0] + bq[1], bq[2] + bq[3])}
    with open(os.path.join(d, "figures"), "w") as f:
        for k, v in figures.items():
            f.write("%s %d\n" % (k, v))
    return 1 if errors else 0


def cmd_verify(d, logpath, cut, rawpath, after=None):
    """Prints "exact N": the sectors that had to read back exactly (and did)."""
    model = load(d, logpath)
    with open(rawpath, "rb") as f:
        raw = f.read(VOLUME + 1)
    errors, exact = model.verify(raw, int(cut), "%s, cut before entry %s" % (rawpath, cut),
                                 after == "after")
    for e in errors:
        print("FAIL: " + e)
    print("exact %d" % exact)
    return 1 if errors else 0


def main(argv):
    cmds = {"workload": (cmd_workload, 3), "analyze": (cmd_analyze, 7), "verify": (cmd_verify, 4)}
    if len(argv) < 2 or argv[1] not in cmds or len(argv) - 2 not in (
            cmds[argv[1]][1], cmds[argv[1]][1] + (argv[1] == "verify")):
        print(__doc__.split("Commands:")[1].split("Verification")[0], file=sys.stderr)
        return 2
    return cmds[argv[1]][0](*argv[2:]) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
