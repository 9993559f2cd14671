# ok-py-sendall.py: Python's socket.sendall on a socket with a timeout (non-blocking inside, so
# partial sends and EAGAIN, each waited for with poll) and on a blocking one: correct.
# expect: none
# run: -e all,lifecycle
import socket
import threading
import time


def drain(conn, pause):
    time.sleep(0.02)
    while True:
        data = conn.recv(65536)
        if not data:
            break
        time.sleep(pause)
    conn.close()


def pair():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    cli = socket.create_connection(srv.getsockname())
    conn, _ = srv.accept()
    srv.close()
    return cli, conn


for timeout in (10.0, None):
    cli, conn = pair()
    cli.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
    cli.settimeout(timeout)
    t = threading.Thread(target=drain, args=(conn, 0.001))
    t.start()
    cli.sendall(b"x" * (2 << 20))
    cli.close()
    t.join()
