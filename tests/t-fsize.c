/* t-fsize.c: a trace that hits RLIMIT_FSIZE or a full disk fills the room left, says which, and
 * never signals the program. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define ROOM   (280 << 10) /* more than the first two regions (80 KiB), less than the third */
#define WRITES 4000	   /* about 800 KiB of events: far past the room */

static volatile sig_atomic_t xfsz;

static void on_xfsz(int sig)
{
	(void)sig;
	xfsz++;
}

void th_workload(void)
{
	int fd = open("/dev/null", O_WRONLY), i;
	char line[100];

	if (getenv("T_FSIZE_HANDLER"))
		signal(SIGXFSZ, on_xfsz);
	memset(line, 'x', sizeof(line));
	for (i = 0; i < WRITES; i++)
		(void)write(fd, line, sizeof(line));
	th_result("xfsz %d", (int)xfsz);
}

void th_check(void)
{
}

/* This program again, traced into `trace`, stderr into `err`, under RLIMIT_FSIZE `limit`. */
static int run(const char *trace, const char *err, rlim_t limit, int handler)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		char *argv[] = {(char *)"th-child", NULL}, out[4200];
		struct rlimit rl = {limit, limit};
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (e < 0 || dup2(e, 2) < 0 || setrlimit(RLIMIT_FSIZE, &rl) != 0)
			_exit(126);
		snprintf(out, sizeof(out), "SENDTRACE_OUTPUT=%s", trace);
		putenv(out);
		setenv("TH_CHILD", "1", 1);
		setenv("LD_PRELOAD", getenv("ST_TEST_LIB"), 1);
		setenv("SENDTRACE_FDS", "all", 1);
		if (handler)
			setenv("T_FSIZE_HANDLER", "1", 1);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

/* The one line the library wrote, or "" (and the count of lines in *lines). */
static char *warning(const char *err, int *lines)
{
	static char buf[4096];
	FILE *f = fopen(err, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	size_t i;

	if (f)
		fclose(f);
	buf[n] = '\0';
	for (*lines = 0, i = 0; i < n; i++)
		*lines += buf[i] == '\n';
	return buf;
}

static long long file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

static void fsize(const char *what, int handler)
{
	char err[4200], *w, *res;
	long long size;
	int status, lines;

	snprintf(err, sizeof(err), "%s.err", th_trace_path());
	unlink(th_trace_path());
	unlink(th_results_path());
	status = run(th_trace_path(), err, ROOM, handler);
	TH_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: the program exits 0 (%#x)", what,
	      status);
	res = th_results();
	TH_OK(th_value(res, "xfsz", 0, -1) == 0, "%s: the program got no SIGXFSZ (%lld)", what,
	      th_value(res, "xfsz", 0, -1));
	free(res);
	w = warning(err, &lines);
	TH_OK(lines == 1, "%s: one warning line (%d)", what, lines);
	TH_OK(strstr(w, "file size limit") && strstr(w, "(280 KiB: RLIMIT_FSIZE"),
	      "%s: it names the size limit: %s", what, w);
	size = file_size(th_trace_path());
	/* Tracing goes on until less than one slice (4 KiB) plus an event is left. */
	TH_OK(size > ROOM - (8 << 10) && size <= ROOM, "%s: the trace fills the room: %lld of %d",
	      what, size, ROOM);
	th_load();
	TH_OK(th_count("call", "write") * 200 > (size_t)size / 2,
	      "%s: %zu events recorded in %lld bytes", what, th_count("call", "write"), size);
	unlink(err);
}

/* A full disk: a 256 KiB tmpfs, where this test may mount one. */
static void full_disk(void)
{
	char dir[4200], trace[4300], err[4300], *w;
	long long size;
	int status, lines;

	snprintf(dir, sizeof(dir), "%s.mnt", th_trace_path());
	if (geteuid() != 0 || mkdir(dir, 0700) != 0 ||
	    mount("tmpfs", dir, "tmpfs", 0, "size=256k") != 0) {
		printf("# full disk: skipped (not root, or no tmpfs may be mounted here)\n");
		rmdir(dir);
		return;
	}
	snprintf(trace, sizeof(trace), "%s/t.jsonl", dir);
	snprintf(err, sizeof(err), "%s.err", th_trace_path());
	status = run(trace, err, RLIM_INFINITY, 0);
	TH_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "full disk: the program exits 0");
	w = warning(err, &lines);
	TH_OK(lines == 1, "full disk: one warning line (%d)", lines);
	TH_OK(strstr(w, "no space left") && strstr(w, "the disk is full: ") &&
		  strstr(w, " KiB free"),
	      "full disk: it says the disk is full, and what is free: %s", w);
	size = file_size(trace);
	TH_OK(size > (256 << 10) - (12 << 10), "full disk: the trace fills the disk: %lld of %d",
	      size, 256 << 10);
	umount(dir);
	rmdir(dir);
	unlink(err);
}

static int fsize_main(void)
{
	fsize("RLIMIT_FSIZE, SIGXFSZ caught", 1);
	fsize("RLIMIT_FSIZE, SIGXFSZ default", 0);
	full_disk();
	return 0;
}

__attribute__((constructor)) static void setup(void)
{
	th_main_hook = fsize_main;
}
