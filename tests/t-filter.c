/* t-filter.c: SENDTRACE_FILTER records what show --filter selects from a full trace, per term. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/*
 * The workload makes one call per length, 11 to 24, each telling apart one
 * kind of thing a term looks at: calls, fds, flags, IPv4, IPv6 and unix
 * destinations of unconnected sockets, connected peers, failures, findings,
 * and lengths given plainly or as iovec sums (sendmsg, writev, sendmmsg).
 * The receivers are made here, in the test, and inherited by every run, so
 * that ports and fd numbers are the same in each and a filter can name them.
 */
static int rx4, rx4b, rx6 = -1, lis, ux;
static char uxpath[108];

static void drain(int fd)
{
	char buf[256];

	if (fd >= 0)
		while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
			;
}

static socklen_t name_of(int fd, struct sockaddr_storage *ss)
{
	socklen_t l = sizeof(*ss);

	getsockname(fd, (struct sockaddr *)ss, &l);
	return l;
}

static int port_of(int fd)
{
	struct sockaddr_storage ss;

	if (fd < 0)
		return -1;
	name_of(fd, &ss);
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

void th_workload(void)
{
	struct sockaddr_storage a4, a4b, a6, at;
	struct sockaddr_un au = {.sun_family = AF_UNIX};
	socklen_t l4, l4b, l6 = 0, lt;
	char buf[64] = "0123456789012345678901234567890123456789";
	int sp[2], dead[2], u4, u6 = -1, uc, tc, ts, uu;
	const char *env = getenv("TF_FDS");

	if (!env || sscanf(env, "%d,%d,%d,%d,%d", &rx4, &rx4b, &rx6, &lis, &ux) != 5)
		exit(3);
	snprintf(au.sun_path, sizeof(au.sun_path), "%s", getenv("TF_UX"));
	drain(rx4), drain(rx4b), drain(rx6), drain(ux);
	signal(SIGPIPE, SIG_IGN); /* no per-site SIGPIPE findings: only 18 has one */
	l4 = name_of(rx4, &a4);
	l4b = name_of(rx4b, &a4b);
	if (rx6 >= 0)
		l6 = name_of(rx6, &a6);
	lt = name_of(lis, &at);

	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	socketpair(AF_UNIX, SOCK_STREAM, 0, dead);
	close(dead[1]);
	u4 = socket(AF_INET, SOCK_DGRAM, 0);
	if (rx6 >= 0)
		u6 = socket(AF_INET6, SOCK_DGRAM, 0);
	uc = socket(AF_INET, SOCK_DGRAM, 0);
	connect(uc, (struct sockaddr *)&a4, l4);
	tc = socket(AF_INET, SOCK_STREAM, 0);
	connect(tc, (struct sockaddr *)&at, lt);
	ts = accept(lis, NULL, NULL);
	uu = socket(AF_UNIX, SOCK_DGRAM, 0);
	th_result("fds sp %d dead %d u4 %d tc %d ts %d uc %d", sp[0], dead[0], u4, tc, ts, uc);

	send(sp[0], buf, 11, MSG_DONTWAIT);
	sendto(u4, buf, 12, 0, (struct sockaddr *)&a4, l4);
	if (u6 >= 0)
		sendto(u6, buf, 13, 0, (struct sockaddr *)&a6, l6);
	write(tc, buf, 14);
	{
		struct iovec iov[2] = {{buf, 5}, {buf, 10}};
		struct msghdr m = {
		    .msg_name = &a4, .msg_namelen = l4, .msg_iov = iov, .msg_iovlen = 2};

		sendmsg(u4, &m, 0);
	}
	{
		struct iovec iov[2] = {{buf, 8}, {buf, 8}};

		writev(tc, iov, 2);
	}
	send(dead[0], buf, 17, MSG_NOSIGNAL);	       /* EPIPE */
	send(sp[0], buf, 18, MSG_MORE | MSG_NOSIGNAL); /* MSG_MORE on AF_UNIX: a finding */
	{
		struct iovec i1 = {buf, 9}, i2 = {buf, 10};
		struct mmsghdr mm[2];

		memset(mm, 0, sizeof(mm));
		mm[0].msg_hdr = (struct msghdr){
		    .msg_name = &a4, .msg_namelen = l4, .msg_iov = &i1, .msg_iovlen = 1};
		mm[1].msg_hdr = (struct msghdr){
		    .msg_name = &a4, .msg_namelen = l4, .msg_iov = &i2, .msg_iovlen = 1};
		sendmmsg(u4, mm, 2, 0);
	}
	sendto(u4, buf, 20, 0, (struct sockaddr *)&a4b, l4b);
	sendto(uu, buf, 21, 0, (struct sockaddr *)&au, sizeof(au));
	send(uc, buf, 22, 0);
	{
		struct iovec iov = {buf, 23};
		struct msghdr m = {
		    .msg_name = &a4b, .msg_namelen = l4b, .msg_iov = &iov, .msg_iovlen = 1};

		sendmsg(u4, &m, 0);
	}
	{
		struct iovec iov = {buf, 24};
		struct mmsghdr mm;

		memset(&mm, 0, sizeof(mm));
		mm.msg_hdr = (struct msghdr){
		    .msg_name = &a4b, .msg_namelen = l4b, .msg_iov = &iov, .msg_iovlen = 1};
		sendmmsg(u4, &mm, 1, 0);
	}
	shutdown(tc, SHUT_WR);
	close(tc);
}

/* ---- the checking side ---- */

static char full[4200], full_life[4200], *st_cmd;
static int fd_sp, fd_dead, fd_u4, fd_tc, fd_uc, have6;

/* A call's key: its length for the sends, "name/fd" for the lifecycle calls. */
static void key_of(json_t *ev, char *out, size_t n)
{
	json_t *len = json_object_get(ev, "len");

	if (json_is_integer(len))
		snprintf(out, n, "%lld", (long long)json_integer_value(len));
	else
		snprintf(out, n, "%s/%lld", json_string_value(json_object_get(ev, "call")),
			 (long long)json_integer_value(json_object_get(ev, "fd")));
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Keys, sorted, as one string: "11,12,connect/7". */
static void join(char **keys, size_t n, char *out, size_t cap)
{
	size_t i, at = 0;

	qsort(keys, n, sizeof(*keys), by_str);
	out[0] = '\0';
	for (i = 0; i < n && at < cap; i++)
		at += (size_t)snprintf(out + at, cap - at, "%s%s", i ? "," : "", keys[i]);
	for (i = 0; i < n; i++)
		free(keys[i]);
}

static void keys_of_events(json_t *evs, char *out, size_t cap)
{
	char *keys[128], k[64];
	size_t i, n = 0;
	json_t *ev;

	json_array_foreach (evs, i, ev) {
		const char *e = json_string_value(json_object_get(ev, "event"));

		if (e && !strcmp(e, "call") && n < 128) {
			key_of(ev, k, sizeof(k));
			keys[n++] = strdup(k);
		}
	}
	join(keys, n, out, cap);
}

/* What the library recorded, run with this filter (and lifecycle calls or not). */
static long long recorded(const char *spec, int life, char *out, size_t cap, const char *err)
{
	char fenv[1200], fds[128], uxenv[200];
	const char *env[] = {fenv, fds, uxenv, life ? "SENDTRACE_CALLS=all,lifecycle" : NULL, NULL};
	long long filtered = -1;
	int status, saved = -1;
	size_t i;
	json_t *ev;

	snprintf(fenv, sizeof(fenv), "SENDTRACE_FILTER=%s", spec);
	snprintf(fds, sizeof(fds), "TF_FDS=%d,%d,%d,%d,%d", rx4, rx4b, rx6, lis, ux);
	snprintf(uxenv, sizeof(uxenv), "TF_UX=%s", uxpath);
	unlink(th_trace_path());
	unlink(th_results_path());
	if (err) {
		int fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		fflush(stderr);
		saved = dup(2);
		dup2(fd, 2);
		close(fd);
	}
	status = th_run(1, spec ? env : env + 1);
	if (saved >= 0) {
		dup2(saved, 2);
		close(saved);
	}
	TH_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "[%s] workload exits 0 (%#x)",
	      spec ? spec : "no filter", status);
	if (access(th_trace_path(), F_OK) != 0) {
		/* Nothing recorded at all: the process leaves nothing (SENDTRACE_PROCS=active). */
		out[0] = '\0';
		return -2;
	}
	keys_of_events(th_load(), out, cap);
	json_array_foreach (th_events(), i, ev) {
		const char *e = json_string_value(json_object_get(ev, "event"));

		if (e && !strcmp(e, "exit"))
			filtered = json_integer_value(json_object_get(ev, "filtered"));
	}
	return filtered;
}

/* What `sendtrace show --json` selects from a full trace with the same text, or with options. */
static void shown(const char *args, const char *trace, char *out, size_t cap)
{
	char cmd[6000], *line = NULL, *keys[128], k[64];
	size_t lcap = 0, n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s show --json %s %s", st_cmd, args, trace);
	p = popen(cmd, "r");
	while (p && getline(&line, &lcap, p) > 0 && n < 128) {
		json_t *ev = json_loads(line, 0, NULL);
		const char *e = json_string_value(json_object_get(ev, "event"));

		if (e && !strcmp(e, "call")) {
			key_of(ev, k, sizeof(k));
			keys[n++] = strdup(k);
		}
		json_decref(ev);
	}
	free(line);
	TH_OK(p && pclose(p) == 0, "show %s exits 0", args);
	join(keys, n, out, cap);
}

/* Canonical form of an expected list given as "11 12 connect/%d ...". */
static void expect(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void expect(char *out, size_t cap, const char *fmt, ...)
{
	char text[1024], *keys[128], *tok, *save = NULL;
	size_t n = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	for (tok = strtok_r(text, " ", &save); tok && n < 128; tok = strtok_r(NULL, " ", &save))
		if (strcmp(tok, "13") || have6) /* 13 goes over IPv6, when there is one */
			keys[n++] = strdup(tok);
	join(keys, n, out, cap);
}

static int ncalls(const char *keys)
{
	int n = *keys ? 1 : 0;

	for (; *keys; keys++)
		n += *keys == ',';
	return n;
}

/*
 * One filter: the library records the expected calls, and so many are
 * counted as filtered; show --filter on the full trace selects the same;
 * and, given, the same filter as single options does too.
 */
static void check(const char *spec, const char *options, int life, const char *want)
{
	char got[2048], sel[2048], opt[2048], args[1300];
	const char *base = life ? full_life : full;
	long long filtered = recorded(spec, life, got, sizeof(got), NULL);
	char all[2048];

	TH_OK(!strcmp(got, want), "SENDTRACE_FILTER='%s' records %s (got %s)", spec, want, got);
	snprintf(args, sizeof(args), "'--filter=%s'", spec);
	shown(args, base, sel, sizeof(sel));
	TH_OK(!strcmp(sel, want), "show --filter='%s' selects %s (got %s)", spec, want, sel);
	if (options) {
		shown(options, base, opt, sizeof(opt));
		TH_OK(!strcmp(opt, want), "show %s selects %s (got %s)", options, want, opt);
	}
	shown("", base, all, sizeof(all));
	if (!*got)
		TH_OK(filtered < 0,
		      "nothing recorded, so no exit record either (active processes)");
	else
		TH_OK(filtered == ncalls(all) - ncalls(got),
		      "the exit record counts %lld filtered (want %d)", filtered,
		      ncalls(all) - ncalls(got));
}

static int receivers(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	struct sockaddr_un u = {.sun_family = AF_UNIX};
	unsigned int l;
	int lt, c;

	rx4 = th_udp_receiver(AF_INET, &a, &l);
	rx4b = th_udp_receiver(AF_INET, &a, &l);
	{
		struct sockaddr_in6 a6 = {.sin6_family = AF_INET6,
					  .sin6_addr = IN6ADDR_LOOPBACK_INIT};
		int s = socket(AF_INET6, SOCK_DGRAM, 0);

		if (s >= 0 && bind(s, (struct sockaddr *)&a6, sizeof(a6)) == 0)
			rx6 = s;
		else if (s >= 0)
			close(s);
	}
	have6 = rx6 >= 0;
	th_tcp_pair(AF_INET, &c, &lt); /* only for a port; then a listener of our own */
	close(c);
	close(lt);
	lis = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_port = 0;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lis < 0 || bind(lis, (struct sockaddr *)&a, sizeof(a)) || listen(lis, 64))
		return -1;
	snprintf(uxpath, sizeof(uxpath), "%s/st-tf-%d.sock",
		 getenv("TMPDIR") && getenv("TMPDIR")[0] ? getenv("TMPDIR") : "/tmp",
		 (int)getpid());
	if (strlen(uxpath) >= sizeof(u.sun_path) - 1)
		snprintf(uxpath, sizeof(uxpath), "/tmp/st-tf-%d.sock", (int)getpid());
	snprintf(u.sun_path, sizeof(u.sun_path), "%s", uxpath);
	unlink(uxpath);
	ux = socket(AF_UNIX, SOCK_DGRAM, 0);
	return ux >= 0 && bind(ux, (struct sockaddr *)&u, sizeof(u)) == 0 ? 0 : -1;
}

static int filter_main(void)
{
	char want[2048], spec[600], opts[600], lt_err[2048], errs[2048], lints[2048], *res;
	int p4, p4b, p6, pt, fd_ts;
	const char *bd = getenv("ST_BUILDDIR");

	if (!bd)
		th_skip("ST_BUILDDIR is not set (run through make check)");
	if (asprintf(&st_cmd, "%s/cli/sendtrace", bd) < 0 || receivers() != 0)
		th_skip("cannot make the receiving sockets");
	p4 = port_of(rx4), p4b = port_of(rx4b), p6 = port_of(rx6), pt = port_of(lis);
	if (!have6)
		printf("# no IPv6 loopback: the IPv6 cases are left out\n");

	/* The full traces, without a filter: every call, and with the lifecycle calls. */
	recorded(NULL, 1, want, sizeof(want), NULL);
	snprintf(full_life, sizeof(full_life), "%s.life", th_trace_path());
	rename(th_trace_path(), full_life);
	recorded(NULL, 0, want, sizeof(want), NULL);
	snprintf(full, sizeof(full), "%s.full", th_trace_path());
	rename(th_trace_path(), full);
	res = th_results();
	fd_sp = (int)th_value(res, "sp", 0, -1);
	fd_dead = (int)th_value(res, "dead", 0, -1);
	fd_u4 = (int)th_value(res, "u4", 0, -1);
	fd_tc = (int)th_value(res, "tc", 0, -1);
	fd_ts = (int)th_value(res, "ts", 0, -1);
	fd_uc = (int)th_value(res, "uc", 0, -1);
	free(res);
	expect(lt_err, sizeof(lt_err), "11 12 13 14 15 16 17 18 19 20 21 22 23 24");
	TH_OK(!strcmp(want, lt_err), "unfiltered, every call is recorded: %s", want);
	/* What failed and what has findings, as the full trace says. */
	{
		FILE *f = fopen(full, "r");
		char *line = NULL, *ekeys[64], *lkeys[64], k[64];
		size_t cap = 0, ne = 0, nl = 0;

		while (f && getline(&line, &cap, f) > 0) {
			json_t *e = json_loads(line, 0, NULL);

			if (e && json_object_get(e, "errno") && ne < 64) {
				key_of(e, k, sizeof(k));
				ekeys[ne++] = strdup(k);
			}
			if (e && json_object_get(e, "lint") && nl < 64) {
				key_of(e, k, sizeof(k));
				lkeys[nl++] = strdup(k);
			}
			json_decref(e);
		}
		free(line);
		if (f)
			fclose(f);
		join(ekeys, ne, errs, sizeof(errs));
		join(lkeys, nl, lints, sizeof(lints));
	}
	TH_OK(!strcmp(errs, "17"), "in the full trace, only 17 failed (%s)", errs);
	TH_OK(strstr(lints, "18") != NULL, "in the full trace, 18 has a finding (%s)", lints);

	/* ---- each term alone ---- */
	expect(want, sizeof(want), "11 17 18 22");
	check("call=send", "--call=send", 0, want);
	expect(want, sizeof(want), "11 12 13 17 18 20 21 22");
	check("call=sendto", "--call=sendto", 0, want);
	expect(want, sizeof(want), "15 16 23");
	check("call=sendmsg,writev", "--call=sendmsg,writev", 0, want);
	snprintf(spec, sizeof(spec), "fd=%d", fd_sp);
	snprintf(opts, sizeof(opts), "--fd=%d", fd_sp);
	expect(want, sizeof(want), "11 18");
	check(spec, opts, 0, want);
	snprintf(spec, sizeof(spec), "fd=%d", fd_u4);
	expect(want, sizeof(want), "12 15 19 20 23 24");
	check(spec, NULL, 0, want);
	expect(want, sizeof(want), "18");
	check("flag=MORE", "--flag=MORE", 0, want);
	expect(want, sizeof(want), "11 18");
	check("flag=DONTWAIT,0x8000", "--flag=msg_dontwait,MORE", 0, want);
	expect(want, sizeof(want), "12 14 15 16 19 20 22 23 24");
	check("peer=127.0.0.1", "--peer=127.0.0.1", 0, want);
	snprintf(spec, sizeof(spec), "peer=127.0.0.1:%d", p4);
	snprintf(opts, sizeof(opts), "--peer=127.0.0.1:%d", p4);
	expect(want, sizeof(want), "12 15 19 22");
	check(spec, opts, 0, want);
	snprintf(spec, sizeof(spec), "port=%d", p4);
	snprintf(opts, sizeof(opts), "--port=%d", p4);
	check(spec, opts, 0, want);
	snprintf(spec, sizeof(spec), "port=%d", p4b);
	expect(want, sizeof(want), "20 23 24");
	check(spec, NULL, 0, want);
	if (have6) {
		expect(want, sizeof(want), "13");
		check("peer=::1", "--peer=::1", 0, want);
		snprintf(spec, sizeof(spec), "peer=[::1]:%d", p6);
		check(spec, NULL, 0, want);
		snprintf(spec, sizeof(spec), "port=%d", p6);
		snprintf(opts, sizeof(opts), "--port=%d", p6);
		check(spec, opts, 0, want);
	}
	snprintf(spec, sizeof(spec), "peer=%s", uxpath);
	snprintf(opts, sizeof(opts), "--peer=%s", uxpath);
	expect(want, sizeof(want), "21");
	check(spec, opts, 0, want);
	check("errors", "--errors", 0, errs);
	check("lint", "--lint", 0, lints);
	expect(want, sizeof(want), "19 20 21 22 23 24");
	check("min-len=19", "--min-len=19", 0, want);
	expect(want, sizeof(want), "11 12 13 14 15");
	check("max-len=15", "--max-len=15", 0, want);

	/* ---- combined ---- */
	expect(want, sizeof(want), "16 17 18 19");
	check("min-len=16 max-len=19", "--min-len=16 --max-len=19", 0, want);
	snprintf(spec, sizeof(spec), "call=sendto port=%d", p4);
	snprintf(opts, sizeof(opts), "--call=sendto --filter=port=%d", p4);
	expect(want, sizeof(want), "12 22");
	check(spec, opts, 0, want);
	expect(want, sizeof(want), "15 16");
	check("peer=127.0.0.1 min-len=15 max-len=16",
	      "--peer=127.0.0.1 --filter='min-len=15 max-len=16'", 0, want);
	snprintf(spec, sizeof(spec), "errors call=send fd=%d", fd_dead);
	expect(want, sizeof(want), "17");
	check(spec, NULL, 0, want);
	snprintf(spec, sizeof(spec), "call=sendmsg,sendmmsg peer=127.0.0.1:%d", p4);
	expect(want, sizeof(want), "15 19");
	check(spec, NULL, 0, want);
	expect(want, sizeof(want), "23 24");
	check("min-len=23 call=sendmsg,sendmmsg", NULL, 0, want);
	expect(want, sizeof(want), "%s", "");
	check("errors lint", "--errors --lint", 0, want);

	/* ---- the lifecycle calls obey call, fd and peer ---- */
	snprintf(spec, sizeof(spec), "call=lifecycle peer=127.0.0.1:%d", pt);
	expect(want, sizeof(want), "connect/%d shutdown/%d close/%d", fd_tc, fd_tc, fd_tc);
	check(spec, NULL, 1, want);
	snprintf(spec, sizeof(spec), "call=accept fd=%d", lis);
	expect(want, sizeof(want), "accept/%d", lis);
	check(spec, NULL, 1, want);
	snprintf(spec, sizeof(spec), "call=connect port=%d", p4);
	expect(want, sizeof(want), "connect/%d", fd_uc);
	check(spec, NULL, 1, want);
	snprintf(spec, sizeof(spec), "fd=%d", fd_tc);
	expect(want, sizeof(want), "14 16 connect/%d shutdown/%d close/%d", fd_tc, fd_tc, fd_tc);
	check(spec, NULL, 1, want);
	(void)fd_ts;

	/* ---- a filter the library cannot read: one warning, and every call recorded ---- */
	{
		char errpath[4200], got[2048], *text = NULL;
		size_t cap = 0;
		FILE *f;
		int lines = 0, named = 0;

		snprintf(errpath, sizeof(errpath), "%s.err", th_trace_path());
		recorded("call=send fd=x", 0, got, sizeof(got), errpath);
		expect(want, sizeof(want), "11 12 13 14 15 16 17 18 19 20 21 22 23 24");
		TH_OK(!strcmp(got, want), "bad filter text: every call recorded (got %s)", got);
		f = fopen(errpath, "r");
		while (f && getline(&text, &cap, f) > 0) {
			lines += strstr(text, "SENDTRACE_FILTER") != NULL;
			named += strstr(text, "bad filter term 'fd=x'") != NULL &&
				 strstr(text, "recording every call") != NULL;
		}
		free(text);
		if (f)
			fclose(f);
		unlink(errpath);
		TH_OK(lines == 1 && named == 1,
		      "one warning, naming the term and saying every call is recorded (%d, %d)",
		      lines, named);
	}
	unlink(full);
	unlink(full_life);
	unlink(uxpath);
	return 0;
}

void th_check(void)
{
	/* (filter_main runs the checks) */
}

__attribute__((constructor)) static void setup(void)
{
	th_main_hook = filter_main;
}
