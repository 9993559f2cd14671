/* t-fork.c: a forked child is traced under its own pid, and re-emits nothing of its parent's. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

void th_workload(void)
{
	int sp[2];
	char buf[64] = {0};
	pid_t pid;

	socketpair(AF_UNIX, SOCK_DGRAM, 0, sp);
	send(sp[0], buf, 11, 0);
	pid = fork();
	if (pid == 0) {
		send(sp[0], buf, 22, 0);
		send(sp[0], buf, 22, 0);
		exit(0);
	}
	waitpid(pid, NULL, 0);
	send(sp[0], buf, 33, 0);
	th_result("child %d parent %d", (int)pid, (int)getpid());
}

static size_t count_len(long long len, long long pid)
{
	size_t i, n = 0;
	json_t *ev;

	json_array_foreach (th_events(), i, ev) {
		if (json_integer_value(json_object_get(ev, "len")) == len &&
		    json_integer_value(json_object_get(ev, "pid")) == pid)
			n++;
	}
	return n;
}

void th_check(void)
{
	char *res = th_results();
	int child = 0, parent = 0, starts_child = 0, starts_parent = 0;
	size_t i;
	json_t *ev;

	child = (int)th_value(res, "child", 0, 0);
	parent = (int)th_value(res, "parent", 0, 0);
	free(res);
	TH_OK(child > 0 && parent > 0, "pids reported");
	TH_OK(count_len(11, parent) == 1, "parent's first send once, under the parent");
	TH_OK(count_len(11, child) == 0, "child does not re-emit the parent's event");
	TH_OK(count_len(22, child) == 2, "child's two sends under the child's pid");
	TH_OK(count_len(33, parent) == 1, "parent's last send");
	TH_OK(th_count("call", NULL) == 4, "four call events in all (got %zu)",
	      th_count("call", NULL));
	json_array_foreach (th_events(), i, ev) {
		const char *e = json_string_value(json_object_get(ev, "event"));
		long long pid = json_integer_value(json_object_get(ev, "pid"));

		if (strcmp(e, "start"))
			continue;
		if (pid == child) {
			starts_child++;
			TH_INT(ev, "ppid", parent);
			TH_STR(ev, "how", "fork");
		}
		if (pid == parent)
			starts_parent++;
	}
	TH_OK(starts_parent == 1 && starts_child == 1, "one start record per process");
	TH_OK(th_count("exit", NULL) == 2, "one exit record per process");
}
