/* t-sample.c: SAMPLE=10 keeps one call in ten, and all failures and findings; stats scales up. */
#define _GNU_SOURCE
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/*
 * The sends, by length:
 *   7  18,000 successful sends on fd A, no findings
 *   8   2,000 on fd B: every tenth send of the same loop, a pattern a
 *             counter would alias with (all or none of them recorded)
 *   6   1,000 successful writevs (decided only once encoded)
 *   5     500 failed sends (EPIPE)
 *   3     300 successful sends with a finding (MSG_MORE on AF_UNIX)
 *   4     200 successful sendmsgs with a finding (msg_flags set)
 */
#define N_A    18000
#define N_B    2000
#define N_V    1000
#define N_FAIL 500
#define N_LINT 300
#define N_MSG  200

void th_workload(void)
{
	char buf[64] = {0};
	int a[2], b[2], dead[2], i;

	signal(SIGPIPE, SIG_IGN);
	socketpair(AF_UNIX, SOCK_STREAM, 0, a);
	socketpair(AF_UNIX, SOCK_STREAM, 0, b);
	socketpair(AF_UNIX, SOCK_STREAM, 0, dead);
	close(dead[1]);
	for (i = 0; i < N_A + N_B; i++) {
		if (i % 10 == 0) {
			send(b[0], buf, 8, MSG_NOSIGNAL);
			recv(b[1], buf, sizeof(buf), 0);
		} else {
			send(a[0], buf, 7, MSG_NOSIGNAL);
			recv(a[1], buf, sizeof(buf), 0);
		}
	}
	for (i = 0; i < N_V; i++) {
		struct iovec iov[2] = {{buf, 2}, {buf, 4}};

		writev(a[0], iov, 2);
		recv(a[1], buf, 6, MSG_WAITALL);
	}
	for (i = 0; i < N_FAIL; i++)
		send(dead[0], buf, 5, MSG_NOSIGNAL);
	for (i = 0; i < N_LINT; i++) {
		send(a[0], buf, 3, MSG_MORE | MSG_NOSIGNAL);
		recv(a[1], buf, sizeof(buf), 0);
	}
	for (i = 0; i < N_MSG; i++) {
		struct iovec iov = {buf, 4};
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_flags = MSG_DONTWAIT};

		sendmsg(a[0], &m, MSG_NOSIGNAL);
		recv(a[1], buf, sizeof(buf), 0);
	}
}

void th_check(void)
{
}

/* Within five standard deviations of n draws at 1 in 10. */
static int near(long long got, long long n, const char *what)
{
	double mean = n / 10.0, sd = sqrt(n * 0.1 * 0.9);
	int ok = fabs((double)got - mean) <= 5 * sd;

	TH_OK(ok, "%s: %lld recorded of %lld, expected %.0f +- %.0f", what, got, n, mean, 5 * sd);
	return ok;
}

static long long stat_of(json_t *stats, const char *call, const char *field)
{
	return json_integer_value(
	    json_object_get(json_object_get(json_object_get(stats, "calls"), call), field));
}

static int sample_main(void)
{
	const char *env10[] = {"SENDTRACE_SAMPLE=10", NULL}, *env1[] = {"SENDTRACE_SAMPLE=1", NULL};
	long long n[9] = {0}, lint[9] = {0}, calls = 0, no_rate = 0, wrong_rate = 0;
	long long sampled_out = -1, filtered = -1, events = -1;
	const char *bd = getenv("ST_BUILDDIR");
	char cmd[8300], *out = NULL;
	size_t i, cap = 0, len;
	json_t *ev, *stats, *all;
	int status;
	FILE *p;

	if (!bd)
		th_skip("ST_BUILDDIR is not set (run through make check)");
	status = th_run(1, env10);
	TH_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "sampled workload exits 0 (%#x)",
	      status);
	all = th_load();
	json_array_foreach (all, i, ev) {
		const char *e = json_string_value(json_object_get(ev, "event"));
		long long l = json_integer_value(json_object_get(ev, "len"));

		if (e && !strcmp(e, "exit")) {
			sampled_out = json_integer_value(json_object_get(ev, "sampled_out"));
			filtered = json_integer_value(json_object_get(ev, "filtered"));
			events = json_integer_value(json_object_get(ev, "events"));
		}
		if (!e || strcmp(e, "call") || l < 3 || l > 8)
			continue;
		calls++;
		if (!json_object_get(ev, "sample"))
			no_rate++;
		else if (json_integer_value(json_object_get(ev, "sample")) != 10)
			wrong_rate++;
		n[l]++;
		lint[l] += json_object_get(ev, "lint") != NULL;
	}
	TH_OK(calls > 0 && no_rate == 0 && wrong_rate == 0,
	      "every call event says \"sample\":10 (%lld without, %lld another rate)", no_rate,
	      wrong_rate);
	near(n[7], N_A, "successful sends on fd A");
	near(n[8], N_B, "every tenth send of the loop, on fd B (no aliasing)");
	TH_OK(n[8] > 0 && n[8] < N_B, "fd B: some of its sends, not none or all (%lld)", n[8]);
	near(n[7] + n[8], N_A + N_B, "successful sends in all");
	near(n[6], N_V, "successful writevs (decided after encoding)");
	TH_OK(lint[7] == 0 && lint[8] == 0 && lint[6] == 0, "those have no findings");
	TH_OK(n[5] == N_FAIL, "every failed send is recorded: %lld of %d", n[5], N_FAIL);
	TH_OK(n[3] == N_LINT && lint[3] == N_LINT,
	      "every send with a finding is recorded: %lld of %d", n[3], N_LINT);
	TH_OK(n[4] == N_MSG && lint[4] == N_MSG,
	      "every sendmsg with a finding is recorded: %lld of %d", n[4], N_MSG);
	TH_OK(sampled_out == N_A + N_B + N_V - (n[6] + n[7] + n[8]),
	      "the exit record counts the calls sampled out: %lld (want %lld)", sampled_out,
	      N_A + N_B + N_V - (n[6] + n[7] + n[8]));
	TH_OK(filtered == 0, "and none filtered (%lld)", filtered);
	TH_OK(events == calls, "and the calls recorded: %lld (want %lld)", events, calls);

	/* stats scales each successful call without findings by 10: estimates, said so. */
	snprintf(cmd, sizeof(cmd), "%s/cli/sendtrace stats --json %s", bd, th_trace_path());
	p = popen(cmd, "r");
	len = p ? fread(cmd, 1, sizeof(cmd) - 1, p) : 0;
	cmd[len] = '\0';
	TH_OK(p && pclose(p) == 0, "stats --json exits 0");
	stats = json_loads(cmd, 0, NULL);
	TH_OK(json_is_true(json_object_get(stats, "estimated")),
	      "stats --json: \"estimated\":true");
	TH_OK(!strcmp(json_string_value(th_get(stats, "sample.rate")) ?: "", "1 in 10"),
	      "and the rate, 1 in 10");
	{
		long long est = stat_of(stats, "send", "calls"), want = N_A + N_B + N_FAIL + N_LINT;
		long long exact = 10 * (n[7] + n[8]) + n[5] + n[3];
		double sd = 10 * sqrt((N_A + N_B) * 0.1 * 0.9);

		TH_OK(est == exact,
		      "send: each recorded success counts 10, each failure and finding 1 "
		      "(%lld, want %lld)",
		      est, exact);
		TH_OK(fabs((double)(est - want)) <= 5 * sd,
		      "send: the estimate %lld is near the %lld sends made (+- %.0f)", est, want,
		      5 * sd);
		TH_OK(stat_of(stats, "send", "errors") == N_FAIL,
		      "send: errors counted once each: %lld", stat_of(stats, "send", "errors"));
		TH_OK(stat_of(stats, "writev", "calls") == 10 * n[6], "writev: %lld estimated",
		      stat_of(stats, "writev", "calls"));
		TH_OK(stat_of(stats, "send", "bytes") == 10 * (7 * n[7] + 8 * n[8]) + 3 * N_LINT,
		      "send: bytes scaled alike: %lld", stat_of(stats, "send", "bytes"));
	}
	json_decref(stats);
	snprintf(cmd, sizeof(cmd), "%s/cli/sendtrace stats %s", bd, th_trace_path());
	p = popen(cmd, "r");
	{
		char *all = NULL;
		size_t total = 0;
		ssize_t r;

		while (p && (r = getline(&out, &cap, p)) > 0) {
			all = realloc(all, total + (size_t)r + 1);
			memcpy(all + total, out, (size_t)r + 1);
			total += (size_t)r;
		}
		TH_OK(p && pclose(p) == 0, "stats exits 0");
		TH_OK(all && strstr(all, "ESTIMATES") && strstr(all, "1 in 10") &&
			  strstr(all, "are estimates"),
		      "stats says plainly that its figures are estimates, and from what rate");
		free(all);
	}
	free(out);

	/* SENDTRACE_SAMPLE=1: every call, and no "sample" field. */
	unlink(th_trace_path());
	status = th_run(1, env1);
	TH_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "unsampled workload exits 0");
	memset(n, 0, sizeof(n));
	no_rate = 0;
	all = th_load();
	json_array_foreach (all, i, ev) {
		long long l = json_integer_value(json_object_get(ev, "len"));

		if (l >= 3 && l <= 8)
			n[l]++;
		no_rate += json_object_get(ev, "sample") != NULL;
	}
	TH_OK(n[7] == N_A && n[8] == N_B && n[6] == N_V && n[5] == N_FAIL,
	      "SENDTRACE_SAMPLE=1 records every call (%lld %lld %lld %lld)", n[7], n[8], n[6],
	      n[5]);
	TH_OK(no_rate == 0, "and no event carries a rate (%lld)", no_rate);
	return 0;
}

__attribute__((constructor)) static void setup(void)
{
	th_main_hook = sample_main;
}
