# strict-demo.py: threads, forks that exit, _exit and exec, and many events: every ending that must leave strict JSON Lines (test-strict.sh).
import os
import socket
import sys
import threading


def sender(n):
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    for i in range(n):
        a.send(b"x" * (i % 200))
        b.recv(512)


if len(sys.argv) > 1 and sys.argv[1] == "exec":
    sender(20)
    sys.exit(0)

threads = [threading.Thread(target=sender, args=(400,)) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()

pid = os.fork()
if pid == 0:
    sender(50)
    sys.exit(3)  # exit(): the on_exit path
os.waitpid(pid, 0)

pid = os.fork()
if pid == 0:
    sender(50)
    os._exit(4)  # _exit(): no exit handler runs
os.waitpid(pid, 0)

pid = os.fork()
if pid == 0:
    sender(10)
    os.execv(sys.executable, [sys.executable, __file__, "exec"])
os.waitpid(pid, 0)

sender(3000)  # slices fill and are left for bigger ones
