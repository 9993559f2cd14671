/* rotsend.c: processes x threads sending numbered datagrams, for the size cap and rotation tests. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static long sends;
static int proc;

/*
 * One thread: `sends` datagrams on a socketpair of its own, each read back
 * at once (recv is not traced) so that none waits. The payload says who
 * sent it and its number ("p1t2s40"): a test that records payloads checks
 * that every thread's events are all there, and in order.
 */
static void *sender(void *arg)
{
	long t = (long)arg, i;
	int sp[2];
	char msg[64], back[64];

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sp) != 0)
		return (void *)1;
	for (i = 0; i < sends; i++) {
		int n = snprintf(msg, sizeof(msg), "p%dt%lds%ld", proc, t, i);

		if (send(sp[0], msg, (size_t)n, 0) != n || recv(sp[1], back, sizeof(back), 0) != n)
			return (void *)1;
	}
	close(sp[0]);
	close(sp[1]);
	return NULL;
}

/* This process's threads; the number of them that failed. */
static int run_threads(long threads)
{
	pthread_t tid[64];
	long t;
	int bad = 0;

	for (t = 0; t < threads; t++)
		if (pthread_create(&tid[t], NULL, sender, (void *)t) != 0)
			return (int)threads;
	for (t = 0; t < threads; t++) {
		void *ret;

		if (pthread_join(tid[t], &ret) != 0 || ret)
			bad++;
	}
	return bad;
}

/* rotsend PROCS THREADS SENDS: exit 0 when every one of PROCS x THREADS x SENDS sends went. */
int main(int argc, char **argv)
{
	long procs, threads;
	int p, bad, status;
	pid_t kids[64];

	if (argc != 4 || (procs = atol(argv[1])) < 1 || procs > 64 ||
	    (threads = atol(argv[2])) < 1 || threads > 64 || (sends = atol(argv[3])) < 0) {
		fprintf(stderr, "usage: rotsend PROCS THREADS SENDS (at most 64 of each)\n");
		return 2;
	}
	for (p = 1; p < procs; p++) {
		kids[p] = fork();
		if (kids[p] == 0) {
			proc = p;
			_exit(run_threads(threads) ? 1 : 0);
		}
		if (kids[p] < 0)
			return 2;
	}
	bad = run_threads(threads);
	for (p = 1; p < procs; p++)
		if (waitpid(kids[p], &status, 0) != kids[p] || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			bad++;
	if (bad)
		fprintf(stderr, "rotsend: %d threads or processes failed\n", bad);
	return bad ? 1 : 0;
}
