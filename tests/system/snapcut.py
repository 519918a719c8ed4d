#!/usr/bin/env python3
"""Power cuts during an online snapshot, rebuilt from QEMU's write log (stdlib only).

test_snapshot_powercut.sh snapshots vol0 onto spare0 while a session writes, with the
spare behind QEMU's blklogwrites driver (the log format: powercut.py), then kills QEMU.
The spare's log holds the whole snapshot from the spare's side: the overlay's creation
(the L1 table and the header cluster's tail, a flush, the header sector, a flush), then
the writes the volume sent to the overlay after the switch. vol0 is frozen (flushed,
never written again) at the switch, so each spare state is paired with vol0 as it ended.

Commands:
  states DIR INIT LOG VOL0 QEDTOOL SEED BOOTS
      rebuild spare states from INIT (the spare before: its first sector zeros) and LOG: every cut in the overlay's creation
      and around its header, and cuts spread over the rest, unflushed writes kept, lost
      or torn per sector; decide for each what a boot serves, the way the firmware does
      (the spare holds a QED image: the new chain, which must name volume vol0 over
      backing vol0; else the old chain, vol0 alone) and check it: the new chain opens
      (the QED check repairs what the cut left), passes qemu-img check, and reads as
      `verify` wants. Keeps BOOTS states as DIR/boot/N (spare image), listed in
      DIR/boot/list as "N CUT CHAIN"; DIR/figures gets "name value" lines.
  verify RAW VOL0RAW CHAIN
      a read of volume vol0 (RAW) against vol0's own content (VOL0RAW): 0..8 MiB holds
      0x11; each 256 KiB piece k over 8..24 MiB that vol0 holds reads exactly so; in
      the new chain a piece vol0 lacks reads, per sector, its byte 0x40+k or zeros; the
      old chain reads exactly as vol0. With CHAIN "new-all", every piece is whole.
"""
import os
import random
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from powercut import FLUSH, SECTOR, build_image, is_write, parse_log  # noqa: E402

MiB = 1 << 20
PIECES, PIECE, PIECES_AT = 64, 256 * 1024, 8 * MiB
READ = PIECES_AT + PIECES * PIECE


class Log:
    """What build_image needs of powercut.py's model: the entries."""
    def __init__(self, entries):
        self.entries = entries


def run(args, cwd=None):
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd,
                       timeout=120)
    return r.returncode, r.stdout.decode(errors="replace")


def verify(raw, vol0, chain):
    """Errors of a read of the volume (bytes), as the module's docstring says."""
    errors = []
    if raw[:PIECES_AT] != b"\x11" * PIECES_AT:
        errors.append("0..8 MiB does not read 0x11 (written and flushed before the snapshot)")
    for k in range(PIECES):
        at = PIECES_AT + k * PIECE
        got, old, want = raw[at:at + PIECE], vol0[at:at + PIECE], bytes([0x40 + k]) * PIECE
        if chain == "old" or old == want:
            if got != old:
                errors.append("piece %d differs from vol0's" % k)
            continue
        if chain == "new-all" and got != want:
            errors.append("piece %d is not whole at the end of the log" % k)
            continue
        for s in range(0, PIECE, SECTOR):
            sec = got[s:s + SECTOR]
            if sec != want[:SECTOR] and sec != bytes(SECTOR):
                errors.append("piece %d sector %d holds neither its byte nor zeros" % (k, s // SECTOR))
                break
    return errors


def plan(entries, seed, budget=48):
    """(cut, policy) pairs: every cut up to the second flush (the overlay's creation:
    before it is whole, at its header, just after) with every policy, the end of the log,
    and budget cuts spread over the rest."""
    rnd = random.Random(seed)
    n = len(entries)
    flushes = [i for i, e in enumerate(entries) if e["flags"] & FLUSH]
    create_end = flushes[1] + 1 if len(flushes) > 1 else n
    states = [(c, p) for c in range(0, create_end + 2) for p in ("none", "all", "rnd%d" % c)
              if c <= n]
    states += [(n, "none"), (n, "all")]
    rest = list(range(create_end + 2, n))
    rnd.shuffle(rest)
    states += [(c, "rnd%d" % rnd.randrange(1 << 30)) for c in sorted(rest[:budget])]
    return sorted(set(states)), create_end


def is_qed(path):
    with open(path, "rb") as f:
        return f.read(4) == b"QED\0"


def check_new_chain(d, qedtool, vol0raw, what, end):
    """The spare holds an image: it must be vol0's overlay, open, check clean, read right."""
    rc, info = run([qedtool, "info", "spare0"], cwd=d)
    if rc:
        return ["%s: a QED header that the firmware's core refuses: %s" % (what, info[-300:])]
    if "volume: vol0" not in info or "backing file: vol0" not in info:
        return ["%s: a mix: an image that is not vol0's overlay: %s" % (what, info)]
    with open(os.devnull, "rb") as nothing:  # the boot's open: read-write, check, repair
        r = subprocess.run([qedtool, "write", "spare0", "0"], stdin=nothing, cwd=d,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    if r.returncode:
        return ["%s: the overlay does not open: %s" % (what, r.stdout.decode()[-300:])]
    rc, out = run(["qemu-img", "check", "-f", "qed", "spare0"], cwd=d)
    if rc not in (0, 3):
        return ["%s: qemu-img check of the overlay: status %d: %s" % (what, rc, out[-300:])]
    with open(os.path.join(d, "read.raw"), "w+b") as f:
        r = subprocess.run([qedtool, "read", "spare0", "0", str(READ)], cwd=d, stdout=f,
                           stderr=subprocess.PIPE, timeout=120)
        if r.returncode:
            return ["%s: qedtool read: %s" % (what, r.stderr.decode()[-300:])]
        f.seek(0)
        raw = f.read()
    return ["%s: %s" % (what, e) for e in verify(raw, vol0raw, "new-all" if end else "new")]


def cmd_states(d, blank, logpath, vol0, qedtool, seed, boots):
    entries = parse_log(logpath)
    states, create_end = plan(entries, seed)
    work = os.path.join(d, "state")
    os.makedirs(os.path.join(d, "boot"), exist_ok=True)
    os.makedirs(work, exist_ok=True)
    if not os.path.exists(os.path.join(work, "vol0")):
        os.symlink(os.path.abspath(vol0), os.path.join(work, "vol0"))
    r = subprocess.run([qedtool, "read", vol0, "0", str(READ)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    if r.returncode:
        print("FAIL: qedtool read vol0: %s" % r.stderr.decode()[-300:])
        return 1
    vol0raw = r.stdout
    errors, counts, first_new, last_old = [], {"old": 0, "new": 0}, None, None
    spare = os.path.join(work, "spare0")
    for cut, policy in states:
        build_image(Log(entries), blank, cut, policy, spare)
        what = "cut before entry %d of %d (%s)" % (cut, len(entries), policy)
        if is_qed(spare):
            counts["new"] += 1
            errors += check_new_chain(work, qedtool, vol0raw, what, cut == len(entries))
            if first_new is None or cut < first_new[0]:
                first_new = (cut, policy)
        else:
            counts["old"] += 1  # vol0 alone: it reads as vol0, by definition
            if last_old is None or cut > last_old[0]:
                last_old = (cut, policy)
    for e in errors[:10]:
        print("FAIL: " + e)
    picks = [s for s in (last_old, first_new, (len(entries), "none")) if s][:int(boots)]
    with open(os.path.join(d, "boot", "list"), "w") as lst:
        for i, (cut, policy) in enumerate(picks):
            path = os.path.join(d, "boot", str(i))
            build_image(Log(entries), blank, cut, policy, path)
            chain = "new" if is_qed(path) else "old"
            chain = "new-all" if chain == "new" and cut == len(entries) else chain
            lst.write("%d %d %s %s\n" % (i, cut, chain, path))
    header = [i for i in range(create_end) if is_write(entries[i]) and entries[i]["sector"] == 0]
    with open(os.path.join(d, "figures"), "w") as f:
        f.write("states %d\nold %d\nnew %d\nentries %d\ncreate_entries %d\nheader_entry %d\n"
                "errors %d\n" % (len(states), counts["old"], counts["new"], len(entries),
                                 create_end, header[0] if header else -1, len(errors)))
    print("# %d spare states over %d log entries (%d in the overlay's creation): %d boot "
          "the old chain, %d the new chain; %d errors" % (len(states), len(entries),
                                                          create_end, counts["old"],
                                                          counts["new"], len(errors)))
    return 1 if errors else 0


def cmd_verify(rawpath, vol0rawpath, chain):
    with open(rawpath, "rb") as f:
        raw = f.read(READ)
    with open(vol0rawpath, "rb") as f:
        vol0 = f.read(READ)
    errors = verify(raw, vol0, chain)
    for e in errors[:5]:
        print(e)
    return 1 if errors else 0


def main(argv):
    cmds = {"states": (cmd_states, 7), "verify": (cmd_verify, 3)}
    if len(argv) < 2 or argv[1] not in cmds or len(argv) - 2 != cmds[argv[1]][1]:
        print(__doc__.split("Commands:")[1], file=sys.stderr)
        return 2
    return cmds[argv[1]][0](*argv[2:]) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
