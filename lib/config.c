/* config.c: SENDTRACE_* environment variables, read once at start. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filterspec.h"
#include "st.h"

struct st_config st_config;

/*
 * secure_getenv: in a setuid/setgid program (AT_SECURE) nothing from the
 * environment is believed. init.c does not even get this far then; this is
 * the second lock on the same door.
 */
static const char *st_getenv(const char *name)
{
	return secure_getenv(name);
}

static void st_set_path(char *dst, size_t size, const char *dir, const char *file)
{
	size_t dl = dir ? strlen(dir) : 0, fl = strlen(file);

	if (dl + 1 + fl + 1 > size) {
		dst[0] = '\0';
		return;
	}
	if (dl) {
		memcpy(dst, dir, dl);
		if (dst[dl - 1] != '/')
			dst[dl++] = '/';
	}
	memcpy(dst + dl, file, fl + 1);
}

/* Only %p (pid) and %% are defined; anything else is a typo we should name. */
static int st_template_ok(const char *s)
{
	for (; *s; s++) {
		if (*s != '%')
			continue;
		s++;
		if (*s != 'p' && *s != '%')
			return 0;
	}
	return 1;
}

static void st_default_output(void)
{
	const char *tmp = st_getenv("TMPDIR");

	if (!tmp || tmp[0] != '/')
		tmp = "/tmp";
	st_set_path(st_config.output, sizeof(st_config.output), tmp, "sendtrace.%p.jsonl");
	if (!st_config.output[0])
		st_set_path(st_config.output, sizeof(st_config.output), "/tmp",
			    "sendtrace.%p.jsonl");
}

static void st_load_output(void)
{
	const char *v = st_getenv("SENDTRACE_OUTPUT");
	char cwd[2048];

	st_default_output();
	if (!v || !v[0])
		return;
	if (!st_template_ok(v) || strlen(v) >= sizeof(st_config.output) - 1) {
		st_warn("SENDTRACE_OUTPUT='", v,
			"' is not valid (accepts a file path; %p is the pid, %% a percent sign); "
			"using the default");
		return;
	}
	/* Daemons chdir("/"): anchor a relative path where the program started. */
	if (v[0] == '/') {
		st_set_path(st_config.output, sizeof(st_config.output), NULL, v);
		return;
	}
	if (!getcwd(cwd, sizeof(cwd))) {
		st_warn("SENDTRACE_OUTPUT='", v,
			"': the current directory cannot be resolved; using the default");
		return;
	}
	st_set_path(st_config.output, sizeof(st_config.output), cwd, v);
	if (!st_config.output[0]) {
		st_warn("SENDTRACE_OUTPUT='", v, "' is too long; using the default");
		st_default_output();
	}
}

static void st_load_fds(void)
{
	const char *v = st_getenv("SENDTRACE_FDS");

	st_config.fds = ST_FDS_SOCKETS;
	if (!v || !v[0] || strcmp(v, "sockets") == 0)
		return;
	if (strcmp(v, "all") == 0) {
		st_config.fds = ST_FDS_ALL;
		return;
	}
	st_warn("SENDTRACE_FDS='", v, "' is not valid (accepts: sockets, all); using sockets");
}

static void st_load_lint(void)
{
	const char *v = st_getenv("SENDTRACE_LINT"), *o = st_getenv("SENDTRACE_ONLY");

	st_config.lint = 1;
	if (v && v[0]) {
		if (!strcmp(v, "off") || !strcmp(v, "0"))
			st_config.lint = 0;
		else if (strcmp(v, "on") && strcmp(v, "1"))
			st_warn("SENDTRACE_LINT='", v,
				"' is not valid (accepts: on, off); using on");
	}
	st_config.only_lint = 0;
	if (o && o[0]) {
		if (!strcmp(o, "lint"))
			st_config.only_lint = 1;
		else if (strcmp(o, "all"))
			st_warn("SENDTRACE_ONLY='", o,
				"' is not valid (accepts: all, lint); recording every event");
	}
	if (st_config.only_lint && !st_config.lint) {
		st_warn("SENDTRACE_ONLY=lint needs SENDTRACE_LINT=on; ", "turning lint on", "");
		st_config.lint = 1;
	}
}

/*
 * SENDTRACE_PROCS: "active" (the default) records a process only once it
 * makes a traced call, so a shell loop of /bin/true leaves nothing; "all"
 * keeps the start and exit records of every process.
 */
static void st_load_procs(void)
{
	const char *v = st_getenv("SENDTRACE_PROCS");

	st_config.procs_all = v && !strcmp(v, "all");
	if (v && v[0] && !st_config.procs_all && strcmp(v, "active"))
		st_warn("SENDTRACE_PROCS='", v, "' is not valid (accepts: active, all); using active");
}

/* A whole number from 0 to max in variable `name`, else 0 with one warning. */
static int st_env_number(const char *name, long max, const char *accepts)
{
	const char *v = st_getenv(name);
	char *end;
	long n;

	if (!v || !v[0])
		return 0;
	n = strtol(v, &end, 10);
	if (*end || n < 0 || n > max) {
		char what[64];
		size_t l = strlen(name);

		/* NAME=' without stdio: the names are ours and short. */
		memcpy(what, name, l);
		memcpy(what + l, "='", 3);
		st_warn(what, v, accepts);
		return 0;
	}
	return (int)n;
}

static void st_load_numbers(void)
{
	st_config.backtrace = st_env_number(
	    "SENDTRACE_BACKTRACE", 64,
	    "' is not valid (accepts a number of frames from 0 to 64); using 0");
	st_config.payload = st_env_number(
	    "SENDTRACE_PAYLOAD", 1024,
	    "' is not valid (accepts a number of bytes from 0 to 1024); using 0 (off)");
	st_config.reserve_kib = st_env_number(
	    "SENDTRACE_SECCOMP_RESERVE", 1 << 20,
	    "' is not valid (accepts KiB from 16 to 1048576); using 1024");
	if (st_config.reserve_kib < 16)
		st_config.reserve_kib = 1024;
	st_config.complete = st_env_number("SENDTRACE_COMPLETE", 1,
					   "' is not valid (accepts 0 or 1); complete mode off");
}

/*
 * SENDTRACE_MAX_SIZE caps each trace file; SENDTRACE_ROTATE=N renames a
 * full one to FILE.1 (FILE.1 to FILE.2 ... up to FILE.N) and starts afresh.
 * Rotating without a cap would never happen: said, and not done.
 */
static void st_load_cap(void)
{
	const char *v = st_getenv("SENDTRACE_MAX_SIZE");

	st_config.max_size = 0;
	if (v && v[0]) {
		st_config.max_size = st_parse_size(v);
		if (!st_config.max_size)
			st_warn("SENDTRACE_MAX_SIZE='", v,
				"' is not valid (accepts a size from 64k to 1048576G: bytes, or a "
				"number with k, M or G, powers of 1024); no size cap");
	}
	st_config.rotate =
	    st_env_number("SENDTRACE_ROTATE", 1000,
			  "' is not valid (accepts a number of old files to keep, 0 to 1000); "
			  "not rotating");
	if (st_config.rotate && !st_config.max_size) {
		st_warn("SENDTRACE_ROTATE needs a valid SENDTRACE_MAX_SIZE (the size at which to "
			"rotate); ",
			"not rotating", "");
		st_config.rotate = 0;
	}
}

/*
 * Comma-separated names, read by the filters' parser (filterspec.c): "all"
 * is every send call (the default); "sendto" covers send, "sendfile"
 * sendfile64 and "accept" accept4; "lifecycle" is connect, accept, close and
 * shutdown, which are recorded only when named.
 */
static void st_load_calls(void)
{
	const char *v = st_getenv("SENDTRACE_CALLS");
	struct st_fs_error e;
	unsigned mask;

	st_config.calls = ST_CALLS_SEND;
	if (!v || !v[0])
		return;
	if (st_fs_calls(v, strlen(v), &mask, &e) != 0) {
		st_warn("SENDTRACE_CALLS='", v,
			"' is not valid (accepts a comma-separated list of all, send, "
			"sendto, sendmsg, sendmmsg, write, writev, sendfile, sendfile64, "
			"connect, accept, accept4, close, shutdown, lifecycle); "
			"tracing all send calls");
		return;
	}
	st_config.calls = mask;
}

void st_config_load(void)
{
	st_load_numbers();
	st_load_cap();
	st_load_calls();
	st_load_procs();
	st_load_output();
	st_load_fds();
	st_load_lint();
	st_filter_config();
}
