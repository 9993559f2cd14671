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

/* Everything the peer of q[0] received: the program's bytes, and nothing of ours. */
static long drain(int peer)
{
	static char buf[65536];
	long got = 0, n;

	while ((n = recv(peer, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		got += n;
	return got;
}

/* A new socket pair after the fds were taken away, and one send on it. */
static void send_fresh(const char *key, const char *msg, size_t len)
{
	int q[2];

	socketpair(AF_UNIX, SOCK_STREAM, 0, q);
	send(q[0], msg, len, MSG_NOSIGNAL);
	th_result("%s %ld", key, drain(q[1]));
}

void th_workload(void)
{
	int sp[2], q[2], fd, max;
	struct rlimit rl;

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
	th_result("peer %ld", drain(q[1]));

	/* close_range() over everything, then new sockets. */
	syscall(SYS_close_range, 3U, ~0U, 0U);
	send_fresh("peer2", "again!", 7);

	/* closefrom() (glibc 2.34), then the same. */
	closefrom(3);
	send_fresh("peer3", "third!!!", 8);
}

static void check_run(const char *what)
{
	char *res = th_results();
	long peer = -1, peer2 = -1, peer3 = -1;

	peer = th_value(res, "peer", 0, peer);
	peer2 = th_value(res, "peer2", 0, peer2);
	peer3 = th_value(res, "peer3", 0, peer3);
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
