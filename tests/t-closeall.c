/* t-closeall.c: a daemon that closes every fd and dup2()s over ours never receives trace bytes. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#ifndef SYS_close_range
#include <sys/syscall.h>
#endif

void th_workload(void)
{
	int sp[2], q[2], fd, max;
	char buf[65536];
	struct rlimit rl;
	long got = 0, n;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	send(sp[0], "before", 5, 0);

	/* The classic daemon close loop, up to RLIMIT_NOFILE. */
	getrlimit(RLIMIT_NOFILE, &rl);
	max = rl.rlim_cur > 65536 ? 65536 : (int)rl.rlim_cur;
	for (fd = 3; fd < max; fd++)
		close(fd);
	/* Then fill every number with a socket of its own, ours included. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, q);
	for (fd = q[1] + 1; fd < 1100 && fd < max; fd++)
		dup2(q[0], fd);
	send(q[0], "after", 6, MSG_NOSIGNAL);
	while ((n = recv(q[1], buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		got += n;
	th_result("peer %ld", got);

	/* close_range() over everything, then new sockets. */
	syscall(SYS_close_range, 3U, ~0U, 0U);
	socketpair(AF_UNIX, SOCK_STREAM, 0, q);
	send(q[0], "again!", 7, MSG_NOSIGNAL);
	got = 0;
	while ((n = recv(q[1], buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		got += n;
	th_result("peer2 %ld", got);

	/* closefrom() (glibc 2.34), then a socketpair and a send. */
	closefrom(3);
	socketpair(AF_UNIX, SOCK_STREAM, 0, q);
	send(q[0], "third!!!", 8, MSG_NOSIGNAL);
	got = 0;
	while ((n = recv(q[1], buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		got += n;
	th_result("peer3 %ld", got);
}

static void check_run(const char *what)
{
	char *res = th_results(), *p;
	long peer = -1, peer2 = -1, peer3 = -1;

	if ((p = strstr(res, "peer ")))
		sscanf(p, "peer %ld", &peer);
	if ((p = strstr(res, "peer2 ")))
		sscanf(p, "peer2 %ld", &peer2);
	if ((p = strstr(res, "peer3 ")))
		sscanf(p, "peer3 %ld", &peer3);
	free(res);
	TH_OK(peer == 6, "%s: the program's socket got exactly its own 6 bytes (got %ld)", what,
	      peer);
	TH_OK(peer2 == 7, "%s: after close_range: exactly 7 bytes (got %ld)", what, peer2);
	TH_INT(th_find("send", 5, 0), "ret", 5);
	TH_INT(th_find("send", 6, 0), "ret", 6);
	TH_INT(th_find("send", 7, 0), "ret", 7);
	TH_OK(peer3 == 8, "%s: after closefrom: exactly 8 bytes (got %ld)", what, peer3);
	TH_INT(th_find("send", 8, 0), "ret", 8);
	TH_OK(th_count("exit", NULL) == 1, "%s: the exit record is written too", what);
}

void th_check(void)
{
	const char *env[] = {"SENDTRACE_BACKTRACE=4", NULL};

	check_run("plain");
	/* With backtraces, libunwind's pipe is among the fds taken away. */
	unlink(th_trace_path());
	TH_OK(th_run(1, env) == 0, "the workload runs with backtraces");
	th_load();
	check_run("with backtraces");
}
