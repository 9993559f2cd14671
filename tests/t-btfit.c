/* t-btfit.c: 64-frame backtraces of long names and paths never crowd the event out of 16 KiB. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define SENDS 10
#define DEPTH 80

/*
 * The worst case the settings allow: 64 frames (SENDTRACE_BACKTRACE=64),
 * each naming a function whose name is longer than the library keeps and a
 * module with a long install path; 1024 bytes of payload that each escape
 * to six characters (\u0001); and four lint findings.
 */
static char payload[1024];
static struct sockaddr_in dest;
static int tx, sent_whole;

static void send_one(void)
{
	struct iovec iov = {payload, sizeof(payload)};
	struct msghdr m;
	ssize_t r;

	memset(&m, 0, sizeof(m));
	m.msg_name = &dest;
	m.msg_namelen = sizeof(dest);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_flags = MSG_TRUNC; /* ignored by the kernel: the msg_flags finding */
	/* MSG_EOR on a datagram socket, MSG_WAITALL (a receive flag), a bit no MSG_* names. */
	r = sendmsg(tx, &m, MSG_EOR | MSG_WAITALL | 0x100000);
	if (r == (ssize_t)sizeof(payload))
		sent_whole++;
}

/* Recursion keeps one name per frame; the empty asm keeps each call from being a tail call. */
__attribute__((noinline)) void
sendtrace_test_namespace_component_with_a_long_name_of_the_kind_templates_produce_recursing_deeper(
    int n)
{
	if (n > 0)
		sendtrace_test_namespace_component_with_a_long_name_of_the_kind_templates_produce_recursing_deeper(
		    n - 1);
	else
		send_one();
	__asm__ volatile("" ::: "memory");
}

void th_workload(void)
{
	unsigned int l;
	int i;

	memset(payload, 1, sizeof(payload));
	th_udp_receiver(AF_INET, &dest, &l);
	tx = socket(AF_INET, SOCK_DGRAM, 0);
	for (i = 0; i < SENDS; i++)
		sendtrace_test_namespace_component_with_a_long_name_of_the_kind_templates_produce_recursing_deeper(
		    DEPTH);
	th_result("whole %d", sent_whole);
}

void th_check(void)
{
}

/* A copy of this program at `path`: its frames carry that path as `obj`. */
static int copy_self(const char *path)
{
	char buf[65536];
	int in = open("/proc/self/exe", O_RDONLY), out;
	ssize_t n;

	if (in < 0)
		return -1;
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	if (out < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			n = -1;
	close(in);
	close(out);
	return n == 0 ? 0 : -1;
}

static int run_copy(const char *exe)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		char *argv[] = {(char *)"th-child", NULL};
		char trace[4200];

		snprintf(trace, sizeof(trace), "SENDTRACE_OUTPUT=%s", th_trace_path());
		setenv("TH_CHILD", "1", 1);
		setenv("LD_PRELOAD", getenv("ST_TEST_LIB"), 1);
		putenv(trace);
		putenv((char *)"SENDTRACE_BACKTRACE=64");
		putenv((char *)"SENDTRACE_PAYLOAD=1024");
		putenv((char *)"SENDTRACE_LINT=on");
		execv(exe, argv);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

static void check_run(const char *what, const char *exe, const char *want_cut)
{
	json_t *all, *ev, *bt, *exitrec = NULL;
	size_t i, calls = 0, whole = 0, cut_ok = 0;
	int status;
	char *res;

	unlink(th_trace_path());
	unlink(th_results_path());
	status = run_copy(exe);
	TH_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: the program exits 0 (%#x)", what,
	      status);
	res = th_results();
	TH_OK(th_value(res, "whole", 0, -1) == SENDS,
	      "%s: the program sent %d datagrams of 1024 bytes", what, SENDS);
	free(res);
	all = th_load();
	json_array_foreach (all, i, ev) {
		const char *kind = json_string_value(json_object_get(ev, "event"));
		const char *cut = json_string_value(json_object_get(ev, "bt_truncated"));
		const char *p = json_string_value(json_object_get(ev, "payload"));

		if (kind && !strcmp(kind, "exit"))
			exitrec = ev;
		if (!kind || strcmp(kind, "call") != 0)
			continue;
		calls++;
		bt = json_object_get(ev, "bt");
		/* Every field of the event is there, whole. */
		if (json_integer_value(json_object_get(ev, "ret")) == 1024 &&
		    json_is_integer(json_object_get(ev, "dur_ns")) &&
		    json_is_object(json_object_get(ev, "sock")) &&
		    json_is_string(json_object_get(ev, "addr")) &&
		    json_array_size(json_object_get(ev, "flags")) == 3 &&
		    json_array_size(json_object_get(ev, "lint")) == 4 &&
		    json_is_object(json_object_get(ev, "site")) && p && strlen(p) == 1024 &&
		    strspn(p, "\x01") == 1024 && json_array_size(bt) > 0 &&
		    json_is_string(th_get(ev, "bt.0.obj")))
			whole++;
		if (cut && !strcmp(cut, want_cut) &&
		    (strcmp(want_cut, "frames") != 0 ||
		     json_integer_value(json_object_get(ev, "bt_more")) ==
			 64 - (long long)json_array_size(bt)))
			cut_ok++;
	}
	TH_OK(calls == SENDS, "%s: %zu of %d events recorded", what, calls, SENDS);
	TH_OK(whole == SENDS, "%s: %zu of %d events hold every field, payload and 4 findings", what,
	      whole, SENDS);
	TH_OK(cut_ok == SENDS, "%s: %zu of %d events say bt_truncated \"%s\"", what, cut_ok, SENDS,
	      want_cut);
	TH_OK(exitrec && json_integer_value(json_object_get(exitrec, "dropped")) == 0,
	      "%s: the exit record counts no drop", what);
}

static int btfit(void)
{
	char dir[512], exe[1024], name[256];
	const char *tmp = getenv("TMPDIR");

	if (!tmp || !tmp[0])
		tmp = "/tmp";
	/* A short path: leaving the function names out is enough. */
	if (strlen(tmp) < 40) {
		snprintf(exe, sizeof(exe), "%s/st-btfit-%d", tmp, (int)getpid());
		TH_OK(copy_self(exe) == 0, "copied the program to a short path");
		check_run("short path", exe, "fn");
		unlink(exe);
	}

	/* An install path of 180 bytes: frames without names still do not fit whole. */
	snprintf(dir, sizeof(dir), "%s/st-btfit-%d-", tmp, (int)getpid());
	memset(dir + strlen(dir), 'd', 180 - strlen(dir));
	dir[180] = '\0';
	if (mkdir(dir, 0700) != 0)
		th_skip("cannot make a directory in TMPDIR");
	snprintf(exe, sizeof(exe), "%s/t-btfit", dir);
	TH_OK(copy_self(exe) == 0, "copied the program to a long path");
	check_run("long path", exe, "obj");
	unlink(exe);

	rmdir(dir);

	/* A module whose file name alone is 200 bytes: only some frames fit. */
	memset(name, 'n', 200);
	name[200] = '\0';
	snprintf(exe, sizeof(exe), "%s/%d-%s", tmp, (int)getpid(), name);
	TH_OK(copy_self(exe) == 0, "copied the program to a long file name");
	check_run("long file name", exe, "frames");
	unlink(exe);
	return 0;
}

__attribute__((constructor)) static void setup(void)
{
	th_main_hook = btfit;
}
