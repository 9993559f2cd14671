/* t-send.c: send, sendto, write and writev, decoded field by field, with addresses of every family.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"

#define UNKNOWN_BIT 0x100000

void th_workload(void)
{
	int sp[2], p[2], rx, tx, rx6, tx6, c, s, u, nl, any;
	struct sockaddr_in a4;
	struct sockaddr_in6 a6, scoped;
	struct sockaddr_un un;
	struct sockaddr_nl snl;
	struct sockaddr_ll ll;
	unsigned char other[8] = {42, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2};
	unsigned int l;
	char buf[64] = "0123456789012345678901234567890123456789";
	struct iovec iov[3] = {{buf, 3}, {buf, 5}, {buf, 7}};
	char path[108];

	/* Flags by name plus an unknown bit, on a unix stream pair. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	th_result("send %zd", send(sp[0], buf, 3, MSG_DONTWAIT | MSG_NOSIGNAL | UNKNOWN_BIT));

	/* AF_INET and AF_INET6 destinations. */
	rx = th_udp_receiver(AF_INET, &a4, &l);
	tx = socket(AF_INET, SOCK_DGRAM, 0);
	sendto(tx, buf, 4, 0, (struct sockaddr *)&a4, sizeof(a4));
	th_result("port4 %d", ntohs(a4.sin_port));
	rx6 = th_udp_receiver(AF_INET6, &a6, &l);
	tx6 = socket(AF_INET6, SOCK_DGRAM, 0);
	sendto(tx6, buf, 6, 0, (struct sockaddr *)&a6, sizeof(a6));
	th_result("port6 %d", ntohs(a6.sin6_port));
	memset(&scoped, 0, sizeof(scoped));
	scoped.sin6_family = AF_INET6;
	scoped.sin6_port = htons(9);
	inet_pton(AF_INET6, "fe80::1", &scoped.sin6_addr);
	scoped.sin6_scope_id = 1;
	sendto(tx6, buf, 7, MSG_DONTWAIT, (struct sockaddr *)&scoped, sizeof(scoped));

	/* AF_UNIX: a path, an abstract name, and an unnamed address. */
	snprintf(path, sizeof(path), "/tmp/st-t-send-%d.sock", (int)getpid());
	unlink(path);
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	strcpy(un.sun_path, path);
	u = socket(AF_UNIX, SOCK_DGRAM, 0);
	bind(u, (struct sockaddr *)&un, sizeof(un));
	sendto(u, buf, 8, 0, (struct sockaddr *)&un, sizeof(un));
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	memcpy(un.sun_path, "\0st-abstract", 12);
	sendto(u, buf, 9, MSG_DONTWAIT, (struct sockaddr *)&un,
	       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 12));
	sendto(u, buf, 10, MSG_DONTWAIT, (struct sockaddr *)&un, sizeof(sa_family_t));
	unlink(path);

	/* AF_NETLINK, AF_PACKET and an unknown family: decoded even if refused. */
	nl = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	memset(&snl, 0, sizeof(snl));
	snl.nl_family = AF_NETLINK;
	snl.nl_groups = 5;
	sendto(nl >= 0 ? nl : tx, buf, 11, MSG_DONTWAIT, (struct sockaddr *)&snl, sizeof(snl));
	memset(&ll, 0, sizeof(ll));
	ll.sll_family = AF_PACKET;
	ll.sll_protocol = htons(0x0800);
	ll.sll_ifindex = 1;
	ll.sll_halen = 6;
	memcpy(ll.sll_addr, "\x01\x02\x03\x04\x05\x06", 6);
	sendto(tx, buf, 12, 0, (struct sockaddr *)&ll, sizeof(ll));
	sendto(tx, buf, 13, 0, (struct sockaddr *)other, sizeof(other));

	/* write and writev on TCP; a pipe is not a socket and stays untraced. */
	th_tcp_pair(AF_INET, &c, &s);
	write(c, buf, 14);
	writev(c, iov, 3);
	pipe(p);
	write(p[1], buf, 16);
	/* send on a pipe: traced all the same, with the kernel's ENOTSOCK. */
	send(p[1], buf, 17, 0);

	/* A character device: traced only with SENDTRACE_FDS=all. */
	any = open("/dev/null", O_WRONLY);
	write(any, buf, 18);
	close(rx);
	close(rx6);
}

void th_check(void)
{
	json_t *ev;
	char *res = th_results(), want[64];
	int port4 = 0, port6 = 0;
	long long sret = -2;

	sret = th_value(res, "send", 0, sret);
	port4 = (int)th_value(res, "port4", 0, 0);
	port6 = (int)th_value(res, "port6", 0, 0);
	free(res);

	ev = th_find("send", 3, 0);
	TH_OK(ev != NULL, "send of 3 bytes recorded");
	TH_INT(ev, "v", 1);
	TH_STR(ev, "event", "call");
	TH_OK(json_integer_value(th_get(ev, "ts")) > 1600000000000000000LL, "ts is ns since epoch");
	TH_OK(json_is_integer(th_get(ev, "dur_ns")), "dur_ns present");
	TH_INT(ev, "pid", json_integer_value(th_get(ev, "tid")));
	TH_STR(ev, "comm", "t-send");
	TH_STR(ev, "sock.family", "AF_UNIX");
	TH_STR(ev, "sock.type", "SOCK_STREAM");
	TH_INT(ev, "sock.proto", 0);
	TH_STR(ev, "sock.local", "");
	TH_STR(ev, "sock.peer", "");
	TH_STR(ev, "flags.0", "MSG_DONTWAIT");
	TH_STR(ev, "flags.1", "MSG_NOSIGNAL");
	TH_STR(ev, "flags.2", "0x100000");
	TH_OK(json_array_size(th_get(ev, "flags")) == 3, "exactly three flag entries");
	TH_INT(ev, "flags_raw", MSG_DONTWAIT | MSG_NOSIGNAL | UNKNOWN_BIT);
	TH_INT(ev, "ret", sret);

	ev = th_find("sendto", 4, 0);
	snprintf(want, sizeof(want), "127.0.0.1:%d", port4);
	TH_STR(ev, "addr", want);
	TH_INT(ev, "addrlen", 16);
	TH_STR(ev, "sock.family", "AF_INET");
	TH_STR(ev, "sock.type", "SOCK_DGRAM");
	TH_STR(ev, "sock.proto", "udp");
	TH_NULL(ev, "sock.peer");
	TH_INT(ev, "ret", 4);
	TH_OK(json_array_size(th_get(ev, "flags")) == 0, "no flags: empty array");

	ev = th_find("sendto", 6, 0);
	snprintf(want, sizeof(want), "[::1]:%d", port6);
	TH_STR(ev, "addr", want);
	TH_STR(ev, "sock.family", "AF_INET6");
	ev = th_find("sendto", 7, 0);
	TH_STR(ev, "addr", "[fe80::1%1]:9");

	ev = th_find("sendto", 8, 0);
	snprintf(want, sizeof(want), "/tmp/st-t-send-");
	TH_OK(ev && strncmp(json_string_value(th_get(ev, "addr")), want, strlen(want)) == 0,
	      "unix path address");
	TH_OK(ev && json_string_value(th_get(ev, "sock.local")) &&
		  strncmp(json_string_value(th_get(ev, "sock.local")), want, strlen(want)) == 0,
	      "unix bound local address");
	ev = th_find("sendto", 9, 0);
	TH_STR(ev, "addr", "@st-abstract");
	ev = th_find("sendto", 10, 0);
	TH_STR(ev, "addr", "");
	TH_INT(ev, "addrlen", 2);

	ev = th_find("sendto", 11, 0);
	TH_STR(ev, "addr", "netlink:pid=0,groups=0x00000005");
	ev = th_find("sendto", 12, 0);
	TH_STR(ev, "addr",
	       "packet:proto=0x0800,ifindex=1,hatype=0,pkttype=0,addr=01:02:03:04:05:06");
	TH_INT(ev, "ret", -1);
	TH_OK(json_is_string(th_get(ev, "errno")), "refused sendto carries errno by name");
	ev = th_find("sendto", 13, 0);
	TH_STR(ev, "addr", "family=42:deadbeef0102");

	ev = th_find("write", 14, 0);
	TH_STR(ev, "sock.proto", "tcp");
	TH_OK(ev && strncmp(json_string_value(th_get(ev, "sock.peer")), "127.0.0.1:", 10) == 0,
	      "tcp peer address");
	TH_INT(ev, "ret", 14);
	ev = th_find("writev", 15, 0);
	TH_INT(ev, "iov.0.len", 3);
	TH_INT(ev, "iov.1.len", 5);
	TH_INT(ev, "iov.2.len", 7);
	TH_INT(ev, "iovcnt", 3);
	TH_INT(ev, "ret", 15);
	TH_OK(th_find("write", 16, 0) == NULL, "write to a pipe is not traced by default");
	TH_OK(th_find("write", 18, 0) == NULL, "write to /dev/null is not traced by default");
	ev = th_find("send", 17, 0);
	TH_NULL(ev, "sock");
	TH_STR(ev, "errno", "ENOTSOCK");
	TH_INT(ev, "ret", -1);
	TH_INT(ev, "fd", json_integer_value(th_get(ev, "fd")));

	/* The same workload with SENDTRACE_FDS=all traces the pipe and /dev/null. */
	{
		const char *env[] = {"SENDTRACE_FDS=all", NULL};

		unlink(th_trace_path());
		th_run(1, env);
		th_load();
		ev = th_find("write", 16, 0);
		TH_NULL(ev, "sock");
		TH_INT(ev, "ret", 16);
		TH_INT(th_find("write", 18, 0), "ret", 18);
		TH_STR(th_get(th_events(), "0"), "fds", "all");
	}
}
