# ok-py-sendfile.py: Python's socket.sendfile, which calls os.sendfile until it returns 0 at the
# end of the file, and a 3-byte file sent with count 4: correct.
# expect: none
# run: -e all,lifecycle
import os
import socket
import tempfile
import threading


def drain(conn):
    while conn.recv(65536):
        pass
    conn.close()


srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
cli = socket.create_connection(srv.getsockname())
conn, _ = srv.accept()
t = threading.Thread(target=drain, args=(conn,))
t.start()
with tempfile.TemporaryFile() as big, tempfile.TemporaryFile() as small:
    big.write(os.urandom(300000))
    big.flush()
    big.seek(0)
    small.write(b"abc")
    small.flush()
    small.seek(0)
    assert cli.sendfile(big) == 300000
    assert cli.sendfile(small, count=4) == 3
cli.close()
t.join()
