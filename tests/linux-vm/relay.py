#!/usr/bin/env python3
"""QEMU guestfwd relay: joins the guest's connection (our stdin and stdout, as QEMU's
guestfwd=...-cmd: hands it over) to 127.0.0.1:PORT, so that a guest under restrict=on
reaches a port forwarded to the host's loopback. Each direction is copied until its end,
which is passed on as a half-close; we exit when both have ended.

    usage: relay.py PORT
"""
import os
import socket
import sys
import threading


def guest_to_host(sock):
    while True:
        data = os.read(0, 65536)
        if not data:
            break
        sock.sendall(data)
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def host_to_guest(sock):
    while True:
        try:
            data = sock.recv(65536)
        except OSError:
            break
        if not data:
            break
        view = memoryview(data)
        while view:
            view = view[os.write(1, view):]
    os.close(1)


def main():
    sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    up = threading.Thread(target=guest_to_host, args=(sock,), daemon=True)
    up.start()
    host_to_guest(sock)
    # The host side has ended: the guest's remaining bytes have nowhere to go.
    sys.exit(0)


if __name__ == "__main__":
    main()
