/* threadsend.c: short-lived threads that send once each, for the trace-size and follow tests. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int sp[2];

static void *one_send(void *arg)
{
	(void)arg;
	return send(sp[0], "x", 1, MSG_DONTWAIT) == 1 ? NULL : (void *)1;
}

/* `n` threads, one after the other, each sending one byte; returns the failures. */
static int run_threads(long n)
{
	char sink[4096];
	long i;
	int bad = 0;

	for (i = 0; i < n; i++) {
		pthread_t t;
		void *ret;

		if (pthread_create(&t, NULL, one_send, NULL) != 0 || pthread_join(t, &ret) != 0) {
			bad++;
			continue;
		}
		bad += ret != NULL;
		if (i % 32 == 31)
			while (recv(sp[1], sink, sizeof(sink), MSG_DONTWAIT) > 0)
				;
	}
	while (recv(sp[1], sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
	return bad;
}

/* Waits for `path` to exist: the test says when to go on (it is never a timing assertion). */
static void wait_for(const char *path)
{
	static const struct timespec tick = {0, 20 * 1000 * 1000};
	struct stat sb;

	while (stat(path, &sb) != 0)
		nanosleep(&tick, NULL);
}

/* threadsend N [GOFILE M]: N threads, then, once GOFILE exists, M more. */
int main(int argc, char **argv)
{
	int bad;

	if (argc != 2 && argc != 4) {
		fprintf(stderr, "usage: threadsend N [GOFILE M]\n");
		return 2;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) != 0)
		return 2;
	bad = run_threads(atol(argv[1]));
	if (argc == 4) {
		wait_for(argv[2]);
		bad += run_threads(atol(argv[3]));
	}
	if (bad)
		fprintf(stderr, "threadsend: %d threads failed\n", bad);
	return bad ? 1 : 0;
}
