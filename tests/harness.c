/* harness.c: the traced-test driver: self re-execution under the preload, event loading,
 * assertions. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

int (*th_main_hook)(void);

static char th_trace[4096], th_res[4096];
static json_t *th_all;
static int th_failed, th_passed;

const char *th_trace_path(void)
{
	return th_trace;
}

const char *th_results_path(void)
{
	return th_res;
}

int th_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("%s - %s:%d: ", cond ? "ok" : "FAIL", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (cond)
		th_passed++;
	else
		th_failed++;
	return cond;
}

void th_skip(const char *why)
{
	printf("SKIP: %s\n", why);
	exit(77);
}

static const char *th_lib(void)
{
	const char *lib = getenv("ST_TEST_LIB");

	if (!lib || access(lib, R_OK) != 0) {
		fprintf(stderr, "ST_TEST_LIB does not name the built libsendtrace.so\n");
		exit(99);
	}
	return lib;
}

pid_t th_spawn(int traced, const char *const *extra_env)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(99);
	}
	if (pid == 0) {
		char *argv[] = {(char *)"th-child", NULL};
		char self[4096];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

		setenv("TH_CHILD", "1", 1);
		unsetenv("LD_PRELOAD");
		if (traced) {
			setenv("LD_PRELOAD", th_lib(), 1);
			setenv("SENDTRACE_OUTPUT", th_trace, 1);
		}
		for (; extra_env && *extra_env; extra_env++)
			putenv((char *)*extra_env);
		/* By its name, so that comm is the test's name. */
		if (n > 0) {
			self[n] = '\0';
			execv(self, argv);
		}
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	return pid;
}

int th_run_part(const char *name, int traced, const char *env, int timeout)
{
	static char part[64];
	const char *extra[] = {part, env, NULL};
	struct timespec tick = {0, 10 * 1000 * 1000};
	int status, i;
	pid_t pid;

	snprintf(part, sizeof(part), "TC_PART=%s", name);
	if (!traced)
		extra[1] = NULL;
	pid = th_spawn(traced, extra);
	for (i = 0; i < timeout * 100; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		nanosleep(&tick, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

int th_wait(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			perror("waitpid");
			exit(99);
		}
	return status;
}

int th_run(int traced, const char *const *extra_env)
{
	return th_wait(th_spawn(traced, extra_env));
}

json_t *th_events(void)
{
	return th_all;
}

json_t *th_load(void)
{
	FILE *f = fopen(th_trace, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0, bad = 0;

	json_decref(th_all);
	th_all = json_array();
	if (!f) {
		TH_OK(0, "trace file %s exists", th_trace);
		return th_all;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		json_error_t err;
		json_t *ev;

		lineno++;
		if (strspn(line, " \t\n") == (size_t)n)
			continue; /* chunk padding */
		if (line[n - 1] != '\n') {
			TH_OK(0, "line %d ends with a newline", lineno);
			bad++;
		}
		ev = json_loadb(line, (size_t)n, 0, &err);
		if (!ev) {
			TH_OK(0, "line %d parses: %s", lineno, err.text);
			bad++;
			continue;
		}
		json_array_append_new(th_all, ev);
	}
	free(line);
	fclose(f);
	TH_OK(bad == 0, "all %d lines of the trace parse with jansson", lineno);
	return th_all;
}

json_t *th_get(json_t *ev, const char *path)
{
	char buf[256], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && ev; tok = strtok_r(NULL, ".", &save)) {
		if (json_is_array(ev))
			ev = json_array_get(ev, strtoul(tok, NULL, 10));
		else
			ev = json_object_get(ev, tok);
	}
	return ev;
}

json_t *th_find(const char *call, long long len, int nth)
{
	size_t i;
	json_t *ev;

	json_array_foreach (th_all, i, ev) {
		const char *c = json_string_value(json_object_get(ev, "call"));

		if (!c || strcmp(c, call) != 0)
			continue;
		if (len >= 0 && json_integer_value(json_object_get(ev, "len")) != len)
			continue;
		if (nth-- == 0)
			return ev;
	}
	return NULL;
}

size_t th_count(const char *event, const char *call)
{
	size_t i, n = 0;
	json_t *ev;

	json_array_foreach (th_all, i, ev) {
		const char *e = json_string_value(json_object_get(ev, "event"));
		const char *c = json_string_value(json_object_get(ev, "call"));

		if (e && !strcmp(e, event) && (!call || (c && !strcmp(c, call))))
			n++;
	}
	return n;
}

static char *th_show(json_t *v)
{
	static char buf[512];
	char *s = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;

	snprintf(buf, sizeof(buf), "%s", s ? s : "(missing)");
	free(s);
	return buf;
}

int th_int(json_t *ev, const char *path, long long v, const char *file, int line)
{
	json_t *x = th_get(ev, path);

	return th_ok(json_is_integer(x) && json_integer_value(x) == v, file, line,
		     "%s == %lld (got %s)", path, v, th_show(x));
}

int th_str(json_t *ev, const char *path, const char *s, const char *file, int line)
{
	json_t *x = th_get(ev, path);

	return th_ok(json_is_string(x) && strcmp(json_string_value(x), s) == 0, file, line,
		     "%s == \"%s\" (got %s)", path, s, th_show(x));
}

int th_null(json_t *ev, const char *path, const char *file, int line)
{
	json_t *x = th_get(ev, path);

	return th_ok(json_is_null(x), file, line, "%s is null (got %s)", path, th_show(x));
}

int th_bool(json_t *ev, const char *path, int b, const char *file, int line)
{
	json_t *x = th_get(ev, path);

	return th_ok(json_is_boolean(x) && json_is_true(x) == !!b, file, line, "%s is %s (got %s)",
		     path, b ? "true" : "false", th_show(x));
}

void th_result(const char *fmt, ...)
{
	FILE *f = fopen(getenv("TH_RESULTS"), "a");
	va_list ap;

	if (!f)
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
}

char *th_results(void)
{
	FILE *f = fopen(th_res, "r");
	char *buf;
	long n;

	if (!f)
		return strdup("");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		buf[0] = '\0';
	fclose(f);
	unlink(th_res);
	return buf;
}

long long th_value(const char *res, const char *key, int nth, long long dflt)
{
	size_t kl = strlen(key);
	const char *p;

	/* Whole words only: "fork" must not match inside "vfork". */
	for (p = res; (p = strstr(p, key)); p += kl) {
		char *end;
		long long v = 0;
		int i;

		if ((p != res && p[-1] != ' ' && p[-1] != '\n') || p[kl] != ' ')
			continue;
		end = (char *)p + kl;
		for (i = 0; i <= nth; i++) {
			const char *start = end;

			v = strtoll(start, &end, 10);
			if (end == start)
				return dflt;
		}
		return v;
	}
	return dflt;
}

int th_udp_receiver(int family, void *addr, unsigned int *len)
{
	struct sockaddr_storage ss;
	socklen_t l;
	int fd = socket(family, SOCK_DGRAM, 0);

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (void *)&ss;

		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		l = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (void *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		l = sizeof(*in6);
	}
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, l) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &l) != 0) {
		perror("udp receiver");
		exit(99);
	}
	memcpy(addr, &ss, l);
	*len = l;
	return fd;
}

void th_tcp_pair(int family, int *client, int *server)
{
	struct sockaddr_storage ss;
	unsigned int l;
	socklen_t sl;
	int lis = socket(family, SOCK_STREAM, 0);
	int dummy = th_udp_receiver(family, &ss, &l);

	close(dummy);
	if (family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = 0;
	sl = l;
	if (lis < 0 || bind(lis, (struct sockaddr *)&ss, l) != 0 || listen(lis, 4) != 0 ||
	    getsockname(lis, (struct sockaddr *)&ss, &sl) != 0) {
		perror("tcp listen");
		exit(99);
	}
	*client = socket(family, SOCK_STREAM, 0);
	if (*client < 0 || connect(*client, (struct sockaddr *)&ss, sl) != 0) {
		perror("tcp connect");
		exit(99);
	}
	*server = accept(lis, NULL, NULL);
	close(lis);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	int status;

	if (getenv("TH_CHILD")) {
		th_workload();
		return 0;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!tmp || !tmp[0])
		tmp = "/tmp";
	snprintf(th_trace, sizeof(th_trace), "%s/st-test-%d.jsonl", tmp, (int)getpid());
	snprintf(th_res, sizeof(th_res), "%s/st-test-%d.results", tmp, (int)getpid());
	unlink(th_trace);
	unlink(th_res);
	setenv("TH_RESULTS", th_res, 1);
	if (th_main_hook) {
		status = th_main_hook();
	} else {
		status = th_run(1, NULL);
		TH_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "traced workload exits 0 (status %#x)", status);
		th_load();
		th_check();
	}
	if (status == 77)
		return 77;
	if (!getenv("ST_TEST_KEEP"))
		unlink(th_trace);
	else
		printf("trace kept at %s\n", th_trace);
	printf("%d passed, %d failed\n", th_passed, th_failed);
	return th_failed ? 1 : 0;
}
