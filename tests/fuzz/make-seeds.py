#!/usr/bin/env python3
"""Writes the seed corpora of the libFuzzer targets: tests/fuzz/corpus/<target>/<name>.

Each seed is a small, valid input in the target's input format (see the comment at the
top of tests/fuzz/fuzz_<target>.c), so that the fuzzer starts from inputs that reach deep:
a full login then commands, negotiation text, CHAP values, SCSI commands, QED patches.
Run from the top of the tree: python3 tests/fuzz/make-seeds.py
"""
import base64
import hashlib
import os
import struct

OUT = "tests/fuzz/corpus"


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(bytes(data))


# ---- iSCSI PDUs --------------------------------------------------------------------------
INITIATOR = "iqn.1994-05.com.example:client"
TARGET = "iqn.2026-11.org.qedbox:disk0"
TARGET2 = "iqn.2026-11.org.qedbox:disk1"
ISID = bytes([0x80, 0x12, 0x34, 0x56, 0, 1])


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def text(*pairs):
    return b"".join(p.encode() + b"\0" for p in pairs)


def pdu(bhs, data=b"", digests=False):
    bhs = bytearray(bhs)
    bhs[5:8] = len(data).to_bytes(3, "big")
    out = bytes(bhs)
    if digests:
        out += struct.pack("<I", crc32c(bhs))
    if data:
        padded = data + b"\0" * (-len(data) % 4)
        out += padded
        if digests:
            out += struct.pack("<I", crc32c(padded))
    return out


def bhs(op, flags, itt=0, f20=0, cmdsn=0, expstatsn=0, f32=b"", f36=0, f40=0, f44=0, lun=b""):
    b = bytearray(48)
    b[0] = op
    b[1] = flags
    b[8:8 + len(lun)] = lun
    struct.pack_into(">IIII", b, 16, itt, f20, cmdsn, expstatsn)
    if f32:  # a CDB: bytes 32..47
        b[32:32 + len(f32)] = f32
    else:
        struct.pack_into(">III", b, 36, f36, f40, f44)
    return b


def login(flags, keys, itt=0x1000, tsih=0, cmdsn=1, expstatsn=0, digests=False):
    b = bhs(0x43, flags, itt, 0, cmdsn, expstatsn)
    b[8:14] = ISID
    struct.pack_into(">H", b, 14, tsih)
    return pdu(b, text(*keys), digests)


T, CSG1, FFP = 0x80, 1 << 2, 3
NORMAL = ["InitiatorName=" + INITIATOR, "TargetName=" + TARGET, "SessionType=Normal"]
OPERATIONAL = ["HeaderDigest=None", "DataDigest=None", "MaxRecvDataSegmentLength=262144",
               "MaxBurstLength=16776192", "FirstBurstLength=262144", "ImmediateData=Yes",
               "InitialR2T=No", "MaxOutstandingR2T=1", "DataPDUInOrder=Yes",
               "DataSequenceInOrder=Yes", "ErrorRecoveryLevel=0", "DefaultTime2Wait=2",
               "DefaultTime2Retain=0", "MaxConnections=1", "IFMarker=No", "OFMarker=No"]


def cdb10(op, lba, blocks, flags=0):
    return struct.pack(">BBIBHB", op, flags, lba, 0, blocks, 0) + b"\0" * 6


def cdb16(op, lba, blocks, flags=0):
    return struct.pack(">BBQIBB", op, flags, lba, blocks, 0, 0)


def scsi_cmd(flags, itt, edtl, cdb, cmdsn, data=b"", digests=False):
    return pdu(bhs(0x01, flags, itt, edtl, cmdsn, 0, cdb), data, digests)


def data_out(itt, ttt, datasn, offset, data, final=True, digests=False):
    return pdu(bhs(0x05, 0x80 if final else 0, itt, ttt, 0, 0, b"", datasn, offset), data, digests)


def nop_out(itt, cmdsn, data=b""):
    return pdu(bhs(0x40, 0x80, itt, 0xFFFFFFFF, cmdsn), data)


def text_req(itt, cmdsn, keys, ttt=0xFFFFFFFF):
    return pdu(bhs(0x04, 0x80, itt, ttt, cmdsn), text(*keys))


def tmf(function, itt, ref_itt, cmdsn):
    return pdu(bhs(0x02, 0x80 | function, itt, ref_itt, cmdsn))


def logout(itt, cmdsn):
    return pdu(bhs(0x46, 0x80, itt, 0, cmdsn))


R, W, F = 0x40, 0x20, 0x80
READ10, WRITE10 = 0x28, 0x2A


def commands(first_cmdsn=1):
    """A session's worth of commands, CmdSN from first_cmdsn."""
    sn = first_cmdsn
    out = scsi_cmd(F, 0x10, 0, bytes(16), sn)  # TEST UNIT READY: takes the unit attention
    sn += 1
    out += scsi_cmd(F | R, 1, 4096, cdb10(READ10, 0, 8), sn); sn += 1
    out += scsi_cmd(F | W, 2, 1024, cdb10(WRITE10, 8, 2), sn, bytes(range(256)) * 4); sn += 1
    # a write whose data comes partly immediate, the rest after an R2T (TTT 1: the first)
    out += scsi_cmd(F | W, 3, 2048, cdb10(WRITE10, 16, 4), sn, b"\x11" * 512); sn += 1
    out += data_out(3, 1, 0, 512, b"\x33" * 1536)
    out += scsi_cmd(F | R, 4, 96, bytes([0x12, 0, 0, 0, 96, 0]) + b"\0" * 10, sn); sn += 1
    out += scsi_cmd(F | R, 5, 32, bytes([0x9E, 0x10]) + b"\0" * 8 + b"\0\0\0\x20\0\0", sn); sn += 1
    out += nop_out(6, sn)
    out += text_req(7, sn, ["SendTargets="]); sn += 1
    out += tmf(1, 8, 1, sn)  # ABORT TASK of a finished task
    out += logout(9, sn)
    return out


def login_seeds():
    t = "iscsi_login"
    normal = login(T | CSG1 | FFP, NORMAL + OPERATIONAL)
    write(t, "login-then-commands", b"\0\0" + normal + commands())
    write(t, "login-then-commands-chunked", b"\0\x07" + normal + commands())
    write(t, "login-two-stages", b"\0\0" +
          login(T | (1 << 0), NORMAL + ["AuthMethod=None"]) +
          login(T | CSG1 | FFP, OPERATIONAL) + commands())
    write(t, "discovery", b"\0\0" +
          login(T | CSG1 | FFP, ["InitiatorName=" + INITIATOR, "SessionType=Discovery"]) +
          text_req(1, 1, ["SendTargets=All"]) + logout(2, 1))
    # CHAP on the second target: the harness's known random source makes CHAP_I 0x41 and
    # CHAP_C 0x42..0x51, so the right CHAP_R can be recorded here.
    chap_i, challenge = 0x41, bytes(range(0x42, 0x52))
    resp = hashlib.md5(bytes([chap_i]) + b"chapsecret1234" + challenge).hexdigest()
    keys2 = ["InitiatorName=" + INITIATOR, "TargetName=" + TARGET2, "SessionType=Normal"]
    chap = (login(1, keys2 + ["AuthMethod=CHAP,None"]) +
            login(1, ["CHAP_A=5"]) +
            login(T | 1, ["CHAP_N=" + INITIATOR, "CHAP_R=0x" + resp,
                          "CHAP_I=7", "CHAP_C=0x" + "a5" * 16]) +
            login(T | CSG1 | FFP, OPERATIONAL))
    write(t, "chap-mutual", b"\0\0" + chap + commands())
    write(t, "chap-discovery", b"\x08\0" +
          login(1, ["InitiatorName=" + INITIATOR, "SessionType=Discovery", "AuthMethod=CHAP"]) +
          login(1, ["CHAP_A=5"]) +
          login(T | 1, ["CHAP_N=" + INITIATOR, "CHAP_R=0x" + resp]) +
          login(T | CSG1 | FFP, []) + text_req(1, 1, ["SendTargets=All"]))
    # digests on: every PDU after the login carries CRC32C
    dig = login(T | CSG1 | FFP, NORMAL + ["HeaderDigest=CRC32C", "DataDigest=CRC32C"])
    dig += scsi_cmd(F | W, 1, 512, cdb10(WRITE10, 0, 1), 1, b"\x5a" * 512, digests=True)
    dig += scsi_cmd(F | R, 2, 512, cdb10(READ10, 0, 1), 2, digests=True)
    write(t, "digests", b"\0\0" + dig)
    # already logged in by the harness (setup bit 0): commands alone, small limits too
    write(t, "ffp-commands", b"\x01\0" + commands())
    write(t, "ffp-small-limits", b"\x05\0" +
          scsi_cmd(F | W, 1, 2048, cdb10(WRITE10, 0, 4), 1, b"\x11" * 512) +
          data_out(1, 1, 0, 512, b"\x22" * 512, final=False) +
          data_out(1, 1, 1, 1024, b"\x22" * 512) +
          scsi_cmd(F | R, 2, 8192, cdb10(READ10, 0, 16), 2) +
          scsi_cmd(F | R, 3, 8192, cdb10(READ10, 0, 16), 3) +
          scsi_cmd(F | R, 4, 8192, cdb10(READ10, 0, 16), 4))
    write(t, "ffp-held-io-abort", b"\x13\0" +
          scsi_cmd(F | R, 1, 4096, cdb10(READ10, 0, 8), 1) +
          tmf(1, 2, 1, 2) + tmf(5, 3, 0, 2) + logout(4, 2))


# ---- text and CHAP -----------------------------------------------------------------------
def text_seeds():
    t = "iscsi_text"
    write(t, "operational", b"\0\0" + text(*OPERATIONAL))
    write(t, "digests-lists", b"\0\0" + text("HeaderDigest=CRC32C,None", "DataDigest=None,CRC32C"))
    write(t, "hex-and-limits", b"\0\x0f" + text("MaxBurstLength=0x1000", "FirstBurstLength=65536",
                                                "MaxRecvDataSegmentLength=0x200",
                                                "MaxOutstandingR2T=65535"))
    write(t, "no-values", b"\0\0" + text("MaxBurstLength=Irrelevant", "InitialR2T=NotUnderstood",
                                         "X-com.example.Key=1", "IFMarkInt=2048~8192"))
    write(t, "small-answer", b"\x06\0" + text(*OPERATIONAL))
    write(t, "login-keys", b"\0\0" + text(*NORMAL, "AuthMethod=CHAP,None", "CHAP_A=5"))


def chap_seeds():
    t = "iscsi_chap"
    chap_id, challenge = 3, bytes([0x40, 0x47, 0x39, 0x26, 0xE3, 0x73, 0x9C, 0x24,
                                   0x23, 0x18, 0xA6, 0x45, 0x1D, 0x2E, 0x92, 0x0E])
    resp = hashlib.md5(bytes([chap_id]) + b"chapsecret1234" + challenge).hexdigest()
    flags = chap_id << 3
    write(t, "hex", b"\x10\0" + b"0x40473926e3739c242318a6451d2e920e\0")
    write(t, "hex-odd", b"\x04\0" + b"0XaBc\0")
    write(t, "base64", b"\x20\0" + b"0b" + base64.b64encode(challenge) + b"\0")
    write(t, "right-response", bytes([16, flags]) + b"0x00\0" +
          ("%s\0%s" % (INITIATOR, "0x" + resp)).encode())
    write(t, "mutual", bytes([16, flags | 4]) + b"0x00\0" +
          ("%s\0\0%d\0%s" % (INITIATOR, 77, "0b" + base64.b64encode(b"\x99" * 16).decode())).encode())
    write(t, "reflected", bytes([16, flags | 4]) + b"0x00\0" +
          ("%s\0\0%d\0%s" % (INITIATOR, 1, "0x" + challenge.hex())).encode())


# ---- SCSI commands -----------------------------------------------------------------------
def scsi_rec(cdb, data=b"", flags=0, data_len=None, cdb_len=16):
    cdb = cdb + b"\0" * (16 - len(cdb))
    n = len(data) if data_len is None else data_len
    return bytes([flags, cdb_len]) + cdb + struct.pack(">H", n) + data


def scsi_seeds():
    t = "scsi_cdb"
    write(t, "read-write-10", b"\0" + scsi_rec(cdb10(0x2A, 8, 2), b"\xab" * 1024) +
          scsi_rec(cdb10(0x28, 8, 2), data_len=1024))
    write(t, "read-write-16-4k", b"\x01" + scsi_rec(cdb16(0x8A, 3, 1), b"\xcd" * 4096) +
          scsi_rec(cdb16(0x88, 3, 1), data_len=4096))
    write(t, "inquiry-vpd", b"\0" + scsi_rec(bytes([0x12, 0, 0, 0, 96]), data_len=96) +
          scsi_rec(bytes([0x12, 1, 0x00, 0, 64]), data_len=64) +
          scsi_rec(bytes([0x12, 1, 0x83, 0, 255]), data_len=255) +
          scsi_rec(bytes([0x12, 1, 0xB0, 0, 64]), data_len=64) +
          scsi_rec(bytes([0x12, 1, 0xB2, 0, 64]), data_len=64))
    write(t, "capacity-lba-status", b"\0" +
          scsi_rec(bytes([0x9E, 0x10]) + b"\0" * 8 + b"\0\0\0\x20", data_len=32) +
          scsi_rec(bytes([0x25]) + b"\0" * 9, data_len=8) +
          scsi_rec(bytes([0x9E, 0x12]) + b"\0" * 8 + b"\0\0\0\x40", data_len=64))
    write(t, "mode-sense-select", b"\0" +
          scsi_rec(bytes([0x5A, 0, 0x3F, 0, 0, 0, 0, 1, 0]), data_len=256) +
          scsi_rec(bytes([0x1A, 0, 0x08, 0, 64]), data_len=64) +
          scsi_rec(bytes([0x55, 0x10, 0, 0, 0, 0, 0, 0, 28]),
                   bytes(8) + bytes([0x08, 0x12, 0x04]) + bytes(17)))
    unmap = struct.pack(">HH4x", 22, 16) + struct.pack(">QI4x", 4, 8)
    write(t, "unmap-write-same", b"\0" + scsi_rec(bytes([0x42]) + b"\0" * 6 + b"\0\x18", unmap) +
          scsi_rec(cdb16(0x93, 32, 16, flags=0x08), bytes(512)) +
          scsi_rec(cdb10(0x41, 64, 4), b"\x77" * 512))
    caw = bytes([0x89, 0]) + struct.pack(">Q", 8) + b"\0\0\0\x01\0\0"
    write(t, "compare-and-write", b"\0" + scsi_rec(cdb10(0x2A, 8, 1), b"\x10" * 512) +
          scsi_rec(caw, b"\x10" * 512 + b"\x20" * 512))
    write(t, "concurrent-write-caw", b"\x04" + scsi_rec(cdb10(0x2A, 8, 4), b"\x10" * 2048) +
          scsi_rec(caw, b"\x10" * 512 + b"\x20" * 512) +
          scsi_rec(cdb10(0x28, 8, 4), data_len=2048) +
          scsi_rec(bytes([0x35]) + b"\0" * 9))
    key_a, key_b = struct.pack(">Q", 0xA), struct.pack(">Q", 0xB)
    pr_out = lambda sa, typ: bytes([0x5F, sa, typ, 0, 0, 0, 0, 0, 24])
    write(t, "persistent-reservations", b"\0" +
          scsi_rec(pr_out(0, 0), bytes(8) + key_a + bytes(8)) +
          scsi_rec(pr_out(0, 0), bytes(8) + key_b + bytes(8), flags=1) +
          scsi_rec(pr_out(1, 1), key_a + bytes(16)) +
          scsi_rec(cdb10(0x2A, 0, 1), bytes(512), flags=1) +
          scsi_rec(bytes([0x5E, 0, 0, 0, 0, 0, 0, 0, 64]), data_len=64) +
          scsi_rec(bytes([0x5E, 1, 0, 0, 0, 0, 0, 0, 64]), data_len=64) +
          scsi_rec(pr_out(4, 1), key_b + key_a + bytes(8), flags=1))
    write(t, "reserve6-ua-errors", b"\0" + scsi_rec(bytes([0x16]) + b"\0" * 5, cdb_len=6) +
          scsi_rec(cdb10(0x28, 0, 1), data_len=512, flags=1) +
          scsi_rec(bytes([0x00]) + b"\0" * 5, flags=0x40, cdb_len=6) +
          scsi_rec(bytes([0x03, 0, 0, 0, 18]), data_len=18, cdb_len=6) +
          scsi_rec(cdb10(0x2F, 0, 1, flags=0x02), bytes(512), flags=0x0C) +
          scsi_rec(bytes([0xA0]) + b"\0" * 5 + b"\0\0\0\x20", data_len=32, cdb_len=12))


# ---- QED images --------------------------------------------------------------------------
def qed_patch(off, data):
    return struct.pack(">HB", off, len(data)) + data


def qed_seeds():
    t = "qed_image"
    header = struct.pack("<IIIIQQQQQII", 0x00444551, 4096, 1, 1, 0, 0, 0, 4096, 16 << 20, 0, 0)
    write(t, "valid", b"\0")
    write(t, "valid-header", b"\0" + qed_patch(0, header))
    write(t, "need-check-write", b"\x09")
    write(t, "backing-read-only", b"\x12")
    write(t, "small-cache", b"\x21" + qed_patch(16, struct.pack("<Q", 2)))
    write(t, "l1-entry-odd", b"\x01" + qed_patch(4096 + 8, struct.pack("<Q", 4096 * 3 + 512)))
    write(t, "l2-entry-past-end", b"\x01" + qed_patch(2 * 4096, struct.pack("<Q", 1 << 40)))
    write(t, "huge-size", b"\0" + qed_patch(48, struct.pack("<Q", 1 << 50)))
    write(t, "no-check-on-open", b"\x05" + qed_patch(4096, struct.pack("<Q", 4096)))


def pr_record(entries, rtype=0, holder=0xFF, generation=1, aptpl=True):
    """A stored reservation record (net/scsi_pr_store.c): entries are (key, name)."""
    blob = b"QPRS" + bytes([1, 1 if aptpl else 0, rtype, holder]) + struct.pack(">I", generation)
    blob += bytes([len(entries), 0, 0, 0])
    for key, name in entries:
        blob += struct.pack(">QH", key, len(name)) + name.encode()
    return blob


def pr_seeds():
    t = "pr_record"
    a = "iqn.1994-05.com.example:a,i,0x800000000001"
    b = "iqn.1994-05.com.example:b,i,0x800000000002"
    write(t, "empty", pr_record([]))
    write(t, "two-registered", pr_record([(0xA1, a), (0xB2, b)], generation=2))
    write(t, "write-exclusive", pr_record([(0xA1, a), (0xB2, b)], rtype=1, holder=0))
    write(t, "all-registrants", pr_record([(0xA1, a), (0xB2, b)], rtype=8))
    write(t, "aptpl-off", pr_record([(0xA1, a)], rtype=3, holder=0, aptpl=False))
    full = [(i + 1, "%s%02d" % (a, i)) for i in range(16)]
    write(t, "full", pr_record(full, rtype=5, holder=15, generation=0xFFFFFFFF))


# ---- HTTP requests -----------------------------------------------------------------------
def http_seeds():
    # The first byte picks the size of the pieces the request arrives in, less one.
    t = "http_request"
    write(t, "get-root", b"\x40GET / HTTP/1.1\r\nHost: 10.0.2.15\r\n\r\n")
    write(t, "get-metrics-1.0", b"\x08GET /metrics HTTP/1.0\r\nConnection: close\r\n\r\n")
    body = b'{"onto":"spare0"}'
    write(t, "post-snapshot", b"\xffPOST /api/v1/volumes/vol0/snapshot HTTP/1.1\r\nHost: x\r\n"
          b"Authorization: Bearer 0123456789abcdef0123\r\nContent-Type: application/json\r\n"
          b"Content-Length: %d\r\n\r\n" % len(body) + body)
    write(t, "chunked", b"\x10POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    write(t, "head-query", b"\x00HEAD /api/v1/images?x=1 HTTP/1.1\r\nA: b\r\n\r\n")


login_seeds()
text_seeds()
chap_seeds()
scsi_seeds()
qed_seeds()
pr_seeds()
http_seeds()
