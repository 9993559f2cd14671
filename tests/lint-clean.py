#!/usr/bin/env python3
"""lint-clean.py: correct Python sending: sendall through partial writes, sendfile to the end of a file."""
import os
import socket
import tempfile
import threading

srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
cli = socket.create_connection(srv.getsockname())
conn, _ = srv.accept()
total = 0


def drain():
    """Read everything the client sends, until it shuts its side down."""
    global total
    while True:
        data = conn.recv(1 << 16)
        if not data:
            return
        total += len(data)


reader = threading.Thread(target=drain)
reader.start()

# A small send buffer and a timeout (a non-blocking socket inside): sendall
# goes through partial writes, each followed by the rest.
cli.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
cli.settimeout(10)
cli.sendall(b"x" * (4 << 20))
cli.settimeout(None)
cli.sendall(b"y" * 1000)

# socket.sendfile: a 3-byte file asked for 4, and a larger file whole; both
# end with the file (os.sendfile returning less, then 0).
with tempfile.TemporaryFile() as f:
    f.write(b"abc")
    f.flush()
    f.seek(0)
    small = cli.sendfile(f, count=4)
with tempfile.TemporaryFile() as f:
    f.write(b"z" * 100000)
    f.flush()
    f.seek(0)
    big = cli.sendfile(f)

cli.shutdown(socket.SHUT_WR)
reader.join()
expect = (4 << 20) + 1000 + 3 + 100000
print("sent", small, big, "received", total, "of", expect)
raise SystemExit(0 if total == expect and small == 3 and big == 100000 else 1)
