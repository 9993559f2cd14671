/* t-sockopt.c: TCP_NODELAY, TCP_CORK, UDP_CORK and SO_ZEROCOPY in the events' "sock", as set,
 * across dup and reuse. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"

#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY 0x4000000
#endif

static char buf[256];

static void opt(int fd, int level, int name, int on)
{
	if (setsockopt(fd, level, name, &on, sizeof(on)) != 0) {
		perror("setsockopt");
		exit(99);
	}
}

/* A listener with TCP_NODELAY on: what accept() returns inherits it in the kernel. */
static void tcp_pair_nodelay_listener(int *client, int *server)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t l = sizeof(a);
	int lis = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	opt(lis, IPPROTO_TCP, TCP_NODELAY, 1);
	if (bind(lis, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lis, 1) != 0 ||
	    getsockname(lis, (struct sockaddr *)&a, &l) != 0) {
		perror("listen");
		exit(99);
	}
	*client = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(*client, (struct sockaddr *)&a, l) != 0) {
		perror("connect");
		exit(99);
	}
	*server = accept(lis, NULL, NULL);
	close(lis);
}

/* A new socket at number `want` (free): the lower free numbers are filled first. */
static int socket_at(int type, int want)
{
	int fd;

	while ((fd = socket(AF_INET, type, 0)) >= 0 && fd < want)
		; /* kept open: it holds a lower number */
	return fd;
}

/* A TCP connection made with raw system calls, which no wrapper sees (as if inherited). */
static int raw_tcp_client(const struct sockaddr_in *to)
{
	int on = 1, fd = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);

	syscall(SYS_setsockopt, fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (syscall(SYS_connect, fd, to, sizeof(*to)) != 0) {
		perror("raw connect");
		exit(99);
	}
	return fd;
}

void th_workload(void)
{
	int c, s, d, e, u, c2, s2, z, zs, raw, rlis, hi;
	struct sockaddr_in a4, la = {.sin_family = AF_INET};
	socklen_t ll = sizeof(la);
	unsigned int l;
	struct rlimit rl;

	signal(SIGPIPE, SIG_IGN);
	th_tcp_pair(AF_INET, &c, &s);
	send(c, buf, 1, 0); /* nothing set */
	opt(c, IPPROTO_TCP, TCP_NODELAY, 1);
	send(c, buf, 2, 0);
	opt(c, IPPROTO_TCP, TCP_CORK, 1);
	send(c, buf, 3, 0);
	opt(c, IPPROTO_TCP, TCP_CORK, 0);
	send(c, buf, 4, 0);
	opt(c, IPPROTO_TCP, TCP_NODELAY, 0);
	send(c, buf, 5, 0);

	/* dup: the new number is the same socket, with the options it has. */
	opt(c, IPPROTO_TCP, TCP_NODELAY, 1);
	d = dup(c);
	send(d, buf, 6, 0);
	/* Set through one number, seen through the other. */
	opt(d, IPPROTO_TCP, TCP_CORK, 1);
	send(c, buf, 7, 0);
	opt(c, IPPROTO_TCP, TCP_CORK, 0);
	send(d, buf, 8, 0);
	/* Set through a copy never sent on (so never learned), seen through the original. */
	e = dup(c);
	opt(e, IPPROTO_TCP, TCP_CORK, 1);
	send(c, buf, 20, 0);
	opt(e, IPPROTO_TCP, TCP_CORK, 0);
	close(e);
	send(c, buf, 21, 0);

	/* dup2() over a UDP socket's number: now the TCP socket, options and all. */
	e = socket(AF_INET, SOCK_DGRAM, 0);
	dup2(c, e);
	opt(c, IPPROTO_TCP, TCP_CORK, 1);
	send(e, buf, 18, 0);
	opt(e, IPPROTO_TCP, TCP_CORK, 0);
	send(c, buf, 19, 0);
	close(e);

	/* Closed, and the number reused by a socket with nothing set. */
	th_udp_receiver(AF_INET, &a4, &l);
	close(d);
	close(c);
	u = socket_at(SOCK_DGRAM, c);
	th_result("reuse %d %d", u, c);
	sendto(u, buf, 9, 0, (struct sockaddr *)&a4, sizeof(a4));
	{
		struct sockaddr_in a = {.sin_family = AF_INET};
		socklen_t al = sizeof(a);
		int lis = socket(AF_INET, SOCK_STREAM, 0);

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		bind(lis, (struct sockaddr *)&a, sizeof(a));
		listen(lis, 1);
		getsockname(lis, (struct sockaddr *)&a, &al);
		close(u);
		c2 = socket_at(SOCK_STREAM, c);
		connect(c2, (struct sockaddr *)&a, al);
		s2 = accept(lis, NULL, NULL);
		(void)s2;
	}
	th_result("reuse2 %d %d", c2, c);
	send(c2, buf, 10, 0);

	/* UDP_CORK on a datagram socket. */
	u = socket(AF_INET, SOCK_DGRAM, 0);
	opt(u, IPPROTO_UDP, UDP_CORK, 1);
	sendto(u, buf, 11, 0, (struct sockaddr *)&a4, sizeof(a4));
	opt(u, IPPROTO_UDP, UDP_CORK, 0);
	sendto(u, buf, 12, 0, (struct sockaddr *)&a4, sizeof(a4));

	/* accept(): the kernel copies the listener's TCP_NODELAY; the library asks. */
	tcp_pair_nodelay_listener(&c, &s);
	send(s, buf, 13, 0);
	send(c, buf, 14, 0);

	/* SO_ZEROCOPY set: MSG_ZEROCOPY is no finding, and needs no query per event. */
	z = socket(AF_INET, SOCK_STREAM, 0);
	th_result("zc %d", setsockopt(z, SOL_SOCKET, SO_ZEROCOPY, &(int){1}, sizeof(int)));
	{
		struct sockaddr_in a = {.sin_family = AF_INET};
		socklen_t al = sizeof(a);
		int lis = socket(AF_INET, SOCK_STREAM, 0);

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		bind(lis, (struct sockaddr *)&a, sizeof(a));
		listen(lis, 1);
		getsockname(lis, (struct sockaddr *)&a, &al);
		connect(z, (struct sockaddr *)&a, al);
		zs = accept(lis, NULL, NULL);
		close(lis);
	}
	send(z, buf, 15, MSG_ZEROCOPY);
	(void)zs;

	/* A socket no wrapper saw made, set up or connected: asked when first learned. */
	rlis = socket(AF_INET, SOCK_STREAM, 0);
	la.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(rlis, (struct sockaddr *)&la, sizeof(la));
	listen(rlis, 1);
	getsockname(rlis, (struct sockaddr *)&la, &ll);
	raw = raw_tcp_client(&la);
	send(raw, buf, 16, 0);

	/* Beyond the table (4096 fds): asked with the rest of the socket, each time. */
	hi = -1;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max > 5000) {
		if (rl.rlim_cur <= 5000) {
			rl.rlim_cur = 5001;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		hi = dup2(raw, 5000);
	}
	th_result("hi %d", hi);
	if (hi == 5000) {
		opt(hi, IPPROTO_TCP, TCP_CORK, 1);
		send(hi, buf, 17, 0);
	}
}

static void absent(json_t *ev, const char *what, int len)
{
	json_t *sock = json_object_get(ev, "sock");

	TH_OK(json_is_object(sock) && !json_object_get(sock, what), "len %d: no sock.%s", len,
	      what);
}

void th_check(void)
{
	char *res = th_results();
	long long u = th_value(res, "reuse", 0, -1), c = th_value(res, "reuse", 1, -2);
	long long c2 = th_value(res, "reuse2", 0, -1), zc = th_value(res, "zc", 0, -1);
	long long hi = th_value(res, "hi", 0, -1);
	json_t *ev;

	free(res);
	ev = th_find("send", 1, 0);
	absent(ev, "nodelay", 1);
	absent(ev, "cork", 1);
	absent(ev, "zerocopy", 1);
	ev = th_find("send", 2, 0);
	TH_BOOL(ev, "sock.nodelay", 1);
	absent(ev, "cork", 2);
	ev = th_find("send", 3, 0);
	TH_BOOL(ev, "sock.nodelay", 1);
	TH_BOOL(ev, "sock.cork", 1);
	ev = th_find("send", 4, 0);
	TH_BOOL(ev, "sock.nodelay", 1);
	absent(ev, "cork", 4);
	ev = th_find("send", 5, 0);
	absent(ev, "nodelay", 5);
	absent(ev, "cork", 5);
	TH_STR(ev, "sock.proto", "tcp");

	ev = th_find("send", 6, 0);
	TH_BOOL(ev, "sock.nodelay", 1);
	absent(ev, "cork", 6);
	ev = th_find("send", 7, 0);
	TH_BOOL(ev, "sock.nodelay", 1);
	TH_BOOL(ev, "sock.cork", 1);
	ev = th_find("send", 8, 0);
	TH_BOOL(ev, "sock.nodelay", 1);
	absent(ev, "cork", 8);

	ev = th_find("send", 20, 0);
	TH_BOOL(ev, "sock.cork", 1);
	ev = th_find("send", 21, 0);
	absent(ev, "cork", 21);
	TH_BOOL(ev, "sock.nodelay", 1);

	ev = th_find("send", 18, 0);
	TH_STR(ev, "sock.proto", "tcp");
	TH_BOOL(ev, "sock.nodelay", 1);
	TH_BOOL(ev, "sock.cork", 1);
	ev = th_find("send", 19, 0);
	TH_BOOL(ev, "sock.nodelay", 1);
	absent(ev, "cork", 19);

	TH_OK(u == c, "the UDP socket took the closed number (%lld, was %lld)", u, c);
	ev = th_find("sendto", 9, 0);
	TH_STR(ev, "sock.proto", "udp");
	absent(ev, "nodelay", 9);
	absent(ev, "cork", 9);
	TH_OK(c2 == c, "a new TCP socket took the number again (%lld)", c2);
	ev = th_find("send", 10, 0);
	TH_STR(ev, "sock.proto", "tcp");
	absent(ev, "nodelay", 10);
	absent(ev, "cork", 10);

	ev = th_find("sendto", 11, 0);
	TH_BOOL(ev, "sock.cork", 1);
	absent(ev, "nodelay", 11);
	ev = th_find("sendto", 12, 0);
	absent(ev, "cork", 12);

	ev = th_find("send", 13, 0);
	TH_BOOL(ev, "sock.nodelay", 1); /* accepted from a TCP_NODELAY listener */
	ev = th_find("send", 14, 0);
	absent(ev, "nodelay", 14); /* the client end: nothing set */

	ev = th_find("send", 15, 0);
	TH_OK(zc == 0, "setsockopt(SO_ZEROCOPY) on a TCP socket succeeds (%lld)", zc);
	TH_BOOL(ev, "sock.zerocopy", 1);
	TH_OK(ev && !json_object_get(ev, "lint"), "MSG_ZEROCOPY with SO_ZEROCOPY set: no finding");

	ev = th_find("send", 16, 0);
	TH_BOOL(ev, "sock.nodelay", 1); /* set by a raw system call: asked when learned */
	absent(ev, "cork", 16);

	if (hi == 5000) {
		ev = th_find("send", 17, 0);
		TH_INT(ev, "fd", 5000);
		TH_BOOL(ev, "sock.nodelay", 1);
		TH_BOOL(ev, "sock.cork", 1);
	} else {
		printf("# fd 5000 not available (RLIMIT_NOFILE): beyond-the-table case not run\n");
	}
}
