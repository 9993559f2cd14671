/* cmd-run.c: `sendtrace run`: a program under the preload library, its exit status passed through.
 */
#include "config.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

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

/* LD_PRELOAD is ignored by static binaries and, for most paths, by setuid ones. */
static void check_traceable(const char *prog)
{
	char path[PATH_MAX];
	struct stat sb;
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int fd, i, dynamic = 0;

	if (resolve(prog, path, sizeof(path)) != 0 || stat(path, &sb) != 0)
		return;
	if ((sb.st_mode & (S_ISUID | S_ISGID)) && geteuid() != 0)
		cli_error("warning: %s is setuid/setgid: the dynamic loader ignores LD_PRELOAD "
			  "from untrusted paths, so it will not be traced (run it as root, or "
			  "install libsendtrace.so in a system library directory)",
			  path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (read(fd, &eh, sizeof(eh)) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64) {
		close(fd); /* a script: its interpreter is what gets traced */
		return;
	}
	for (i = 0; i < eh.e_phnum; i++) {
		if (pread(fd, &ph, sizeof(ph),
			  (off_t)(eh.e_phoff + (Elf64_Off)i * eh.e_phentsize)) !=
		    (ssize_t)sizeof(ph))
			break;
		if (ph.p_type == PT_INTERP || ph.p_type == PT_DYNAMIC)
			dynamic = 1;
	}
	close(fd);
	if (!dynamic)
		cli_error("warning: %s is statically linked: LD_PRELOAD has no effect on it, "
			  "so none of its calls will be traced",
			  path);
}

static unsigned long count_events(const char *path, unsigned long *procs)
{
	struct ev_reader r;
	unsigned long calls = 0;
	json_t *ev;

	*procs = 0;
	if (strstr(path, "%p") || ev_open(&r, path) != 0)
		return 0;
	r.bad = 0;
	while ((ev = ev_next(&r))) {
		const char *kind = json_string_value(json_object_get(ev, "event"));

		if (!strcmp(kind, "call"))
			calls++;
		else if (!strcmp(kind, "start"))
			(*procs)++;
		json_decref(ev);
	}
	ev_close(&r);
	return calls;
}

static int cmd_run_exec(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'},	 {"all-fds", no_argument, NULL, 'a'},
	    {"backtrace", optional_argument, NULL, 'k'}, {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},	 {NULL, 0, NULL, 0},
	};
	const char *output = "sendtrace.jsonl";
	char lib[PATH_MAX], preload[3 * PATH_MAX], abs_out[2 * PATH_MAX + 2], cwd[PATH_MAX];
	const char *old;
	char frames[8] = "";
	int c, all_fds = 0, status, fd;
	unsigned long calls, procs;
	pid_t pid;

	while ((c = getopt_long(argc, argv, "+o:ak::hV", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'a':
			all_fds = 1;
			break;
		case 'k':
			if (optarg) {
				char *end;
				long n = strtol(optarg, &end, 10);

				if (*end || n < 0 || n > 64) {
					cli_error("run: --backtrace takes 0 to 64 frames, not '%s'",
						  optarg);
					return EXIT_TROUBLE;
				}
				snprintf(frames, sizeof(frames), "%ld", n);
			} else {
				snprintf(frames, sizeof(frames), "16");
			}
			break;
		case 'h':
			cli_usage(&cmd_run_entry, stdout);
			return EXIT_OK;
		case 'V':
			printf("sendtrace %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		default:
			cli_usage(&cmd_run_entry, stderr);
			return EXIT_TROUBLE;
		}
	}
	if (optind >= argc) {
		cli_error("run: no program given");
		cli_usage(&cmd_run_entry, stderr);
		return EXIT_TROUBLE;
	}
	if (find_library(lib, sizeof(lib)) != 0) {
		cli_error("cannot find %s (looked for %s; set SENDTRACE_LIBRARY)", LIBNAME, lib);
		return EXIT_TROUBLE;
	}
	if (output[0] != '/' && getcwd(cwd, sizeof(cwd)))
		snprintf(abs_out, sizeof(abs_out), "%s/%s", cwd, output);
	else
		snprintf(abs_out, sizeof(abs_out), "%s", output);
	/*
	 * One fresh file per run; with %p the library makes one per process.
	 * Replaced, not truncated: a program of an earlier run may still have
	 * the old file mapped, and truncating it under the mapping would crash it.
	 */
	if (!strstr(abs_out, "%p")) {
		if (unlink(abs_out) != 0 && errno != ENOENT) {
			cli_error("cannot replace %s: %s", abs_out, strerror(errno));
			return EXIT_TROUBLE;
		}
		fd = open(abs_out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			cli_error("cannot create %s: %s", abs_out, strerror(errno));
			return EXIT_TROUBLE;
		}
		close(fd);
	}
	check_traceable(argv[optind]);

	old = getenv("LD_PRELOAD");
	if (old && old[0])
		snprintf(preload, sizeof(preload), "%s:%s", lib, old);
	else
		snprintf(preload, sizeof(preload), "%s", lib);

	pid = fork();
	if (pid < 0) {
		cli_error("fork: %s", strerror(errno));
		return EXIT_TROUBLE;
	}
	if (pid == 0) {
		setenv("LD_PRELOAD", preload, 1);
		setenv("SENDTRACE_OUTPUT", abs_out, 1);
		if (all_fds)
			setenv("SENDTRACE_FDS", "all", 1);
		if (frames[0])
			setenv("SENDTRACE_BACKTRACE", frames, 1);
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
	calls = count_events(abs_out, &procs);
	if (strstr(abs_out, "%p"))
		cli_error("trace written to %s (one file per process)", abs_out);
	else
		cli_error("%lu call%s from %lu process%s traced to %s", calls,
			  calls == 1 ? "" : "s", procs, procs == 1 ? "" : "es", abs_out);
	if (WIFSIGNALED(status)) {
		cli_error("%s was killed by signal %d (%s)", argv[optind], WTERMSIG(status),
			  strsignal(WTERMSIG(status)));
		return 128 + WTERMSIG(status);
	}
	return WEXITSTATUS(status);
}

const struct cmd_entry cmd_run_entry = {
    .name = "run",
    .usage = "[-o FILE] [--all-fds] [-k|--backtrace[=N]] [--] PROGRAM [ARGS...]",
    .summary = "Run PROGRAM with libsendtrace.so preloaded and record every send-family\n"
	       "call it makes. The program's exit status is passed through (128+N when\n"
	       "killed by signal N); where the trace went is said on stderr.\n"
	       "\n"
	       "  -o, --output FILE  trace file (default ./sendtrace.jsonl, truncated first;\n"
	       "                     %p in FILE gives one file per process) [SENDTRACE_OUTPUT]\n"
	       "  -a, --all-fds      trace write/writev/sendfile on every fd, not only\n"
	       "                     sockets [SENDTRACE_FDS=all]\n"
	       "  -k, --backtrace[=N] record N call-site frames per event (16 with -k)\n"
	       "                     [SENDTRACE_BACKTRACE=N]\n"
	       "  -h, --help         this help\n"
	       "  -V, --version      the version\n",
    .exec = cmd_run_exec,
};
