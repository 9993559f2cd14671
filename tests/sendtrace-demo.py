#!/usr/bin/env python3
"""sendtrace-demo.py: the end-to-end scenario: SCM_RIGHTS over unix, sendto on UDP, os.sendfile on TCP."""
import os
import socket
import sys
import tempfile

# A unix stream pair: sendmsg with two iovecs and one fd passed.
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
r, w = os.pipe()
a.sendmsg([b"hello", b"world!"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, r.to_bytes(4, sys.byteorder))])

# UDP: sendto a bound receiver on loopback.
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.bind(("127.0.0.1", 0))
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
tx.sendto(b"datagram", rx.getsockname())

# TCP: os.sendfile of a temporary file.
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
cli = socket.create_connection(srv.getsockname())
conn, _ = srv.accept()
with tempfile.NamedTemporaryFile(prefix="st-demo-") as f:
    f.write(b"x" * 1000)
    f.flush()
    sent = os.sendfile(conn.fileno(), f.fileno(), 100, 500)
    print("sendfile sent", sent, "from", f.name)
print("rx", rx.recv(100), "cli", len(cli.recv(4096)))
