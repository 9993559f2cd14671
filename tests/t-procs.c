/* t-procs.c: every process is traced under its own pid, with start and exit records, none lost or
 * doubled. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

extern char **environ;
static int out;

/*
 * Every process's start and exit records, including the shells in between
 * that send nothing, which by default leave none (SENDTRACE_PROCS=active).
 */
__attribute__((constructor)) static void all_procs(void)
{
	setenv("SENDTRACE_PROCS", "all", 1);
}

static void say(size_t len)
{
	static char buf[256];

	send(out, buf, len, MSG_DONTWAIT);
}

static void *spinner(void *arg)
{
	(void)arg;
	for (;;)
		say(7); /* another thread busy sending while the main one forks */
	return NULL;
}

void th_workload(void)
{
	const char *role = getenv("TH_ROLE");
	int sp[2];
	pid_t pid;

	if (role) {
		/* A re-executed child: say who we are with a length of our own. */
		out = atoi(getenv("TH_FD"));
		say((size_t)atoi(role));
		exit(0);
	}
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sp);
	shutdown(sp[1], SHUT_RD);
	out = sp[0];
	{
		char fdenv[32];

		snprintf(fdenv, sizeof(fdenv), "%d", out);
		setenv("TH_FD", fdenv, 1);
	}
	th_result("parent %d", (int)getpid());

	/* 1. fork from a multi-threaded program. */
	{
		pthread_t t;

		pthread_create(&t, NULL, spinner, NULL);
		usleep(2000);
		pid = fork();
		if (pid == 0) {
			say(11);
			exit(0);
		}
		waitpid(pid, NULL, 0);
		th_result("fork %d", (int)pid);
	}
	/* 2. vfork + exec. */
	setenv("TH_ROLE", "12", 1);
	pid = vfork();
	if (pid == 0) {
		execl("/proc/self/exe", "th-child", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
	th_result("vfork %d", (int)pid);
	/* 3. posix_spawn. */
	setenv("TH_ROLE", "13", 1);
	{
		char *argv[] = {(char *)"th-child", NULL};

		posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ);
		waitpid(pid, NULL, 0);
		th_result("spawn %d", (int)pid);
	}
	/* 4. an exec chain through sh -c. */
	setenv("TH_ROLE", "14", 1);
	{
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "exec /proc/%d/exe", (int)getpid());
		pid = fork();
		if (pid == 0) {
			execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
			_exit(127);
		}
		waitpid(pid, NULL, 0);
		th_result("sh %d", (int)pid);
	}
	/* 5. a daemon's double fork: the grandchild outlives its parent. */
	{
		int p[2];
		char c;

		(void)!pipe(p);
		pid = fork();
		if (pid == 0) {
			setsid();
			if (fork() == 0) {
				say(15);
				(void)!write(p[1], "x", 1);
				exit(0);
			}
			_exit(0);
		}
		waitpid(pid, NULL, 0);
		(void)!read(p[0], &c, 1);
		usleep(20000); /* let the grandchild's exit record land */
	}
	unsetenv("TH_ROLE");
	say(16);
}

static int count(long long len, long long pid, int want_other)
{
	size_t i;
	int n = 0;
	json_t *ev;

	json_array_foreach (th_events(), i, ev) {
		long long p = json_integer_value(json_object_get(ev, "pid"));

		if (json_integer_value(json_object_get(ev, "len")) == len &&
		    (want_other ? p != pid : p == pid))
			n++;
	}
	return n;
}

static long long pid_of_len(long long len)
{
	json_t *ev = th_find("send", len, 0);

	return ev ? json_integer_value(json_object_get(ev, "pid")) : -1;
}

static int records(const char *what, long long pid)
{
	size_t i;
	int n = 0;
	json_t *ev;

	json_array_foreach (th_events(), i, ev) {
		if (!strcmp(json_string_value(json_object_get(ev, "event")), what) &&
		    json_integer_value(json_object_get(ev, "pid")) == pid)
			n++;
	}
	return n;
}

void th_check(void)
{
	char *res = th_results();
	int parent = 0, forked = 0, vforked = 0, spawned = 0, shelled = 0;
	long long len;

	parent = th_value(res, "parent", 0, parent);
	forked = th_value(res, "fork", 0, forked);
	vforked = th_value(res, "vfork", 0, vforked);
	spawned = th_value(res, "spawn", 0, spawned);
	shelled = th_value(res, "sh", 0, shelled);
	free(res);
	TH_OK(count(11, forked, 0) == 1 && count(11, forked, 1) == 0,
	      "fork from a threaded program: the child's send, once, under its pid");
	TH_OK(count(7, forked, 0) == 0, "the child does not carry the spinning thread's events");
	TH_OK(pid_of_len(12) == vforked && count(12, vforked, 1) == 0, "vfork+exec: child's pid");
	TH_OK(pid_of_len(13) == spawned && count(13, spawned, 1) == 0, "posix_spawn: child's pid");
	TH_OK(pid_of_len(14) == shelled && count(14, shelled, 1) == 0,
	      "sh -c exec chain: the program keeps sh's pid");
	len = pid_of_len(15);
	TH_OK(len > 0 && len != parent && len != forked, "double fork: the grandchild, pid %lld",
	      len);
	TH_OK(pid_of_len(16) == parent && count(16, parent, 1) == 0, "the parent's last send");
	TH_OK(records("start", parent) == 1 && records("exit", parent) == 1,
	      "parent: one start, one exit");
	TH_OK(records("start", forked) == 1 && records("exit", forked) == 1,
	      "forked child: one start, one exit");
	TH_OK(records("start", vforked) == 1 && records("exit", vforked) == 1,
	      "vfork+exec child: one start (exec), one exit");
	TH_OK(records("start", spawned) == 1 && records("exit", spawned) == 1,
	      "posix_spawn child: one start, one exit");
	TH_OK(records("start", shelled) == 3 && records("exit", shelled) == 1,
	      "sh -c: started by fork, exec of sh, exec of the program; one exit");
	TH_OK(records("start", len) == 1 && records("exit", len) == 1,
	      "daemon grandchild: one start, one exit");
	{
		size_t i;
		json_t *ev;

		json_array_foreach (th_events(), i, ev)
			if (!strcmp(json_string_value(json_object_get(ev, "event")), "exit") &&
			    json_integer_value(json_object_get(ev, "pid")) == len)
				TH_INT(ev, "events", 1); /* its own count, not its parent's */
	}
}
