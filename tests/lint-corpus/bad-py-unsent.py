# bad-py-unsent.py: socket.send() takes part of the data and the program never sends the rest:
# the classic mistake of send() for sendall().
# expect: unsent-remainder
# run: -e all,lifecycle
import socket
import threading
import time


def drain(conn):
    time.sleep(0.1)
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
cli.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
cli.setblocking(False)
cli.send(b"hello\n")
sent = cli.send(b"x" * (4 << 20))
assert sent < 4 << 20, "the send was not partial"
cli.close()
t.join()
