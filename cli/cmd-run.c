/* cmd-run.c: `sendtrace run`: a program under the preload library, its exit status passed through.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "run.h"
#include "decode.h"
#include "elfcheck.h"

#define LIBNAME "libsendtrace.so"

/*
 * Uninstalled, the command sits in the build tree's cli/ next to lib/.libs/;
 * installed, the library is in $(pkglibdir). SENDTRACE_LIBRARY overrides both.
 */
static int find_library(char *out, size_t size)
{
	const char *env = getenv("SENDTRACE_LIBRARY");
	char self[PATH_MAX], dir[PATH_MAX + 64];
	ssize_t n;
	char *slash;

	if (env && env[0]) {
		snprintf(out, size, "%s", env);
		return access(out, R_OK) == 0 ? 0 : -1;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(dir, sizeof(dir), "%s/../lib/.libs/%s", self, LIBNAME);
			if (access(dir, R_OK) == 0 && realpath(dir, out))
				return 0;
		}
	}
	snprintf(out, size, "%s/%s", PKGLIBDIR, LIBNAME);
	return access(out, R_OK) == 0 ? 0 : -1;
}

/* Where execvp() would find `prog`, for the checks below; 0 if found. */
static int resolve(const char *prog, char *out, size_t size)
{
	const char *path = getenv("PATH");
	const char *p, *e;

	if (strchr(prog, '/')) {
		snprintf(out, size, "%s", prog);
		return access(out, X_OK);
	}
	for (p = path ? path : "/usr/bin:/bin"; *p; p = *e ? e + 1 : e) {
		e = strchrnul(p, ':');
		snprintf(out, size, "%.*s/%s", (int)(e - p), e == p ? "." : p, prog);
		if (access(out, X_OK) == 0)
			return 0;
	}
	return -1;
}

static long file_pread(void *arg, void *buf, size_t n, unsigned long long off)
{
	return pread(*(int *)arg, buf, n, (off_t)off);
}

/*
 * Why the image at path will run without the library: its ELF headers
 * (static, static-pie, another architecture), then secure-execution mode
 * as the kernel will decide it for this user (set-id bits, file
 * capabilities). The same rules as the library applies at exec (elfcheck.c).
 */
static enum st_untraced judge(const char *path, struct st_elfinfo *e)
{
	char scratch[4096];
	unsigned char caps[24];
	struct st_secure_in in;
	struct statvfs fs;
	struct stat sb;
	enum st_untraced why;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	memset(e, 0, sizeof(*e));
	if (fd < 0)
		return ST_UNTRACED_NO;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    st_elf_probe(file_pread, &fd, scratch, sizeof(scratch), e) != 0) {
		close(fd);
		return ST_UNTRACED_NO;
	}
	why = st_elf_untraced(e);
	if (!why && !e->script) {
		memset(&in, 0, sizeof(in));
		in.mode = sb.st_mode;
		in.owner = sb.st_uid;
		in.group = sb.st_gid;
		n = fgetxattr(fd, "security.capability", caps, sizeof(caps));
		in.caps = caps;
		in.capn = n > 0 ? (size_t)n : 0;
		in.ruid = getuid();
		in.euid = geteuid();
		in.rgid = getgid();
		in.egid = getegid();
		in.setid_ignored = (fstatvfs(fd, &fs) == 0 && (fs.f_flag & ST_NOSUID)) ||
				   prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
		why = st_exec_secure(&in);
	}
	close(fd);
	return why;
}

/*
 * What `run` can tell before it starts the program: each reason at most
 * once, on stderr. A script is judged by its interpreter (one level, as
 * the library does). A Go program is left to the library: when it is
 * dynamically linked the library is loaded into it and says so itself
 * (also when started by systemd or `sendtrace env`), and saying it here
 * too would say it twice; when it is static, the static warning is the one
 * that matters, and --complete cannot help.
 */
static void check_traceable(const char *prog)
{
	char path[PATH_MAX];
	struct st_elfinfo e;
	enum st_untraced why;

	if (resolve(prog, path, sizeof(path)) != 0)
		return;
	why = judge(path, &e);
	if (!why && e.script && e.shebang[0] == '/') {
		snprintf(path, sizeof(path), "%s", e.shebang);
		why = judge(path, &e);
	}
	if (!why)
		return;
	cli_error("warning: %s %s; it will not be traced%s%s", path, st_untraced_phrase(why),
		  e.go ? " (a Go program)" : "",
		  why == ST_UNTRACED_SETUID || why == ST_UNTRACED_SETGID ||
			  why == ST_UNTRACED_CAPABILITIES
		      ? " (run it as root, or as the user it runs as, to trace it)"
		      : "");
}

/*
 * The processes of a trace, by pid: an exec keeps the pid (and writes a new
 * start record), so processes are counted by distinct pid. Those that made
 * no traced call are not in the trace (SENDTRACE_PROCS=active).
 */
struct procs {
	long long *v; /* pids; 0 is a free slot */
	size_t n, cap;
};

/* Counts pid once, in an open-addressing set. */
static void proc_add(struct procs *ps, long long pid)
{
	size_t i;

	if (2 * (ps->n + 1) > ps->cap) {
		struct procs big = {NULL, 0, ps->cap ? 2 * ps->cap : 64};

		big.v = calloc(big.cap, sizeof(*big.v));
		if (!big.v)
			return;
		for (i = 0; i < ps->cap; i++)
			if (ps->v[i])
				proc_add(&big, ps->v[i]);
		free(ps->v);
		*ps = big;
	}
	for (i = (size_t)pid * 2654435761u % ps->cap;; i = (i + 1) % ps->cap) {
		if (ps->v[i] == pid)
			return;
		if (!ps->v[i]) {
			ps->v[i] = pid;
			ps->n++;
			return;
		}
	}
}

/* What the closing summary counts over the files of a trace. */
struct tally {
	struct procs ps;
	unsigned long calls, capped;
	int full; /* FILE.N exists: older files may have been rotated out */
};

static void count_events(const char *path, struct tally *t)
{
	struct ev_reader r;
	json_t *ev;

	/* No file: a dormant run that was never switched on makes none. */
	if (strstr(path, "%p") || access(path, F_OK) != 0 || ev_open(&r, path) != 0)
		return;
	r.bad = 0;
	while ((ev = ev_next(&r))) {
		const char *kind = json_string_value(json_object_get(ev, "event"));
		long long pid = json_integer_value(json_object_get(ev, "pid"));
		long long capped = json_integer_value(json_object_get(ev, "capped"));

		if (pid > 0)
			proc_add(&t->ps, pid);
		if (!strcmp(kind, "call"))
			t->calls++;
		else if (!strcmp(kind, "exit") && capped > 0)
			t->capped += (unsigned long)capped;
		json_decref(ev);
	}
	ev_close(&r);
}

/* A trace file, then those of its rotations FILE.1 .. FILE.N that exist: how many of these. */
static int count_rotated(const char *path, int rotate, struct tally *t)
{
	char name[2 * PATH_MAX + 16];
	struct stat sb;
	int k, n = 0;

	count_events(path, t);
	for (k = 1; k <= rotate; k++) {
		snprintf(name, sizeof(name), "%s.%d", path, k);
		if (stat(name, &sb) != 0)
			continue;
		count_events(name, t);
		n++;
		t->full |= k == rotate;
	}
	return n;
}

/*
 * The processes still running that write this trace: those whose
 * environment holds our SENDTRACE_OUTPUT (a daemon that forked away from
 * the program run waited for, and may not have sent anything yet). Read
 * from /proc/PID/environ, which shows the environment a process started
 * with; only processes of this user are readable, which is all the trace's.
 */
static unsigned long live_tracees(const char *out, long long *a_pid)
{
	size_t wl = strlen("SENDTRACE_OUTPUT=") + strlen(out) + 1, cap = 1 << 20;
	char *want = malloc(wl + 1), *buf = malloc(cap);
	unsigned long n = 0;
	struct dirent *de;
	DIR *d = opendir("/proc");

	if (!want || !buf || !d)
		goto out;
	snprintf(want, wl + 1, "SENDTRACE_OUTPUT=%s", out); /* with its NUL: a whole entry */
	while ((de = readdir(d))) {
		char path[64];
		ssize_t got;
		size_t at;
		int fd;

		if (strspn(de->d_name, "0123456789") != strlen(de->d_name) ||
		    atoll(de->d_name) == (long long)getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%s/environ", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		got = read(fd, buf, cap - 1);
		close(fd);
		for (at = 0; got > 0 && at + wl <= (size_t)got; at += strlen(buf + at) + 1) {
			if (!memcmp(buf + at, want, wl)) {
				n++;
				*a_pid = atoll(de->d_name);
				break;
			}
		}
	}
out:
	if (d)
		closedir(d);
	free(want);
	free(buf);
	return n;
}

/*
 * Where the trace went, said on stderr: calls and processes over the file
 * and its rotations (FILE.1 ... FILE.N), or with -F (FILE.%p) over every
 * FILE.PID file this run made and theirs; the events the size cap kept out;
 * and the processes still writing to it.
 */
static void summary(const char *out, int rotate)
{
	size_t n = strlen(out);
	struct tally t = {{NULL, 0, 0}, 0, 0, 0};
	unsigned long running, procs;
	long long a_running = 0;
	char base[2 * PATH_MAX + 8], label[4 * PATH_MAX + 96], extra[160] = "", *argv1[1];
	char **files;
	int nfiles, i, real = 0, older = 0;

	if (n >= 3 && n < sizeof(base) && !strcmp(out + n - 3, ".%p") &&
	    strstr(out, "%p") == out + n - 2) {
		memcpy(base, out, n - 3);
		base[n - 3] = '\0';
	} else if (strstr(out, "%p")) {
		cli_error("trace written to %s (one file per process)", out);
		return;
	} else {
		snprintf(base, sizeof(base), "%s", out);
	}
	if (strcmp(base, out)) {
		argv1[0] = base;
		files = ev_expand(argv1, 1, &nfiles);
		for (i = 0; i < nfiles; i++) {
			if (files[i] == base)
				continue; /* no file at all */
			real++;
			older += count_rotated(files[i], rotate, &t);
		}
		free(files);
		n = (size_t)snprintf(label, sizeof(label), "%s.PID (%d file%s", base, real,
				     real == 1 ? "" : "s");
		snprintf(label + n, sizeof(label) - n, older ? ", and %d rotated: PID.1 ...)" : ")",
			 older);
	} else {
		older = count_rotated(out, rotate, &t);
		if (older == 1)
			snprintf(label, sizeof(label), "%s and %s.1", out, out);
		else if (older)
			snprintf(label, sizeof(label), "%s and %d older files (%s.1 ...)", out,
				 older, out);
		else
			snprintf(label, sizeof(label), "%s", out);
	}
	procs = t.ps.n;
	free(t.ps.v);
	n = 0;
	if (t.capped)
		n = (size_t)snprintf(extra, sizeof(extra), "; %lu event%s dropped by the size cap",
				     t.capped, t.capped == 1 ? "" : "s");
	if (t.full)
		snprintf(extra + n, sizeof(extra) - n,
			 "; at most %d old file%s kept: older events may have been rotated out",
			 rotate, rotate == 1 ? " is" : "s are");
	running = live_tracees(out, &a_running);
	if (!strcmp(base, out) && access(out, F_OK) != 0 && errno == ENOENT)
		cli_error("no call recorded%s: no file was made at %s",
			  running ? " so far (processes still running, dormant)" : " (dormant throughout)",
			  out);
	else if (running)
		cli_error("%lu call%s so far from %lu process%s traced to %s; %lu still running "
			  "and writing to it (pid %lld%s)%s",
			  t.calls, t.calls == 1 ? "" : "s", procs, procs == 1 ? "" : "es", label,
			  running, a_running, running > 1 ? " and others" : "", extra);
	else
		cli_error("%lu call%s from %lu process%s traced to %s%s", t.calls,
			  t.calls == 1 ? "" : "s", procs, procs == 1 ? "" : "es", label, extra);
}

/*
 * The options of run and env, each mapping onto one environment variable of
 * the library, so that a program started elsewhere (systemd, a container)
 * can be traced exactly as run would trace it.
 */
static const struct option run_opts[] = {
    {"output", required_argument, NULL, 'o'},
    {"per-process", no_argument, NULL, 'F'},
    {"all-fds", no_argument, NULL, 'a'},
    {"backtrace", optional_argument, NULL, 'k'},
    {"calls", required_argument, NULL, 'e'},
    {"payload", required_argument, NULL, 's'},
    {"no-lint", no_argument, NULL, 'L'},
    {"only-lint", no_argument, NULL, 'O'},
    {"all-procs", no_argument, NULL, 'P'},
    {"dormant", no_argument, NULL, 'D'},
    {"max-size", required_argument, NULL, 'M'},
    {"rotate", required_argument, NULL, 'R'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {"systemd", no_argument, NULL, 'S'},
    {"shell", no_argument, NULL, 'X'},
    {"filter", required_argument, NULL, 256},
    {"sample", required_argument, NULL, 257},
    {"complete", no_argument, NULL, 258},
    {NULL, 0, NULL, 0},
};

static int num_opt(const char *name, const char *arg, long max, char *out, size_t n)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*end || end == arg || v < 0 || v > max) {
		cli_error("%s takes a number from 0 to %ld, not '%s'", name, max, arg);
		return -1;
	}
	snprintf(out, n, "%ld", v);
	return 0;
}


/* Returns -1 on a bad option (said), 1 for --help/--version (done), 0 to go on. */
int run_parse(int argc, char **argv, struct run_opts *o, const struct cmd_entry *self)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->output = "sendtrace.jsonl";
	while ((c = getopt_long(argc, argv, "+o:Fak::e:s:hV", run_opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o->output = optarg;
			o->output_given = 1;
			break;
		case 'F':
			o->per_process = 1;
			break;
		case 'a':
			o->all_fds = 1;
			break;
		case 'k': {
			const char *n = optarg;

			/*
			 * "-k 8" as well as "-k8": an optional argument must be
			 * attached for getopt, so a number after a bare -k (with
			 * something still after it, the program) is taken as N
			 * instead of being run as the program.
			 */
			if (!n && optind + 1 < argc && argv[optind][0] &&
			    strspn(argv[optind], "0123456789") == strlen(argv[optind]))
				n = argv[optind++];
			if (num_opt("--backtrace", n ? n : "16", 64, o->frames, sizeof(o->frames)))
				return -1;
			break;
		}
		case 'e':
			if (calls_known(optarg) < 0)
				return -1;
			o->calls = optarg;
			break;
		case 's':
			if (num_opt("--payload", optarg, 1024, o->payload, sizeof(o->payload)))
				return -1;
			break;
		case 'L':
			o->no_lint = 1;
			break;
		case 'O':
			o->only_lint = 1;
			break;
		case 'P':
			o->all_procs = 1;
			break;
		case 'D':
			o->dormant = 1;
			break;
		case 258:
			o->complete = 1;
			break;
		case 'M':
			if (!st_parse_size(optarg)) {
				cli_error(
				    "--max-size takes a size from 64k to 1048576G (bytes, or a "
				    "number with k, M or G: powers of 1024), not '%s'",
				    optarg);
				return -1;
			}
			o->max_size = optarg;
			break;
		case 'R':
			if (num_opt("--rotate", optarg, 1000, o->rotate, sizeof(o->rotate)))
				return -1;
			break;
		case 'S':
			o->style = 1;
			break;
		case 'X':
			o->style = 2;
			break;
		case 256:
			/* Refused here as the library would refuse it, not warned of later. */
			if (filter_text_ok(optarg) != 0)
				return -1;
			o->filter = optarg;
			break;
		case 257: {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || end == optarg || v < 1 || v > 1000000000) {
				cli_error("--sample takes a number from 1 (every call) to 1000000000, "
					  "not '%s'",
					  optarg);
				return -1;
			}
			snprintf(o->sample, sizeof(o->sample), "%ld", v);
			break;
		}
		default:
			/* --help and --version end here (1); a bad option is trouble (-1). */
			return cli_common_option(c, self) == EXIT_OK ? 1 : -1;
		}
	}
	if (o->rotate[0] && strcmp(o->rotate, "0") && !o->max_size) {
		cli_error("--rotate needs --max-size (the size at which a file is rotated)");
		return -1;
	}
	return 0;
}

/* The variables, in a fixed order, through put(name, value). */
int run_environ(const struct run_opts *o, char *abs_out, size_t n,
		void (*put)(const char *, const char *, void *), void *arg)
{
	char lib[PATH_MAX], cwd[PATH_MAX];

	if (find_library(lib, sizeof(lib)) != 0) {
		cli_error("cannot find %s (looked for %s; set SENDTRACE_LIBRARY)", LIBNAME, lib);
		return -1;
	}
	if (o->output[0] != '/' && getcwd(cwd, sizeof(cwd)))
		snprintf(abs_out, n, "%s/%s%s", cwd, o->output, o->per_process ? ".%p" : "");
	else
		snprintf(abs_out, n, "%s%s", o->output, o->per_process ? ".%p" : "");
	put("LD_PRELOAD", lib, arg);
	put("SENDTRACE_OUTPUT", abs_out, arg);
	if (o->all_fds)
		put("SENDTRACE_FDS", "all", arg);
	if (o->frames[0])
		put("SENDTRACE_BACKTRACE", o->frames, arg);
	if (o->calls)
		put("SENDTRACE_CALLS", o->calls, arg);
	if (o->payload[0])
		put("SENDTRACE_PAYLOAD", o->payload, arg);
	if (o->no_lint)
		put("SENDTRACE_LINT", "off", arg);
	if (o->only_lint)
		put("SENDTRACE_ONLY", "lint", arg);
	if (o->all_procs)
		put("SENDTRACE_PROCS", "all", arg);
	if (o->dormant)
		put("SENDTRACE_ENABLE", "0", arg);
	if (o->complete)
		put("SENDTRACE_COMPLETE", "1", arg);
	if (o->filter)
		put("SENDTRACE_FILTER", o->filter, arg);
	if (o->sample[0])
		put("SENDTRACE_SAMPLE", o->sample, arg);
	if (o->max_size)
		put("SENDTRACE_MAX_SIZE", o->max_size, arg);
	if (o->rotate[0])
		put("SENDTRACE_ROTATE", o->rotate, arg);
	return 0;
}

struct envlist {
	char *kv[32];
	int n;
};

static void collect(const char *k, const char *v, void *arg)
{
	struct envlist *e = arg;
	size_t n = strlen(k) + strlen(v) + 2;

	if (e->n < (int)(sizeof(e->kv) / sizeof(e->kv[0])) && (e->kv[e->n] = malloc(n)))
		snprintf(e->kv[e->n++], n, "%s=%s", k, v);
}

/* What lstat found, in words, for an error message. */
static const char *file_kind(mode_t m)
{
	return S_ISLNK(m)    ? "a symbolic link"
	       : S_ISCHR(m)  ? "a character device"
	       : S_ISBLK(m)  ? "a block device"
	       : S_ISFIFO(m) ? "a FIFO"
	       : S_ISDIR(m)  ? "a directory"
	       : S_ISSOCK(m) ? "a socket"
			     : "not a regular file";
}

/*
 * The output is replaced (unlinked, then created afresh). Only a path that
 * does not exist, or an earlier trace of this user's, may be: -o /dev/null
 * or -o /etc/passwd as root must never remove what is there.
 */
static int output_replaceable(const char *path)
{
	struct stat sb;
	char head[6];
	ssize_t n;
	int fd;

	if (lstat(path, &sb) != 0)
		return 0; /* nothing there (or the create below says why) */
	if (!S_ISREG(sb.st_mode)) {
		cli_error("refusing output %s: it is %s; give a regular file or a new path", path,
			  file_kind(sb.st_mode));
		return -1;
	}
	if (sb.st_uid != getuid()) {
		cli_error("refusing output %s: it belongs to another user", path);
		return -1;
	}
	if (sb.st_size == 0)
		return 0;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	n = fd >= 0 ? read(fd, head, sizeof(head)) : -1;
	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)sizeof(head) || memcmp(head, "{\"v\":1", 6) != 0) {
		cli_error("refusing output %s: it exists and is not a sendtrace trace; remove it "
			  "or choose another path",
			  path);
		return -1;
	}
	return 0;
}

/*
 * How many rotations the trace may have: --rotate, or SENDTRACE_ROTATE as
 * the program will inherit it; 0 without a valid size cap either way.
 */
static int rotations(const struct run_opts *o)
{
	const char *size = o->max_size ? o->max_size : getenv("SENDTRACE_MAX_SIZE");
	const char *n = o->rotate[0] ? o->rotate : getenv("SENDTRACE_ROTATE");
	char *end;
	long v;

	if (!size || !st_parse_size(size) || !n || !n[0])
		return 0;
	v = strtol(n, &end, 10);
	return *end || v < 0 || v > 1000 ? 0 : (int)v;
}

/*
 * The rotations an earlier run left (FILE.1 ... FILE.N) go with the file
 * they were rotated from: the summary counts across them, and the library
 * would rename this run's files over them. Only earlier traces of this
 * user's are removed (output_replaceable).
 */
static int clear_rotations(const char *out, int rotate)
{
	char name[2 * PATH_MAX + 16];
	struct stat sb;
	int k;

	for (k = 1; k <= rotate; k++) {
		snprintf(name, sizeof(name), "%s.%d", out, k);
		if (lstat(name, &sb) != 0)
			continue;
		if (output_replaceable(name) != 0)
			return -1;
		if (unlink(name) != 0 && errno != ENOENT) {
			cli_error("cannot remove %s: %s", name, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int cmd_run_exec(int argc, char **argv)
{
	struct run_opts o;
	struct envlist env = {{NULL}, 0};
	char preload[3 * PATH_MAX], abs_out[2 * PATH_MAX + 8];
	const char *old;
	int status, fd, r, k, rotate;
	pid_t pid;

	r = run_parse(argc, argv, &o, &cmd_run_entry);
	if (r)
		return r > 0 ? EXIT_OK : EXIT_TROUBLE;
	rotate = rotations(&o);
	if (optind >= argc) {
		cli_error("run: no program given");
		cli_usage(&cmd_run_entry, stderr);
		return EXIT_TROUBLE;
	}
	if (run_environ(&o, abs_out, sizeof(abs_out), collect, &env) != 0)
		return EXIT_TROUBLE;
	/*
	 * One fresh file per run; with %p the library makes one per process.
	 * Replaced, not truncated: a program of an earlier run may still have
	 * the old file mapped, and truncating it under the mapping would crash it.
	 */
	if (!strstr(abs_out, "%p")) {
		if (output_replaceable(abs_out) != 0 || clear_rotations(abs_out, rotate) != 0)
			return EXIT_TROUBLE;
		if (unlink(abs_out) != 0 && errno != ENOENT) {
			cli_error("cannot replace %s: %s", abs_out, strerror(errno));
			return EXIT_TROUBLE;
		}
		/* Dormant: the library makes the file when it is switched on, not before. */
		fd = o.dormant ? -2
			       : open(abs_out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				      0600);
		if (fd == -1) {
			cli_error("cannot create %s: %s", abs_out, strerror(errno));
			return EXIT_TROUBLE;
		}
		if (fd >= 0)
			close(fd);
	}
	check_traceable(argv[optind]);

	/* Ours first, then whatever the user preloads already. */
	old = getenv("LD_PRELOAD");
	if (old && old[0])
		snprintf(preload, sizeof(preload), "%s:%s", env.kv[0] + strlen("LD_PRELOAD="), old);
	else
		snprintf(preload, sizeof(preload), "%s", env.kv[0] + strlen("LD_PRELOAD="));

	pid = fork();
	if (pid < 0) {
		cli_error("fork: %s", strerror(errno));
		return EXIT_TROUBLE;
	}
	if (pid == 0) {
		for (k = 1; k < env.n; k++)
			putenv(env.kv[k]);
		setenv("LD_PRELOAD", preload, 1);
		execvp(argv[optind], argv + optind);
		cli_error("cannot run %s: %s", argv[optind], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	/* Like system(): the terminal's ^C and ^\ are for the traced program. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			cli_error("waitpid: %s", strerror(errno));
			return EXIT_TROUBLE;
		}
	summary(abs_out, rotate);
	if (WIFSIGNALED(status)) {
		cli_error("%s was killed by signal %d (%s)", argv[optind], WTERMSIG(status),
			  strsignal(WTERMSIG(status)));
		return 128 + WTERMSIG(status);
	}
	return WEXITSTATUS(status);
}

const struct cmd_entry cmd_run_entry = {
    .name = "run",
    .usage = "[OPTIONS] [--] PROGRAM [ARGS...]",
    .summary = "Run PROGRAM with libsendtrace.so preloaded and record every send-family\n"
	       "call it makes. The program's exit status is passed through (128+N when\n"
	       "killed by signal N); where the trace went is said on stderr.\n"
	       "\n" RUN_OPTIONS_HELP "  -h, --help         this help\n"
	       "  -V, --version      the version\n",
    .exec = cmd_run_exec,
};
