# pcap-demo.py: a TCP exchange, UDP datagrams and a unix send, for `sendtrace pcap` (test-pcap.sh).
import socket

srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen()
cl = socket.create_connection(srv.getsockname())
s, _ = srv.accept()
cl.sendall(b"GET / HTTP/1.0\r\n")
cl.sendall(b"Host: x\r\n\r\n")
s.sendall(b"HTTP/1.0 200 OK\r\n\r\n")
s.sendall(b"A" * 3000)
s.sendall(b"tail-end")
print("tcp", cl.getsockname()[1], srv.getsockname()[1])

u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.bind(("127.0.0.1", 0))
u.sendto(b"dgram-1", r.getsockname())
u.sendto(b"dgram-2", r.getsockname())
print("udp", u.getsockname()[1], r.getsockname()[1])

a, b = socket.socketpair()
a.send(b"unix\x00\x01\\x\xff")
