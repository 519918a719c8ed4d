#!/usr/bin/env python3
"""Fetches one window of the appliance's profile (the profile and profile_port keys).

Usage: profile_fetch.py HOST PORT [TIMEOUT_S]
Connects (retrying while QEMU's port forwarding accepts before the guest listens),
reads the dump until the appliance closes, and writes it to stdout. Exit 0 when the
dump is whole (its last line is "end"), 1 with a message otherwise.
"""
import socket
import sys
import time


def fetch(host, port, timeout):
    deadline = time.monotonic() + timeout
    last = "no attempt"
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=5) as sock:
                sock.settimeout(max(1, deadline - time.monotonic()))
                chunks = []
                while True:
                    data = sock.recv(65536)
                    if not data:
                        break
                    chunks.append(data)
            text = b"".join(chunks).decode("ascii", "replace")
            if text.endswith("end\n"):
                return text
            last = "incomplete dump (%d bytes)" % len(text)
        except OSError as e:
            last = str(e)
        time.sleep(0.2)
    raise SystemExit("profile from %s:%d: %s" % (host, port, last))


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 30
    sys.stdout.write(fetch(sys.argv[1], int(sys.argv[2]), timeout))


if __name__ == "__main__":
    main()
