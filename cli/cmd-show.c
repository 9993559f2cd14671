/* cmd-show.c: `sendtrace show`: every event as one readable line. */
#include "config.h"

#include <getopt.h>
#include <string.h>

#include "cli.h"

static int cmd_show_exec(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"bt", no_argument, NULL, 'b'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	unsigned long bad = 0;
	int c, i, trouble = 0, bt = 0;

	while ((c = getopt_long(argc, argv, "+bhV", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			bt = 1;
			break;
		case 'h':
			cli_usage(&cmd_show_entry, stdout);
			return EXIT_OK;
		case 'V':
			printf("sendtrace %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		default:
			cli_usage(&cmd_show_entry, stderr);
			return EXIT_TROUBLE;
		}
	}
	if (optind >= argc) {
		cli_error("show: no trace file given (use - for standard input)");
		cli_usage(&cmd_show_entry, stderr);
		return EXIT_TROUBLE;
	}
	for (i = optind; i < argc; i++) {
		struct ev_reader r;
		json_t *ev;

		if (ev_open(&r, argv[i]) != 0) {
			trouble = 1;
			continue;
		}
		while ((ev = ev_next(&r))) {
			fmt_event(stdout, ev);
			if (bt)
				fmt_bt(stdout, ev);
			json_decref(ev);
		}
		if (r.bad)
			cli_error("%s: %lu bad line%s skipped", r.path, r.bad,
				  r.bad == 1 ? "" : "s");
		bad += r.bad;
		ev_close(&r);
	}
	fflush(stdout);
	return trouble || bad ? EXIT_TROUBLE : EXIT_OK;
}

const struct cmd_entry cmd_show_entry = {
    .name = "show",
    .usage = "[--bt] FILE...",
    .summary = "Print each event of the trace FILEs as one line, like strace:\n"
	       "time, pid[/tid], call(fd<socket>, arguments, flags) = result <duration>.\n"
	       "FILE - reads standard input. A malformed or truncated line is reported\n"
	       "as FILE:LINE and skipped; the exit status is then 2.\n"
	       "\n"
	       "  -b, --bt       print each event's backtrace under it (recorded with\n"
	       "                 run -k / SENDTRACE_BACKTRACE), with file:line from\n"
	       "                 addr2line when the module has debug info\n"
	       "  -h, --help     this help\n"
	       "  -V, --version  the version\n",
    .exec = cmd_show_exec,
};
