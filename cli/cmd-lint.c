/* cmd-lint.c: `sendtrace lint`: findings grouped by rule and call site, with counts and times. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rules.h"
#include "sarif.h"

struct group {
	const struct st_rule *rule;
	char *site;  /* "obj+0xoff", the backtrace's top frames, or the address */
	char *where; /* one example: call and socket */
	unsigned long count;
	long long first, last;
	json_t *pids;
	json_t *ev; /* its first event, for --format=sarif */
};

#define LINT_WARN_MAX 10 /* malformed findings named; the rest only counted */

struct groups {
	struct group *v;
	size_t n, cap;
	unsigned long bad;    /* findings that were not {"id": "...", ...} */
	struct table by_site; /* (rule, site) to its group: sites can be countless */
};

struct group_key {
	const struct groups *g;
	const struct st_rule *rule;
	const char *site;
};

static int same_group(size_t item, const void *key)
{
	const struct group_key *k = key;
	const struct group *x = &k->g->v[item];

	return x->rule == k->rule && !strcmp(x->site, k->site);
}

static int sev_rank(const char *name)
{
	return !strcmp(name, "error")	  ? ST_SEV_ERROR
	       : !strcmp(name, "warning") ? ST_SEV_WARNING
					  : ST_SEV_INFO;
}

/* Where the call came from: the backtrace when the event has one, else the site. */
static char *site_of(json_t *ev)
{
	json_t *bt = json_object_get(ev, "bt"), *site = json_object_get(ev, "site"), *f;
	char buf[1024] = "";
	size_t i, n = 0;

	if (json_is_array(bt) && json_array_size(bt) > 0) {
		json_array_foreach (bt, i, f) {
			const char *fn = json_string_value(json_object_get(f, "fn"));
			const char *obj = json_string_value(json_object_get(f, "obj"));
			const char *off = json_string_value(json_object_get(f, "off"));

			if (i == 3)
				break;
			n +=
			    (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s%s%s%s", i ? " < " : "",
					     fn	   ? fn
					     : obj ? obj
						   : "?",
					     fn ? "" : "+",
					     fn	   ? ""
					     : off ? off
						   : "",
					     "");
			if (n >= sizeof(buf))
				break;
		}
		return strdup(buf);
	}
	if (json_is_object(site)) {
		const char *obj = json_string_value(json_object_get(site, "obj"));
		const char *off = json_string_value(json_object_get(site, "off"));
		const char *ip = json_string_value(json_object_get(site, "ip"));

		if (obj && off)
			snprintf(buf, sizeof(buf), "%s+%s", obj, off);
		else
			snprintf(buf, sizeof(buf), "%s", ip ? ip : "?");
		return strdup(buf);
	}
	return strdup("(unknown site)");
}

static char *where_of(json_t *ev)
{
	json_t *sock = json_object_get(ev, "sock");
	const char *call = json_string_value(json_object_get(ev, "call"));
	const char *fam = json_string_value(json_object_get(sock, "family"));
	const char *type = json_string_value(json_object_get(sock, "type"));
	const char *peer = json_string_value(json_object_get(sock, "peer"));
	const char *err = json_string_value(json_object_get(ev, "errno"));
	char buf[512];

	snprintf(buf, sizeof(buf), "%s on %s %s%s%s%s%s", call ? call : "?",
		 fam ? fam : "non-socket", type ? type : "", peer && *peer ? " to " : "",
		 peer && *peer ? peer : "", err ? " -> " : "", err ? err : "");
	return strdup(buf);
}

static void add(struct groups *g, json_t *ev, json_t *finding)
{
	const struct st_rule *rule =
	    st_rule_by_id(json_string_value(json_object_get(finding, "id")));
	long long ts = json_integer_value(json_object_get(ev, "ts"));
	json_int_t pid = json_integer_value(json_object_get(ev, "pid"));
	struct group_key key = {g, rule, NULL};
	struct group *x;
	size_t i, k;
	json_t *p;
	int seen = 0;

	if (!rule)
		return; /* a rule of a newer sendtrace: skip rather than guess */
	key.site = site_of(ev);
	i = table_find(&g->by_site, table_hash(table_hash(TABLE_HASH_INIT, rule->id), key.site),
		       same_group, &key, g->n);
	if (i < g->n) {
		x = &g->v[i];
		free((char *)key.site);
		x->count++;
		if (ts < x->first)
			x->first = ts;
		if (ts > x->last)
			x->last = ts;
		if (json_array_size(x->pids) < 16) {
			json_array_foreach (x->pids, k, p)
				seen |= json_integer_value(p) == pid;
			if (!seen)
				json_array_append_new(x->pids, json_integer(pid));
		}
		return;
	}
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 16;
		g->v = realloc(g->v, g->cap * sizeof(*g->v));
		if (!g->v) {
			cli_error("out of memory");
			exit(EXIT_TROUBLE);
		}
	}
	g->v[g->n].rule = rule;
	g->v[g->n].site = (char *)key.site;
	g->v[g->n].where = where_of(ev);
	g->v[g->n].count = 1;
	g->v[g->n].first = g->v[g->n].last = ts;
	g->v[g->n].pids = json_array();
	g->v[g->n].ev = json_incref(ev);
	json_array_append_new(g->v[g->n].pids, json_integer(pid));
	g->n++;
}

static int by_severity(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	if (x->rule->severity != y->rule->severity)
		return (int)y->rule->severity - (int)x->rule->severity;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	if (strcmp(x->rule->id, y->rule->id))
		return strcmp(x->rule->id, y->rule->id);
	return strcmp(x->site, y->site);
}

static void print_text(struct groups *g)
{
	unsigned long by[3] = {0, 0, 0};
	size_t i;

	for (i = 0; i < g->n; i++) {
		struct group *x = &g->v[i];
		char first[64], last[64];

		fmt_clock(first, sizeof(first), x->first);
		fmt_clock(last, sizeof(last), x->last);
		by[x->rule->severity] += x->count;
		printf("%s: %s: %s\n", st_severity_name(x->rule->severity), x->rule->id,
		       x->rule->msg);
		/* Both are made of names from the trace. */
		fputs("  at ", stdout);
		esc_put(stdout, x->site);
		fputs("  (", stdout);
		esc_put(stdout, x->where);
		fputs(")\n", stdout);
		printf("  %lu time%s, first %s, last %s\n", x->count, x->count == 1 ? "" : "s",
		       first, last);
		printf("  why: %s\n  fix: %s\n  see: %s\n\n", x->rule->why, x->rule->fix,
		       x->rule->man);
	}
	printf("%lu finding%s (%lu error, %lu warning, %lu info) in %zu group%s\n",
	       by[0] + by[1] + by[2], by[0] + by[1] + by[2] == 1 ? "" : "s", by[ST_SEV_ERROR],
	       by[ST_SEV_WARNING], by[ST_SEV_INFO], g->n, g->n == 1 ? "" : "s");
}

static void print_json(struct groups *g)
{
	json_t *out = json_array();
	size_t i;
	char *s;

	for (i = 0; i < g->n; i++) {
		struct group *x = &g->v[i];

		json_array_append_new(
		    out, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:O, s:s, s:s}", "id",
				   x->rule->id, "severity", st_severity_name(x->rule->severity),
				   "msg", x->rule->msg, "site", x->site, "example", x->where,
				   "count", (json_int_t)x->count, "first_ts", (json_int_t)x->first,
				   "last_ts", (json_int_t)x->last, "pids", x->pids, "fix",
				   x->rule->fix, "man", x->rule->man));
	}
	s = json_dumps(out, JSON_INDENT(2));
	esc_put_json(stdout, s ? s : "[]"); /* DEL and C1 controls too, as \u00HH */
	putchar('\n');
	free(s);
	json_decref(out);
}

/* --format=sarif: the groups as neutral findings for sarif.c. */
static void print_sarif(struct groups *g)
{
	struct sarif_finding *v = calloc(g->n + 1, sizeof(*v));
	size_t i;

	for (i = 0; v && i < g->n; i++)
		v[i] = (struct sarif_finding){g->v[i].rule,  g->v[i].site, g->v[i].where,
					      g->v[i].count, g->v[i].first, g->v[i].last,
					      g->v[i].pids,  g->v[i].ev};
	if (!v) {
		cli_error("out of memory");
		exit(EXIT_TROUBLE);
	}
	sarif_print(stdout, v, g->n);
	free(v);
}

static void print_rules(void)
{
	int i;

	for (i = 0; i < ST_R_COUNT; i++)
		printf("%-26s %-7s %s\n", st_rules[i].id, st_severity_name(st_rules[i].severity),
		       st_rules[i].msg);
}

static void each_event(json_t *ev, struct ev_reader *r, void *arg)
{
	json_t *lint = json_object_get(ev, "lint"), *f;
	struct groups *g = arg;
	size_t n;

	if (lint && !json_is_array(lint) && !json_is_null(lint)) {
		if (++g->bad <= LINT_WARN_MAX)
			cli_error("%s:%lu: \"lint\" is not an array of findings; ignored", r->path,
				  r->line);
		return;
	}
	json_array_foreach (lint, n, f) {
		/* Anything but {"id": "...", ...} is a broken trace: say so, never guess. */
		if (!json_is_string(json_object_get(f, "id"))) {
			if (++g->bad <= LINT_WARN_MAX)
				cli_error("%s:%lu: lint finding %zu is not an object with an "
					  "\"id\" string; "
					  "ignored",
					  r->path, r->line, n);
			continue;
		}
		add(g, ev, f);
	}
}

static int cmd_lint_exec(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"fail-on", required_argument, NULL, 'f'}, {"json", no_argument, NULL, 'j'},
	    {"format", required_argument, NULL, 'F'},
	    {"rules", no_argument, NULL, 'r'},	       {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},       {NULL, 0, NULL, 0},
	};
	struct groups g;
	int c, json = 0, status, fail_rank = ST_SEV_INFO, fail = 0;
	size_t k;

	memset(&g, 0, sizeof(g));
	while ((c = getopt_long(argc, argv, "+f:jrhV", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (!strcmp(optarg, "info") || !strcmp(optarg, "warning") ||
			    !strcmp(optarg, "error")) {
				fail_rank = sev_rank(optarg);
			} else if (!strcmp(optarg, "never")) {
				fail_rank = ST_SEV_ERROR + 1;
			} else {
				cli_error(
				    "lint: --fail-on takes info, warning, error or never, not '%s'",
				    optarg);
				return EXIT_TROUBLE;
			}
			break;
		case 'j':
			json = 1;
			break;
		case 'F':
			/* json: 0 text, 1 json (as --json), 2 sarif */
			json = !strcmp(optarg, "json") ? 1 : !strcmp(optarg, "sarif") ? 2 : 0;
			if (!json && strcmp(optarg, "text")) {
				cli_error("lint: --format takes text, json or sarif, not '%s'",
					  optarg);
				return EXIT_TROUBLE;
			}
			break;
		case 'r':
			print_rules();
			return EXIT_OK;
		default:
			return cli_common_option(c, &cmd_lint_entry);
		}
	}
	if (optind >= argc) {
		cli_error("lint: no trace file given (use - for standard input)");
		return EXIT_TROUBLE;
	}
	status = ev_read_files(argv + optind, argc - optind, NULL, each_event, &g);
	table_report("lint: groups", &g.by_site);
	table_free(&g.by_site); /* qsort is about to renumber the groups */
	if (g.n)
		qsort(g.v, g.n, sizeof(*g.v), by_severity);
	if (json == 2)
		print_sarif(&g);
	else if (json)
		print_json(&g);
	else
		print_text(&g);
	for (k = 0; k < g.n; k++) {
		fail |= (int)g.v[k].rule->severity >= fail_rank;
		free(g.v[k].site);
		free(g.v[k].where);
		json_decref(g.v[k].pids);
		json_decref(g.v[k].ev);
	}
	free(g.v);
	if (g.bad)
		cli_error("%lu malformed lint finding%s ignored", g.bad, g.bad == 1 ? "" : "s");
	if (status != EXIT_OK || g.bad)
		return EXIT_TROUBLE;
	return fail ? EXIT_FINDINGS : EXIT_OK;
}

const struct cmd_entry cmd_lint_entry = {
    .name = "lint",
    .usage = "[--fail-on=LEVEL] [--json|--format=FMT] [--rules] FILE...",
    .summary = "Group the flag-misuse findings recorded in the trace FILEs by rule and\n"
	       "call site (the backtrace when events have one), with counts, first and\n"
	       "last time, why it matters and the fix. Rules: docs/lint.md.\n"
	       "Exit status: 0 no findings at or above LEVEL, 1 findings, 2 trouble.\n"
	       "\n"
	       "  -f, --fail-on=LEVEL  info (default), warning, error, or never\n"
	       "  -j, --json           machine-readable groups\n"
	       "      --format=FMT     text (default), json (as --json), or sarif: SARIF\n"
	       "                       2.1.0 for CI code scanning (file:line by addr2line)\n"
	       "  -r, --rules          list the rule catalogue\n"
	       "  -h, --help           this help\n"
	       "  -V, --version        the version\n",
    .exec = cmd_lint_exec,
};
