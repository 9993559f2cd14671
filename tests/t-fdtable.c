/* t-fdtable.c: the library's fd table names the right socket after every way a number changes hands. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/*
 * Each case puts a socket at a number, sends on it (so the table knows it),
 * then changes what the number names and sends again with a distinctive
 * length. The second event must describe the new socket: its family, type
 * and peer. A stale entry shows the old one.
 */

static int udp_bound(struct sockaddr_in *a)
{
	socklen_t l = sizeof(*a);
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(s, (struct sockaddr *)a, l);
	getsockname(s, (struct sockaddr *)a, &l);
	return s;
}

/* A UDP socket at exactly `fd`, connected to `to`. */
static void udp_at(int fd, const struct sockaddr_in *to)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	if (s != fd) {
		dup2(s, fd);
		close(s);
	}
	connect(fd, (const struct sockaddr *)to, sizeof(*to));
}

/* The close and the socket a raw syscall instruction makes: no wrapper sees them. */
static long raw3(long nr, long a, long b, long c)
{
#if defined(__x86_64__)
	long r;

	__asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return r;
#else
	return syscall(nr, a, b, c);
#endif
}

void th_workload(void)
{
	struct sockaddr_in ra, rb;
	int r1 = udp_bound(&ra), r2 = udp_bound(&rb);
	int sp[2], q[2], fd, carrier[2];
	char buf[64] = {0};
	pid_t pid;

	th_result("porta %d portb %d", ntohs(ra.sin_port), ntohs(rb.sin_port));

	/* 1. fclose(fdopen(sock)), then a new socket at the same number. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	send(sp[0], buf, 11, 0);
	fclose(fdopen(sp[0], "w"));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	connect(fd, (struct sockaddr *)&ra, sizeof(ra));
	th_result("fclose_same %d", fd == sp[0]);
	send(fd, buf, 12, 0);
	close(fd);
	close(sp[1]);

	/* 2. dup2 over a cached socket. */
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sp);
	send(sp[0], buf, 13, 0);
	udp_at(sp[0], &ra);
	send(sp[0], buf, 14, 0);
	close(sp[0]);
	close(sp[1]);

	/* 3. close_range over it. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	send(sp[0], buf, 15, 0);
	close_range((unsigned)sp[0], (unsigned)sp[1], 0);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	connect(fd, (struct sockaddr *)&ra, sizeof(ra));
	th_result("range_same %d", fd == sp[0]);
	send(fd, buf, 16, 0);
	close(fd);

	/* 4. A socket received over SCM_RIGHTS lands at a reused number. */
	socketpair(AF_UNIX, SOCK_DGRAM, 0, carrier);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	send(sp[0], buf, 17, 0);
	fd = sp[0];
	{
		int u = socket(AF_INET, SOCK_DGRAM, 0), got = -1;
		char c[CMSG_SPACE(sizeof(int))], rc[CMSG_SPACE(sizeof(int))], b1 = 'x';
		struct iovec iov = {&b1, 1};
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c,
				   .msg_controllen = sizeof(c)};
		struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

		connect(u, (struct sockaddr *)&rb, sizeof(rb));
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &u, sizeof(int));
		sendmsg(carrier[0], &m, 0);
		close(u);
		/* The number is freed where no wrapper sees it, then received into. */
		raw3(SYS_close, fd, 0, 0);
		m.msg_control = rc;
		m.msg_controllen = sizeof(rc);
		recvmsg(carrier[1], &m, 0);
		memcpy(&got, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(int));
		th_result("rights_same %d", got == fd);
		send(got, buf, 18, 0);
		close(got);
	}
	close(sp[1]);
	close(carrier[0]);
	close(carrier[1]);

	/* 5. UDP connect, then disconnect with AF_UNSPEC. */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	connect(fd, (struct sockaddr *)&ra, sizeof(ra));
	send(fd, buf, 19, 0);
	{
		struct sockaddr un = {.sa_family = AF_UNSPEC};

		connect(fd, &un, sizeof(un));
	}
	sendto(fd, buf, 20, 0, (struct sockaddr *)&rb, sizeof(rb));
	connect(fd, (struct sockaddr *)&rb, sizeof(rb));
	send(fd, buf, 21, 0);
	close(fd);

	/* 6. A forked child closes and reuses a number its parent still uses. */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	connect(fd, (struct sockaddr *)&ra, sizeof(ra));
	send(fd, buf, 22, 0);
	pid = fork();
	if (pid == 0) {
		close(fd);
		udp_at(fd, &rb);
		send(fd, buf, 23, 0);
		_exit(0);
	}
	th_wait(pid);
	send(fd, buf, 24, 0);
	close(fd);

	/* 7. Raw close and socket at the same number: right again within the bound (100 ms). */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	connect(fd, (struct sockaddr *)&ra, sizeof(ra));
	send(fd, buf, 25, 0);
	raw3(SYS_close, fd, 0, 0);
	socketpair(AF_UNIX, SOCK_DGRAM, 0, q);
	if (q[0] != fd) {
		raw3(SYS_dup2, q[0], fd, 0);
		raw3(SYS_close, q[0], 0, 0);
	}
	{
		struct timespec ts = {0, 150 * 1000 * 1000};

		nanosleep(&ts, NULL);
	}
	send(fd, buf, 26, 0);
	close(fd);
	close(q[1]);

	/* 8. A first send to a client that has gone: the reset it provokes must not hide the peer. */
	{
		int c, s;

		th_tcp_pair(AF_INET, &c, &s);
		close(c);
		usleep(20000);
		send(s, buf, 27, MSG_NOSIGNAL); /* succeeds; the client's stack answers with a reset */
		usleep(20000);
		send(s, buf, 28, MSG_NOSIGNAL); /* fails: ECONNRESET or EPIPE */
		close(s);
	}
	close(r1);
	close(r2);
}

static void check_peer(long long len, const char *family, const char *type, long long port,
		       const char *what)
{
	json_t *ev = th_find(len == 20 ? "sendto" : "send", len, 0);
	const char *peer;
	char want[32];

	if (!TH_OK(ev != NULL, "%s: the event of len %lld is there", what, len))
		return;
	TH_STR(ev, "sock.family", family);
	TH_STR(ev, "sock.type", type);
	if (port == -2)
		return; /* unix socketpair: its peer has no name */
	if (port < 0) {
		TH_NULL(ev, "sock.peer");
		return;
	}
	snprintf(want, sizeof(want), "127.0.0.1:%lld", port);
	peer = json_string_value(th_get(ev, "sock.peer"));
	TH_OK(peer && !strcmp(peer, want), "%s: peer %s (got %s)", what, want,
	      peer ? peer : "null");
}

void th_check(void)
{
	char *res = th_results();
	long long a = th_value(res, "porta", 0, -1), b = th_value(res, "portb", 0, -1);

	TH_OK(th_value(res, "fclose_same", 0, 0) == 1, "fclose: the new socket took the number");
	check_peer(11, "AF_UNIX", "SOCK_STREAM", -2, "before fclose");
	check_peer(12, "AF_INET", "SOCK_DGRAM", a, "fclose(fdopen()) then socket()");
	check_peer(14, "AF_INET", "SOCK_DGRAM", a, "dup2 over a cached socket");
	TH_OK(th_value(res, "range_same", 0, 0) == 1, "close_range: the new socket took the number");
	check_peer(16, "AF_INET", "SOCK_DGRAM", a, "close_range then socket()");
	TH_OK(th_value(res, "rights_same", 0, 0) == 1, "SCM_RIGHTS: received at the reused number");
	check_peer(18, "AF_INET", "SOCK_DGRAM", b, "a socket received over SCM_RIGHTS");
	check_peer(19, "AF_INET", "SOCK_DGRAM", a, "UDP connected");
	check_peer(20, "AF_INET", "SOCK_DGRAM", -1, "UDP disconnected (AF_UNSPEC)");
	check_peer(21, "AF_INET", "SOCK_DGRAM", b, "UDP connected elsewhere");
	check_peer(22, "AF_INET", "SOCK_DGRAM", a, "parent before fork");
	check_peer(23, "AF_INET", "SOCK_DGRAM", b, "forked child's new socket at the number");
	check_peer(24, "AF_INET", "SOCK_DGRAM", a, "parent's socket after the child's reuse");
	check_peer(25, "AF_INET", "SOCK_DGRAM", a, "before the raw close");
	check_peer(26, "AF_UNIX", "SOCK_DGRAM", -2, "raw close+socket, after the 100 ms bound");
	{
		json_t *ev = th_find("send", 27, 0), *ev2 = th_find("send", 28, 0);

		if (TH_OK(ev && ev2, "the sends after the peer left are there")) {
			TH_OK(json_is_string(th_get(ev, "sock.peer")),
			      "send to a closed peer: the event carries the peer");
			TH_OK(json_is_string(th_get(ev2, "sock.peer")),
			      "the send after the reset: the event still carries the peer (ret %lld)",
			      (long long)json_integer_value(th_get(ev2, "ret")));
		}
	}
	free(res);
}
