/* t-signal.c: a signal handler that write()s to a socket while the program sends: no deadlock, no
 * torn line. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define SENDS 20000

static int wake[2];
static volatile sig_atomic_t fired;

static void on_alarm(int sig)
{
	(void)sig;
	/* The self-pipe pattern, over a socket pair so that it is traced. */
	(void)!write(wake[0], "x", 1);
	fired++;
}

void th_workload(void)
{
	struct itimerval it = {{0, 50}, {0, 50}};
	struct sigaction sa;
	int sp[2], i;
	char buf[64] = {0};

	socketpair(AF_UNIX, SOCK_DGRAM, 0, wake);
	fcntl(wake[0], F_SETFL, O_NONBLOCK);
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sp);
	shutdown(sp[1], SHUT_RD);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	for (i = 0; i < SENDS; i++)
		send(sp[0], buf, 40, MSG_DONTWAIT);
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	th_result("fired %d", (int)fired);
}

static int signal_main(void)
{
	char *res;
	int fired_n = -1, status;

	alarm(300); /* a deadlock fails the test instead of hanging make check */
	status = th_run(1, NULL);
	TH_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "workload finished (status %#x)",
	      status);
	res = th_results();
	fired_n = th_value(res, "fired", 0, fired_n);
	free(res);
	th_load();
	TH_OK(th_count("call", "send") == SENDS, "%d sends recorded (got %zu)", SENDS,
	      th_count("call", "send"));
	TH_OK(fired_n > 0, "the handler ran (%d times)", fired_n);
	TH_OK(th_count("call", "write") == (size_t)fired_n,
	      "every write from the handler recorded (%zu of %d)", th_count("call", "write"),
	      fired_n);
	return 0;
}

__attribute__((constructor)) static void setup(void)
{
	th_main_hook = signal_main;
}

void th_check(void)
{
}
