# serve.py: for test-escapes.sh: serves a file and sends on a unix socket whose names hold ESC,
# BEL, DEL, a C1 control and a byte that is not UTF-8.
import os
import socket
import sys

d = os.fsencode(sys.argv[1])
bad = b"\x1b[2J\x1b]0;owned\x07\x7f\xc2\x9b31m\xff"
path = os.path.join(d, b"served" + bad + b".txt")
with open(path, "wb") as f:
    f.write(b"x" * 64)
addr = os.path.join(d, b"sock" + bad)
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(addr)
srv.listen(1)
cli = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
cli.connect(addr)
conn, _ = srv.accept()
cli.send(b"hello", socket.MSG_MORE)  # a lint finding, on a socket named with escapes
with open(path, "rb") as f:
    os.sendfile(cli.fileno(), f.fileno(), 0, 64)
conn.recv(100)
