/* t-rawfork.c: children of _Fork(), raw fork and clone are traced whole, under their own pid. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/*
 * A tracer that learns of fork() from pthread_atfork() never hears of these
 * children: _Fork() (glibc 2.34) skips the handlers by design, and the raw
 * system calls bypass glibc altogether. The child then starts with a copy of
 * the parent's state: its pid, its place in the trace file, the mapping it
 * was writing into. Parent and child send at the same time, so any state
 * they still share shows up as lost events, torn lines, or the child's
 * events under the parent's pid.
 */
#define SENDS 200

static const char *const names[] = {"_Fork", "SYS_fork", "SYS_clone", "CLONE_VM"};
#define NWAYS 4
#define VM_WAY 3 /* shares memory and the thread's TLS: whole events, pid not asserted */
static int vm_fd;

static pid_t raw_fork(int how)
{
	switch (how) {
	case 0:
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
		return _Fork();
#endif
		/* fall through: an older glibc has no _Fork() */
	case 1:
#ifdef SYS_fork
		return (pid_t)syscall(SYS_fork);
#else
		return (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
#endif
	default:
		/* All pointers zero, so the order of the last arguments (it differs between
		 * architectures) does not matter: a plain fork. */
		return (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	}
}

static size_t len_parent(int how)
{
	return 101 + 10 * (size_t)how;
}

static size_t len_child(int how)
{
	return 102 + 10 * (size_t)how;
}

static void burst(int fd, size_t len);

static int vm_child(void *arg)
{
	(void)arg;
	burst(vm_fd, len_child(VM_WAY));
	return 0;
}

static void burst(int fd, size_t len)
{
	static char buf[256];
	int i;

	for (i = 0; i < SENDS; i++) {
		send(fd, buf, len, MSG_DONTWAIT);
		if (i % 16 == 0)
			sched_yield(); /* let the other side in */
	}
}

void th_workload(void)
{
	int sp[2], how, status;
	pid_t pid;

	socketpair(AF_UNIX, SOCK_DGRAM, 0, sp);
	shutdown(sp[1], SHUT_RD);	   /* nothing reads: the calls are what counts */
	send(sp[0], "x", 1, MSG_DONTWAIT); /* the tracer is warm before the first child */
	th_result("parent %d", (int)getpid());
	for (how = 0; how < NWAYS; how++) {
		if (how == VM_WAY) {
			static char stack[256 << 10];

			/* A process sharing our memory, even our TLS: both send at once. */
			vm_fd = sp[0];
			pid = clone(vm_child, stack + sizeof(stack), CLONE_VM | SIGCHLD, NULL);
		} else {
			pid = raw_fork(how);
		}
		if (pid == 0) {
			burst(sp[0], len_child(how));
			_exit(0);
		}
		if (pid > 0) {
			burst(sp[0], len_parent(how));
			status = th_wait(pid);
		} else {
			status = -1;
		}
		th_result("%s %d %d", names[how], (int)pid, status);
	}
}

static int count_len(size_t len, long long pid)
{
	size_t i;
	int n = 0;
	json_t *ev;

	json_array_foreach (th_events(), i, ev) {
		const char *e = json_string_value(json_object_get(ev, "event"));

		if (!e || strcmp(e, "call") ||
		    json_integer_value(json_object_get(ev, "len")) != (long long)len)
			continue;
		if (pid < 0 || json_integer_value(json_object_get(ev, "pid")) == pid)
			n++;
	}
	return n;
}

void th_check(void)
{
	char *res = th_results();
	long long parent = th_value(res, "parent", 0, -1);
	int how;

	TH_OK(parent > 0, "the parent's pid is reported");
	for (how = 0; how < NWAYS; how++) {
		long long child = th_value(res, names[how], 0, -1);
		long long status = th_value(res, names[how], 1, -1);
		int all, mine;

		TH_OK(child > 0 && status == 0,
		      "%s: the child ran and exited 0 (pid %lld, status %#llx)", names[how], child,
		      status);
		all = count_len(len_child(how), -1);
		mine = count_len(len_child(how), child);
		TH_OK(all == SENDS, "%s: all %d of the child's sends are in the trace (got %d)",
		      names[how], SENDS, all);
		if (how != VM_WAY)
			TH_OK(mine == all, "%s: each under the child's pid %lld (%d of %d)",
			      names[how], child, mine, all);
		all = count_len(len_parent(how), -1);
		mine = count_len(len_parent(how), parent);
		TH_OK(all == SENDS,
		      "%s: all %d of the parent's sends meanwhile are in the trace (got %d)",
		      names[how], SENDS, all);
		if (how != VM_WAY)
			TH_OK(mine == all, "%s: each under the parent's pid %lld (%d of %d)",
			      names[how], parent, mine, all);
	}
	free(res);
}
