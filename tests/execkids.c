/* execkids.c: execs programs the ways a traced program does, and says how each ended. */
#define _GNU_SOURCE /* strerrorname_np */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * execkids HOW PATH [HOW PATH ...], HOW one of:
 *   fork    fork(), then execv(PATH) in the child
 *   vfork   vfork(), then execv(PATH) in the child
 *   noenv   fork(), then execve(PATH) with an environment without LD_PRELOAD
 *   path    fork(), then execvp(PATH): PATH is a name looked up in $PATH
 *   fail    execv(PATH) here, expected to fail: the errno it left is printed
 * It sends once first, so that its own trace is not empty. Each child gets
 * the argument "kid"; each line of output says how the child ended.
 */
int main(int argc, char **argv)
{
	char *env[] = {"HOME=/", "SENDTRACE_TEST=1", NULL};
	int i, st, sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0)
		(void)send(sv[0], "x", 1, 0);
	for (i = 1; i + 1 < argc; i += 2) {
		const char *how = argv[i];
		char *path = argv[i + 1], *kid[] = {path, "kid", NULL};
		pid_t p;

		if (!strcmp(how, "fail")) {
			errno = 0;
			execv(path, kid);
			printf("fail %s: %s\n", path, strerrorname_np(errno));
			continue;
		}
		fflush(stdout);
		p = !strcmp(how, "vfork") ? vfork() : fork();
		if (p == 0) {
			if (!strcmp(how, "noenv"))
				execve(path, kid, env);
			else if (!strcmp(how, "path"))
				execvp(path, kid);
			else
				execv(path, kid);
			_exit(127);
		}
		if (p < 0 || waitpid(p, &st, 0) != p)
			return 2;
		printf("%s %s: status %d\n", how, path, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
	return 0;
}
