/* cmd-lint.c: `sendtrace lint`: the library's findings and the whole-trace rules', grouped by rule and
 * call site, with counts and times. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rules.h"
#include "sarif.h"

struct group {
	const struct st_rule *rule;
	char *site;   /* "obj+0xoff", the backtrace's top frames, or the address */
	char *where;  /* one example: call, fd and socket */
	char *detail; /* whole-trace rules: the first instance in words; else NULL */
	char *peer;   /* of the example; NULL when it has none */
	long long fd;
	unsigned long count;		 /* findings */
	unsigned long long events, bytes; /* calls they took; bytes never sent */
	long long first, last;
	double rate; /* eagain-spin: the highest, failures per ms */
	json_t *pids;
	json_t *ev; /* a per-call rule's first event, for --format=sarif; NULL for the others */
};

#define LINT_WARN_MAX 10 /* malformed findings named; the rest only counted */

struct groups {
	struct group *v;
	size_t n, cap;
	unsigned long bad;		     /* findings that were not {"id": "...", ...} */
	unsigned long retired[ST_R_COUNT];   /* findings of retired rules, ignored */
	struct table by_site;		     /* (rule, site) to its group: sites can be countless */
	struct lt *lt;			     /* the whole-trace rules */
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

char *lint_site(json_t *ev)
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
	return NULL;
}

/* "send on fd 3, AF_INET SOCK_STREAM to 10.0.0.1:80 -> EPIPE" */
static char *where_text(const char *call, long long fd, const char *kind, const char *peer,
			const char *err)
{
	char buf[600];

	snprintf(buf, sizeof(buf), "%s on fd %lld, %s%s%s%s%s", call ? call : "?", fd, kind,
		 peer && *peer ? " to " : "", peer && *peer ? peer : "", err ? " -> " : "",
		 err ? err : "");
	return strdup(buf);
}

static char *where_of(json_t *ev)
{
	json_t *sock = json_object_get(ev, "sock");
	const char *fam = json_string_value(json_object_get(sock, "family"));
	const char *type = json_string_value(json_object_get(sock, "type"));
	char kind[256];

	snprintf(kind, sizeof(kind), "%s %s", fam ? fam : "non-socket", type ? type : "");
	return where_text(json_string_value(json_object_get(ev, "call")),
			  (long long)json_integer_value(json_object_get(ev, "fd")), kind,
			  json_string_value(json_object_get(sock, "peer")),
			  json_string_value(json_object_get(ev, "errno")));
}

static void oom(void *p)
{
	if (!p) {
		cli_error("out of memory");
		exit(EXIT_TROUBLE);
	}
}

static void add_pid(struct group *x, long long pid)
{
	size_t k;
	json_t *p;

	if (json_array_size(x->pids) >= 16)
		return;
	json_array_foreach (x->pids, k, p)
		if (json_integer_value(p) == pid)
			return;
	json_array_append_new(x->pids, json_integer(pid));
}

/* The group of (rule, site), made if new (*fresh set then); site is taken over. */
static struct group *group_at(struct groups *g, const struct st_rule *rule, char *site, int *fresh)
{
	struct group_key key = {g, rule, site};
	size_t i = table_find(&g->by_site, table_hash(table_hash(TABLE_HASH_INIT, rule->id), site),
			      same_group, &key, g->n);
	struct group *x;

	*fresh = i == g->n;
	if (!*fresh) {
		free(site);
		return &g->v[i];
	}
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 16;
		g->v = realloc(g->v, g->cap * sizeof(*g->v));
		oom(g->v);
	}
	x = &g->v[g->n++];
	memset(x, 0, sizeof(*x));
	x->rule = rule;
	x->site = site;
	x->pids = json_array();
	return x;
}

/* A finding the library recorded in an event. */
static void add(struct groups *g, json_t *ev, json_t *finding)
{
	const struct st_rule *rule =
	    st_rule_by_id(json_string_value(json_object_get(finding, "id")));
	long long ts = json_integer_value(json_object_get(ev, "ts"));
	struct group *x;
	char *site;
	int fresh;

	if (!rule || rule->scope == ST_SCOPE_TRACE)
		return; /* a rule of a newer sendtrace, or one no event carries: skip, never guess */
	if (rule->scope == ST_SCOPE_RETIRED) {
		g->retired[rule - st_rules]++;
		return;
	}
	site = lint_site(ev);
	oom(site = site ? site : strdup("(unknown site)"));
	x = group_at(g, rule, site, &fresh);
	if (fresh) {
		json_t *peer = json_object_get(json_object_get(ev, "sock"), "peer");

		x->where = where_of(ev);
		x->ev = json_incref(ev);
		x->fd = json_integer_value(json_object_get(ev, "fd"));
		x->peer = json_is_string(peer) ? strdup(json_string_value(peer)) : NULL;
		x->first = x->last = ts;
	}
	x->count++;
	x->events++;
	if (ts < x->first)
		x->first = ts;
	if (ts > x->last)
		x->last = ts;
	add_pid(x, json_integer_value(json_object_get(ev, "pid")));
}

/* The findings of a whole-trace rule at one site in one process. */
static void add_trace(const struct lt_finding *f, void *arg)
{
	struct groups *g = arg;
	struct group *x;
	char *site = strdup(f->site);
	int fresh;

	oom(site);
	x = group_at(g, f->rule, site, &fresh);
	if (fresh) {
		x->where = where_text(f->call, f->fd, f->kind, f->peer, NULL);
		x->detail = strdup(f->detail);
		x->fd = f->fd;
		x->peer = f->peer && *f->peer ? strdup(f->peer) : NULL;
		x->first = f->first;
		x->last = f->last;
	}
	x->count += f->count;
	x->events += f->events;
	x->bytes += f->bytes;
	if (f->rate > x->rate)
		x->rate = f->rate;
	if (f->first < x->first)
		x->first = f->first;
	if (f->last > x->last)
		x->last = f->last;
	add_pid(x, f->pid);
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
		if (x->detail) {
			/* Numbers and call names only: nothing of it comes from the trace as text. */
			printf("  %s %s\n", x->count == 1 ? "seen:" : "first seen:", x->detail);
			if (x->count > 1 && x->bytes)
				printf("  in all: %llu bytes never sent\n", x->bytes);
		}
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
		json_t *o = json_pack(
		    "{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:o, s:I, s:I, s:I, s:I, s:O}", "id",
		    x->rule->id, "severity", st_severity_name(x->rule->severity), "scope",
		    st_scope_name(x->rule->scope), "msg", x->rule->msg, "site", x->site, "example",
		    x->where, "fd", (json_int_t)x->fd, "peer",
		    x->peer ? json_string(x->peer) : json_null(), "count", (json_int_t)x->count,
		    "events", (json_int_t)x->events, "first_ts", (json_int_t)x->first, "last_ts",
		    (json_int_t)x->last, "pids", x->pids);

		/* A name from the trace that is not UTF-8 would make json_string fail: null then. */
		if (!o)
			continue;
		if (x->detail)
			json_object_set_new(o, "detail", json_string(x->detail));
		if (x->rule == &st_rules[ST_R_EAGAIN_SPIN])
			json_object_set_new(o, "rate_per_ms", json_real(x->rate));
		if (x->rule == &st_rules[ST_R_UNSENT])
			json_object_set_new(o, "bytes_unsent", json_integer((json_int_t)x->bytes));
		json_object_set_new(o, "fix", json_string(x->rule->fix));
		json_object_set_new(o, "man", json_string(x->rule->man));
		json_array_append_new(out, o);
	}
	s = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	esc_put_json(stdout, s ? s : "[]"); /* DEL and C1 controls too, as \u00HH */
	putchar('\n');
	free(s);
	json_decref(out);
}

static void each_event(json_t *ev, struct ev_reader *r, void *arg)
{
	json_t *lint = json_object_get(ev, "lint"), *f;
	struct groups *g = arg;
	size_t n;

	lt_event(g->lt, ev);
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

/* Findings of rules retired since the trace was made: not counted, but said. */
static void note_retired(const struct groups *g)
{
	int i;

	for (i = 0; i < ST_R_COUNT; i++)
		if (g->retired[i])
			cli_error("lint: note: %lu %s finding%s of an older libsendtrace ignored: the "
				  "rule is retired (docs/lint.md)",
				  g->retired[i], st_rules[i].id, g->retired[i] == 1 ? "" : "s");
}

/* --format=sarif: the groups as neutral findings for sarif.c. */
static void print_sarif(struct groups *g)
{
	struct sarif_finding *v = calloc(g->n + 1, sizeof(*v));
	size_t i;

	oom(v);
	for (i = 0; i < g->n; i++)
		v[i] = (struct sarif_finding){g->v[i].rule,  g->v[i].site, g->v[i].where,
					      g->v[i].count, g->v[i].first, g->v[i].last,
					      g->v[i].pids,  g->v[i].ev};
	sarif_print(stdout, v, g->n);
	free(v);
}

static int cmd_lint_exec(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"fail-on", required_argument, NULL, 'f'}, {"json", no_argument, NULL, 'j'},
	    {"format", required_argument, NULL, 'F'},
	    {"rules", no_argument, NULL, 'r'},	       {"markdown", no_argument, NULL, 'm'},
	    {"help", no_argument, NULL, 'h'},	       {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct groups g;
	int c, json = 0, rules = 0, markdown = 0, status, fail_rank = ST_SEV_INFO, fail = 0;
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
			rules = 1;
			break;
		case 'm':
			markdown = 1;
			break;
		default:
			return cli_common_option(c, &cmd_lint_entry);
		}
	}
	if (markdown && !rules) {
		cli_error("lint: --markdown goes with --rules");
		return EXIT_TROUBLE;
	}
	if (rules) {
		if (markdown)
			lint_rules_markdown(stdout);
		else
			lint_rules_list(stdout);
		return EXIT_OK;
	}
	if (optind >= argc) {
		cli_error("lint: no trace file given (use - for standard input)");
		return EXIT_TROUBLE;
	}
	g.lt = lt_new();
	status = ev_read_files(argv + optind, argc - optind, NULL, each_event, &g);
	lt_finish(g.lt, add_trace, &g);
	lt_free(g.lt);
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
		free(g.v[k].detail);
		free(g.v[k].peer);
		json_decref(g.v[k].pids);
		json_decref(g.v[k].ev);
	}
	free(g.v);
	note_retired(&g);
	if (g.bad)
		cli_error("%lu malformed lint finding%s ignored", g.bad, g.bad == 1 ? "" : "s");
	if (status != EXIT_OK || g.bad)
		return EXIT_TROUBLE;
	return fail ? EXIT_FINDINGS : EXIT_OK;
}

const struct cmd_entry cmd_lint_entry = {
    .name = "lint",
    .usage = "[--fail-on=LEVEL] [--json|--format=FMT] FILE...  |  --rules [--markdown]",
    .summary = "Report the misuse in the trace FILEs: the findings the library recorded on\n"
	       "each call, and those of the rules judged over the whole trace (a partial\n"
	       "write never completed, an EAGAIN busy loop, small TCP writes in bursts,\n"
	       "sends after EPIPE, a hot destination on an unconnected UDP socket),\n"
	       "grouped by rule and call site (the backtrace when events have one), with\n"
	       "the fd, the peer, counts, first and last time, why it matters and the fix.\n"
	       "Lifecycle records (run -e all,lifecycle) make unsent-remainder sharper.\n"
	       "Rules: docs/lint.md. Exit status: 0 no findings at or above LEVEL,\n"
	       "1 findings, 2 trouble.\n"
	       "\n"
	       "  -f, --fail-on=LEVEL  info (default), warning, error, or never\n"
	       "  -j, --json           machine-readable groups\n"
	       "      --format=FMT     text (default), json (as --json), or sarif: SARIF\n"
	       "                       2.1.0 for CI code scanning (file:line by addr2line)\n"
	       "  -r, --rules          list the rule catalogue\n"
	       "      --markdown       with --rules: docs/lint.md's rule section\n"
	       "  -h, --help           this help\n"
	       "  -V, --version        the version\n",
    .exec = cmd_lint_exec,
};
