/* t-longjmp.c: sends left by siglongjmp() from a SIGALRM handler leave later sends traced. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/*
 * The classic send timeout of old code: arm a timer, send, and have the
 * SIGALRM handler siglongjmp() out of the blocked call. The traced send
 * never returns into the tracer, so anything it took on entry (a nesting
 * level, a buffer, a lock) must not stay taken: the sends after it are
 * ordinary ones and must all be in the trace.
 */
#define TIMEOUTS  3
#define BLOCK_LEN 4000
#define AFTER	  10
#define AFTER_LEN 77

static sigjmp_buf env;
static volatile sig_atomic_t armed;

static void on_alarm(int sig)
{
	(void)sig;
	if (armed)
		siglongjmp(env, 1);
}

void th_workload(void)
{
	static char buf[BLOCK_LEN];
	struct itimerval it;
	struct sigaction sa;
	int full[2], other[2], i, sndbuf = 4096;
	/* Not in registers: siglongjmp() would restore them to what they were at sigsetjmp(). */
	static volatile int jumped, sent, filled, blocked_ret;

	socketpair(AF_UNIX, SOCK_STREAM, 0, full);
	setsockopt(full[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	/* Fill the pipe until a send would block; nothing ever reads full[1]. */
	while (send(full[0], buf, 1000, MSG_DONTWAIT) > 0)
		filled++;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	for (i = 0; i < TIMEOUTS; i++) {
		if (sigsetjmp(env, 1) == 0) {
			memset(&it, 0, sizeof(it));
			it.it_value.tv_usec = 200000;
			armed = 1;
			setitimer(ITIMER_REAL, &it, NULL);
			blocked_ret = (int)send(full[0], buf, BLOCK_LEN, 0); /* blocks */
			armed = 0;
		} else {
			armed = 0;
			jumped++;
		}
	}
	/* Ten ordinary sends on another socket, each of a length of its own kind. */
	socketpair(AF_UNIX, SOCK_DGRAM, 0, other);
	for (i = 0; i < AFTER; i++)
		if (send(other[0], buf, AFTER_LEN, 0) == AFTER_LEN)
			sent++;
	th_result("filled %d jumped %d blocked_ret %d sent %d", filled, jumped, blocked_ret, sent);
}

static int longjmp_main(void)
{
	int status[2], jumped[2], sent[2], blocked[2], filled[2], k;

	for (k = 0; k < 2; k++) {
		char *res;

		unlink(th_trace_path());
		status[k] = th_run(k, NULL);
		res = th_results();
		filled[k] = (int)th_value(res, "filled", 0, -1);
		jumped[k] = (int)th_value(res, "jumped", 0, -1);
		blocked[k] = (int)th_value(res, "blocked_ret", 0, -1);
		sent[k] = (int)th_value(res, "sent", 0, -1);
		free(res);
	}
	TH_OK(status[0] == 0 && status[1] == 0,
	      "the workload exits 0 untraced and traced (%#x, %#x)", status[0], status[1]);
	TH_OK(filled[0] > 0 && filled[1] > 0, "the send buffer was filled (%d, %d sends)",
	      filled[0], filled[1]);
	TH_OK(jumped[0] == TIMEOUTS && jumped[1] == TIMEOUTS,
	      "all %d blocked sends were left by siglongjmp (untraced %d, traced %d)", TIMEOUTS,
	      jumped[0], jumped[1]);
	TH_OK(blocked[0] == 0 && blocked[1] == 0, "no blocked send ever returned");
	TH_OK(sent[0] == AFTER && sent[1] == AFTER,
	      "the %d later sends succeed (untraced %d, traced %d)", AFTER, sent[0], sent[1]);
	th_load();
	{
		int n = 0, fill = 0;

		while (th_find("send", AFTER_LEN, n))
			n++;
		TH_OK(n == AFTER,
		      "all %d sends of %d bytes after the timeouts are in the trace (got %d)",
		      AFTER, AFTER_LEN, n);
		/* Those that filled the buffer, and the one that found it full. */
		while (th_find("send", 1000, fill))
			fill++;
		TH_OK(fill == filled[1] + 1,
		      "the %d sends that filled the buffer are in the trace (got %d)",
		      filled[1] + 1, fill);
	}
	return 0;
}

__attribute__((constructor)) static void setup(void)
{
	th_main_hook = longjmp_main;
}

void th_check(void)
{
}
