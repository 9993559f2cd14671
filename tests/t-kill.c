/* t-kill.c: a program killed by SIGKILL or crashing mid-loop loses no completed event. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define SENDS 500

void th_workload(void)
{
	int sp[2], i, ready = atoi(getenv("TH_READY_FD"));
	const char *how = getenv("TH_HOW");
	char buf[64] = {0};

	struct rlimit nocore = {0, 0};

	setrlimit(RLIMIT_CORE, &nocore); /* a crash on purpose needs no core file */
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sp);
	shutdown(sp[1], SHUT_RD);
	for (i = 0; i < SENDS; i++)
		send(sp[0], buf, 40, MSG_DONTWAIT);
	if (!strcmp(how, "segv"))
		*(volatile int *)(uintptr_t)atoi("8") = 1;
	if (!strcmp(how, "abort"))
		abort();
	/* Tell the parent, then wait for SIGKILL; the pipe is not a socket. */
	write(ready, "r", 1);
	for (;;)
		pause();
}

static json_t *exit_record(void)
{
	json_t *ev;
	size_t i;

	json_array_foreach (th_events(), i, ev)
		if (!strcmp(json_string_value(json_object_get(ev, "event")), "exit"))
			return ev;
	return NULL;
}

static void one(const char *how, int sig)
{
	int p[2], status;
	char fdenv[32], howenv[32], c;
	/* Under --enable-sanitizers, let the crash be a crash, not an ASan report. */
	const char *env[] = {fdenv, howenv,
			     "ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0:handle_segv=0:"
			     "handle_abort=0",
			     NULL};
	pid_t pid;

	unlink(th_trace_path());
	pipe(p);
	snprintf(fdenv, sizeof(fdenv), "TH_READY_FD=%d", p[1]);
	snprintf(howenv, sizeof(howenv), "TH_HOW=%s", how);
	pid = th_spawn(1, env);
	close(p[1]);
	if (sig == SIGKILL) {
		TH_OK(read(p[0], &c, 1) == 1, "%s: child ready", how);
		kill(pid, SIGKILL);
	}
	status = th_wait(pid);
	close(p[0]);
	TH_OK(WIFSIGNALED(status) && WTERMSIG(status) == sig, "%s: child died of signal %d", how,
	      sig);
	th_load();
	TH_OK(th_count("call", "send") == SENDS, "%s: all %d completed sends in the file (got %zu)",
	      how, SENDS, th_count("call", "send"));
	if (sig == SIGABRT) {
		/* abort() is called, so seen: its exit record says so. */
		TH_OK(th_count("exit", NULL) == 1, "%s: one exit record", how);
		TH_STR(exit_record(), "signal", "SIGABRT");
	} else {
		TH_OK(th_count("exit", NULL) == 0, "%s: no exit record after a crash", how);
	}
}

static int kill_main(void)
{
	signal(SIGPIPE, SIG_IGN);
	one("kill", SIGKILL);
	one("segv", SIGSEGV);
	one("abort", SIGABRT);
	return 0;
}

__attribute__((constructor)) static void setup(void)
{
	th_main_hook = kill_main;
}

void th_check(void)
{
}
