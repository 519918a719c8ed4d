#!/usr/bin/env python3
"""Persistent reservations across reboots, from two initiators (tests/system/test_aptpl.sh).

    aptpl_client.py PORT TARGET STEP

Initiators A and B log in with fixed ISIDs, so that their I_T nexuses are the same after
a reboot of the appliance. Each STEP logs in, runs PERSISTENT RESERVE OUT / IN and
reads and writes, asserts what the target must answer, logs out, and exits 1 with the
reason on the first mismatch:

    reserve-aptpl   B registers 0xb2 and A 0xa1, both with APTPL; A reserves Write
                    Exclusive; REPORT CAPABILITIES says PTPL_C and PTPL_A; B may read,
                    not write
    reserve-plain   the same without APTPL (A reserves Exclusive Access): PTPL_A 0
    refused         REGISTER with APTPL is ILLEGAL REQUEST, INVALID FIELD IN PARAMETER
                    LIST (a volume without room for records): PTPL_C 0
    restored        after a reboot: both keys, the generation, A holding Write Exclusive;
                    B refused a write, A allowed; then A releases and B reserves
                    Exclusive Access (the state the power cut follows)
    after-kill      B holds Exclusive Access: A refused a read and a write; B releases,
                    A writes; B registers again without APTPL, which turns it off
    empty           no registration, no reservation, writes from A allowed
"""
import struct
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
import iscsi_client as ic  # noqa: E402

PRIN, PROUT = 0x5E, 0x5F
READ_KEYS, READ_RESERVATION, REPORT_CAPABILITIES = 0, 1, 2
REGISTER, RESERVE, RELEASE = 0, 1, 2
WRITE_EXCLUSIVE, EXCLUSIVE_ACCESS = 1, 3
APTPL = 0x01
RESERVATION_CONFLICT = 0x18
ISIDS = {"A": bytes([0x80, 0, 0, 0, 0xa1, 0x01]), "B": bytes([0x80, 0, 0, 0, 0xb2, 0x02])}
KEYS = {"A": 0xa1, "B": 0xb2}


class Mismatch(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Mismatch(what)


class Initiator:
    def __init__(self, port, target, who):
        self.who = who
        self.s = ic.Session("127.0.0.1", port, "iqn.2026-11.org.qedbox.test:" + who.lower(),
                            target=target, isid=ISIDS[who], timeout=30.0, connect_retry=30.0)
        self.s.login()
        try:  # takes the unit attention a new nexus gets (POWER ON OR RESET)
            self.s.test_unit_ready()
        except ic.ScsiStatusError:
            pass

    def prout(self, sa, key=0, sa_key=0, rtype=0, flags=0):
        cdb = bytes([PROUT, sa, rtype, 0, 0]) + struct.pack(">I", 24) + b"\0"
        param = struct.pack(">QQIB3x", key, sa_key, 0, flags)
        self.s.command(cdb, data_out=param)

    def prin(self, sa, alloc=1024):
        cdb = bytes([PRIN, sa, 0, 0, 0, 0, 0]) + struct.pack(">H", alloc) + b"\0"
        return self.s.command(cdb, read_len=alloc)

    def keys(self):
        d = self.prin(READ_KEYS)
        gen, n = struct.unpack(">II", d[:8])
        return gen, sorted(struct.unpack(">Q", d[8 + i:16 + i])[0] for i in range(0, n, 8))

    def reservation(self):
        """(holder key, type), or None."""
        d = self.prin(READ_RESERVATION)
        if struct.unpack(">I", d[4:8])[0] == 0:
            return None
        return struct.unpack(">Q", d[8:16])[0], d[21] & 0x0F

    def caps(self):
        d = self.prin(REPORT_CAPABILITIES)
        return bool(d[2] & 0x01), bool(d[3] & 0x01)  # PTPL_C, PTPL_A

    def status_of(self, fn):
        try:
            fn()
            return ic.STAT_GOOD
        except ic.ScsiStatusError as e:
            return e.status

    def write(self):
        return self.status_of(lambda: self.s.write16(8, bytes([0x5A]) * 512))

    def read(self):
        return self.status_of(lambda: self.s.read16(8, 1))

    def close(self):
        self.s.logout()


def reserve(port, target, aptpl):
    flags = APTPL if aptpl else 0
    rtype = WRITE_EXCLUSIVE if aptpl else EXCLUSIVE_ACCESS
    b = Initiator(port, target, "B")
    a = Initiator(port, target, "A")
    b.prout(REGISTER, sa_key=KEYS["B"], flags=flags)
    a.prout(REGISTER, sa_key=KEYS["A"], flags=flags)
    a.prout(RESERVE, key=KEYS["A"], rtype=rtype)
    expect(a.caps() == (True, aptpl), "REPORT CAPABILITIES PTPL_C/PTPL_A: %s" % (a.caps(),))
    expect(a.keys() == (2, [0xa1, 0xb2]), "READ KEYS after registering: %s" % (a.keys(),))
    expect(b.write() == RESERVATION_CONFLICT, "B wrote under A's reservation")
    expect(a.write() == ic.STAT_GOOD, "the holder A could not write")
    a.close()
    b.close()


def refused(port, target):
    a = Initiator(port, target, "A")
    try:
        a.prout(REGISTER, sa_key=KEYS["A"], flags=APTPL)
        raise Mismatch("REGISTER with APTPL accepted on a volume without room")
    except ic.ScsiStatusError as e:
        sense = e.sense
        expect(e.status == ic.STAT_CHECK_CONDITION and len(sense) >= 14 and
               sense[2] & 0x0F == 5 and sense[12] == 0x26,
               "APTPL refusal: status 0x%02x sense %s" % (e.status, sense[:18].hex()))
    expect(a.caps() == (False, False), "PTPL_C on a volume without room: %s" % (a.caps(),))
    a.close()


def restored(port, target):
    a = Initiator(port, target, "A")
    b = Initiator(port, target, "B")
    expect(a.keys() == (2, [0xa1, 0xb2]), "READ KEYS after the reboot: %s" % (a.keys(),))
    expect(a.reservation() == (0xa1, WRITE_EXCLUSIVE),
           "READ RESERVATION after the reboot: %s" % (a.reservation(),))
    expect(a.caps() == (True, True), "PTPL_A after the reboot: %s" % (a.caps(),))
    expect(b.write() == RESERVATION_CONFLICT, "B wrote under the restored reservation")
    expect(b.read() == ic.STAT_GOOD, "B could not read under Write Exclusive")
    expect(a.write() == ic.STAT_GOOD, "the holder A could not write after the reboot")
    a.prout(RELEASE, key=KEYS["A"], rtype=WRITE_EXCLUSIVE)
    b.prout(RESERVE, key=KEYS["B"], rtype=EXCLUSIVE_ACCESS)
    # GOOD came back: the state is durable. The power cut follows at once.
    print("# B reserved Exclusive Access: GOOD", flush=True)
    a.close()
    b.close()


def after_kill(port, target):
    a = Initiator(port, target, "A")
    b = Initiator(port, target, "B")
    expect(a.reservation() == (0xb2, EXCLUSIVE_ACCESS),
           "READ RESERVATION after the power cut: %s" % (a.reservation(),))
    expect(a.keys() == (2, [0xa1, 0xb2]), "READ KEYS after the power cut: %s" % (a.keys(),))
    expect(a.read() == RESERVATION_CONFLICT, "A read under B's Exclusive Access")
    expect(a.write() == RESERVATION_CONFLICT, "A wrote under B's Exclusive Access")
    b.prout(RELEASE, key=KEYS["B"], rtype=EXCLUSIVE_ACCESS)
    expect(a.write() == ic.STAT_GOOD, "A could not write once B released")
    a.prout(REGISTER, key=KEYS["A"], sa_key=0, flags=APTPL)  # unregisters A
    b.prout(REGISTER, key=KEYS["B"], sa_key=KEYS["B"])  # APTPL 0: nothing persists now
    expect(b.caps() == (True, False), "PTPL_A after turning APTPL off: %s" % (b.caps(),))
    a.close()
    b.close()


def empty(port, target):
    a = Initiator(port, target, "A")
    gen, keys = a.keys()
    expect(keys == [], "keys survived without APTPL: %s" % [hex(k) for k in keys])
    expect(a.reservation() is None, "a reservation survived: %s" % (a.reservation(),))
    expect(a.caps()[1] is False, "PTPL_A set with nothing persisted")
    expect(a.write() == ic.STAT_GOOD, "A could not write on a volume without reservations")
    a.close()


def main():
    port, target, step = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    steps = {
        "reserve-aptpl": lambda: reserve(port, target, True),
        "reserve-plain": lambda: reserve(port, target, False),
        "refused": lambda: refused(port, target),
        "restored": lambda: restored(port, target),
        "after-kill": lambda: after_kill(port, target),
        "empty": lambda: empty(port, target),
    }
    try:
        steps[step]()
    except (Mismatch, ic.ISCSIError) as e:
        print("%s %s: %s" % (step, target, e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
