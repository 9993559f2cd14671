/* t-reuse.c: an fd number that libc closed (fclose) and that was reused never shows the old socket.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"

void th_workload(void)
{
	struct sockaddr_in a4;
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	unsigned int l;
	int sp[2], fd, rx, lis, c;
	char buf[64] = {0};
	FILE *f;

	rx = th_udp_receiver(AF_INET, &a4, &l);
	/* 1: a unix stream socket, sent on often enough to be cached. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	send(sp[0], buf, 1, 0);
	send(sp[0], buf, 1, 0);
	/* libc closes it inside fclose(): no close() of ours is called. */
	f = fdopen(sp[0], "w");
	fclose(f);
	/* 2: the same number, now a UDP socket. */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	th_result("same %d", fd == sp[0]);
	sendto(fd, buf, 2, 0, (struct sockaddr *)&a4, sizeof(a4));
	connect(fd, (struct sockaddr *)&a4, sizeof(a4));
	send(fd, buf, 3, 0);
	f = fdopen(fd, "w");
	fclose(f);
	/* 3: the same number, now a regular file: send fails, nothing stale. */
	fd = open("/dev/null", O_WRONLY);
	send(fd, buf, 4, 0);
	write(fd, buf, 5);
	f = fdopen(fd, "w");
	fclose(f);
	/* 4: the same number, now a connected unix stream with a path. */
	snprintf(un.sun_path, sizeof(un.sun_path), "/tmp/st-reuse-%d.sock", (int)getpid());
	unlink(un.sun_path);
	lis = socket(AF_UNIX, SOCK_STREAM, 0);
	bind(lis, (struct sockaddr *)&un, sizeof(un));
	listen(lis, 1);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	connect(c, (struct sockaddr *)&un, sizeof(un));
	th_result("fds %d %d", lis, c);
	send(c, buf, 6, 0);
	unlink(un.sun_path);
	close(rx);
}

void th_check(void)
{
	char *res = th_results();
	int same = 0, lis = -1, c = -2;
	json_t *ev;

	same = th_value(res, "same", 0, same);
	lis = (int)th_value(res, "fds", 0, lis);
	c = (int)th_value(res, "fds", 1, c);
	free(res);
	TH_OK(same, "the UDP socket reused the unix socket's fd number");
	TH_STR(th_find("send", 1, 1), "sock.family", "AF_UNIX");
	ev = th_find("sendto", 2, 0);
	TH_STR(ev, "sock.family", "AF_INET");
	TH_STR(ev, "sock.type", "SOCK_DGRAM");
	TH_STR(ev, "sock.proto", "udp");
	ev = th_find("send", 3, 0);
	TH_STR(ev, "sock.type", "SOCK_DGRAM");
	TH_OK(json_is_string(th_get(ev, "sock.peer")), "the UDP socket's new peer is shown");
	ev = th_find("send", 4, 0);
	TH_NULL(ev, "sock");
	TH_STR(ev, "errno", "ENOTSOCK");
	TH_OK(th_find("write", 5, 0) == NULL,
	      "a write to the reused number (a file) is not traced");
	ev = th_find("send", 6, 0);
	TH_OK(c >= 0, "connected unix socket at fd %d", c);
	TH_STR(ev, "sock.family", "AF_UNIX");
	TH_OK(ev && json_string_value(th_get(ev, "sock.peer")) &&
		  strstr(json_string_value(th_get(ev, "sock.peer")), "/tmp/st-reuse-"),
	      "the new peer path, not the old socket's");
}
