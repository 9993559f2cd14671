/* corpus.h: what the lint corpus programs share: a loopback TCP connection, a reader thread. */
#ifndef ST_CORPUS_H
#define ST_CORPUS_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*
 * Each program of tests/lint-corpus/ says in its first lines what
 * `sendtrace lint` must find in its trace ("expect: RULE,..." or "expect:
 * none") and how tests/test-lintcorpus.sh must run it ("run: OPTIONS").
 * A failed setup step exits with 99, which the test reports as an error,
 * never as a finding or its absence.
 */

static inline void cp_die(const char *what)
{
	perror(what);
	exit(99);
}

static inline void cp_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* A TCP connection over loopback: *client connected, *server accepted. */
static inline void cp_tcp_pair(int *client, int *server)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0 || bind(l, (struct sockaddr *)&sa, len) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&sa, &len))
		cp_die("listen");
	*client = socket(AF_INET, SOCK_STREAM, 0);
	if (*client < 0 || connect(*client, (struct sockaddr *)&sa, len))
		cp_die("connect");
	*server = accept(l, NULL, NULL);
	if (*server < 0)
		cp_die("accept");
	close(l);
}

static inline void cp_sndbuf(int fd, int bytes)
{
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes)))
		cp_die("SO_SNDBUF");
}

static inline void cp_nonblock(int fd)
{
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK))
		cp_die("O_NONBLOCK");
}

/* A thread that reads fd to its end, after delay_ms, pausing pause_ms after each read. */
struct cp_reader {
	pthread_t thread;
	int fd;
	long delay_ms, pause_ms;
	size_t got;
};

static inline void *cp_reader_main(void *arg)
{
	struct cp_reader *r = arg;
	char buf[65536];
	ssize_t n;

	cp_sleep_ms(r->delay_ms);
	while ((n = read(r->fd, buf, sizeof(buf))) > 0) {
		r->got += (size_t)n;
		if (r->pause_ms)
			cp_sleep_ms(r->pause_ms);
	}
	return NULL;
}

static inline void cp_reader_start(struct cp_reader *r, int fd, long delay_ms, long pause_ms)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->delay_ms = delay_ms;
	r->pause_ms = pause_ms;
	if (pthread_create(&r->thread, NULL, cp_reader_main, r))
		cp_die("pthread_create");
}

static inline size_t cp_reader_join(struct cp_reader *r)
{
	pthread_join(r->thread, NULL);
	return r->got;
}

/* A UDP socket bound to loopback, and its address. */
static inline int cp_udp_receiver(struct sockaddr_in *sa)
{
	socklen_t len = sizeof(*sa);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)sa, len) ||
	    getsockname(fd, (struct sockaddr *)sa, &len))
		cp_die("udp receiver");
	return fd;
}

#endif
