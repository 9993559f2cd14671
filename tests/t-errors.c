/* t-errors.c: failing calls return the same value and errno traced as untraced, and are recorded.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static void *volatile bad_ptr = (void *)8; /* never mapped */
#define BAD bad_ptr

static char big[70000];

/* One line per call: its name, return value and errno. errno is seeded to
 * catch a wrapper that changes it on success too. */
#define RECORD(name, call)                                                                         \
	do {                                                                                       \
		long long r_;                                                                      \
		errno = 12345;                                                                     \
		r_ = (long long)(call);                                                            \
		th_result("%s %lld %d", name, r_, errno);                                          \
	} while (0)

void th_workload(void)
{
	int sp[2], dead[2], p[2], u, c, s, ud[2];
	struct sockaddr_in a4;
	struct msghdr msg;
	struct iovec iov = {big, 10};
	unsigned int l;
	int rx = th_udp_receiver(AF_INET, &a4, &l);

	signal(SIGPIPE, SIG_DFL);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	pipe(p);
	u = socket(AF_INET, SOCK_DGRAM, 0);

	RECORD("ebadf-send", send(-1, big, 1, 0));
	RECORD("ebadf-sendto", sendto(999, big, 2, 0, NULL, 0));
	RECORD("ebadf-write", write(999, big, 3));
	RECORD("enotsock", send(p[1], big, 4, 0));
	RECORD("efault-send", send(sp[0], BAD, 5, 0));
	RECORD("efault-sendto", sendto(u, big, 6, 0, BAD, sizeof(a4)));
	RECORD("efault-sendmsg", sendmsg(sp[0], BAD, 0));
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = BAD;
	msg.msg_iovlen = 2;
	RECORD("efault-iov", sendmsg(sp[0], &msg, 0));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = BAD;
	msg.msg_controllen = 64;
	RECORD("efault-control", sendmsg(sp[0], &msg, 0));
	RECORD("efault-writev", writev(sp[0], BAD, 3));
	RECORD("efault-sendmmsg", sendmmsg(u, BAD, 2, 0));
	{
		int f = open("/proc/self/exe", 0);

		RECORD("efault-sendfile", sendfile(sp[0], f, BAD, 10));
		close(f);
	}
	RECORD("emsgsize", sendto(u, big, sizeof(big), 0, (struct sockaddr *)&a4, sizeof(a4)));
	/* Fill a non-blocking stream until the kernel says EAGAIN. */
	{
		long long r;
		int i;

		for (i = 0; i < 100000; i++) {
			errno = 0;
			r = send(sp[0], big, sizeof(big), MSG_DONTWAIT);
			if (r < 0)
				break;
		}
		th_result("eagain %lld %d", r, errno);
	}
	socketpair(AF_UNIX, SOCK_STREAM, 0, dead);
	close(dead[1]);
	RECORD("epipe", send(dead[0], big, 7, MSG_NOSIGNAL));
	RECORD("edestaddrreq", send(u, big, 8, 0));
	th_tcp_pair(AF_INET, &c, &s);
	socketpair(AF_UNIX, SOCK_STREAM, 0, ud);
	{
		struct sockaddr_un un = {.sun_family = AF_UNIX, .sun_path = "/nonexistent"};

		RECORD("eisconn", sendto(ud[0], big, 9, 0, (struct sockaddr *)&un, sizeof(un)));
	}
	RECORD("ok-send", send(c, big, 11, 0));
	(void)rx;
}

static int errors_main(void)
{
	char *plain, *traced, *a, *b, *sa = NULL, *sb = NULL;
	int st1, st2, lines = 0;
	json_t *ev;

	st1 = th_run(0, NULL);
	plain = th_results();
	st2 = th_run(1, NULL);
	traced = th_results();
	TH_OK(st1 == 0 && st2 == 0, "both runs exit 0 (%#x, %#x)", st1, st2);
	a = strtok_r(plain, "\n", &sa);
	b = strtok_r(traced, "\n", &sb);
	while (a || b) {
		TH_OK(a && b && strcmp(a, b) == 0, "untraced '%s' == traced '%s'", a ? a : "-",
		      b ? b : "-");
		a = strtok_r(NULL, "\n", &sa);
		b = strtok_r(NULL, "\n", &sb);
		lines++;
	}
	TH_OK(lines == 18, "18 calls compared (got %d)", lines);
	free(plain);
	free(traced);

	th_load();
	TH_STR(th_find("send", 1, 0), "errno", "EBADF");
	TH_NULL(th_find("send", 1, 0), "sock");
	TH_STR(th_find("sendto", 2, 0), "errno", "EBADF");
	TH_OK(th_find("write", 3, 0) == NULL, "write to a bad fd is not a socket: untraced");
	TH_STR(th_find("send", 4, 0), "errno", "ENOTSOCK");
	TH_STR(th_find("send", 5, 0), "errno", "EFAULT");
	ev = th_find("sendto", 6, 0);
	TH_STR(ev, "errno", "EFAULT");
	TH_NULL(ev, "addr");
	ev = th_find("sendmsg", -1, 0);
	TH_STR(ev, "errno", "EFAULT");
	TH_NULL(ev, "msg");
	ev = th_find("sendmsg", -1, 1);
	TH_STR(ev, "errno", "EFAULT");
	TH_OK(json_array_size(th_get(ev, "iov")) == 0, "bad iov pointer: nothing read");
	ev = th_find("sendmsg", -1, 2);
	TH_STR(ev, "errno", "EFAULT");
	TH_OK(json_array_size(th_get(ev, "cmsg")) == 1 &&
		  json_is_string(th_get(ev, "cmsg.0.malformed")),
	      "bad control pointer: not read, said so");
	TH_STR(th_find("writev", -1, 0), "errno", "EFAULT");
	ev = th_find("sendmmsg", -1, 0);
	TH_STR(ev, "errno", "EFAULT");
	TH_OK(json_array_size(th_get(ev, "msgs")) == 0, "bad vector: no message read");
	TH_INT(ev, "msgs_more", 2);
	ev = th_find("sendfile", 10, 0);
	TH_STR(ev, "errno", "EFAULT");
	TH_NULL(ev, "offset");
	TH_STR(th_find("sendto", (long long)sizeof(big), 0), "errno", "EMSGSIZE");
	ev = th_find("send", (long long)sizeof(big), 0);
	TH_OK(ev != NULL, "sends that filled the buffer are recorded");
	{
		size_t i, n = 0;
		json_t *e;

		json_array_foreach (th_events(), i, e) {
			const char *en = json_string_value(json_object_get(e, "errno"));

			if (en && !strcmp(en, "EAGAIN"))
				n++;
		}
		TH_OK(n == 1, "one EAGAIN recorded");
	}
	ev = th_find("send", 7, 0);
	TH_STR(ev, "errno", "EPIPE");
	TH_STR(ev, "flags.0", "MSG_NOSIGNAL");
	TH_STR(th_find("send", 8, 0), "errno", "EDESTADDRREQ");
	TH_STR(th_find("sendto", 9, 0), "errno", "EISCONN");
	TH_INT(th_find("send", 11, 0), "ret", 11);
	TH_OK(th_get(th_find("send", 11, 0), "errno") == NULL, "no errno on success");
	return 0;
}

__attribute__((constructor)) static void setup(void)
{
	th_main_hook = errors_main;
}

void th_check(void)
{
}
