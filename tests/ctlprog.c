/* ctlprog.c: a long-running sender for the ctl tests: threads and a forked child send until told to stop. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int sp[2];
static const char *stopfile;

static int stopped(void)
{
	struct stat sb;

	return stat(stopfile, &sb) == 0;
}

/* One byte every 2 ms, MSG_DONTWAIT so a full buffer is a failure, not a hang. */
static void *sender(void *arg)
{
	char sink[256];

	(void)arg;
	while (!stopped()) {
		if (send(sp[0], "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			(void)0;
		while (recv(sp[1], sink, sizeof(sink), MSG_DONTWAIT) > 0)
			;
		nanosleep(&(struct timespec){0, 2000000}, NULL);
	}
	return NULL;
}

static int run(int threads)
{
	pthread_t t[16];
	int i;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sp) != 0)
		return 1;
	for (i = 0; i < threads && i < 16; i++)
		pthread_create(&t[i], NULL, sender, NULL);
	sender(NULL);
	for (i = 0; i < threads && i < 16; i++)
		pthread_join(t[i], NULL);
	return 0;
}

/* ctlprog THREADS STOPFILE PIDFILE [exec PROG...]: "PARENT CHILD" into PIDFILE, then send. */
int main(int argc, char **argv)
{
	int threads, status = 0;
	char tmp[4096];
	pid_t child;
	FILE *f;

	if (argc < 4)
		return 2;
	threads = atoi(argv[1]);
	stopfile = argv[2];
	child = fork();
	if (child == 0) {
		if (argc > 5 && !strcmp(argv[4], "exec")) {
			execv(argv[5], argv + 5);
			_exit(127);
		}
		_exit(run(threads));
	}
	/* Renamed into place whole: the test reads both pids at once. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[3]);
	f = fopen(tmp, "w");
	if (!f)
		return 2;
	fprintf(f, "%d %d\n", (int)getpid(), (int)child);
	fclose(f);
	rename(tmp, argv[3]);
	status = run(threads);
	if (waitpid(child, &status, 0) != child)
		return 3;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 4;
}
