#!/usr/bin/env python3
"""A small iSCSI initiator (RFC 7143) for the system tests; Python 3 standard library only.

    s = Session(host, port, "iqn.x:me", target="iqn.y:vol0",
                chap=("user", "secret"), mutual=("tuser", "tsecret"))
    s.login()                      # LoginRefused(status) when the target says no
    s.write16(lba, data); data = s.read16(lba, blocks); s.test_unit_ready()
    s.logout()

What it covers: TCP connect with retry; PDUs (48-byte BHS, AHS skipped, data padded to
4 bytes, no digests); login through the security stage (AuthMethod None or CHAP with MD5,
mutual CHAP checking the target's answer) and the operational stage; SessionType Normal or
Discovery with Text SendTargets; SCSI commands one at a time (READ(16), WRITE(16) with
immediate data, unsolicited Data-Out when InitialR2T=No and Data-Out answering R2Ts, each
PDU no longer than the target's MaxRecvDataSegmentLength, each burst within
FirstBurstLength / MaxBurstLength; TEST UNIT READY, READ CAPACITY(16)); CmdSN, ExpStatSN
and the target's MaxCmdSN (a closed window waits, pinging with an immediate NOP-Out);
NOP-Out answers to the target's NOP-In pings; task management (ABORT TASK, LOGICAL UNIT
RESET); Logout. Raw mode: send_raw() / send_pdu() put hand-built bytes or PDUs on the
wire, recv_pdu() takes whatever comes back.

Every socket operation is bounded by the session's timeout; a silent or closed
connection raises ConnectionDropped, an unexpected answer ProtocolError, a SCSI status
other than GOOD ScsiStatusError.
"""
import hashlib
import os
import socket
import struct
import time

# ---- wire constants (RFC 7143 11) -------------------------------------------------------
OP_NOP_OUT, OP_SCSI_CMD, OP_TMF_REQ, OP_LOGIN_REQ = 0x00, 0x01, 0x02, 0x03
OP_TEXT_REQ, OP_DATA_OUT, OP_LOGOUT_REQ = 0x04, 0x05, 0x06
OP_NOP_IN, OP_SCSI_RSP, OP_TMF_RSP, OP_LOGIN_RSP = 0x20, 0x21, 0x22, 0x23
OP_TEXT_RSP, OP_DATA_IN, OP_LOGOUT_RSP = 0x24, 0x25, 0x26
OP_R2T, OP_ASYNC, OP_REJECT = 0x31, 0x32, 0x3F
IMMEDIATE = 0x40
F_FINAL = 0x80
F_READ, F_WRITE, ATTR_SIMPLE = 0x40, 0x20, 0x01
F_TRANSIT, F_CONTINUE = 0x80, 0x40
F_DATA_STATUS = 0x01
RESERVED_TAG = 0xFFFFFFFF
STAGE_SECURITY, STAGE_OPERATIONAL, STAGE_FULL = 0, 1, 3
TMF_ABORT_TASK, TMF_LUN_RESET = 1, 5
STAT_GOOD, STAT_CHECK_CONDITION, STAT_BUSY = 0x00, 0x02, 0x08

OPCODE_NAMES = {
    OP_NOP_IN: "NOP-In", OP_SCSI_RSP: "SCSI Response", OP_TMF_RSP: "TMF Response",
    OP_LOGIN_RSP: "Login Response", OP_TEXT_RSP: "Text Response", OP_DATA_IN: "Data-In",
    OP_LOGOUT_RSP: "Logout Response", OP_R2T: "R2T", OP_ASYNC: "Async Message",
    OP_REJECT: "Reject",
}


class ISCSIError(Exception):
    pass


class ConnectionDropped(ISCSIError):
    """The target closed the connection, or said nothing within the timeout."""


class ProtocolError(ISCSIError):
    """An answer that does not fit the exchange (a Reject, a wrong opcode...)."""


class LoginRefused(ISCSIError):
    """A Login Response with a non-zero status class (2: initiator error, 3: target)."""

    def __init__(self, status_class, status_detail, text=None):
        super().__init__("login refused: status class %d detail %d%s" % (
            status_class, status_detail, " (%s)" % text if text else ""))
        self.status_class = status_class
        self.status_detail = status_detail


class AuthError(ISCSIError):
    """The target failed to prove itself (mutual CHAP) or skipped authentication."""


class ScsiStatusError(ISCSIError):
    def __init__(self, status, sense=b""):
        name = {STAT_CHECK_CONDITION: "CHECK CONDITION", STAT_BUSY: "BUSY"}.get(status, "")
        super().__init__("SCSI status 0x%02x %s%s" % (
            status, name, " sense %s" % sense[:18].hex() if sense else ""))
        self.status = status
        self.sense = sense


# ---- PDUs ------------------------------------------------------------------------------
def pad4(n):
    return (4 - n % 4) % 4


class PDU:
    """A PDU: its 48-byte BHS (a bytearray to edit in place) and its data segment."""

    def __init__(self, opcode=0, flags=0, data=b"", immediate=False, bhs=None):
        if bhs is not None:
            self.bhs = bytearray(bhs)
        else:
            self.bhs = bytearray(48)
            self.bhs[0] = (opcode & 0x3F) | (IMMEDIATE if immediate else 0)
            self.bhs[1] = flags
        self.data = bytes(data)

    opcode = property(lambda self: self.bhs[0] & 0x3F)
    flags = property(lambda self: self.bhs[1])

    def u32(self, off):
        return struct.unpack_from(">I", self.bhs, off)[0]

    def set_u32(self, off, value):
        struct.pack_into(">I", self.bhs, off, value & 0xFFFFFFFF)

    itt = property(lambda self: self.u32(16), lambda self, v: self.set_u32(16, v))
    ttt = property(lambda self: self.u32(20), lambda self, v: self.set_u32(20, v))
    statsn = property(lambda self: self.u32(24))
    exp_cmdsn = property(lambda self: self.u32(28))
    max_cmdsn = property(lambda self: self.u32(32))

    def encode(self):
        bhs = bytearray(self.bhs)
        bhs[4] = 0  # no AHS
        n = len(self.data)
        bhs[5:8] = n.to_bytes(3, "big")
        return bytes(bhs) + self.data + b"\0" * pad4(n)

    def name(self):
        return OPCODE_NAMES.get(self.opcode, "opcode 0x%02x" % self.opcode)


def text_encode(pairs):
    """key=value pairs (a list of tuples, order kept) as NUL-terminated text."""
    return b"".join(("%s=%s" % kv).encode() + b"\0" for kv in pairs)


def text_decode(data):
    out = []
    for item in data.split(b"\0"):
        if item:
            k, _, v = item.decode(errors="replace").partition("=")
            out.append((k, v))
    return out


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        try:
            chunk = sock.recv(n - len(buf))
        except socket.timeout:
            raise ConnectionDropped("no answer within %.0f s" % (sock.gettimeout() or 0))
        except OSError as e:
            raise ConnectionDropped("connection error: %s" % e)
        if not chunk:
            raise ConnectionDropped("connection closed by the target")
        buf += chunk
    return bytes(buf)


def recv_pdu(sock):
    bhs = recv_exact(sock, 48)
    ahs = bhs[4] * 4
    dlen = int.from_bytes(bhs[5:8], "big")
    rest = recv_exact(sock, ahs + dlen + pad4(dlen)) if ahs + dlen else b""
    return PDU(bhs=bhs, data=rest[ahs:ahs + dlen])


def connect(host, port, timeout=10.0, retry_for=30.0):
    """A TCP connection, retried until retry_for seconds have passed. QEMU's hostfwd
    accepts before the guest listens: a connection closed at once counts as a failure
    only to the caller's first exchange, so callers retry logins as well."""
    deadline = time.monotonic() + retry_for
    last = None
    while True:
        try:
            s = socket.create_connection((host, port), timeout=timeout)
            s.settimeout(timeout)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return s
        except OSError as e:
            last = e
        if time.monotonic() >= deadline:
            raise ConnectionDropped("connect %s:%d: %s" % (host, port, last))
        time.sleep(0.2)


def new_isid():
    """A random ISID (type 2: 'random', RFC 7143 10.12.5)."""
    return bytes([0x80]) + os.urandom(5)


def chap_md5(ident, secret, challenge):
    return hashlib.md5(bytes([ident]) + secret.encode() + challenge).digest()


def chap_decode(value):
    if value[:2].lower() == "0x":
        v = value[2:]
        return bytes.fromhex(v if len(v) % 2 == 0 else "0" + v)
    if value[:2].lower() == "0b":
        import base64
        return base64.b64decode(value[2:])
    raise ProtocolError("CHAP value not hex or base64: %r" % value)


# ---- sessions --------------------------------------------------------------------------
class Session:
    """One connection, one session (MaxConnections=1, ErrorRecoveryLevel=0)."""

    def __init__(self, host, port, initiator, target=None, discovery=False, isid=None,
                 tsih=0, chap=None, mutual=None, timeout=10.0, connect_retry=5.0,
                 mrdsl=262144, max_burst=1048576, first_burst=262144, immediate_data=True,
                 initial_r2t=False):
        self.host, self.port = host, port
        self.initiator, self.target, self.discovery = initiator, target, discovery
        self.isid = isid or new_isid()
        self.tsih = tsih
        self.chap, self.mutual = chap, mutual
        self.timeout, self.connect_retry = timeout, connect_retry
        self.offer = dict(mrdsl=mrdsl, max_burst=max_burst, first_burst=first_burst,
                          immediate_data=immediate_data, initial_r2t=initial_r2t)
        self.sock = None
        self.cmdsn = 1
        self.exp_statsn = 0
        self.max_cmdsn = 1
        self.next_itt = 1
        self.logged_in = False
        self.login_text = []  # every (key, value) the target sent during login
        self.chap_challenge = None  # (CHAP_I, CHAP_C) as the target offered them
        self.stats = {"nop_in_answered": 0, "window_waits": 0}
        # negotiated (RFC 7143 defaults until the login says otherwise)
        self.target_mrdsl = 8192
        self.max_burst = 262144
        self.first_burst = 65536
        self.immediate_data = True
        self.initial_r2t = True
        self.block_size = 512

    # ---- raw mode
    def open(self):
        if self.sock is None:
            self.sock = connect(self.host, self.port, self.timeout, self.connect_retry)
        return self.sock

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None
        self.logged_in = False

    def send_raw(self, data):
        try:
            self.open().sendall(data)
        except socket.timeout:
            raise ConnectionDropped("send blocked for %.0f s" % self.timeout)
        except OSError as e:
            raise ConnectionDropped("send: %s" % e)

    def send_pdu(self, pdu):
        self.send_raw(pdu.encode())

    def recv_pdu(self, timeout=None):
        sock = self.open()
        if timeout is not None:
            sock.settimeout(timeout)
        try:
            pdu = recv_pdu(sock)
        finally:
            if timeout is not None and self.sock is not None:
                self.sock.settimeout(self.timeout)
        self._track(pdu)
        return pdu

    def _track(self, pdu):
        """Numbering from a target PDU: ExpCmdSN/MaxCmdSN, and ExpStatSN from a PDU
        that carries a status (StatSN is valid)."""
        op = pdu.opcode
        if op in (OP_NOP_IN, OP_SCSI_RSP, OP_TMF_RSP, OP_LOGIN_RSP, OP_TEXT_RSP, OP_DATA_IN,
                  OP_LOGOUT_RSP, OP_R2T, OP_ASYNC, OP_REJECT):
            exp, mx = pdu.exp_cmdsn, pdu.max_cmdsn
            # RFC 7143 4.2.2.1: a MaxCmdSN below ExpCmdSN - 1 is to be ignored; the
            # latest valid one counts (MaxCmdSN = ExpCmdSN - 1 is a closed window).
            if self.logged_in and not sn_lt(mx, (exp - 1) & 0xFFFFFFFF):
                self.max_cmdsn = mx
        carries_status = op in (OP_SCSI_RSP, OP_TMF_RSP, OP_LOGIN_RSP, OP_TEXT_RSP,
                                OP_LOGOUT_RSP, OP_ASYNC, OP_REJECT) or \
            (op == OP_DATA_IN and pdu.flags & F_DATA_STATUS) or \
            (op == OP_NOP_IN and pdu.itt != RESERVED_TAG)
        if carries_status and not sn_lt(pdu.statsn + 1, self.exp_statsn):
            self.exp_statsn = (pdu.statsn + 1) & 0xFFFFFFFF

    def new_itt(self):
        itt = self.next_itt
        self.next_itt = (self.next_itt + 1) & 0x7FFFFFFF or 1
        return itt

    def _request(self, opcode, flags=0, data=b"", immediate=False, lun=0, itt=None):
        """A request PDU with ITT, CmdSN and ExpStatSN filled in (CmdSN not advanced)."""
        p = PDU(opcode, flags, data, immediate)
        struct.pack_into(">Q", p.bhs, 8, lun << 48)
        p.itt = self.new_itt() if itt is None else itt
        p.set_u32(24, self.cmdsn)
        p.set_u32(28, self.exp_statsn)
        return p

    # ---- login
    def _login_pdu(self, csg, nsg, transit, pairs, cont=False):
        flags = (csg << 2) | (nsg if transit else 0)
        if transit:
            flags |= F_TRANSIT
        if cont:
            flags |= F_CONTINUE
        p = PDU(OP_LOGIN_REQ, flags, text_encode(pairs), immediate=True)
        p.bhs[2] = p.bhs[3] = 0  # VersionMax, VersionMin
        p.bhs[8:14] = self.isid
        struct.pack_into(">H", p.bhs, 14, self.tsih)
        p.itt = self.login_itt
        struct.pack_into(">H", p.bhs, 20, 0)  # CID
        p.set_u32(24, self.cmdsn)
        p.set_u32(28, self.exp_statsn)
        return p

    def login_exchange(self, csg, nsg, transit, pairs, cont=False):
        """Sends one Login Request, returns (response PDU, its text as a dict). Raises
        LoginRefused on a non-zero status class."""
        self.send_pdu(self._login_pdu(csg, nsg, transit, pairs, cont))
        rsp = self.recv_pdu()
        if rsp.opcode != OP_LOGIN_RSP:
            raise ProtocolError("login: got %s" % rsp.name())
        keys = text_decode(rsp.data)
        self.login_text += keys
        if rsp.bhs[36] != 0:
            raise LoginRefused(rsp.bhs[36], rsp.bhs[37])
        return rsp, dict(keys)

    def _operational_keys(self):
        o = self.offer
        keys = [("HeaderDigest", "None"), ("DataDigest", "None")]
        if self.discovery:
            return keys + [("MaxRecvDataSegmentLength", str(o["mrdsl"]))]
        return keys + [
            ("MaxConnections", "1"), ("ErrorRecoveryLevel", "0"),
            ("InitialR2T", "Yes" if o["initial_r2t"] else "No"),
            ("ImmediateData", "Yes" if o["immediate_data"] else "No"),
            ("MaxRecvDataSegmentLength", str(o["mrdsl"])),
            ("MaxBurstLength", str(o["max_burst"])),
            ("FirstBurstLength", str(o["first_burst"])),
            ("MaxOutstandingR2T", "1"), ("DataPDUInOrder", "Yes"),
            ("DataSequenceInOrder", "Yes"), ("DefaultTime2Wait", "0"),
            ("DefaultTime2Retain", "0"),
        ]

    def login_names(self):
        pairs = [("InitiatorName", self.initiator),
                 ("SessionType", "Discovery" if self.discovery else "Normal")]
        if not self.discovery:
            pairs.append(("TargetName", self.target))
        return pairs

    def login(self):
        """The whole login; afterwards the session is in the full feature phase."""
        self.open()
        self.login_itt = self.new_itt()
        self.cmdsn = 1
        names = self.login_names()
        if self.chap:
            self._login_chap(names)
        else:
            rsp, keys = self.login_exchange(STAGE_SECURITY, STAGE_OPERATIONAL, True,
                                            names + [("AuthMethod", "None")])
            if keys.get("AuthMethod") not in (None, "None"):
                raise ProtocolError("target chose AuthMethod=%s" % keys.get("AuthMethod"))
            while not rsp.flags & F_TRANSIT:  # the target holds us in the stage
                rsp, keys = self.login_exchange(STAGE_SECURITY, STAGE_OPERATIONAL, True, [])
        self._login_operational()

    def _login_chap(self, names):
        user, secret = self.chap
        rsp, keys = self.login_exchange(STAGE_SECURITY, STAGE_OPERATIONAL, False,
                                        names + [("AuthMethod", "CHAP")])
        if keys.get("AuthMethod") != "CHAP":
            raise AuthError("target did not choose CHAP (AuthMethod=%s)" % keys.get("AuthMethod"))
        rsp, keys = self.login_exchange(STAGE_SECURITY, STAGE_OPERATIONAL, False,
                                        [("CHAP_A", "5")])
        if keys.get("CHAP_A") != "5" or "CHAP_I" not in keys or "CHAP_C" not in keys:
            raise ProtocolError("no CHAP challenge: %r" % keys)
        self.chap_challenge = (keys["CHAP_I"], keys["CHAP_C"])
        ident = int(keys["CHAP_I"], 0)
        answer = chap_md5(ident, secret, chap_decode(keys["CHAP_C"]))
        pairs = [("CHAP_N", user), ("CHAP_R", "0x" + answer.hex())]
        if self.mutual:
            my_id, my_challenge = os.urandom(1)[0], os.urandom(16)
            pairs += [("CHAP_I", str(my_id)), ("CHAP_C", "0x" + my_challenge.hex())]
        rsp, keys = self.login_exchange(STAGE_SECURITY, STAGE_OPERATIONAL, True, pairs)
        if self.mutual:
            muser, msecret = self.mutual
            if keys.get("CHAP_N") != muser or "CHAP_R" not in keys:
                raise AuthError("target gave no mutual CHAP answer as %r: %r" % (muser, keys))
            if chap_decode(keys["CHAP_R"]) != chap_md5(my_id, msecret, my_challenge):
                raise AuthError("the target's mutual CHAP answer is wrong")
        if not rsp.flags & F_TRANSIT:
            raise ProtocolError("target did not end the security stage")

    def _login_operational(self):
        rsp, keys = self.login_exchange(STAGE_OPERATIONAL, STAGE_FULL, True,
                                        self._operational_keys())
        answers = dict(keys)
        while not rsp.flags & F_TRANSIT:
            rsp, keys = self.login_exchange(STAGE_OPERATIONAL, STAGE_FULL, True, [])
            answers.update(keys)
        self._apply(answers)
        self.tsih = struct.unpack_from(">H", rsp.bhs, 14)[0]
        self.cmdsn = rsp.exp_cmdsn
        self.max_cmdsn = rsp.max_cmdsn
        self.logged_in = True

    def _apply(self, keys):
        num = lambda k, d: int(keys[k]) if keys.get(k, "").isdigit() else d
        self.target_mrdsl = num("MaxRecvDataSegmentLength", 8192)
        self.max_burst = num("MaxBurstLength", min(262144, self.offer["max_burst"]))
        self.first_burst = num("FirstBurstLength", min(65536, self.offer["first_burst"]))
        self.immediate_data = keys.get("ImmediateData", "Yes") == "Yes" and self.offer["immediate_data"]
        self.initial_r2t = keys.get("InitialR2T", "Yes") == "Yes" or self.offer["initial_r2t"]

    # ---- the full feature phase: one exchange at a time
    def wait_window(self, deadline):
        """Waits until CmdSN is within [ExpCmdSN, MaxCmdSN]; pings to learn MaxCmdSN."""
        while sn_lt(self.max_cmdsn, self.cmdsn):
            self.stats["window_waits"] += 1
            if time.monotonic() > deadline:
                raise ProtocolError("command window closed for too long (CmdSN %d > MaxCmdSN %d)"
                                    % (self.cmdsn, self.max_cmdsn))
            itt = self.new_itt()
            p = self._request(OP_NOP_OUT, F_FINAL, immediate=True, itt=itt)
            p.ttt = RESERVED_TAG
            self.send_pdu(p)
            self.wait_for(itt, deadline)
            time.sleep(0.05)

    def answer_nop_in(self, pdu):
        """A NOP-In with a TTT asks for a NOP-Out echoing it (RFC 7143 11.19)."""
        if pdu.ttt == RESERVED_TAG:
            return
        p = self._request(OP_NOP_OUT, F_FINAL, immediate=True, itt=RESERVED_TAG)
        p.ttt = pdu.ttt
        p.bhs[8:16] = pdu.bhs[8:16]
        self.send_pdu(p)
        self.stats["nop_in_answered"] += 1

    def wait_for(self, itt, deadline, on_pdu=None):
        """Receives until the final response for itt; handles NOP-In pings. on_pdu(pdu)
        sees every PDU for itt before the final one (Data-In, R2T)."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ConnectionDropped("no response for task 0x%x" % itt)
            pdu = self.recv_pdu(timeout=min(left, self.timeout))
            op = pdu.opcode
            if op == OP_NOP_IN and pdu.itt == RESERVED_TAG:
                self.answer_nop_in(pdu)
                continue
            if op == OP_ASYNC:
                raise ProtocolError("async message event %d" % pdu.bhs[36])
            if op == OP_REJECT:
                raise ProtocolError("Reject reason 0x%02x" % pdu.bhs[2])
            if pdu.itt != itt:
                continue  # a late answer to something given up on
            if op in (OP_DATA_IN, OP_R2T):
                if on_pdu:
                    on_pdu(pdu)
                if op == OP_DATA_IN and pdu.flags & F_DATA_STATUS:
                    return pdu
                continue
            return pdu

    def command(self, cdb, data_out=None, read_len=0, lun=0, timeout=None):
        """A SCSI command, its data both ways; returns the data read. Raises
        ScsiStatusError for any status but GOOD."""
        deadline = time.monotonic() + (timeout or self.timeout)
        self.wait_window(deadline)
        edtl = len(data_out) if data_out is not None else read_len
        flags = F_FINAL | ATTR_SIMPLE
        flags |= F_WRITE if data_out is not None else (F_READ if read_len else 0)
        immediate = b""
        if data_out and self.immediate_data:
            immediate = data_out[:min(self.first_burst, self.target_mrdsl)]
        unsolicited_end = len(immediate)
        if data_out and not self.initial_r2t:
            unsolicited_end = min(len(data_out), self.first_burst)
        if unsolicited_end > len(immediate):
            flags &= ~F_FINAL  # unsolicited Data-Out follows
        cmd = self._request(OP_SCSI_CMD, flags, immediate, lun=lun)
        cmd.set_u32(20, edtl)
        cmd.bhs[32:48] = cdb.ljust(16, b"\0")
        itt = cmd.itt
        self.cmdsn = (self.cmdsn + 1) & 0xFFFFFFFF
        self.send_pdu(cmd)
        if unsolicited_end > len(immediate):
            self._send_data(itt, RESERVED_TAG, data_out, len(immediate), unsolicited_end, lun)
        got = bytearray(read_len)

        def on_pdu(pdu):
            if pdu.opcode == OP_R2T:
                off, want = pdu.u32(40), pdu.u32(44)
                if data_out is None or off + want > len(data_out):
                    raise ProtocolError("R2T outside the data: %d+%d" % (off, want))
                self._send_data(itt, pdu.ttt, data_out, off, off + want, lun)
            else:
                off = pdu.u32(40)
                if off + len(pdu.data) > read_len:
                    raise ProtocolError("Data-In beyond the buffer")
                got[off:off + len(pdu.data)] = pdu.data

        rsp = self.wait_for(itt, deadline, on_pdu)
        status = rsp.bhs[3]
        if rsp.opcode == OP_SCSI_RSP and rsp.bhs[2] != 0:
            raise ProtocolError("SCSI Response: response 0x%02x" % rsp.bhs[2])
        if status != STAT_GOOD:
            sense = rsp.data[2:] if rsp.opcode == OP_SCSI_RSP else b""
            raise ScsiStatusError(status, sense)
        return bytes(got)

    def _send_data(self, itt, ttt, data, start, end, lun):
        """Data-Out PDUs for data[start:end]: one sequence, each PDU within the target's
        MaxRecvDataSegmentLength, DataSN from 0, F on the last."""
        datasn, off = 0, start
        while off < end:
            n = min(self.target_mrdsl, end - off)
            flags = F_FINAL if off + n == end else 0
            p = PDU(OP_DATA_OUT, flags, data[off:off + n])
            struct.pack_into(">Q", p.bhs, 8, lun << 48)
            p.itt, p.ttt = itt, ttt
            p.set_u32(28, self.exp_statsn)
            p.set_u32(36, datasn)
            p.set_u32(40, off)
            self.send_pdu(p)
            datasn += 1
            off += n

    def test_unit_ready(self, timeout=None):
        return self.command(b"\x00" * 6, timeout=timeout)

    def read_capacity16(self):
        """(number of blocks, block size)."""
        d = self.command(b"\x9e\x10" + b"\0" * 8 + struct.pack(">I", 32) + b"\0\0", read_len=32)
        last, bs = struct.unpack_from(">QI", d)
        self.block_size = bs
        return last + 1, bs

    def read16(self, lba, blocks, timeout=None):
        cdb = b"\x88\x00" + struct.pack(">QI", lba, blocks) + b"\0\0"
        return self.command(cdb, read_len=blocks * self.block_size, timeout=timeout)

    def write16(self, lba, data, timeout=None):
        if len(data) % self.block_size:
            raise ValueError("data not a whole number of blocks")
        cdb = b"\x8a\x00" + struct.pack(">QI", lba, len(data) // self.block_size) + b"\0\0"
        self.command(cdb, data_out=data, timeout=timeout)

    def nop(self, timeout=None):
        """A NOP-Out ping the target answers with a NOP-In."""
        deadline = time.monotonic() + (timeout or self.timeout)
        p = self._request(OP_NOP_OUT, F_FINAL, immediate=True)
        p.ttt = RESERVED_TAG
        self.send_pdu(p)
        return self.wait_for(p.itt, deadline)

    def tmf(self, function, ref_itt=RESERVED_TAG, ref_cmdsn=0, lun=0, timeout=None):
        """A task management request (immediate); returns the TMF response code."""
        deadline = time.monotonic() + (timeout or self.timeout)
        p = self._request(OP_TMF_REQ, F_FINAL | function, immediate=True, lun=lun)
        p.set_u32(20, ref_itt)
        p.set_u32(32, ref_cmdsn if ref_itt != RESERVED_TAG else self.cmdsn)
        self.send_pdu(p)
        rsp = self.wait_for(p.itt, deadline)
        if rsp.opcode != OP_TMF_RSP:
            raise ProtocolError("TMF: got %s" % rsp.name())
        return rsp.bhs[2]

    def abort_task(self, itt, cmdsn, **kw):
        return self.tmf(TMF_ABORT_TASK, itt, cmdsn, **kw)

    def lun_reset(self, **kw):
        return self.tmf(TMF_LUN_RESET, **kw)

    def text(self, pairs, timeout=None):
        """A Text exchange (continued responses followed); returns the pairs."""
        deadline = time.monotonic() + (timeout or self.timeout)
        self.wait_window(deadline)
        out, ttt, data = [], RESERVED_TAG, text_encode(pairs)
        itt = self.new_itt()
        while True:
            p = self._request(OP_TEXT_REQ, F_FINAL, data, itt=itt)
            p.ttt = ttt
            self.cmdsn = (self.cmdsn + 1) & 0xFFFFFFFF
            self.send_pdu(p)
            rsp = self.wait_for(itt, deadline)
            if rsp.opcode != OP_TEXT_RSP:
                raise ProtocolError("text: got %s" % rsp.name())
            out.append(rsp.data)
            if rsp.flags & F_FINAL:
                return text_decode(b"".join(out))
            ttt, data = rsp.ttt, b""

    def send_targets(self, which="All"):
        """[(TargetName, [TargetAddress...])]."""
        targets = []
        for k, v in self.text([("SendTargets", which)]):
            if k == "TargetName":
                targets.append((v, []))
            elif k == "TargetAddress" and targets:
                targets[-1][1].append(v)
        return targets

    def logout(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        try:
            p = self._request(OP_LOGOUT_REQ, F_FINAL | 0, immediate=True)
            self.send_pdu(p)
            rsp = self.wait_for(p.itt, deadline)
            if rsp.opcode != OP_LOGOUT_RSP or rsp.bhs[2] != 0:
                raise ProtocolError("logout: %s response %d" % (rsp.name(), rsp.bhs[2]))
        finally:
            self.close()


def sn_lt(a, b):
    """Serial number arithmetic, 32 bits (RFC 1982): a < b."""
    return a != b and ((b - a) & 0xFFFFFFFF) < 0x80000000


def login_with_retry(make_session, deadline):
    """Logs a fresh session in, retrying dropped connections (not refusals) until the
    monotonic deadline; returns the session."""
    last = None
    while time.monotonic() < deadline:
        s = make_session()
        try:
            s.login()
            return s
        except (ConnectionDropped, ConnectionResetError) as e:
            last = e
            s.close()
            time.sleep(0.3)
        except BaseException:
            s.close()
            raise
    raise ConnectionDropped("no login before the deadline: %s" % last)
