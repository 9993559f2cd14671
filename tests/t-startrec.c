/* t-startrec.c: a start record whose argv escapes past 16 KiB is cut and marked, never lost. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* One send, so that the trace holds a call event besides the two records. */
void th_workload(void)
{
	int sp[2];

	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	send(sp[0], "x", 1, 0);
}

void th_check(void)
{
}

/* This program again, traced, with `args` after argv[0]. */
static int run_with(char *const *args)
{
	char *argv[8] = {(char *)"th-child"}, trace[4200];
	pid_t pid;
	int i, status;

	for (i = 0; args[i] && i < 6; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	unlink(th_trace_path());
	pid = fork();
	if (pid == 0) {
		snprintf(trace, sizeof(trace), "SENDTRACE_OUTPUT=%s", th_trace_path());
		setenv("TH_CHILD", "1", 1);
		setenv("LD_PRELOAD", getenv("ST_TEST_LIB"), 1);
		putenv(trace);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

static json_t *record(json_t *all, const char *kind)
{
	json_t *ev;
	size_t i;

	json_array_foreach (all, i, ev)
		if (json_is_string(json_object_get(ev, "event")) &&
		    !strcmp(json_string_value(json_object_get(ev, "event")), kind))
			return ev;
	return NULL;
}

/* argv[i] of the start record is a non-empty run of `c`, at most `max` long. */
static int run_of(json_t *start, size_t i, int c, size_t max)
{
	const char *s = json_string_value(json_array_get(json_object_get(start, "argv"), i));
	size_t n = s ? strlen(s) : 0;

	return n > 0 && n <= max && strspn(s, (char[]){(char)c, 0}) == n;
}

static void check(const char *what, char *const *args, size_t nargs, int c, size_t len)
{
	json_t *all, *start, *ex;
	int status = run_with(args);

	TH_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: exits 0 (%#x)", what, status);
	all = th_load();
	start = record(all, "start");
	ex = record(all, "exit");
	TH_OK(start != NULL, "%s: the start record is there", what);
	TH_STR(start, "argv.0", "th-child");
	TH_OK(run_of(start, 1, c, len), "%s: argv[1] is a prefix of the argument", what);
	TH_BOOL(start, "argv_truncated", 1);
	TH_OK(json_array_size(json_object_get(start, "argv")) <= nargs + 1,
	      "%s: no argument past the cut", what);
	TH_OK(json_is_string(json_object_get(start, "tracer")) &&
		  json_is_string(json_object_get(start, "fds")),
	      "%s: the fields after argv are there", what);
	TH_OK(th_count("call", "send") == 1, "%s: the send is recorded", what);
	TH_OK(ex && json_integer_value(json_object_get(ex, "dropped")) == 0,
	      "%s: the exit record counts no drop", what);
}

static int startrec(void)
{
	static char a[3001], b[1001];
	char *one[] = {a, NULL}, *three[] = {a, b, b, NULL};

	/* Each \x01 escapes to the six characters \u0001: 18,000 bytes of JSON. */
	memset(a, 1, 3000);
	check("3,000 bytes of \\x01", one, 1, 1, 3000);
	/* The cut falls inside the first of several arguments; the others are left out. */
	memset(b, 2, 1000);
	check("3,000 + 2 x 1,000 bytes", three, 3, 1, 3000);
	return 0;
}

__attribute__((constructor)) static void setup(void)
{
	th_main_hook = startrec;
}
