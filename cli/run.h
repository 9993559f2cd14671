/* run.h: the options run and env share, and the environment they make. */
#ifndef ST_RUN_H
#define ST_RUN_H

#include <stddef.h>

#include "cli.h"

struct run_opts {
	const char *output;
	int output_given, per_process, all_fds, no_lint, only_lint, all_procs, dormant, complete;
	const char *calls, *filter;
	const char *max_size; /* as given, checked: 64k, 100M, 65536 */
	char frames[8], payload[8], sample[16], rotate[8];
	int style; /* env: 0 K=V, 1 systemd Environment=, 2 shell export */
};

#define RUN_OPTIONS_HELP                                                                           \
	"  -o, --output FILE  trace file (default ./sendtrace.jsonl, replaced first;\n"            \
	"                     %p in FILE is the pid) [SENDTRACE_OUTPUT]\n"                         \
	"  -F, --per-process  one file per process, FILE.PID (like strace -ff)\n"                  \
	"  -a, --all-fds      write/writev/sendfile on every fd, not only sockets\n"               \
	"                     [SENDTRACE_FDS=all]\n"                                               \
	"  -e, --calls LIST   trace only these calls (send,sendto,...) [SENDTRACE_CALLS];\n"       \
	"                     all,lifecycle adds connect/accept/close/shutdown records\n"          \
	"  -s, --payload N    record the first N bytes sent (0-1024; may hold secrets)\n"          \
	"                     [SENDTRACE_PAYLOAD]\n"                                               \
	"  -k, --backtrace[=N] N call-site frames per event (-k8, -k 8), 16 with -k alone\n"       \
	"                     [SENDTRACE_BACKTRACE]\n"                                             \
	"      --no-lint      no flag-misuse findings [SENDTRACE_LINT=off]\n"                      \
	"      --only-lint    record only events with findings [SENDTRACE_ONLY=lint]\n"            \
	"      --all-procs    start and exit records for processes that send nothing\n"            \
	"                     too (by default they leave nothing) [SENDTRACE_PROCS=all]\n"         \
	"      --dormant      load the library but record nothing (and make no file)\n"            \
	"                     until `sendtrace ctl PID on` [SENDTRACE_ENABLE=0]\n"                 \
	"      --complete     also the sends made outside the exported functions: inside\n"     \
	"                     libc (DNS, syslog), syscall(), inline system calls; every\n"        \
	"                     system call of the program then costs a trap (x86-64,\n"            \
	"                     Linux 5.11+; docs/complete.md) [SENDTRACE_COMPLETE=1]\n"            \
	"      --filter SPEC  record only the calls SPEC matches: \"call=send port=53\",\n"        \
	"                     as show --filter (FILTERS in sendtrace(1)) [SENDTRACE_FILTER]\n"     \
	"      --sample N     record about one call in N, and every failed call and call\n"        \
	"                     with findings; stats scales the counts back [SENDTRACE_SAMPLE]\n"         \
	"      --max-size=SIZE cap each trace file at SIZE bytes (k, M, G: powers of\n"            \
	"                     1024; 64k at least); past it, events are counted as capped\n"        \
	"                     [SENDTRACE_MAX_SIZE]\n"                                              \
	"      --rotate=N     with --max-size: a full FILE is renamed FILE.1 (FILE.1 to\n"         \
	"                     FILE.2 ... up to FILE.N) and a new one begun\n"                      \
	"                     [SENDTRACE_ROTATE]\n"

int run_parse(int argc, char **argv, struct run_opts *o, const struct cmd_entry *self);
int run_environ(const struct run_opts *o, char *abs_out, size_t n,
		void (*put)(const char *, const char *, void *), void *arg);

#endif
