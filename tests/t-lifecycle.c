/* t-lifecycle.c: connect, accept, close and shutdown records, off by default, with the socket as it
 * was. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"

static void loopback(struct sockaddr_in *a, int port)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a->sin_port = htons(port);
}

static int listener(struct sockaddr_in *a)
{
	socklen_t l = sizeof(*a);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	loopback(a, 0);
	if (s < 0 || bind(s, (struct sockaddr *)a, l) || listen(s, 4) ||
	    getsockname(s, (struct sockaddr *)a, &l))
		exit(99);
	return s;
}

/* A port nobody listens on: bound, then closed. */
static int dead_port(void)
{
	struct sockaddr_in a;
	int s = listener(&a);

	close(s);
	return ntohs(a.sin_port);
}

void th_workload(void)
{
	struct sockaddr_in a, u, any;
	int lis, c, s, d, r, e, raw;

	/* TCP: connect, accept4, a send, shutdown, then both ends closed. */
	lis = listener(&a);
	c = socket(AF_INET, SOCK_STREAM, 0);
	r = connect(c, (struct sockaddr *)&a, sizeof(a));
	s = accept4(lis, NULL, NULL, SOCK_CLOEXEC);
	th_result("connect %d accept %d", r, s >= 0);
	send(c, "x", 1, 0);
	errno = 1234;
	r = shutdown(c, SHUT_WR);
	th_result("shutdown %d errno %d", r, errno);
	errno = 1234;
	r = close(s);
	th_result("close %d errno %d", r, errno);
	close(c);
	close(lis);

	/* A refused connect keeps its errno. */
	c = socket(AF_INET, SOCK_STREAM, 0);
	loopback(&u, dead_port());
	r = connect(c, (struct sockaddr *)&u, sizeof(u));
	e = errno;
	th_result("refused %d errno %d", r, e);
	close(c);

	/* UDP: connect, then disconnect with AF_UNSPEC. */
	d = socket(AF_INET, SOCK_DGRAM, 0);
	loopback(&u, 9);
	connect(d, (struct sockaddr *)&u, sizeof(u));
	memset(&any, 0, sizeof(any));
	any.sin_family = AF_UNSPEC;
	connect(d, (struct sockaddr *)&any, sizeof(any));
	close(d);

	/* Not sockets: a file, and a number that is not open. */
	close(open("/dev/null", O_RDONLY));
	errno = 0;
	r = close(999);
	th_result("badclose %d errno %d", r, errno);

	/* The two ends of a socketpair, paired by their inodes. */
	{
		int sp[2];

		socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
		send(sp[0], "ab", 2, 0);
		send(sp[1], "abc", 3, 0);
		close(sp[0]);
		close(sp[1]);
	}

	/* A socket no wrapper saw made: learned at close, before the call. */
	raw = (int)syscall(SYS_socket, AF_INET6, SOCK_DGRAM, 0);
	close(raw);
}

static size_t count_call(const char *call)
{
	json_t *evs = th_events(), *ev;
	size_t i, n = 0;

	json_array_foreach (evs, i, ev) {
		json_t *c = json_object_get(ev, "call");

		if (json_is_string(c) && !strcmp(json_string_value(c), call))
			n++;
	}
	return n;
}

static int life_main(void)
{
	const char *all[] = {"SENDTRACE_CALLS=all,lifecycle", NULL};
	const char *only_close[] = {"SENDTRACE_CALLS=close", NULL};
	const char *bt[] = {"SENDTRACE_CALLS=close", "SENDTRACE_BACKTRACE=4", NULL};
	char *plain, *traced;
	json_t *ev;

	TH_OK(th_run(0, NULL) == 0, "workload runs untraced");
	plain = th_results();
	unlink(th_results_path());

	/* Off by default: sends only. */
	TH_OK(th_run(1, NULL) == 0, "workload runs traced by default");
	th_load();
	TH_OK(count_call("connect") + count_call("accept4") + count_call("close") +
		      count_call("shutdown") ==
		  0,
	      "no lifecycle records by default");
	TH_OK(count_call("send") == 3, "the sends are recorded (%zu)", count_call("send"));

	unlink(th_trace_path());
	unlink(th_results_path());
	TH_OK(th_run(1, all) == 0, "workload runs with SENDTRACE_CALLS=all,lifecycle");
	traced = th_results();
	TH_OK(!strcmp(plain, traced), "same results and errno traced: '%s' vs '%s'", plain, traced);
	free(traced);
	th_load();

	/* connect: the destination as given, the socket after the call. */
	ev = th_find("connect", -1, 0);
	TH_INT(ev, "ret", 0);
	TH_STR(ev, "sock.type", "SOCK_STREAM");
	TH_OK(json_is_string(th_get(ev, "addr")) &&
		  !strcmp(json_string_value(th_get(ev, "addr")),
			  json_string_value(th_get(ev, "sock.peer"))),
	      "connect's addr is the peer it reached");
	TH_INT(ev, "addrlen", sizeof(struct sockaddr_in));

	/* accept4: the listener, its flags, and the new connection with its peer. */
	ev = th_find("accept4", -1, 0);
	TH_OK(ev != NULL, "accept4 recorded");
	TH_NULL(ev, "sock.peer");
	TH_STR(ev, "sock_flags.0", "SOCK_CLOEXEC");
	TH_OK(json_is_string(th_get(ev, "new_sock.peer")) &&
		  !strcmp(json_string_value(th_get(ev, "new_sock.peer")),
			  json_string_value(th_get(th_find("connect", -1, 0), "sock.local"))),
	      "the accepted socket's peer is the client's local end");

	ev = th_find("shutdown", -1, 0);
	TH_STR(ev, "how", "SHUT_WR");
	TH_INT(ev, "ret", 0);
	TH_STR(ev, "sock.type", "SOCK_STREAM");

	/* close: the socket as it was before the call, peer included. */
	ev = th_find("close", -1, 0);
	TH_INT(ev, "ret", 0);
	TH_OK(json_is_string(th_get(ev, "sock.peer")) &&
		  !strcmp(json_string_value(th_get(ev, "sock.peer")),
			  json_string_value(th_get(th_find("connect", -1, 0), "sock.local"))),
	      "the first close (the accepted end) names its peer");
	TH_INT(ev, "fd", json_integer_value(th_get(th_find("accept4", -1, 0), "ret")));
	TH_OK(th_get(ev, "errno") == NULL, "a successful close has no errno");

	/* The refused connect. */
	ev = th_find("connect", -1, 1);
	TH_INT(ev, "ret", -1);
	TH_STR(ev, "errno", "ECONNREFUSED");

	/* UDP connect and disconnect. */
	ev = th_find("connect", -1, 2);
	TH_STR(ev, "sock.type", "SOCK_DGRAM");
	TH_STR(ev, "addr", "127.0.0.1:9");
	TH_STR(ev, "sock.peer", "127.0.0.1:9");
	ev = th_find("connect", -1, 3);
	TH_STR(ev, "sock.type", "SOCK_DGRAM");
	TH_NULL(ev, "sock.peer");
	TH_OK(count_call("connect") == 4, "four connects (%zu)", count_call("connect"));

	/*
	 * Closes: accepted, client, listener, the dead port's listener, refused
	 * client, UDP, the socketpair's two ends, raw socket.
	 * The file and the number that was not open are not sockets.
	 */
	TH_OK(count_call("close") == 9, "nine socket closes, no file or EBADF (%zu)",
	      count_call("close"));
	ev = th_find("close", -1, 8);
	TH_STR(ev, "sock.family", "AF_INET6");
	TH_STR(ev, "sock.type", "SOCK_DGRAM");

	/* Each end's peer_ino is the other's ino (the closes above: 2 more). */
	{
		json_t *a = th_find("send", 2, 0), *b = th_find("send", 3, 0);

		TH_OK(json_is_integer(th_get(a, "sock.ino")) && json_is_integer(th_get(b, "sock.ino")),
		      "unix ends carry their inode");
		TH_OK(json_integer_value(th_get(a, "sock.peer_ino")) ==
				  json_integer_value(th_get(b, "sock.ino")) &&
			      json_integer_value(th_get(b, "sock.peer_ino")) ==
				  json_integer_value(th_get(a, "sock.ino")),
		      "and the peer's: %lld->%lld, %lld->%lld",
		      (long long)json_integer_value(th_get(a, "sock.ino")),
		      (long long)json_integer_value(th_get(a, "sock.peer_ino")),
		      (long long)json_integer_value(th_get(b, "sock.ino")),
		      (long long)json_integer_value(th_get(b, "sock.peer_ino")));
	}

	/* Only what is named. */
	unlink(th_trace_path());
	TH_OK(th_run(1, only_close) == 0, "workload runs with SENDTRACE_CALLS=close");
	th_load();
	TH_OK(count_call("close") == 9 && count_call("send") == 0 && count_call("connect") == 0,
	      "close only: %zu closes, %zu sends, %zu connects", count_call("close"),
	      count_call("send"), count_call("connect"));

	/* Who closed it, from where. */
	unlink(th_trace_path());
	TH_OK(th_run(1, bt) == 0, "workload runs with close records and backtraces");
	th_load();
	ev = th_find("close", -1, 0);
	TH_STR(ev, "bt.0.fn", "th_workload");
	free(plain);
	return 0;
}

__attribute__((constructor)) static void setup(void)
{
	th_main_hook = life_main;
}

void th_check(void)
{
	/* The checks are in life_main: each run has its own. */
}
