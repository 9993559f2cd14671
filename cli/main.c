/* main.c: the sendtrace command: a table of subcommands and the dispatch into them. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct cmd_entry *const cmd_table[] = {
    &cmd_run_entry, &cmd_show_entry, &cmd_stats_entry, &cmd_lint_entry, &cmd_env_entry, &cmd_pcap_entry, &cmd_ctl_entry, NULL,
};

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("sendtrace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_usage(const struct cmd_entry *cmd, FILE *out)
{
	fprintf(out, "usage: sendtrace %s %s\n%s", cmd->name, cmd->usage, cmd->summary);
	if (cmd->filters)
		fputs(filter_help(), out);
}

int cli_common_option(int c, const struct cmd_entry *cmd)
{
	switch (c) {
	case 'h':
		cli_usage(cmd, stdout);
		return EXIT_OK;
	case 'V':
		printf("sendtrace %s\n", PACKAGE_VERSION);
		return EXIT_OK;
	case '?':
	case ':':
		cli_usage(cmd, stderr);
		return EXIT_TROUBLE;
	default:
		return -1;
	}
}

static void usage(FILE *out)
{
	const struct cmd_entry *const *c;

	fputs("usage: sendtrace COMMAND [OPTIONS] [ARGS...]\n"
	      "Trace what a program sends: send, sendto, sendmsg, sendmmsg, and write,\n"
	      "writev and sendfile on sockets, as JSON Lines events.\n\n"
	      "commands:\n",
	      out);
	for (c = cmd_table; *c; c++)
		fprintf(out, "  %-6s %s\n", (*c)->name, (*c)->usage);
	fputs("\n'sendtrace COMMAND --help' describes one command.\n"
	      "Environment variables for the library are listed in libsendtrace(7)\n"
	      "and in the README.\n",
	      out);
}

int main(int argc, char **argv)
{
	const struct cmd_entry *const *c;

	if (argc < 2) {
		usage(stderr);
		return EXIT_TROUBLE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("sendtrace %s\n", PACKAGE_VERSION);
		return EXIT_OK;
	}
	for (c = cmd_table; *c; c++)
		if (strcmp(argv[1], (*c)->name) == 0)
			return (*c)->exec(argc - 1, argv + 1);
	cli_error("unknown command '%s' (try 'sendtrace --help')", argv[1]);
	return EXIT_TROUBLE;
}
