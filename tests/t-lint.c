/* t-lint.c: every lint rule fires where it should, beside the kernel's real reaction; clean
 * programs (partial writes completed, sendfile to the end of its file) stay clean. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static char big[1 << 20];

/* The length marks the case; the result is what the kernel said. */
#define CASE(len, call)                                                                            \
	do {                                                                                       \
		long long r_;                                                                      \
		errno = 0;                                                                         \
		r_ = (long long)(call);                                                            \
		th_result("case %d %lld %d", (int)(len), r_, r_ < 0 ? errno : 0);                  \
	} while (0)

static void add_rights(struct msghdr *m, char *buf, size_t space, int fd)
{
	struct cmsghdr *cm;

	m->msg_control = buf;
	m->msg_controllen = space;
	cm = CMSG_FIRSTHDR(m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
}

static void dirty(void)
{
	int sp[2], sq[2], c, s, u, i;
	struct sockaddr_in a4;
	unsigned int l;
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {big, 19};
	struct msghdr m;
	sigset_t pipe_set;

	signal(SIGPIPE, SIG_IGN);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sq);
	th_tcp_pair(AF_INET, &c, &s);
	u = socket(AF_INET, SOCK_DGRAM, 0);
	th_udp_receiver(AF_INET, &a4, &l);

	CASE(1, send(c, big, 1, MSG_CONFIRM));
	CASE(2, send(sp[0], big, 2, MSG_CONFIRM));
	CASE(3, send(sp[0], big, 3, MSG_EOR));
	CASE(4, sendto(u, big, 4, MSG_EOR, (struct sockaddr *)&a4, sizeof(a4)));
	CASE(5, sendto(u, big, 5, MSG_OOB, (struct sockaddr *)&a4, sizeof(a4)));
	CASE(6, send(sq[0], big, 6, MSG_OOB));
	CASE(7, send(sp[0], big, 7, MSG_DONTROUTE));
	CASE(8, send(sp[0], big, 8, MSG_MORE));
	CASE(9, send(c, big, 9, MSG_ZEROCOPY));
	CASE(10, sendto(u, big, 10, MSG_FASTOPEN, (struct sockaddr *)&a4, sizeof(a4)));
	CASE(11, send(c, big, 11, MSG_FASTOPEN));
	CASE(12, send(c, big, 12, 0x100000));
	CASE(13, send(c, big, 13, MSG_PEEK));
	/* SIGPIPE at its default: one finding for the site, not one per call. */
	signal(SIGPIPE, SIG_DFL);
	for (i = 0; i < 3; i++)
		CASE(14, send(sp[0], big, 14, 0));
	CASE(25, send(sp[0], big, 25, MSG_NOSIGNAL));
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe_set, NULL);
	CASE(26, send(sp[0], big, 26, 0));
	sigprocmask(SIG_UNBLOCK, &pipe_set, NULL);
	signal(SIGPIPE, SIG_IGN);
	CASE(15, sendto(c, big, 15, 0, (struct sockaddr *)&a4, sizeof(a4)));
	CASE(16, sendto(sp[0], big, 16, 0, (struct sockaddr *)&a4, sizeof(a4)));
	CASE(17, send(u, big, 17, 0));
	CASE(18, write(u, big, 18));
	memset(&m, 0, sizeof(m));
	m.msg_name = &a4;
	m.msg_namelen = sizeof(a4);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_flags = MSG_EOR;
	CASE(19, sendmsg(u, &m, 0));
	memset(&m, 0, sizeof(m));
	iov.iov_len = 20;
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	add_rights(&m, cbuf, CMSG_LEN(sizeof(int)), 0);
	CASE(20, sendmsg(sp[0], &m, 0));
	memset(&m, 0, sizeof(m));
	iov.iov_len = 21;
	m.msg_name = &a4;
	m.msg_namelen = sizeof(a4);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	add_rights(&m, cbuf, sizeof(cbuf), 0);
	((struct cmsghdr *)cbuf)->cmsg_len = 64;
	CASE(21, sendmsg(u, &m, 0));
	iov.iov_len = 22;
	add_rights(&m, cbuf, sizeof(cbuf), 0);
	CASE(22, sendmsg(u, &m, 0));
	/*
	 * A non-blocking stream with a small buffer takes part of a large one:
	 * no finding, since one call cannot tell whether the program sends the
	 * rest (the whole trace can: sendtrace lint).
	 */
	{
		int small[2], sz = 4096;

		socketpair(AF_UNIX, SOCK_STREAM, 0, small);
		setsockopt(small[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		CASE(sizeof(big), send(small[0], big, sizeof(big), MSG_DONTWAIT | MSG_NOSIGNAL));
	}
	CASE(70000, sendto(u, big, 70000, 0, (struct sockaddr *)&a4, sizeof(a4)));
}

/* The other end of the poll loop's connection: reads until it has it all. */
static void *drain(void *arg)
{
	int fd = *(int *)arg;
	size_t got = 0;
	char rbuf[65536];
	ssize_t r;

	while (got < sizeof(big) && (r = read(fd, rbuf, sizeof(rbuf))) > 0)
		got += (size_t)r;
	return NULL;
}

/*
 * A non-blocking send of 1 MiB through a 4 KiB send buffer, the rest sent
 * as poll() says there is room, as event loops do. The number of calls it
 * takes goes to the results.
 */
static void poll_loop(void)
{
	int c, s, sz = 4096, calls = 0;
	size_t done = 0;
	pthread_t th;

	th_tcp_pair(AF_INET, &c, &s);
	setsockopt(c, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK);
	pthread_create(&th, NULL, drain, &s);
	while (done < sizeof(big)) {
		ssize_t r = send(c, big + done, sizeof(big) - done, MSG_NOSIGNAL);
		struct pollfd p = {c, POLLOUT, 0};

		calls++;
		if (r > 0)
			done += (size_t)r;
		else if (r < 0 && errno != EAGAIN)
			break;
		else
			poll(&p, 1, 5000);
	}
	pthread_join(th, NULL);
	th_result("loop %d %zu", calls, done);
	close(c);
	close(s);
}

/*
 * sendfile() reaching the end of its file: a 3-byte file asked for 4 (3
 * sent), then at the end (0 sent); and with no offset pointer, the file
 * position moving to the end.
 */
static void sendfile_eof(int c)
{
	char path[64];
	off_t off = 0;
	ssize_t r[3];
	int f;

	snprintf(path, sizeof(path), "/tmp/st-lint-eof-%d", (int)getpid());
	f = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	unlink(path);

	(void)!write(f, "abc", 3);
	r[0] = sendfile(c, f, &off, 4);
	r[1] = sendfile(c, f, &off, 4);
	lseek(f, 1, SEEK_SET);
	r[2] = sendfile(c, f, NULL, 4096);
	th_result("eof %zd %zd %zd", r[0], r[1], r[2]);
	close(f);
}

/* What correct programs do: no finding at all. */
static void clean(void)
{
	int sp[2], dg[2], sq[2], c, s, u, f, rx;
	struct sockaddr_in a4;
	unsigned int l;
	char cbuf[CMSG_SPACE(sizeof(int))], rbuf[4096];
	struct iovec iov[2] = {{big, 10}, {big, 20}};
	struct msghdr m;
	struct mmsghdr mm[2];
	off_t off = 0;

	signal(SIGPIPE, SIG_IGN);
	th_tcp_pair(AF_INET, &c, &s);
	send(c, big, 100, MSG_NOSIGNAL);
	write(c, big, 100);
	writev(c, iov, 2);
	f = open("/proc/self/exe", O_RDONLY);
	sendfile(c, f, &off, 1000);
	rx = th_udp_receiver(AF_INET, &a4, &l);
	u = socket(AF_INET, SOCK_DGRAM, 0);
	sendto(u, big, 100, MSG_CONFIRM, (struct sockaddr *)&a4, sizeof(a4));
	memset(mm, 0, sizeof(mm));
	mm[0].msg_hdr.msg_name = mm[1].msg_hdr.msg_name = &a4;
	mm[0].msg_hdr.msg_namelen = mm[1].msg_hdr.msg_namelen = sizeof(a4);
	mm[0].msg_hdr.msg_iov = mm[1].msg_hdr.msg_iov = iov;
	mm[0].msg_hdr.msg_iovlen = mm[1].msg_hdr.msg_iovlen = 2;
	sendmmsg(u, mm, 2, 0);
	connect(u, (struct sockaddr *)&a4, sizeof(a4));
	send(u, big, 100, 0);
	write(u, big, 100);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	send(sp[0], big, 100, MSG_NOSIGNAL | MSG_DONTWAIT);
	memset(&m, 0, sizeof(m));
	m.msg_iov = iov;
	m.msg_iovlen = 2;
	add_rights(&m, cbuf, sizeof(cbuf), 0);
	sendmsg(sp[0], &m, MSG_NOSIGNAL);
	socketpair(AF_UNIX, SOCK_DGRAM, 0, dg);
	send(dg[0], big, 100, 0);
	socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sq);
	send(sq[0], big, 100, MSG_EOR | MSG_NOSIGNAL);
	sendfile_eof(c);
	(void)!read(s, rbuf, sizeof(rbuf));
	close(rx);
	poll_loop();
}

void th_workload(void)
{
	if (getenv("TH_CLEAN"))
		clean();
	else
		dirty();
}

struct expect {
	long long len;
	const char *rule; /* NULL: no finding */
	int err;	  /* the kernel's errno, 0 when it accepts */
};

static const struct expect cases[] = {
    {1, "msg-confirm-not-datagram", 0},
    {2, "msg-confirm-not-datagram", 0},
    {3, "msg-eor-no-records", 0},
    {4, "msg-eor-no-records", 0},
    {5, "msg-oob-unsupported", EOPNOTSUPP},
    {6, "msg-oob-unsupported", EOPNOTSUPP},
    {7, "msg-dontroute-unix", 0},
    {8, "msg-more-unix", 0},
    {9, "msg-zerocopy-not-enabled", 0},
    {10, "msg-fastopen-not-tcp", 0},
    {11, "msg-fastopen-connected", EISCONN},
    {12, "unknown-flag-bits", 0},
    {13, "recv-flag-on-send", 0},
    {14, "sigpipe-default", 0},
    {25, NULL, 0},
    {26, NULL, 0},
    {15, "dest-on-connected-stream", 0},
    {16, "dest-on-connected-stream", EISCONN},
    {17, "send-unconnected-datagram", EDESTADDRREQ},
    {18, "send-unconnected-datagram", EDESTADDRREQ},
    {19, "msg-flags-ignored", 0},
    {20, "cmsg-length-not-aligned", 0},
    {21, "cmsg-malformed", EINVAL},
    {22, "scm-not-unix", 0},
    {sizeof(big), NULL, 0},
    {70000, "datagram-too-large", EMSGSIZE},
};

static int has_rule(json_t *ev, const char *id)
{
	json_t *f;
	size_t i;

	json_array_foreach (json_object_get(ev, "lint"), i, f)
		if (!strcmp(json_string_value(json_object_get(f, "id")), id))
			return 1;
	return 0;
}

static json_t *find_len(long long len, int nth)
{
	json_t *ev;
	size_t i;

	json_array_foreach (th_events(), i, ev) {
		if (json_is_string(json_object_get(ev, "call")) &&
		    json_integer_value(json_object_get(ev, "len")) == len && nth-- == 0)
			return ev;
	}
	return NULL;
}

static int lint_main(void)
{
	char *res, *line, *save = NULL;
	size_t i, k, with = 0, calls = 0;
	json_t *ev;

	TH_OK(th_run(1, NULL) == 0, "dirty workload runs");
	res = th_results();
	th_load();
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct expect *e = &cases[k];
		char want[64];
		int got_err = -1;
		long long got_ret = 0;

		/* The kernel's reaction, as the untraced program saw it. */
		snprintf(want, sizeof(want), "case %d ", (int)e->len);
		for (line = res; (line = strstr(line, want)); line++) {
			sscanf(line + strlen(want), "%lld %d", &got_ret, &got_err);
			break;
		}
		TH_OK(got_err == e->err,
		      "len %lld: kernel says errno %d (%s), as the rule explains", e->len, got_err,
		      got_err > 0 ? strerror(got_err) : "accepted");
		if (e->len == (long long)sizeof(big))
			TH_OK(got_ret > 0 && got_ret < e->len, "short write really short: %lld",
			      got_ret);
		ev = find_len(e->len, 0);
		TH_OK(ev != NULL, "len %lld: event recorded", e->len);
		if (e->rule) {
			TH_OK(has_rule(ev, e->rule), "len %lld: finding %s", e->len, e->rule);
			TH_OK(json_is_string(th_get(ev, "site.obj")) &&
				  strstr(json_string_value(th_get(ev, "site.obj")), "t-lint"),
			      "len %lld: call site in the test program", e->len);
		} else {
			TH_OK(ev && !json_object_get(ev, "lint"), "len %lld: no finding", e->len);
		}
	}
	TH_OK(!has_rule(find_len(14, 1), "sigpipe-default") &&
		  !has_rule(find_len(14, 2), "sigpipe-default"),
	      "sigpipe-default once per call site, not per call");
	TH_STR(find_len(5, 0), "lint.0.severity", "error");
	TH_STR(find_len(1, 0), "lint.0.severity", "warning");
	free(res);
	(void)strtok_r;
	(void)save;

	/* SENDTRACE_ONLY=lint keeps just the events with findings. */
	{
		const char *env[] = {"SENDTRACE_ONLY=lint", NULL};

		unlink(th_trace_path());
		TH_OK(th_run(1, env) == 0, "dirty workload under SENDTRACE_ONLY=lint");
		free(th_results());
		th_load();
		json_array_foreach (th_events(), i, ev) {
			if (!json_is_string(json_object_get(ev, "call")))
				continue;
			calls++;
			with += json_is_array(json_object_get(ev, "lint"));
		}
		TH_OK(calls > 20 && with == calls, "only events with findings (%zu of %zu)", with,
		      calls);
	}
	/* SENDTRACE_LINT=off: no findings at all. */
	{
		const char *env[] = {"SENDTRACE_LINT=off", NULL};

		unlink(th_trace_path());
		TH_OK(th_run(1, env) == 0, "dirty workload under SENDTRACE_LINT=off");
		free(th_results());
		th_load();
		with = 0;
		json_array_foreach (th_events(), i, ev)
			with += json_object_get(ev, "lint") != NULL;
		TH_OK(with == 0, "no lint fields with SENDTRACE_LINT=off (%zu)", with);
	}
	/* Correct programs: zero findings. */
	{
		const char *env[] = {"TH_CLEAN=1", NULL};

		unlink(th_trace_path());
		long long loop, sent, eof[3];

		TH_OK(th_run(1, env) == 0, "clean workload runs");
		res = th_results();
		loop = th_value(res, "loop", 0, 0);
		sent = th_value(res, "loop", 1, 0);
		for (k = 0; k < 3; k++)
			eof[k] = th_value(res, "eof", (int)k, -1);
		free(res);
		TH_OK(sent == (long long)sizeof(big) && loop > 2,
		      "the poll loop sent it all (%lld bytes) in %lld calls", sent, loop);
		TH_OK(eof[0] == 3 && eof[1] == 0 && eof[2] == 2,
		      "sendfile to the end: 3 of 4, then 0, then 2 from the file position (%lld "
		      "%lld %lld)",
		      eof[0], eof[1], eof[2]);
		th_load();
		calls = with = 0;
		json_array_foreach (th_events(), i, ev) {
			if (!json_is_string(json_object_get(ev, "call")))
				continue;
			calls++;
			if (json_object_get(ev, "lint")) {
				char *s = json_dumps(json_object_get(ev, "lint"), JSON_COMPACT);

				printf("# unexpected: %s len %lld: %s\n",
				       json_string_value(json_object_get(ev, "call")),
				       (long long)json_integer_value(json_object_get(ev, "len")),
				       s);
				free(s);
				with++;
			}
		}
		TH_OK(calls == 15 + (size_t)loop && with == 0,
		      "clean programs: %zu calls (%lld expected), %zu findings", calls, 15 + loop,
		      with);
		ev = th_find("sendfile", 4, 0);
		TH_INT(ev, "ret", 3);
		TH_INT(ev, "in.size", 3);
		TH_INT(th_find("sendfile", 4, 1), "ret", 0);
	}
	return 0;
}

__attribute__((constructor)) static void setup(void)
{
	th_main_hook = lint_main;
}

void th_check(void)
{
}
