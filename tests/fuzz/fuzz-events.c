/* fuzz-events.c: libFuzzer harness: the input as a trace file through show, stats, lint and pcap, as
 * the command runs them. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"

/*
 * Each input is written to a file and read by the real subcommands, so the
 * reader, the scanner, the filters, the formatter and the groupings all see
 * events whose fields have any type, size or content. Besides the
 * sanitizers' checks, the harness holds one property of its own: text
 * output never carries a control byte from the trace (a newline is the
 * command's own separator).
 */

static char trace[64]; /* /proc/self/fd/N: the file is unlinked at once, nothing is left behind */
static int trace_fd = -1;

/* main.c is the real command's entry point; these are its helpers the subcommands call. */
void cli_error(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt); /* formatted all the same: a bad argument is caught here */
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
}

void cli_usage(const struct cmd_entry *cmd, FILE *out)
{
	(void)cmd;
	(void)out;
}

int cli_common_option(int c, const struct cmd_entry *cmd)
{
	(void)cmd;
	return c == '?' || c == ':' ? EXIT_TROUBLE : -1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char in[] = "/tmp/st-fuzz-events.XXXXXX", out[] = "/tmp/st-fuzz-events-out.XXXXXX";
	int fd;

	(void)argc;
	(void)argv;
	trace_fd = mkstemp(in);
	fd = mkstemp(out);
	if (trace_fd < 0 || fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
		abort();
	unlink(in);
	unlink(out);
	close(fd);
	snprintf(trace, sizeof(trace), "/proc/self/fd/%d", trace_fd);
	/* show --bt asks addr2line about modules named in the trace: not in a fuzzer. */
	setenv("PATH", "/nonexistent", 1);
	return 0;
}

/* Runs one subcommand on the trace; returns what it wrote to stdout, NUL-terminated. */
static char *run(const struct cmd_entry *cmd, const char *const *args, size_t *len)
{
	char *argv[8];
	struct stat sb;
	char *out;
	int argc = 0;

	argv[argc++] = (char *)cmd->name;
	while (*args)
		argv[argc++] = (char *)*args++;
	argv[argc++] = trace;
	argv[argc] = NULL;
	fflush(stdout);
	if (ftruncate(STDOUT_FILENO, 0) != 0 || fseek(stdout, 0, SEEK_SET) != 0)
		abort();
	optind = 0; /* getopt starts afresh */
	cmd->exec(argc, argv);
	fflush(stdout);
	if (fstat(STDOUT_FILENO, &sb) != 0 || !(out = malloc((size_t)sb.st_size + 1)))
		abort();
	*len = (size_t)pread(STDOUT_FILENO, out, (size_t)sb.st_size, 0);
	out[*len] = '\0';
	return out;
}

struct invocation {
	const struct cmd_entry *cmd;
	const char *args[6];
	int text; /* text output: no control bytes may reach it */
};

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
	const struct invocation runs[] = {
	    {&cmd_show_entry, {"--bt", "--color=never", NULL}, 1},
	    {&cmd_show_entry, {"--time=rel", "--errors", NULL}, 1},
	    {&cmd_show_entry, {"--time=delta", "--peer=127.0.0.1", "--flag=MORE", NULL}, 1},
	    {&cmd_show_entry, {"--call=send,sendfile", "--fd=3", "--since=+0", NULL}, 1},
	    {&cmd_show_entry, {"--json", "--lint", NULL}, 0},
	    {&cmd_stats_entry, {NULL}, 1},
	    {&cmd_stats_entry, {"--json", "--pid=1", "--until=+1", NULL}, 0},
	    {&cmd_lint_entry, {NULL}, 1},
	    {&cmd_lint_entry, {"--json", NULL}, 0},
	    {&cmd_pcap_entry, {"-o", "-", NULL}, 0},
	    {&cmd_pcap_entry, {"-o", "-", "--peer=127.0.0.1", NULL}, 0},
	};
	size_t k, i, len;

	if (ftruncate(trace_fd, 0) != 0 || pwrite(trace_fd, data, n, 0) != (ssize_t)n)
		abort();
	for (k = 0; k < sizeof(runs) / sizeof(runs[0]); k++) {
		char *out = run(runs[k].cmd, runs[k].args, &len);

		for (i = 0; runs[k].text && i < len; i++) {
			unsigned char c = (unsigned char)out[i];

			if ((c < 0x20 && c != '\n') || c == 0x7f) {
				fprintf(stderr, "%s %s: raw byte 0x%02x at %zu of its output\n",
					runs[k].cmd->name, runs[k].args[0] ? runs[k].args[0] : "",
					c, i);
				abort();
			}
		}
		free(out);
	}
	return 0;
}
