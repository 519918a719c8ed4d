#!/usr/bin/env python3
"""TCP echo client for tests/system/test_net.sh.

Usage: tcp_client.py HOST PORT MIB [TIMEOUT_S]
Sends MIB mebibytes of pseudo-random data to the firmware's echo service while reading
the echo back, checks every byte, and prints "# tcp throughput: X MB/s" (bytes sent /
time from first byte sent to last byte received). Exit 0 on success, 1 with a message
saying what differed or what timed out.

Usage: tcp_client.py --iperf HOST PORT MIB [TIMEOUT_S]
One way, to lwIP's iperf2 server (the iperf key): sends the 24-byte iperf2 header and
MIB mebibytes, closes its side and waits for the server to close after consuming
everything; prints "# tcp throughput: X MB/s" for that.
"""
import os
import selectors
import socket
import sys
import time


def connect(host, port, deadline):
    # hostfwd accepts the connection before the guest listens: retry until data flows.
    last = None
    while time.monotonic() < deadline:
        try:
            return socket.create_connection((host, port), timeout=5)
        except OSError as e:
            last = e
            time.sleep(0.2)
    raise SystemExit("connect %s:%d failed: %s" % (host, port, last))


def send_one_way(host, port, mib, timeout):
    deadline = time.monotonic() + timeout
    total = int(mib * 1024 * 1024)
    block = bytes(range(256)) * 256
    sock = connect(host, port, deadline)
    sock.settimeout(max(1, deadline - time.monotonic()))
    start = time.monotonic()
    sock.sendall(bytes(24))  # iperf2 settings: no flags (no reverse test)
    sent = 0
    while sent < total:
        n = min(len(block), total - sent)
        sock.sendall(block[:n])
        sent += n
    sock.shutdown(socket.SHUT_WR)
    try:
        while sock.recv(65536):
            pass
    except OSError as e:
        raise SystemExit("no orderly close from the server after %d bytes: %s" % (sent, e))
    elapsed = time.monotonic() - start
    sock.close()
    print("# tcp throughput: %.1f MB/s (%d MiB received in %.2f s)" % (total / elapsed / 1e6, mib, elapsed))


def main():
    if sys.argv[1] == "--iperf":
        args = sys.argv[2:]
        send_one_way(args[0], int(args[1]), float(args[2]), float(args[3]) if len(args) > 3 else 120)
        return
    host, port, mib = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 120
    deadline = time.monotonic() + timeout
    total = int(mib * 1024 * 1024)
    data = os.urandom(total)
    sock = connect(host, port, deadline)
    sock.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
    sent, received, chunks = 0, 0, []
    start = time.monotonic()
    while received < total:
        if time.monotonic() > deadline:
            raise SystemExit("timed out: sent %d, received %d of %d bytes" % (sent, received, total))
        for key, events in sel.select(timeout=1):
            if events & selectors.EVENT_WRITE and sent < total:
                sent += sock.send(data[sent:sent + 65536])
                if sent == total:
                    sel.modify(sock, selectors.EVENT_READ)
            if events & selectors.EVENT_READ:
                buf = sock.recv(1 << 20)
                if not buf:
                    raise SystemExit("connection closed after %d of %d bytes echoed" % (received, total))
                chunks.append(buf)
                received += len(buf)
    elapsed = time.monotonic() - start
    echoed = b"".join(chunks)
    if echoed != data:
        at = next(i for i in range(total) if echoed[i] != data[i])
        raise SystemExit("echo differs at byte %d: expected 0x%02x, got 0x%02x" % (at, data[at], echoed[at]))
    sock.close()
    print("# tcp throughput: %.1f MB/s (%d MiB echoed in %.2f s)" % (total / elapsed / 1e6, mib, elapsed))


if __name__ == "__main__":
    main()
