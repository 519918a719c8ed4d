#!/usr/bin/env python3
"""Hostile clients of the appliance's web server, for tests/system/test_http.sh.

Usage: http_hostile.py HOST PORT
Opens connections that never finish their request (slowloris: more than the server's
8 connection slots, each trickling header bytes), sends an oversized header block, a
request of garbage bytes and a chunked POST, and checks that each bad request gets its
4xx status; then, with the slow connections still open, fetches / and checks it is
served. Prints one line per check; exit 0 when all passed, 1 otherwise.
"""
import socket
import sys
import time

HOST, PORT = sys.argv[1], int(sys.argv[2])
failures = 0


def check(ok, what):
    global failures
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        failures += 1


def exchange(data, timeout=30):
    """Sends data, returns everything the server sent until it closed (b"" on a reset)."""
    s = socket.create_connection((HOST, PORT), timeout=timeout)
    got = b""
    try:
        s.sendall(data)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except OSError:
        pass
    finally:
        s.close()
    return got


def status_of(reply):
    parts = reply.split(b" ", 2)
    return int(parts[1]) if len(parts) > 2 and parts[0].startswith(b"HTTP/1.") else None


slow = []
for i in range(12):  # more than the 8 slots: the oldest are evicted, never the server
    s = socket.create_connection((HOST, PORT), timeout=10)
    s.sendall(b"GET / HTTP/1.1\r\nHost: slow\r\nX-Slow-%d: " % i)
    slow.append(s)
    time.sleep(0.05)

reply = exchange(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 5000 + b"\r\n\r\n")
check(status_of(reply) == 431, "oversized header: %r" % reply[:40])
reply = exchange(b"\x00\xff\x13garbage\r\n\r\n")
check(status_of(reply) == 400, "garbage: %r" % reply[:40])
reply = exchange(b"POST /api/v1/volumes/x/snapshot HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"5\r\nhello\r\n0\r\n\r\n")
check(status_of(reply) == 411, "chunked body: %r" % reply[:40])
reply = exchange(b"DELETE / HTTP/1.1\r\n\r\n")
check(status_of(reply) == 405, "unknown method: %r" % reply[:40])
reply = exchange(b"POST / HTTP/1.1\r\nContent-Length: 999999\r\n\r\n")
check(status_of(reply) == 413, "huge body: %r" % reply[:40])

for s in slow:  # a trickle on each: still within the request bounds
    try:
        s.sendall(b"x")
    except OSError:
        pass
reply = exchange(b"GET / HTTP/1.1\r\nHost: next\r\n\r\n")
check(status_of(reply) == 200 and b"</html>" in reply,
      "the page is served with slow clients around: %r" % reply[:40])
for s in slow:
    s.close()
sys.exit(1 if failures else 0)
