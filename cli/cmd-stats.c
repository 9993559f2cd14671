/* cmd-stats.c: `sendtrace stats`: the send-path answer to strace -c: per call, per peer,
 * histograms. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define NSEND	 8 /* the send calls; after them the lifecycle calls, which send nothing */
#define NCALLS	 13
#define NBUCKETS 64

static const char *const call_names[NCALLS] = {
    "send",	  "sendto",  "sendmsg", "sendmmsg", "write", "writev",	"sendfile",
    "sendfile64", "connect", "accept",	"accept4",  "close", "shutdown"};

/* Durations with the number of calls each stands for (a sampled trace's weight). */
struct dur {
	long long v;
	unsigned long w;
};
struct durs {
	struct dur *v;
	size_t n, cap;
};

struct call_stat {
	unsigned long calls, errors;
	unsigned long long bytes, total_ns;
	struct durs d;
};

struct peer_stat {
	char *sock, *peer;
	unsigned long calls, errors;
	unsigned long long bytes;
};

struct stats {
	struct call_stat call[NCALLS];
	struct peer_stat *peers;
	size_t npeers, cappeers;
	/* (socket kind, peer) to its entry: a UDP server may answer a million peers. */
	struct table by_peer;
	unsigned long size_hist[NBUCKETS], lat_hist[NBUCKETS];
	unsigned long events;
	/* Events recorded 1 in N (SENDTRACE_SAMPLE): how many, and the rates seen. */
	unsigned long sampled;
	long long rate_min, rate_max;
};

/*
 * jansson allocates every value of every event and frees it right after:
 * for a million events, malloc and free are a third of the time. stats keeps
 * nothing of an event once it is counted, so values come from an arena that
 * is emptied after each event, and free does nothing.
 */
#define ARENA_CHUNK (1 << 20)

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	char data[];
};

static struct arena_chunk *arena;

static void *arena_alloc(size_t n)
{
	struct arena_chunk *c = arena;

	n = (n + 15) & ~(size_t)15;
	if (!c || c->used + n > c->size) {
		size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;

		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->next = arena;
		c->used = 0;
		c->size = size;
		arena = c;
	}
	c->used += n;
	return c->data + c->used - n;
}

static void arena_free(void *p)
{
	(void)p;
}

/* Keeps the newest chunk for the next event, gives the others back. */
static void arena_reset(void)
{
	struct arena_chunk *c, *next;

	if (!arena)
		return;
	for (c = arena->next; c; c = next) {
		next = c->next;
		free(c);
	}
	arena->next = NULL;
	arena->used = 0;
}

static int bucket(unsigned long long v)
{
	int b = 0;

	while (v > 1 && b < NBUCKETS - 1) {
		v >>= 1;
		b++;
	}
	return b;
}

static int by_value(const void *a, const void *b)
{
	long long x = ((const struct dur *)a)->v, y = ((const struct dur *)b)->v;

	return x < y ? -1 : x > y;
}

/*
 * The p-th percentile of the calls the durations stand for: each counts as
 * many times as its weight, so that a sampled trace's failed calls (all
 * recorded) weigh no more than they did in the program.
 */
static long long pct(struct durs *d, double p)
{
	unsigned long long total = 0, rank, seen = 0;
	size_t i;

	if (!d->n)
		return 0;
	for (i = 0; i < d->n; i++)
		total += d->v[i].w;
	rank = (unsigned long long)(p * (double)(total - 1) + 0.5);
	for (i = 0; i < d->n; i++) {
		seen += d->v[i].w;
		if (seen > rank)
			return d->v[i].v;
	}
	return d->v[d->n - 1].v;
}

static void evs_copy(char *out, size_t n, const struct evs *v, size_t skip)
{
	size_t l = v->p && v->n > skip ? v->n - skip : 0;

	/*
	 * The scanner leaves escapes as they are in the line: decode them (in the
	 * event's arena), so that "\u001b" and the byte it means are one peer,
	 * and the JSON output does not escape the backslash a second time.
	 */
	if (v->p && !v->plain && v->n + 2 <= ARENA_CHUNK) {
		char *q = arena_alloc(v->n + 2);
		json_t *j;

		if (q) {
			q[0] = '"';
			memcpy(q + 1, v->p, v->n);
			q[v->n + 1] = '"';
			j = json_loadb(q, v->n + 2, JSON_DECODE_ANY, NULL);
			if (json_is_string(j)) {
				const char *t = json_string_value(j);

				l = strlen(t);
				l = l > skip ? l - skip : 0;
				if (l >= n)
					l = n - 1;
				memcpy(out, t + (strlen(t) > skip ? skip : 0), l);
				out[l] = '\0';
				json_decref(j);
				return;
			}
			json_decref(j);
		}
	}

	if (l >= n)
		l = n - 1;
	if (l)
		memcpy(out, v->p + skip, l);
	out[l] = '\0';
}

static const char *sock_kind(const struct evf *e, char *buf, size_t n)
{
	char fam[24], kind[24];

	if (!e->has_sock)
		return "(not a socket)";
	evs_copy(fam, sizeof(fam), &e->family, 3); /* AF_ */
	if (e->proto.p)
		evs_copy(kind, sizeof(kind), &e->proto, 0);
	else
		evs_copy(kind, sizeof(kind), &e->type, 5); /* SOCK_ */
	snprintf(buf, n, "%s/%s", fam[0] ? fam : "?", kind[0] ? kind : "?");
	return buf;
}

/*
 * Sums of numbers from the trace stop at the largest a JSON integer holds,
 * rather than wrap around to a negative total.
 */
static void sat_add(unsigned long long *sum, unsigned long long v)
{
	const unsigned long long max = 9223372036854775807ULL;

	*sum = v > max - (*sum > max ? max : *sum) ? max : *sum + v;
}

/* v times the weight w, stopping where sat_add does. */
static unsigned long long sat_mul(unsigned long long v, unsigned long w)
{
	const unsigned long long max = 9223372036854775807ULL;

	return w && v > max / w ? max : v * w;
}

static void *xrealloc(void *p, size_t n)
{
	if (!(p = realloc(p, n))) {
		cli_error("stats: out of memory");
		exit(EXIT_TROUBLE);
	}
	return p;
}

struct peer_key {
	const struct stats *st;
	const char *sock, *peer;
};

static int same_peer(size_t item, const void *key)
{
	const struct peer_key *k = key;
	const struct peer_stat *p = &k->st->peers[item];

	return !strcmp(p->peer, k->peer) && !strcmp(p->sock, k->sock);
}

static void add_peer(struct stats *st, const char *sock, const char *peer, int failed,
		     unsigned long long bytes, unsigned long w)
{
	struct peer_key key = {st, sock, peer};
	size_t i = table_find(&st->by_peer, table_hash(table_hash(TABLE_HASH_INIT, sock), peer),
			      same_peer, &key, st->npeers);

	if (i == st->npeers) {
		if (st->npeers == st->cappeers) {
			st->cappeers = st->cappeers ? 2 * st->cappeers : 64;
			st->peers = xrealloc(st->peers, st->cappeers * sizeof(*st->peers));
		}
		memset(&st->peers[i], 0, sizeof(st->peers[i]));
		st->peers[i].sock = strdup(sock);
		st->peers[i].peer = strdup(peer);
		if (!st->peers[i].sock || !st->peers[i].peer) {
			cli_error("stats: out of memory");
			exit(EXIT_TROUBLE);
		}
		st->npeers++;
	}
	st->peers[i].calls += w;
	st->peers[i].errors += failed;
	sat_add(&st->peers[i].bytes, sat_mul(bytes, w));
}

static void add_dur(struct call_stat *c, long long dur, unsigned long w)
{
	if (c->d.n == c->d.cap) {
		c->d.cap = c->d.cap ? 2 * c->d.cap : 1024;
		c->d.v = realloc(c->d.v, c->d.cap * sizeof(*c->d.v));
		if (!c->d.v)
			exit(EXIT_TROUBLE);
	}
	c->d.v[c->d.n].v = dur;
	c->d.v[c->d.n++].w = w;
}

/* connect, accept, close, shutdown: counted and timed, with no bytes or peers. */
static void add_life(struct call_stat *c, const struct evf *e, int failed, unsigned long w)
{
	c->calls += w;
	c->errors += failed;
	sat_add(&c->total_ns, sat_mul(e->dur > 0 ? (unsigned long long)e->dur : 0, w));
	add_dur(c, e->dur, w);
}

/*
 * How many calls an event stands for. Sampled at 1 in N, a successful call
 * without findings was recorded with probability 1/N, so it counts N times;
 * a failed call, or one with findings, is always recorded, and counts once.
 */
static unsigned long weight(struct stats *st, const struct evf *e)
{
	if (e->sample <= 1)
		return 1;
	st->sampled++;
	if (!st->rate_min || e->sample < st->rate_min)
		st->rate_min = e->sample;
	if (e->sample > st->rate_max)
		st->rate_max = e->sample;
	return e->err.p || e->lint ? 1 : (unsigned long)e->sample;
}

static void add(struct stats *st, const struct evf *e)
{
	unsigned long long bytes;
	int failed = e->err.p != NULL, k;
	char kind[64], peer[600];
	struct call_stat *c;
	unsigned long w;

	for (k = 0; k < NCALLS && !evs_eq(&e->call, call_names[k]); k++)
		;
	if (k == NCALLS)
		return;
	st->events++;
	w = weight(st, e);
	if (k >= NSEND) {
		add_life(&st->call[k], e, failed, w);
		return;
	}
	/* Bytes the kernel took: ret, or the sum of msg_len for sendmmsg. */
	if (k == 3)
		bytes = e->bytes_sent > 0 ? (unsigned long long)e->bytes_sent : 0;
	else
		bytes = !failed && e->ret > 0 ? (unsigned long long)e->ret : 0;
	c = &st->call[k];
	c->calls += w;
	c->errors += failed;
	sat_add(&c->bytes, sat_mul(bytes, w));
	sat_add(&c->total_ns, sat_mul(e->dur > 0 ? (unsigned long long)e->dur : 0, w));
	add_dur(c, e->dur, w);
	st->size_hist[bucket(e->len > 0 ? (unsigned long long)e->len : 0)] += w;
	st->lat_hist[bucket(e->dur > 0 ? (unsigned long long)e->dur : 0)] += w;
	if (e->peer.p && e->peer.n)
		evs_copy(peer, sizeof(peer), &e->peer, 0);
	else if (e->addr.p && e->addr.n)
		evs_copy(peer, sizeof(peer), &e->addr, 0);
	else
		snprintf(peer, sizeof(peer), "%s", e->peer.p ? "(unnamed)" : "-");
	add_peer(st, sock_kind(e, kind, sizeof(kind)), peer, failed, bytes, w);
}

/* The fast path: lines the scanner accepts never reach jansson. */
struct fast_ctx {
	struct stats *st;
	struct filter *f;
};

static int stats_fast(const char *line, size_t n, void *arg)
{
	struct fast_ctx *x = arg;
	struct evf e;

	/* Every line comes here first: the previous event's values are gone. */
	arena_reset();
	if (!scan_event(line, n, &e) || filter_needs_json(x->f, &e))
		return 0;
	filter_first_ts(x->f, e.ts);
	if (filter_match_fields(x->f, &e))
		add(x->st, &e);
	return 1;
}

static int by_calls(const void *a, const void *b)
{
	const struct peer_stat *x = a, *y = b;

	if (x->calls != y->calls)
		return x->calls < y->calls ? 1 : -1;
	return strcmp(x->peer, y->peer) ? strcmp(x->peer, y->peer) : strcmp(x->sock, y->sock);
}

static void histogram(const char *title, const unsigned long *h, const char *unit)
{
	unsigned long max = 0;
	int b, lo = -1, hi = -1;

	for (b = 0; b < NBUCKETS; b++) {
		if (h[b] > max)
			max = h[b];
		if (h[b] && lo < 0)
			lo = b;
		if (h[b])
			hi = b;
	}
	printf("\n%s\n", title);
	if (lo < 0) {
		printf("  (no calls)\n");
		return;
	}
	for (b = lo; b <= hi; b++) {
		unsigned long long from = b ? 1ull << b : 0, to = (2ull << b) - 1;
		int bar = (int)(max ? (h[b] * 40 + max - 1) / max : 0), i;

		printf("  %12llu - %-12llu %s |", from, to, unit);
		for (i = 0; i < bar; i++)
			putchar('#');
		printf("%*s %lu\n", 40 - bar, "", h[b]);
	}
}

/* "1 in 10", or "1 in 10 to 1 in 100" when the rate was changed while tracing. */
static void rates(const struct stats *st, char *buf, size_t n)
{
	if (st->rate_min == st->rate_max)
		snprintf(buf, n, "1 in %lld", st->rate_min);
	else
		snprintf(buf, n, "1 in %lld to 1 in %lld", st->rate_min, st->rate_max);
}

static void print_text(struct stats *st)
{
	unsigned long calls = 0, errors = 0, lifecycle = 0;
	unsigned long long bytes = 0, total = 0;
	char rate[64];
	size_t i;
	int k;

	if (st->sampled) {
		rates(st, rate, sizeof(rate));
		printf(
		    "ESTIMATES: %lu of the %lu events read were sampled at %s (SENDTRACE_SAMPLE):\n"
		    "each successful call without findings stands for as many calls as its rate\n"
		    "(1 in 10: 10 calls), each failed call or call with findings for itself. The\n"
		    "calls, bytes, times, percentiles and histograms below are estimates.\n\n",
		    st->sampled, st->events, rate);
	}
	printf("%-10s %10s %8s %14s %12s %10s %10s\n", "call", "calls", "errors", "bytes",
	       "total ms", "p50 us", "p99 us");
	for (k = 0; k < NSEND; k++) {
		struct call_stat *c = &st->call[k];

		if (!c->calls)
			continue;
		qsort(c->d.v, c->d.n, sizeof(*c->d.v), by_value);
		printf("%-10s %10lu %8lu %14llu %12.3f %10.1f %10.1f\n", call_names[k], c->calls,
		       c->errors, c->bytes, (double)c->total_ns / 1e6,
		       (double)pct(&c->d, 0.5) / 1e3, (double)pct(&c->d, 0.99) / 1e3);
		calls += c->calls;
		errors += c->errors;
		sat_add(&bytes, c->bytes);
		sat_add(&total, c->total_ns);
	}
	printf("%-10s %10lu %8lu %14llu %12.3f\n", "total", calls, errors, bytes,
	       (double)total / 1e6);
	for (k = NSEND; k < NCALLS; k++) {
		struct call_stat *c = &st->call[k];

		if (!c->calls)
			continue;
		if (!lifecycle++)
			printf("\n%-10s %10s %8s %14s %12s %10s %10s\n", "lifecycle", "calls",
			       "errors", "", "total ms", "p50 us", "p99 us");
		qsort(c->d.v, c->d.n, sizeof(*c->d.v), by_value);
		printf("%-10s %10lu %8lu %14s %12.3f %10.1f %10.1f\n", call_names[k], c->calls,
		       c->errors, "", (double)c->total_ns / 1e6, (double)pct(&c->d, 0.5) / 1e3,
		       (double)pct(&c->d, 0.99) / 1e3);
	}
	if (st->npeers)
		qsort(st->peers, st->npeers, sizeof(*st->peers), by_calls);
	printf("\n%-16s %-40s %10s %8s %14s\n", "socket", "peer or destination", "calls", "errors",
	       "bytes");
	for (i = 0; i < st->npeers && i < 50; i++) {
		/* Names from the trace: escaped before the columns are padded. */
		char *sock = esc_str(st->peers[i].sock), *peer = esc_str(st->peers[i].peer);

		printf("%-16s %-40s %10lu %8lu %14llu\n", sock, peer, st->peers[i].calls,
		       st->peers[i].errors, st->peers[i].bytes);
		free(sock);
		free(peer);
	}
	if (st->npeers > 50)
		printf("(%zu more)\n", st->npeers - 50);
	histogram("message size (bytes asked to send)", st->size_hist, "B ");
	histogram("latency (time in the call)", st->lat_hist, "ns");
}

static void print_json(struct stats *st)
{
	json_t *root = json_object(), *calls = json_object(), *peers = json_array();
	json_t *sizes = json_array(), *lats = json_array();
	size_t i;
	int k;
	char *s;

	for (k = 0; k < NCALLS; k++) {
		struct call_stat *c = &st->call[k];

		if (!c->calls)
			continue;
		qsort(c->d.v, c->d.n, sizeof(*c->d.v), by_value);
		json_object_set_new(
		    calls, call_names[k],
		    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "calls", (json_int_t)c->calls,
			      "errors", (json_int_t)c->errors, "bytes", (json_int_t)c->bytes,
			      "total_ns", (json_int_t)c->total_ns, "p50_ns",
			      (json_int_t)pct(&c->d, 0.5), "p99_ns", (json_int_t)pct(&c->d, 0.99)));
	}
	if (st->npeers)
		qsort(st->peers, st->npeers, sizeof(*st->peers), by_calls);
	for (i = 0; i < st->npeers; i++)
		json_array_append_new(peers, json_pack("{s:s, s:s, s:I, s:I, s:I}", "socket",
						       st->peers[i].sock, "peer", st->peers[i].peer,
						       "calls", (json_int_t)st->peers[i].calls,
						       "errors", (json_int_t)st->peers[i].errors,
						       "bytes", (json_int_t)st->peers[i].bytes));
	for (k = 0; k < NBUCKETS; k++) {
		if (st->size_hist[k])
			json_array_append_new(
			    sizes, json_pack("{s:I, s:I}", "from", (json_int_t)(k ? 1ull << k : 0),
					     "count", (json_int_t)st->size_hist[k]));
		if (st->lat_hist[k])
			json_array_append_new(lats,
					      json_pack("{s:I, s:I}", "from_ns",
							(json_int_t)(k ? 1ull << k : 0), "count",
							(json_int_t)st->lat_hist[k]));
	}
	if (st->sampled) {
		char rate[64];

		rates(st, rate, sizeof(rate));
		json_object_set_new(root, "estimated", json_true());
		json_object_set_new(root, "sample",
				    json_pack("{s:s, s:I, s:I, s:I, s:I}", "rate", rate, "rate_min",
					      (json_int_t)st->rate_min, "rate_max",
					      (json_int_t)st->rate_max, "events",
					      (json_int_t)st->sampled, "events_read",
					      (json_int_t)st->events));
	}
	json_object_set_new(root, "calls", calls);
	json_object_set_new(root, "peers", peers);
	json_object_set_new(root, "size_histogram", sizes);
	json_object_set_new(root, "latency_histogram", lats);
	s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	esc_put_json(stdout, s ? s : "{}"); /* DEL and C1 controls too, as \u00HH */
	putchar('\n');
	free(s);
	json_decref(root);
}

static void start_file(struct ev_reader *r, void *arg)
{
	struct fast_ctx *x = arg;

	x->f->have_first = 0; /* +SECONDS counts from each file's first event */
	r->fast = stats_fast;
	r->fast_arg = x;
}

/* Lines the scanner refused but jansson read. */
static void each_event(json_t *ev, struct ev_reader *r, void *arg)
{
	struct fast_ctx *x = arg;
	struct evf e;
	char *flags;

	(void)r;
	evf_from_json(ev, &e, &flags);
	filter_first_ts(x->f, e.ts);
	if (filter_match_fields(x->f, &e))
		add(x->st, &e);
	(void)flags; /* json_dumps() took it from the arena: no free */
}

static int cmd_stats_exec(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    FILTER_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	static struct stats st;
	struct filter f;
	struct fast_ctx fx = {&st, &f};
	int c, json = 0, status, k;
	size_t p;

	memset(&f, 0, sizeof(f));
	while ((c = getopt_long(argc, argv, "+jhV", opts, NULL)) != -1) {
		int r = filter_option(&f, c, optarg);

		if (r < 0)
			return EXIT_TROUBLE; /* filter_option said why */
		if (r > 0)
			continue;
		switch (c) {
		case 'j':
			json = 1;
			break;
		default:
			return cli_common_option(c, &cmd_stats_entry);
		}
	}
	if (optind >= argc) {
		cli_error("stats: no trace file given (use - for standard input)");
		return EXIT_TROUBLE;
	}
	json_set_alloc_funcs(arena_alloc, arena_free);
	if (f.since_rel || f.until_rel)
		cli_error("stats: +SECONDS in --since/--until counts from each file's first event");
	status = ev_read_files(argv + optind, argc - optind, start_file, each_event, &fx);
	json_set_alloc_funcs(malloc, free);
	table_report("stats: peers", &st.by_peer);
	if (status != EXIT_OK && !st.events)
		; /* nothing was read: the errors said why */
	else if (json)
		print_json(&st);
	else
		print_text(&st);
	for (k = 0; k < NCALLS; k++)
		free(st.call[k].d.v);
	for (p = 0; p < st.npeers; p++) {
		free(st.peers[p].sock);
		free(st.peers[p].peer);
	}
	free(st.peers);
	table_free(&st.by_peer);
	memset(&st, 0, sizeof(st)); /* a second run in the same process starts clean */
	return status;
}

const struct cmd_entry cmd_stats_entry = {
    .name = "stats",
    .usage = "[--json] [FILTERS] FILE...",
    .summary = "Summarize the calls of the trace FILEs, like strace -c for the send path:\n"
	       "per call the count, errors, bytes the kernel took, and time in the call\n"
	       "(total, p50, p99); a table per socket and peer; histograms of message\n"
	       "size and latency. A trace recorded with sampling (run --sample=N) is\n"
	       "scaled back up, and its figures are said to be estimates.\n"
	       "\n"
	       "  -j, --json            the same as one JSON object\n"
	       "  -h, --help            this help\n"
	       "  -V, --version         the version\n"
	       "filters (all must match):\n",
    .exec = cmd_stats_exec,
    .filters = 1,
};
