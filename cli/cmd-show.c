/* cmd-show.c: `sendtrace show`: events as readable lines, filtered, merged in time order, or
 * followed. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

struct line {
	long long ts;
	size_t seq;
	char *text;
	size_t len;
};

struct show {
	struct fmt_opts fo;
	int bt, json;
	int have_first; /* fo.first_ts is known (when following: the first event shown) */
	long long prev_ts;
};

static void emit(json_t *ev, void *arg)
{
	struct show *s = arg;

	if (s->json) {
		char *t = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);

		/* jansson leaves DEL and the C1 controls raw: the same JSON with them escaped. */
		if (t) {
			esc_put_json(stdout, t);
			putchar('\n');
		}
		free(t);
		return;
	}
	if (!s->have_first) {
		/* Following, the first event shown is where relative times start. */
		s->fo.first_ts = s->prev_ts = json_integer_value(json_object_get(ev, "ts"));
		s->have_first = 1;
	}
	s->fo.prev_ts = s->prev_ts;
	fmt_event_opts(stdout, ev, &s->fo);
	s->prev_ts = json_integer_value(json_object_get(ev, "ts"));
	if (s->bt)
		fmt_bt(stdout, ev);
}

static int by_time(const void *a, const void *b)
{
	const struct line *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmd_show_exec(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"bt", no_argument, NULL, 'b'},
	    {"json", no_argument, NULL, 'j'},
	    {"follow", no_argument, NULL, 'f'},
	    {"time", required_argument, NULL, 't'},
	    {"color", required_argument, NULL, 'c'},
	    {"colour", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    FILTER_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	struct show s;
	struct filter f;
	struct line *lines = NULL;
	size_t nlines = 0, cap = 0, k;
	unsigned long bad = 0;
	int c, i, trouble = 0, follow = 0, color = -1, nfiles;
	char **files;
	const char *color_arg = "auto";

	memset(&s, 0, sizeof(s));
	memset(&f, 0, sizeof(f));
	s.fo.time = FMT_TIME_ABS;
	while ((c = getopt_long(argc, argv, "+bjft:hV", opts, NULL)) != -1) {
		int r = filter_option(&f, c, optarg);

		if (r < 0)
			return EXIT_TROUBLE; /* filter_option said why */
		if (r > 0)
			continue;
		switch (c) {
		case 'b':
			s.bt = 1;
			break;
		case 'j':
			s.json = 1;
			break;
		case 'f':
			follow = 1;
			break;
		case 't':
			if (!strcmp(optarg, "abs"))
				s.fo.time = FMT_TIME_ABS;
			else if (!strcmp(optarg, "rel"))
				s.fo.time = FMT_TIME_REL;
			else if (!strcmp(optarg, "delta"))
				s.fo.time = FMT_TIME_DELTA;
			else {
				cli_error("show: --time takes abs, rel or delta, not '%s'", optarg);
				return EXIT_TROUBLE;
			}
			break;
		case 'c':
			color_arg = optarg;
			if (strcmp(optarg, "auto") && strcmp(optarg, "always") &&
			    strcmp(optarg, "never")) {
				cli_error("show: --color takes auto, always or never, not '%s'",
					  optarg);
				return EXIT_TROUBLE;
			}
			break;
		default:
			return cli_common_option(c, &cmd_show_entry);
		}
	}
	/* NO_COLOR (no-color.org) turns colour off unless asked for explicitly. */
	if (!strcmp(color_arg, "always"))
		color = 1;
	else if (!strcmp(color_arg, "never"))
		color = 0;
	else
		color = isatty(STDOUT_FILENO) && !(getenv("NO_COLOR") && *getenv("NO_COLOR"));
	s.fo.color = color;
	if (optind >= argc) {
		cli_error("show: no trace file given (use - for standard input)");
		cli_usage(&cmd_show_entry, stderr);
		return EXIT_TROUBLE;
	}
	if (follow) {
		if (argc - optind != 1 || !strcmp(argv[optind], "-")) {
			cli_error("show: --follow takes exactly one trace file");
			return EXIT_TROUBLE;
		}
		return follow_file(argv[optind], &f, emit, &s);
	}
	/*
	 * Each thread fills its own chunk of the file, and several files may be
	 * given (one per process): lines are kept as text with their time, and
	 * sorted, so the output is in time order whatever the file order.
	 */
	files = ev_expand(argv + optind, argc - optind, &nfiles);
	for (i = 0; i < nfiles; i++) {
		struct ev_reader r;
		json_t *ev;

		if (ev_open(&r, files[i]) != 0) {
			trouble = 1;
			continue;
		}
		while ((ev = ev_next(&r))) {
			long long ts = json_integer_value(json_object_get(ev, "ts"));

			filter_first_ts(&f, ts);
			json_decref(ev);
			if (nlines == cap) {
				cap = cap ? 2 * cap : 1024;
				lines = realloc(lines, cap * sizeof(*lines));
				if (!lines) {
					cli_error("out of memory");
					return EXIT_TROUBLE;
				}
			}
			lines[nlines].ts = ts;
			lines[nlines].seq = nlines;
			lines[nlines].len = r.len;
			lines[nlines].text = malloc(r.len ? r.len : 1);
			if (!lines[nlines].text) {
				cli_error("out of memory");
				return EXIT_TROUBLE;
			}
			memcpy(lines[nlines].text, r.buf, r.len);
			nlines++;
		}
		ev_summary(&r);
		bad += r.bad;
		ev_close(&r);
	}
	if (nlines)
		qsort(lines, nlines, sizeof(*lines), by_time);
	s.fo.first_ts = f.first_ts;
	s.prev_ts = f.first_ts;
	s.have_first = 1;
	for (k = 0; k < nlines; k++) {
		const char *why;
		json_t *ev = ev_parse(lines[k].text, lines[k].len, &why);

		if (ev && filter_match(&f, ev))
			emit(ev, &s);
		json_decref(ev);
		free(lines[k].text);
	}
	free(lines);
	free(files);
	fflush(stdout);
	return trouble || bad ? EXIT_TROUBLE : EXIT_OK;
}

const struct cmd_entry cmd_show_entry = {
    .name = "show",
    .usage = "[OPTIONS] FILE...",
    .summary = "Print the events of the trace FILEs as strace-like lines, in time order\n"
	       "(several files, one per process, are merged): time, pid[/tid],\n"
	       "call(fd<socket>, arguments, flags) = result <duration>, then the payload\n"
	       "when recorded. FILE - reads standard input. A malformed or truncated line\n"
	       "is reported as FILE:LINE and skipped; the exit status is then 2.\n"
	       "\n"
	       "  -f, --follow          keep reading one FILE as it grows (^C stops)\n"
	       "  -t, --time=MODE       abs (wall clock, default), rel (since the first\n"
	       "                        event) or delta (since the previous one)\n"
	       "      --color=WHEN      auto (default: a terminal, and NO_COLOR unset),\n"
	       "                        always or never\n"
	       "  -j, --json            the matching events unchanged, one per line (for jq)\n"
	       "  -b, --bt              each event's backtrace under it (recorded with\n"
	       "                        run -k / SENDTRACE_BACKTRACE), with file:line from\n"
	       "                        addr2line when the module has debug info\n"
	       "  -h, --help            this help\n"
	       "  -V, --version         the version\n"
	       "filters (all must match):\n",
    .exec = cmd_show_exec,
    .filters = 1,
};
