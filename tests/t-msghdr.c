/* t-msghdr.c: sendmsg: iovecs, msg_name, every decoded control message, and broken control data. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/udp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "harness.h"

#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

static char data[512];

/* Appends one control message to msg (msg_controllen grows by CMSG_SPACE). */
static void add_cmsg(struct msghdr *msg, int level, int type, const void *p, size_t n)
{
	struct cmsghdr *cm = (struct cmsghdr *)((char *)msg->msg_control + msg->msg_controllen);

	cm->cmsg_level = level;
	cm->cmsg_type = type;
	cm->cmsg_len = CMSG_LEN(n);
	memcpy(CMSG_DATA(cm), p, n);
	msg->msg_controllen += CMSG_SPACE(n);
}

static ssize_t send_iov(int fd, struct msghdr *msg, size_t a, size_t b)
{
	struct iovec iov[2] = {{data, a}, {data, b}};

	msg->msg_iov = iov;
	msg->msg_iovlen = b ? 2 : 1;
	return sendmsg(fd, msg, MSG_DONTWAIT);
}

void th_workload(void)
{
	union {
		struct cmsghdr h;
		char b[512];
	} ctl;
	struct msghdr msg;
	struct sockaddr_in a4;
	struct sockaddr_in6 a6;
	struct ucred cr = {getpid(), getuid(), getgid()};
	struct in_pktinfo pi;
	struct in6_pktinfo pi6;
	int sp[2], fds[2], rx, tx, rx6, tx6, v;
	unsigned short seg = 100;
	unsigned char tos = 0x10;
	unsigned int l;

	/* unix stream: two iovecs, SCM_RIGHTS with two fds, SCM_CREDENTIALS. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	v = 1;
	setsockopt(sp[1], SOL_SOCKET, SO_PASSCRED, &v, sizeof(v));
	fds[0] = 0;
	fds[1] = 2;
	memset(&msg, 0, sizeof(msg));
	msg.msg_control = ctl.b;
	add_cmsg(&msg, SOL_SOCKET, SCM_RIGHTS, fds, sizeof(fds));
	add_cmsg(&msg, SOL_SOCKET, SCM_CREDENTIALS, &cr, sizeof(cr));
	th_result("rights %zd", send_iov(sp[0], &msg, 5, 7));

	/* UDP: msg_name, IP_PKTINFO, IP_TOS (one byte), IP_TTL. */
	rx = th_udp_receiver(AF_INET, &a4, &l);
	tx = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&msg, 0, sizeof(msg));
	msg.msg_name = &a4;
	msg.msg_namelen = sizeof(a4);
	msg.msg_control = ctl.b;
	memset(&pi, 0, sizeof(pi));
	inet_pton(AF_INET, "127.0.0.1", &pi.ipi_spec_dst);
	add_cmsg(&msg, SOL_IP, IP_PKTINFO, &pi, sizeof(pi));
	add_cmsg(&msg, SOL_IP, IP_TOS, &tos, 1);
	v = 7;
	add_cmsg(&msg, SOL_IP, IP_TTL, &v, sizeof(v));
	th_result("pktinfo %zd", send_iov(tx, &msg, 20, 0));
	th_result("port4 %d", ntohs(a4.sin_port));

	/* UDP_SEGMENT: 300 bytes in 100-byte segments. */
	memset(&msg, 0, sizeof(msg));
	msg.msg_name = &a4;
	msg.msg_namelen = sizeof(a4);
	msg.msg_control = ctl.b;
	add_cmsg(&msg, SOL_UDP, UDP_SEGMENT, &seg, sizeof(seg));
	send_iov(tx, &msg, 300, 0);

	/* IPv6: IPV6_PKTINFO, IPV6_TCLASS, IPV6_HOPLIMIT. */
	rx6 = th_udp_receiver(AF_INET6, &a6, &l);
	tx6 = socket(AF_INET6, SOCK_DGRAM, 0);
	memset(&msg, 0, sizeof(msg));
	msg.msg_name = &a6;
	msg.msg_namelen = sizeof(a6);
	msg.msg_control = ctl.b;
	memset(&pi6, 0, sizeof(pi6));
	pi6.ipi6_addr = in6addr_loopback;
	add_cmsg(&msg, SOL_IPV6, IPV6_PKTINFO, &pi6, sizeof(pi6));
	v = 0x20;
	add_cmsg(&msg, SOL_IPV6, IPV6_TCLASS, &v, sizeof(v));
	v = 9;
	add_cmsg(&msg, SOL_IPV6, IPV6_HOPLIMIT, &v, sizeof(v));
	th_result("pktinfo6 %zd", send_iov(tx6, &msg, 21, 0));

	/* An unknown type at a known level and an unknown level. */
	memset(&msg, 0, sizeof(msg));
	msg.msg_name = &a4;
	msg.msg_namelen = sizeof(a4);
	msg.msg_control = ctl.b;
	v = 0x01020304;
	add_cmsg(&msg, 200, 77, &v, sizeof(v));
	send_iov(tx, &msg, 22, 0);
	memset(&msg, 0, sizeof(msg));
	msg.msg_name = &a4;
	msg.msg_namelen = sizeof(a4);
	msg.msg_control = ctl.b;
	add_cmsg(&msg, SOL_IP, 99, &v, sizeof(v));
	send_iov(tx, &msg, 23, 0);

	/* Broken control data: cmsg_len past msg_controllen, and below the header. */
	memset(&msg, 0, sizeof(msg));
	msg.msg_name = &a4;
	msg.msg_namelen = sizeof(a4);
	msg.msg_control = ctl.b;
	add_cmsg(&msg, SOL_IP, IP_TTL, &v, sizeof(v));
	((struct cmsghdr *)ctl.b)->cmsg_len = 64;
	send_iov(tx, &msg, 24, 0);
	((struct cmsghdr *)ctl.b)->cmsg_len = 8;
	send_iov(tx, &msg, 25, 0);
	/* IP_TTL data one byte short: a known type that is too short. */
	memset(&msg, 0, sizeof(msg));
	msg.msg_name = &a4;
	msg.msg_namelen = sizeof(a4);
	msg.msg_control = ctl.b;
	add_cmsg(&msg, SOL_IP, IP_TTL, &v, 2);
	send_iov(tx, &msg, 26, 0);
	/* msg_flags set by the caller: kept in the event (the kernel ignores it). */
	memset(&msg, 0, sizeof(msg));
	msg.msg_name = &a4;
	msg.msg_namelen = sizeof(a4);
	msg.msg_flags = MSG_EOR;
	send_iov(tx, &msg, 27, 0);
	(void)rx;
	(void)rx6;
}

void th_check(void)
{
	json_t *ev;
	char *res = th_results(), want[64];
	long long rights = -2, pk = -2, pk6 = -2;
	int port4 = 0;

	rights = th_value(res, "rights", 0, rights);
	pk = th_value(res, "pktinfo", 0, pk);
	pk6 = th_value(res, "pktinfo6", 0, pk6);
	port4 = th_value(res, "port4", 0, port4);
	free(res);

	ev = th_find("sendmsg", 12, 0);
	TH_OK(ev != NULL, "sendmsg with two iovecs recorded");
	TH_INT(ev, "ret", rights);
	TH_INT(ev, "iov.0.len", 5);
	TH_INT(ev, "iov.1.len", 7);
	TH_NULL(ev, "addr");
	TH_INT(ev, "controllen", CMSG_SPACE(8) + CMSG_SPACE(sizeof(struct ucred)));
	TH_STR(ev, "cmsg.0.level", "SOL_SOCKET");
	TH_STR(ev, "cmsg.0.type", "SCM_RIGHTS");
	TH_INT(ev, "cmsg.0.len", CMSG_LEN(8));
	TH_INT(ev, "cmsg.0.fds.0", 0);
	TH_INT(ev, "cmsg.0.fds.1", 2);
	TH_STR(ev, "cmsg.1.type", "SCM_CREDENTIALS");
	TH_INT(ev, "cmsg.1.pid", json_integer_value(th_get(ev, "pid")));
	TH_INT(ev, "cmsg.1.uid", getuid());
	TH_INT(ev, "cmsg.1.gid", getgid());
	TH_STR(ev, "flags.0", "MSG_DONTWAIT");

	ev = th_find("sendmsg", 20, 0);
	TH_INT(ev, "ret", pk);
	snprintf(want, sizeof(want), "127.0.0.1:%d", port4);
	TH_STR(ev, "addr", want);
	TH_STR(ev, "cmsg.0.level", "SOL_IP");
	TH_STR(ev, "cmsg.0.type", "IP_PKTINFO");
	TH_INT(ev, "cmsg.0.ifindex", 0);
	TH_STR(ev, "cmsg.0.spec_dst", "127.0.0.1");
	TH_STR(ev, "cmsg.0.addr", "0.0.0.0");
	TH_STR(ev, "cmsg.1.type", "IP_TOS");
	TH_INT(ev, "cmsg.1.tos", 0x10);
	TH_STR(ev, "cmsg.2.type", "IP_TTL");
	TH_INT(ev, "cmsg.2.ttl", 7);

	ev = th_find("sendmsg", 300, 0);
	TH_STR(ev, "cmsg.0.level", "SOL_UDP");
	TH_STR(ev, "cmsg.0.type", "UDP_SEGMENT");
	TH_INT(ev, "cmsg.0.gso_size", 100);

	ev = th_find("sendmsg", 21, 0);
	TH_INT(ev, "ret", pk6);
	TH_STR(ev, "cmsg.0.level", "SOL_IPV6");
	TH_STR(ev, "cmsg.0.type", "IPV6_PKTINFO");
	TH_STR(ev, "cmsg.0.addr", "::1");
	TH_INT(ev, "cmsg.0.ifindex", 0);
	TH_STR(ev, "cmsg.1.type", "IPV6_TCLASS");
	TH_INT(ev, "cmsg.1.tclass", 0x20);
	TH_STR(ev, "cmsg.2.type", "IPV6_HOPLIMIT");
	TH_INT(ev, "cmsg.2.hoplimit", 9);

	ev = th_find("sendmsg", 22, 0);
	TH_INT(ev, "cmsg.0.level", 200);
	TH_INT(ev, "cmsg.0.type", 77);
	TH_STR(ev, "cmsg.0.data", "04030201");
	ev = th_find("sendmsg", 23, 0);
	TH_STR(ev, "cmsg.0.level", "SOL_IP");
	TH_INT(ev, "cmsg.0.type", 99);

	ev = th_find("sendmsg", 24, 0);
	TH_INT(ev, "ret", -1);
	TH_STR(ev, "errno", "EINVAL");
	TH_INT(ev, "cmsg.0.len", 64);
	TH_STR(ev, "cmsg.0.malformed", "cmsg_len runs past msg_controllen");
	ev = th_find("sendmsg", 25, 0);
	TH_STR(ev, "cmsg.0.malformed", "cmsg_len is smaller than the header");
	TH_STR(ev, "errno", "EINVAL");
	ev = th_find("sendmsg", 26, 0);
	TH_STR(ev, "cmsg.0.type", "IP_TTL");
	TH_BOOL(ev, "cmsg.0.truncated", 1);
	TH_STR(ev, "cmsg.0.data", "0403");
	ev = th_find("sendmsg", 27, 0);
	TH_INT(ev, "msg_flags", MSG_EOR);
	TH_INT(ev, "ret", 27);
}
