/* t-exec.c: exec and _exit hooks keep the program's behaviour and never touch a vfork()ed parent's trace. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static int sp[2];

static void sends(int n, int len)
{
	char buf[300] = {0};
	int i;

	for (i = 0; i < n; i++) {
		send(sp[0], buf, (size_t)len, 0);
		recv(sp[1], buf, sizeof(buf), 0);
	}
}

void th_workload(void)
{
	pid_t pid;
	int r, e, status;

	socketpair(AF_UNIX, SOCK_DGRAM, 0, sp);
	sends(10, 101);

	/* An exec that fails: same result and errno, and tracing goes on. */
	errno = 0;
	r = execl("/nonexistent/st-no-such-program", "x", (char *)NULL);
	e = errno;
	th_result("failed-exec %d errno %d", r, e);
	sends(10, 102);

	/* vfork, then exec: the child shares our memory and must leave our trace alone. */
	pid = vfork();
	if (pid == 0) {
		execlp("true", "true", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	th_result("vfork-exec status %d", WEXITSTATUS(status));
	sends(10, 103);

	/* vfork, exec fails, _exit: the child's _exit must not write our exit record. */
	pid = vfork();
	if (pid == 0) {
		execl("/nonexistent/st-no-such-program", "x", (char *)NULL);
		_exit(9);
	}
	waitpid(pid, &status, 0);
	th_result("vfork-exit status %d", WEXITSTATUS(status));
	sends(10, 104);

	/* execle: the environment after the list reaches the new image. */
	pid = fork();
	if (pid == 0) {
		char *const env[] = {"ST_X=6", NULL};

		execle("/bin/sh", "sh", "-c", "exit $ST_X", (char *)NULL, env);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	th_result("execle status %d", WEXITSTATUS(status));

	/* fork, then _exit(7): the child's own exit record, with its status. */
	pid = fork();
	if (pid == 0) {
		sends(2, 105);
		_exit(7);
	}
	waitpid(pid, &status, 0);
	th_result("fork-_exit status %d", WEXITSTATUS(status));
	sends(10, 106);
}

static int exec_main(void)
{
	char *plain, *traced;
	json_t *ev;
	size_t i, exits = 0;
	int mine = 0;

	TH_OK(th_run(0, NULL) == 0, "workload runs untraced");
	plain = th_results();
	unlink(th_results_path());
	TH_OK(th_run(1, NULL) == 0, "workload runs traced");
	traced = th_results();
	TH_OK(!strcmp(plain, traced), "same results and errno traced: '%s' vs '%s'", plain,
	      traced);
	th_load();
	for (i = 101; i <= 104; i++)
		TH_OK(th_count("call", "send") > 0 && th_find("send", (long long)i, 9) != NULL,
		      "the 10 sends of %zu bytes are recorded", i);
	TH_OK(th_find("send", 105, 1) != NULL, "the fork child's sends");
	TH_OK(th_find("send", 106, 9) != NULL, "and the parent's after it");
	json_array_foreach (th_events(), i, ev) {
		const char *kind = json_string_value(json_object_get(ev, "event"));

		/* true, which the vfork child became, is a process of its own: not counted. */
		if (kind && !strcmp(kind, "exit") &&
		    strcmp(json_string_value(json_object_get(ev, "comm")), "true")) {
			exits++;
			mine += json_integer_value(json_object_get(ev, "status")) == 7;
		}
	}
	/* The workload's process and its fork child; never a vfork child's. */
	TH_OK(exits == 2, "two exit records, none from a vfork child (%zu)", exits);
	TH_OK(mine == 1, "the fork child's says status 7");
	free(plain);
	free(traced);
	return 0;
}

__attribute__((constructor)) static void setup(void)
{
	th_main_hook = exec_main;
}

void th_check(void)
{
}
