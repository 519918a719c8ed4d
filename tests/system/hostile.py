#!/usr/bin/env python3
"""The attacks of tests/system/test_hostile.sh against a running appliance.

    hostile.py main PORT CONFIG.json        attacks 1-3 and 5-7 while an honest session
                                            writes and verifies; exit 1 if a check failed
    hostile.py challenge PORT CONFIG.json   prints the CHAP_I/CHAP_C of two logins (for
                                            attack 4, compared across boots by the script)

CONFIG.json (written by the script; secrets stay in files, never on a command line):
    prefix   the target name prefix; vol: {"A": serial, "B": serial, "C": serial}
    honest   {"iqn", "chap": [user, secret], "mutual": [user, secret]}   volume A
    bonly    {"iqn", "chap"}                        volume B only
    switcher {"iqn", "chap_a", "chap_b"}            volumes A and B, other secrets each
    mallory  {"iqn", "chap"}                        volume C
    shared   {"chap", "mutual"}                     the chap= / mutual_chap= shorthand
    discovery {"chap"}                              discovery_chap=

Each attack prints "# attack N (name): what the appliance did", and "FAIL: ..." for each
check that failed. The honest session (volume A, its own CHAP credentials with mutual
CHAP) writes a random 64 KiB..1 MiB block at a random offset, reads it back and compares,
for the whole run: any error, CHECK CONDITION, BUSY or dropped connection fails the run.
"""
import json
import os
import random
import select
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from iscsi_client import (  # noqa: E402
    F_CONTINUE, F_FINAL, F_TRANSIT, F_WRITE, ATTR_SIMPLE, OP_DATA_OUT, OP_LOGIN_REQ,
    OP_NOP_IN, OP_R2T, OP_REJECT, OP_SCSI_CMD, OP_SCSI_RSP, OP_TMF_REQ, OP_TMF_RSP,
    PDU, RESERVED_TAG, STAGE_FULL, STAGE_OPERATIONAL, STAGE_SECURITY, STAT_BUSY,
    TMF_LUN_RESET, AuthError, ConnectionDropped, ISCSIError, LoginRefused, ScsiStatusError, Session,
    connect, login_with_retry, new_isid, recv_pdu, text_encode,
)

HOST = "127.0.0.1"
OP_TIMEOUT = 30.0      # any one exchange of an honest session (TCG is slow)
MIB = 1 << 20
HONEST_SPAN = 40 * MIB  # the main honest session's region of volume A
NEW_LOGIN_AT = 44 * MIB  # attack 6's new honest session
FLEET_AT = 48 * MIB     # attack 6's sixteen sessions, 512 KiB each

FAILURES = []


def say(line):
    print(line, flush=True)


def report(n, name, what, problems):
    say("# attack %d (%s): %s" % (n, name, what))
    for p in problems:
        say("FAIL: attack %d (%s): %s" % (n, name, p))
        FAILURES.append((n, p))


def describe(exc):
    if isinstance(exc, LoginRefused):
        return "login refused, status class %d detail %d" % (exc.status_class, exc.status_detail)
    if isinstance(exc, ConnectionDropped):
        return "connection closed (%s)" % exc
    return "%s: %s" % (type(exc).__name__, exc)


def refused_ok(exc):
    """The answer a refused login must get: status class 2 or the connection closed."""
    return (isinstance(exc, LoginRefused) and exc.status_class == 2) or \
        isinstance(exc, ConnectionDropped)


class Config:
    def __init__(self, path):
        with open(path) as f:
            c = json.load(f)
        self.__dict__.update(c)

    def target(self, v):
        return "%s:%s" % (self.prefix, self.vol[v])

    def session(self, who, vol, cred="chap", **kw):
        """A session for a configured initiator (not yet logged in)."""
        i = getattr(self, who)
        chap = kw.pop("chap", tuple(i[cred]) if cred else None)
        mutual = kw.pop("mutual", tuple(i["mutual"]) if "mutual" in i and cred == "chap" else None)
        kw.setdefault("timeout", OP_TIMEOUT)
        return Session(HOST, self.port, i["iqn"], self.target(vol) if vol else None,
                       chap=chap, mutual=mutual, **kw)


def clear_unit_attention(s):
    """A new I_T nexus starts with a UNIT ATTENTION (power on/reset): TEST UNIT READY
    until GOOD (at most three tries)."""
    for _ in range(3):
        try:
            s.test_unit_ready()
            return
        except ScsiStatusError as e:
            if e.status != 0x02 or e.sense[2:3] != b"\x06":
                raise
    s.test_unit_ready()


def write_verify(s, offset, data):
    bs = s.block_size
    s.write16(offset // bs, data)
    back = s.read16(offset // bs, len(data) // bs)
    if back != data:
        first = next(i for i in range(len(data)) if back[i] != data[i])
        raise ISCSIError("read back differs at byte %d of %d at offset %d" % (first, len(data), offset))


# ---- the honest session ----------------------------------------------------------------
class Honest(threading.Thread):
    """The honest session: login, then write / read back / compare until stopped. An
    error is recorded with its time, and the session logs in again (a new ISID) so that
    each later attack is judged on its own window; any error at all fails the run."""

    def __init__(self, cfg):
        super().__init__(name="honest", daemon=True)
        self.cfg = cfg
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.rounds = 0
        self.bytes = 0
        self.errors = []  # (monotonic time, what)
        self.session = None
        self.logins = 0
        self.rng = random.Random(0x5EED)
        self.window_start = 0.0

    def run(self):
        while not self.stop.is_set():
            self.session = None
            try:
                s = login_with_retry(lambda: self.cfg.session("honest", "A"),
                                     time.monotonic() + 40)
                self.logins += 1
                clear_unit_attention(s)
                s.read_capacity16()
                self.session = s
            except Exception as e:  # noqa: BLE001 (every failure is a finding)
                self.fail("login: " + describe(e))
                self.ready.set()
                self.stop.wait(2)
                continue
            self.ready.set()
            if self.loop(s):
                try:
                    s.logout()
                except Exception as e:  # noqa: BLE001
                    self.fail("logout: " + describe(e))
                return
            s.close()
            self.stop.wait(1)

    def loop(self, s):
        """Rounds until stopped (True) or an error (False)."""
        while not self.stop.is_set():
            size = self.rng.randrange(16, 257) * 4096  # 64 KiB .. 1 MiB
            offset = self.rng.randrange(0, (HONEST_SPAN - size) // 4096 + 1) * 4096
            try:
                write_verify(s, offset, os.urandom(size))
            except Exception as e:  # noqa: BLE001
                self.fail("round %d (%d bytes at %d): %s" % (self.rounds + 1, size, offset, describe(e)))
                return False
            self.rounds += 1
            self.bytes += 2 * size
        return True

    def fail(self, why):
        self.errors.append((time.monotonic(), why))

    def errors_since(self, t):
        return [w for at, w in self.errors if at >= t]

    def progressed(self, rounds=2, timeout=45.0):
        """True when the session makes `rounds` more rounds without an error."""
        goal, n_err = self.rounds + rounds, len(self.errors)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.errors) == n_err:
            if self.rounds >= goal:
                return True
            time.sleep(0.05)
        return False

    def check(self, problems, during, since=None):
        """Adds a problem unless the honest session saw no error since `since` (default:
        the start of the current attack) and is still writing."""
        errs = self.errors_since(self.window_start if since is None else since)
        if errs:
            problems.append("the honest session failed (%s): %s" % (during, "; ".join(errs[:3])))
        elif not self.progressed():
            problems.append("the honest session made no progress (%s), round %d%s" % (
                during, self.rounds, ": " + self.errors[-1][1] if self.errors else ""))


# ---- helpers for raw attacks -------------------------------------------------------------
class Drain(threading.Thread):
    """Reads and counts everything the target sends on a socket; answers NOP-In pings
    so that the target keeps the connection; stops on close or on stop."""

    def __init__(self, session, stop):
        super().__init__(daemon=True)
        self.s, self.stop = session, stop
        self.counts = {}
        self.closed = False
        self.lock = threading.Lock()

    def run(self):
        sock = self.s.sock
        while not self.stop.is_set():
            try:
                r, _, _ = select.select([sock], [], [], 0.2)
                if not r:
                    continue
                pdu = recv_pdu(sock)
            except (ISCSIError, OSError, ValueError):
                self.closed = True
                return
            key = {OP_R2T: "R2T", OP_REJECT: "Reject", OP_TMF_RSP: "TMF response"}.get(pdu.opcode)
            if pdu.opcode == OP_SCSI_RSP:
                key = "BUSY" if pdu.bhs[3] == STAT_BUSY else "status 0x%02x" % pdu.bhs[3]
            elif pdu.opcode == OP_NOP_IN and pdu.itt == RESERVED_TAG:
                key = "ping"
                try:
                    with self.lock:
                        self.s.answer_nop_in(pdu)
                except ISCSIError:
                    pass
            key = key or pdu.name()
            self.counts[key] = self.counts.get(key, 0) + 1


def raw_cmd(s, cdb, edtl, write=False, immediate=False, cmdsn=None, itt=None, data=b""):
    """A SCSI Command PDU built by hand (no data unless given, F set)."""
    p = PDU(OP_SCSI_CMD, F_FINAL | ATTR_SIMPLE | (F_WRITE if write else 0), data, immediate)
    p.itt = s.new_itt() if itt is None else itt
    p.set_u32(20, edtl)
    p.set_u32(24, s.cmdsn if cmdsn is None else cmdsn)
    p.set_u32(28, s.exp_statsn)
    p.bhs[32:48] = cdb.ljust(16, b"\0")
    return p


def write16_cdb(lba, blocks):
    return b"\x8a\x00" + struct.pack(">QI", lba, blocks) + b"\0\0"


def alive_check(cfg, who, vol, problems, what):
    """A fresh session of `who` logs in, clears its UNIT ATTENTION and writes/reads."""
    try:
        s = login_with_retry(lambda: cfg.session(who, vol), time.monotonic() + 40)
        try:
            clear_unit_attention(s)
            s.read_capacity16()
            write_verify(s, 60 * MIB, os.urandom(256 * 1024))
            s.logout()
        finally:
            s.close()
    except Exception as e:  # noqa: BLE001
        problems.append("%s: a fresh session failed: %s" % (what, describe(e)))


# ---- attack 1: use-after-free pattern ----------------------------------------------------
def attack1(cfg, honest):
    """Session W (volume B) keeps WRITEs waiting for R2T data; session R sends LOGICAL UNIT
    RESET; a third login reinstates W's ISID; W then sends its late Data-Out. 50 rounds."""
    problems, notes = [], {"rounds": 0, "reset answered": 0, "reinstated": 0, "W closed": 0}
    isid = new_isid()
    try:
        r = login_with_retry(lambda: cfg.session("bonly", "B"), time.monotonic() + 40)
        clear_unit_attention(r)
    except Exception as e:  # noqa: BLE001
        report(1, "use-after-free pattern", "no session on B: " + describe(e),
               ["setup: could not log in to volume B: " + describe(e)])
        return
    w = None
    deadline = time.monotonic() + 150
    for rnd in range(50):
        if time.monotonic() > deadline:
            problems.append("50 rounds did not fit in 150 s (round %d)" % rnd)
            break
        try:
            if w is None:
                w = login_with_retry(lambda: cfg.session("bonly", "B", isid=isid, immediate_data=False,
                                                         initial_r2t=True), time.monotonic() + 20)
            # eight 256 KiB WRITEs, all data solicited by R2T
            cmds = []
            for i in range(8):
                p = raw_cmd(w, write16_cdb(8192 + 512 * i, 512), 256 * 1024, write=True)
                w.cmdsn = (w.cmdsn + 1) & 0xFFFFFFFF
                cmds.append(p)
            w.send_raw(b"".join(p.encode() for p in cmds))
            # answer the first R2T or two with part of their data
            r2ts = []
            t_end = time.monotonic() + 2
            while len(r2ts) < 2 and time.monotonic() < t_end:
                pdu = w.recv_pdu(timeout=2)
                if pdu.opcode == OP_R2T:
                    r2ts.append(pdu)
                elif pdu.opcode == OP_NOP_IN and pdu.itt == RESERVED_TAG:
                    w.answer_nop_in(pdu)
            late = []
            for r2t in r2ts:
                d = PDU(OP_DATA_OUT, 0, b"\xa5" * 8192)
                d.itt, d.ttt = r2t.itt, r2t.ttt
                d.set_u32(40, r2t.u32(40))
                w.send_pdu(d)
                late.append((r2t, 8192))
            # LUN RESET from R, then a login with W's ISID, at once
            tmf = PDU(OP_TMF_REQ, F_FINAL | TMF_LUN_RESET, immediate=True)
            tmf.itt = r.new_itt()
            tmf.set_u32(20, RESERVED_TAG)
            tmf.set_u32(24, r.cmdsn)
            tmf.set_u32(28, r.exp_statsn)
            r.send_pdu(tmf)
            w2 = cfg.session("bonly", "B", isid=isid, immediate_data=False, initial_r2t=True)
            w2.login()
            notes["reinstated"] += 1
            # W's late data for tasks the reset and the reinstatement ended
            try:
                for r2t, off in late:
                    d = PDU(OP_DATA_OUT, F_FINAL, b"\x5a" * 8192)
                    d.itt, d.ttt = r2t.itt, r2t.ttt
                    d.set_u32(36, 1)
                    d.set_u32(40, r2t.u32(40) + off)
                    w.send_pdu(d)
                w.send_pdu(raw_cmd(w, write16_cdb(8192, 512), 256 * 1024, write=True))
            except ISCSIError:
                notes["W closed"] += 1
            w.close()
            w = w2
            rsp = r.wait_for(tmf.itt, time.monotonic() + OP_TIMEOUT)
            if rsp.opcode == OP_TMF_RSP:
                notes["reset answered"] += 1
            notes["rounds"] += 1
        except Exception as e:  # noqa: BLE001
            problems.append("round %d: %s" % (rnd + 1, describe(e)))
            break
    for s in (w, r):
        if s:
            s.close()
    alive_check(cfg, "bonly", "B", problems, "after the rounds")
    honest.check(problems, "use-after-free pattern")
    what = "%d rounds, %d LUN resets answered, %d reinstatements; %s" % (
        notes["rounds"], notes["reset answered"], notes["reinstated"],
        "appliance up, volume B serves a new session" if not problems else "; ".join(problems))
    report(1, "use-after-free pattern", what, problems)


# ---- attack 2: session kill without the secret ---------------------------------------------
def attack2(cfg, honest):
    """The honest session's InitiatorName, ISID and TargetName, SessionType=Normal, then
    SessionType=Discovery in the next request: the old code took the switch as a discovery
    session (no CHAP needed) and reinstated, ending, the honest session."""
    problems, outcomes = [], []
    honest.progressed(1, 30)
    victim = honest.session
    if victim is None:
        report(2, "session kill without the secret", "no honest session to attack",
               ["the honest session is not logged in: %s" % (
                   honest.errors[-1][1] if honest.errors else "?")])
        return
    names = [("InitiatorName", cfg.honest["iqn"]), ("SessionType", "Normal"),
             ("TargetName", cfg.target("A"))]
    for variant, steps in (
            ("Normal then Discovery to full feature",
             [(STAGE_SECURITY, STAGE_OPERATIONAL, False, names),
              (STAGE_SECURITY, STAGE_FULL, True, [("SessionType", "Discovery")])]),
            ("Normal then Discovery via the operational stage",
             [(STAGE_SECURITY, STAGE_OPERATIONAL, False, names),
              (STAGE_SECURITY, STAGE_OPERATIONAL, True, [("SessionType", "Discovery")]),
              (STAGE_OPERATIONAL, STAGE_FULL, True, [("HeaderDigest", "None")])])):
        a = Session(HOST, cfg.port, cfg.honest["iqn"], cfg.target("A"), isid=victim.isid,
                    timeout=10)
        a.login_itt = a.new_itt()
        result = None
        try:
            for csg, nsg, transit, pairs in steps:
                rsp, _ = a.login_exchange(csg, nsg, transit, pairs)
            if rsp.flags & F_TRANSIT and (rsp.flags & 3) == STAGE_FULL:
                result = "ACCEPTED: a session as the victim without its secret (TSIH %d)" % \
                    struct.unpack_from(">H", rsp.bhs, 14)[0]
                problems.append("%s: %s" % (variant, result))
            else:
                result = "held in the login (no full feature phase)"
        except ISCSIError as e:
            result = describe(e)
            if not refused_ok(e):
                problems.append("%s: refused the wrong way: %s" % (variant, result))
        a.close()
        outcomes.append("%s: %s" % (variant, result))
    honest.check(problems, "after the session-kill attempts")
    report(2, "session kill without the secret", "; ".join(outcomes) +
           ("; honest session alive" if not honest.errors_since(honest.window_start) else
            "; honest session ended: %s" % honest.errors_since(honest.window_start)[0]), problems)


# ---- attack 3: authentication not bound to the target ---------------------------------------
def attack3(cfg, honest):
    """CHAP with the credentials valid for target B, then TargetName=A in the next request."""
    problems = []
    i = cfg.switcher
    a = Session(HOST, cfg.port, i["iqn"], cfg.target("B"), timeout=10)
    a.login_itt = a.new_itt()
    stage = "authenticating to B"
    try:
        user, secret = i["chap_b"]
        _, keys = a.login_exchange(STAGE_SECURITY, STAGE_OPERATIONAL, False,
                                   a.login_names() + [("AuthMethod", "CHAP")])
        if keys.get("AuthMethod") != "CHAP":
            raise ISCSIError("target did not choose CHAP for B (AuthMethod=%s)" % keys.get("AuthMethod"))
        _, keys = a.login_exchange(STAGE_SECURITY, STAGE_OPERATIONAL, False, [("CHAP_A", "5")])
        from iscsi_client import chap_decode, chap_md5
        answer = chap_md5(int(keys["CHAP_I"], 0), secret, chap_decode(keys["CHAP_C"]))
        rsp, _ = a.login_exchange(STAGE_SECURITY, STAGE_OPERATIONAL, True,
                                  [("CHAP_N", user), ("CHAP_R", "0x" + answer.hex())])
        if not rsp.flags & F_TRANSIT:
            raise ISCSIError("B's credentials did not end the security stage")
        stage = "switching to TargetName=A"
        rsp, _ = a.login_exchange(STAGE_OPERATIONAL, STAGE_FULL, True,
                                  [("TargetName", cfg.target("A"))] + a._operational_keys())
        if rsp.flags & F_TRANSIT:
            what = "ACCEPTED: full feature phase after switching to A with B's credentials"
            problems.append(what)
        else:
            what = "held in the login after the switch"
    except ISCSIError as e:
        what = "%s: %s" % (stage, describe(e))
        if stage == "authenticating to B":
            problems.append("setup: B's valid credentials were refused: " + describe(e))
        elif not refused_ok(e):
            problems.append("refused the wrong way: " + describe(e))
    a.close()
    honest.check(problems, "after the target switch")
    report(3, "auth not bound to target", what, problems)


# ---- attack 5: memory exhaustion by an admitted initiator ------------------------------------
def attack5(cfg, honest):
    problems, notes = [], []
    stop = threading.Event()
    drains, sessions = [], []
    try:
        m = login_with_retry(lambda: cfg.session("mallory", "C"), time.monotonic() + 40)
        sessions.append(m)
        clear_unit_attention(m)
    except Exception as e:  # noqa: BLE001
        report(5, "memory exhaustion", "no session on C: " + describe(e),
               ["setup: mallory could not log in to volume C: " + describe(e)])
        return
    # (a) commands beyond MaxCmdSN: no response (dropped)
    beyond = []
    for k in range(8):
        p = raw_cmd(m, b"\x00" * 6, 0, cmdsn=(m.max_cmdsn + 1 + k) & 0xFFFFFFFF)
        beyond.append(p.itt)
        m.send_pdu(p)
    answered = []
    t_end = time.monotonic() + 3
    while time.monotonic() < t_end:
        try:
            pdu = m.recv_pdu(timeout=max(0.1, t_end - time.monotonic()))
        except ConnectionDropped as e:
            if "no answer" in str(e):
                break
            problems.append("the session ended after commands beyond MaxCmdSN: %s" % e)
            break
        if pdu.opcode == OP_NOP_IN and pdu.itt == RESERVED_TAG:
            m.answer_nop_in(pdu)
        elif pdu.itt in beyond:
            answered.append(pdu.name())
    if answered:
        problems.append("commands beyond MaxCmdSN were answered: %s" % ", ".join(answered))
    notes.append("%d commands beyond MaxCmdSN: %s" % (len(beyond), "answered" if answered else "dropped"))
    try:
        m.test_unit_ready()
    except Exception as e:  # noqa: BLE001
        problems.append("TEST UNIT READY in the window failed afterwards: " + describe(e))
    # (b) floods: immediate commands, 32 MiB WRITEs without data, many sessions
    rounds0, t0 = honest.rounds, time.monotonic()
    for k in range(8):
        if k:
            try:
                s = login_with_retry(lambda: cfg.session("mallory", "C"), time.monotonic() + 10)
                sessions.append(s)
            except Exception as e:  # noqa: BLE001
                notes.append("flooding session %d could not log in: %s" % (k + 1, describe(e)))
                break
        s = sessions[-1]
        d = Drain(s, stop)
        d.start()
        drains.append(d)
        burst = []
        # immediate WRITEs without data, from 32 MiB down to 64 KiB: what a per-command
        # limit lets through fills the memory to the last small hole
        for size, count in ((32 * MIB, 40), (4 * MIB, 60), (MIB, 100), (64 * 1024, 200)):
            for j in range(count):
                burst.append(raw_cmd(s, write16_cdb(0, size // 512), size, write=True,
                                     immediate=True))
        for j in range(100):  # non-immediate 32 MiB ones, CmdSN running past any window
            burst.append(raw_cmd(s, write16_cdb(0, 65536), 32 * MIB, write=True))
            s.cmdsn = (s.cmdsn + 1) & 0xFFFFFFFF
        for j in range(200):  # immediate TEST UNIT READYs
            burst.append(raw_cmd(s, b"\x00" * 6, 0, immediate=True))
        try:
            with d.lock:
                s.sock.settimeout(5)
                s.send_raw(b"".join(p.encode() for p in burst))
        except ISCSIError as e:
            notes.append("session %d: send stalled or closed: %s" % (k + 1, e))
    # hold the pressure for a while, the honest session writing all along
    hold_end = time.monotonic() + 12
    while time.monotonic() < hold_end and not honest.errors_since(t0):
        time.sleep(0.2)
    during = honest.rounds - rounds0
    counts = {}
    for d in drains:
        for key, n in d.counts.items():
            counts[key] = counts.get(key, 0) + n
    closed = sum(d.closed for d in drains)
    stop.set()
    for d in drains:
        d.join(5)
    for s in sessions:
        s.close()
    notes.append("%d flooding sessions (700 PDUs each: 400 immediate WRITEs of 32 MiB..64 KiB "
                 "and 100 in-order WRITEs of 32 MiB, all without data, 200 immediate TEST UNIT "
                 "READY), answers %s, %d connections closed by the target"
                 % (len(drains), ", ".join("%s %d" % kv for kv in sorted(counts.items())) or "none",
                    closed))
    notes.append("honest rounds during %.0f s of flood: %d" % (time.monotonic() - t0, during))
    if not honest.errors_since(t0) and during < 2:
        problems.append("the honest session made %d rounds under the flood" % during)
    time.sleep(2)
    alive_check(cfg, "mallory", "C", problems, "after the flood")
    honest.check(problems, "memory exhaustion")
    report(5, "memory exhaustion", "; ".join(notes), problems)


# ---- attack 6: connection slots -----------------------------------------------------------
def login_pdu_bytes(iqn, cont=False, pad=0):
    p = PDU(OP_LOGIN_REQ, (F_CONTINUE if cont else F_TRANSIT | STAGE_OPERATIONAL),
            text_encode([("InitiatorName", iqn), ("SessionType", "Normal"),
                         ("TargetName", "iqn.2026-11.org.qedbox:nothing")] +
                        ([("X-com.example.pad", "p" * pad)] if pad else [])), immediate=True)
    p.bhs[8:14] = new_isid()
    p.itt = 1
    return p.encode()


class Trickle(threading.Thread):
    """n connections, each sending a login one byte per second; one the target closes is
    opened again (connects are non-blocking: QEMU's hostfwd accepts them slowly)."""

    def __init__(self, port, n, stop):
        super().__init__(daemon=True)
        self.port, self.n, self.stop = port, n, stop
        self.socks = [None] * n
        self.up = [False] * n
        self.pos = [0] * n
        self.payload = login_pdu_bytes("iqn.2026-11.org.qedbox.test:trickle")
        self.opened = self.closed = self.connected = 0

    def _drop(self, i):
        self.socks[i].close()
        self.socks[i], self.up[i] = None, False

    def run(self):
        while not self.stop.is_set():
            for i in range(self.n):
                if self.socks[i] is None:
                    s = socket.socket()
                    s.setblocking(False)
                    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    s.connect_ex((HOST, self.port))
                    self.socks[i], self.up[i], self.pos[i] = s, False, 0
            pending = [s for i, s in enumerate(self.socks) if not self.up[i]]
            _, writable, _ = select.select([], pending, [], 0) if pending else ([], [], [])
            for i, s in enumerate(self.socks):
                if not self.up[i]:
                    if s in writable:
                        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                            self.up[i] = True
                            self.opened += 1
                        else:
                            self._drop(i)
                    continue
                try:
                    try:
                        if s.recv(4096) == b"":
                            raise OSError("closed")
                    except BlockingIOError:
                        pass
                    s.send(self.payload[self.pos[i] % len(self.payload):][:1])
                    self.pos[i] += 1
                except OSError:
                    self.closed += 1
                    self._drop(i)
            self.connected = sum(self.up)
            self.stop.wait(1.0)
        for s in self.socks:
            if s:
                s.close()


class Flooder(threading.Thread):
    """Endless Login PDUs with the C bit; with one_byte, every byte in a send of its own
    (TCP_NODELAY: 1-byte segments). A closed connection reconnects."""

    def __init__(self, port, stop, one_byte):
        super().__init__(daemon=True)
        self.port, self.stop, self.one_byte = port, stop, one_byte
        self.pdus = self.connections = 0
        self.payload = login_pdu_bytes("iqn.2026-11.org.qedbox.test:flood", cont=True,
                                       pad=64 if one_byte else 900)

    def run(self):
        while not self.stop.is_set():
            try:
                s = socket.create_connection((HOST, self.port), timeout=2)
            except OSError:
                self.stop.wait(0.5)
                continue
            self.connections += 1
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.settimeout(2)
            try:
                while not self.stop.is_set():
                    if self.one_byte:
                        for b in range(len(self.payload)):
                            if self.stop.is_set():
                                break
                            s.send(self.payload[b:b + 1])
                            time.sleep(0.002)
                    else:
                        s.sendall(self.payload)
                        time.sleep(0.01)
                    self.pdus += 1
                    r, _, _ = select.select([s], [], [], 0)
                    if r and s.recv(65536) == b"":
                        break
            except OSError:
                pass
            s.close()


def honest_io_session(cfg, offset, deadline, out, idx):
    t0 = time.monotonic()
    try:
        s = login_with_retry(lambda: cfg.session("honest", "A"), deadline)
        out[idx] = ("login", time.monotonic() - t0)
        try:
            clear_unit_attention(s)
            s.read_capacity16()
            for k in range(3):
                write_verify(s, offset + k * 128 * 1024, os.urandom(128 * 1024))
            s.logout()
        finally:
            s.close()
        out[idx] = ("ok", time.monotonic() - t0)
    except Exception as e:  # noqa: BLE001
        out[idx] = ("error", describe(e))


def attack6(cfg, honest):
    problems, notes = [], []
    stop = threading.Event()
    trickle = Trickle(cfg.port, 100, stop)
    cflood = Flooder(cfg.port, stop, one_byte=False)
    tiny = Flooder(cfg.port, stop, one_byte=True)
    for t in (trickle, cflood, tiny):
        t.start()
    t_end = time.monotonic() + 25  # until the trickling connections are open
    while trickle.connected < 95 and time.monotonic() < t_end:
        time.sleep(0.5)
    notes.append("%d trickling connections open" % trickle.connected)
    # a new honest login, within 40 s
    out = [None]
    honest_io_session(cfg, NEW_LOGIN_AT, time.monotonic() + 40, out, 0)
    state, detail = out[0]
    if state == "ok":
        notes.append("new honest login and I/O in %.1f s" % detail)
        if detail > 40:
            problems.append("the new honest login took %.1f s" % detail)
    else:
        notes.append("new honest login: %s" % (detail if state == "error" else "stuck"))
        problems.append("a new honest login under the slot attack failed: %s" % (detail,))
    # sixteen simultaneous honest sessions
    outs = [None] * 16
    deadline = time.monotonic() + 40
    threads = [threading.Thread(target=honest_io_session, daemon=True,
                                args=(cfg, FLEET_AT + k * 512 * 1024, deadline, outs, k))
               for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(1, deadline + 60 - time.monotonic()))
    good = [o for o in outs if o and o[0] == "ok"]
    notes.append("%d/16 simultaneous honest sessions logged in and verified I/O%s" % (
        len(good), " (slowest %.1f s)" % max(o[1] for o in good) if good else ""))
    for k, o in enumerate(outs):
        if not o or o[0] != "ok":
            problems.append("simultaneous session %d: %s" % (k + 1, o[1] if o else "did not finish"))
    stop.set()
    for t in (trickle, cflood, tiny):
        t.join(10)
    notes.append("trickle: %d connections opened, %d closed by the target; C-bit flood: %d PDUs "
                 "on %d connections; 1-byte segments: %d PDUs on %d connections" % (
                     trickle.opened, trickle.closed, cflood.pdus, cflood.connections,
                     tiny.pdus, tiny.connections))
    honest.check(problems, "connection slots")
    report(6, "connection slots", "; ".join(notes), problems)


# ---- attack 7: claimed-name isolation ------------------------------------------------------
def attack7(cfg, honest):
    problems, notes = [], []

    def must_refuse(label, make):
        s = make()
        try:
            s.login()
            notes.append("%s: ACCEPTED" % label)
            problems.append("%s: the login was accepted" % label)
            try:
                s.logout()
            except ISCSIError:
                pass
        except ISCSIError as e:
            notes.append("%s: %s" % (label, describe(e)))
            if not refused_ok(e):
                problems.append("%s: refused the wrong way: %s" % (label, describe(e)))
        finally:
            s.close()

    h = cfg.honest
    must_refuse("honest IQN, wrong secret", lambda: cfg.session(
        "honest", "A", chap=(h["chap"][0], h["chap"][1] + "-wrong"), mutual=None))
    must_refuse("honest IQN, shorthand chap= secret", lambda: cfg.session(
        "honest", "A", chap=tuple(cfg.shared["chap"]), mutual=None))
    must_refuse("volume B's initiator to volume A", lambda: cfg.session("bonly", "A"))
    must_refuse("discovery without discovery_chap", lambda: cfg.session(
        "bonly", None, cred=None, discovery=True))
    try:
        d = cfg.session("bonly", None, chap=tuple(cfg.discovery["chap"]), mutual=None,
                        discovery=True)
        d.login()
        listed = sorted(t for t, _ in d.send_targets())
        d.logout()
        notes.append("SendTargets for volume B's initiator: %s" % (", ".join(listed) or "nothing"))
        if listed != [cfg.target("B")]:
            problems.append("SendTargets for an initiator allowed only B listed %s" % listed)
    except Exception as e:  # noqa: BLE001
        notes.append("discovery with discovery_chap: %s" % describe(e))
        problems.append("discovery with the discovery_chap credentials failed: %s" % describe(e))
    honest.check(problems, "claimed-name isolation")
    report(7, "claimed-name isolation", "; ".join(notes), problems)


# ---- attack 4 (helper): the challenges a login gets ------------------------------------------
def challenges(cfg, n=2):
    for _ in range(n):
        s = cfg.session("honest", "A", timeout=10)
        s.login_itt = s.new_itt()
        try:
            _, keys = s.login_exchange(STAGE_SECURITY, STAGE_OPERATIONAL, False,
                                       s.login_names() + [("AuthMethod", "CHAP")])
            if keys.get("AuthMethod") != "CHAP":
                print("none AuthMethod=%s" % keys.get("AuthMethod"))
                continue
            _, keys = s.login_exchange(STAGE_SECURITY, STAGE_OPERATIONAL, False,
                                       [("CHAP_A", "5")])
            print("%s %s" % (keys.get("CHAP_I", "none"), keys.get("CHAP_C", "none")))
        except ISCSIError as e:
            print("none %s" % describe(e).replace(" ", "_"))
        finally:
            s.close()


def appliance_answers(cfg, timeout=15.0):
    """Whether the target still answers a first Login Request (any Login Response)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = cfg.session("mallory", "C", timeout=5, connect_retry=2)
        try:
            s.login()
            s.logout()
            return True
        except (LoginRefused, AuthError):
            return True  # an answer
        except ISCSIError:
            time.sleep(1)
        finally:
            s.close()
    return False


def main():
    mode, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    cfg = Config(path)
    cfg.port = port
    if mode == "challenge":
        # the first connection after boot may meet hostfwd before the listener: retry
        login_probe = Session(HOST, port, "probe", timeout=5)
        login_probe.open()
        login_probe.close()
        challenges(cfg)
        return 0
    t0 = time.monotonic()
    honest = Honest(cfg)
    honest.start()
    honest.ready.wait(90)
    if not honest.progressed(2, 60):
        say("# the honest session does not work before any attack: %s" % (
            honest.errors[-1][1] if honest.errors else "no progress"))
    down_after, prev = None, 0
    # attack 5 last: it is the one most likely to take the appliance down
    for attack in (attack2, attack3, attack7, attack1, attack6, attack5):
        n = int(attack.__name__[-1])
        if down_after is None and not appliance_answers(cfg):
            down_after = prev
        if down_after is not None:
            report(n, attack.__name__, "not run: the appliance stopped answering after attack %d"
                   % down_after, ["the appliance is down"])
            continue
        a0 = honest.window_start = time.monotonic()
        try:
            attack(cfg, honest)
        except Exception as e:  # noqa: BLE001 (a broken attack is a failed check)
            report(n, attack.__name__, "the attack itself broke: " + describe(e),
                   ["unexpected: " + describe(e)])
        say("# attack %d took %.1f s" % (n, time.monotonic() - a0))
        prev = n
    honest.stop.set()
    honest.join(OP_TIMEOUT + 10)
    if honest.is_alive():
        honest.fail("did not stop within %.0f s" % (OP_TIMEOUT + 10))
    say("# honest session: %d rounds, %.1f MiB written and read back in %.0f s, %d login(s), "
        "%d error(s)" % (honest.rounds, honest.bytes / MIB, time.monotonic() - t0,
                         honest.logins, len(honest.errors)))
    for at, why in honest.errors[:5]:
        say("FAIL: the honest session at %.1f s: %s" % (at - t0, why))
    if honest.errors:
        FAILURES.append((0, "honest session errors"))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
