/* filter.c: the event filters shared by show and stats (--pid, --call, --peer, --since, ...). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* A time: epoch seconds (with fraction), or +SECONDS after the first event. */
static int parse_time(const char *s, long long *ns, int *relative)
{
	char *end;
	double v;

	*relative = s[0] == '+';
	v = strtod(*relative ? s + 1 : s, &end);
	/* (also refuses what no nanosecond count holds: the conversion would be undefined) */
	if (*end || end == s || !(v >= 0) || v * 1e9 >= 9.2e18)
		return -1;
	*ns = (long long)(v * 1e9);
	return 0;
}

/* The parser's complaint, as every user of the syntax words it. */
static void fs_error(const struct st_fs_error *e)
{
	char why[1024];

	st_fs_error_text(e, why, sizeof(why));
	cli_error("%s", why);
}

/* 1 if every name in LIST is one, else -2, having said which is not. */
int calls_known(const char *list)
{
	struct st_fs_error e;
	unsigned mask;

	memset(&e, 0, sizeof(e));
	if (st_fs_calls(list, strlen(list), &mask, &e) != 0) {
		fs_error(&e);
		return -2;
	}
	return 1;
}

int filter_text_ok(const char *text)
{
	struct st_fs_error e;
	struct st_fs fs;

	if (st_fs_parse(&fs, text, strlen(text), &e) != 0) {
		fs_error(&e);
		return -1;
	}
	return 0;
}

/*
 * A single option is the term of the same name: --port=53 is port=53, so
 * that it is refused, or matched, exactly as in a --filter text.
 */
static int filter_term(struct filter *f, const char *key, const char *arg)
{
	size_t n = strlen(key) + (arg ? strlen(arg) + 1 : 0);
	char *term = malloc(n + 1);
	struct st_fs_error e;
	int r;

	if (!term) {
		cli_error("out of memory");
		return -2;
	}
	snprintf(term, n + 1, "%s%s%s", key, arg ? "=" : "", arg ? arg : "");
	r = st_fs_add(&f->fs, term, n, &e);
	if (r != 0)
		fs_error(&e);
	free(term);
	return r != 0 ? -2 : 1;
}

static int filter_value(struct filter *f, int opt, const char *arg)
{
	struct st_fs_error e;
	char *end;

	switch (opt) {
	case FILTER_PID:
		f->pid = strtoll(arg, &end, 10);
		return *end || f->pid <= 0 ? -1 : 1;
	case FILTER_TID:
		f->tid = strtoll(arg, &end, 10);
		return *end || f->tid <= 0 ? -1 : 1;
	case FILTER_FD:
		return filter_term(f, "fd", arg);
	case FILTER_CALL:
		return filter_term(f, "call", arg);
	case FILTER_FLAG:
		return filter_term(f, "flag", arg);
	case FILTER_ERRORS:
		return filter_term(f, "errors", NULL);
	case FILTER_LINT:
		return filter_term(f, "lint", NULL);
	case FILTER_PEER:
		return filter_term(f, "peer", arg);
	case FILTER_PORT:
		return filter_term(f, "port", arg);
	case FILTER_MINLEN:
		return filter_term(f, "min-len", arg);
	case FILTER_MAXLEN:
		return filter_term(f, "max-len", arg);
	case FILTER_SPEC:
		if (st_fs_add_text(&f->fs, arg, strlen(arg), &e) != 0) {
			fs_error(&e);
			return -2;
		}
		return 1;
	case FILTER_SINCE:
		return parse_time(arg, &f->since, &f->since_rel) ? -1 : (f->has_since = 1);
	case FILTER_UNTIL:
		return parse_time(arg, &f->until, &f->until_rel) ? -1 : (f->has_until = 1);
	default:
		return 0;
	}
}

/*
 * Returns 1 if opt was a filter option (and consumed), 0 if not, -1 on a bad
 * value, which it has said, naming the option or the term.
 */
int filter_option(struct filter *f, int opt, const char *arg)
{
	static const char *const names[] = {"pid",    "tid",	 "call",    "fd",    "flag",
					    "errors", "lint",	 "peer",    "since", "until",
					    "port",   "min-len", "max-len", "filter"};
	int r = filter_value(f, opt, arg);

	if (r == -1)
		cli_error("bad value '%s' for --%s", arg, names[opt - FILTER_PID]);
	return r < 0 ? -1 : r;
}

void filter_first_ts(struct filter *f, long long ts)
{
	if (!f->have_first || ts < f->first_ts) {
		f->first_ts = ts;
		f->have_first = 1;
	}
}

static void evs_json(struct evs *v, json_t *x)
{
	v->p = json_string_value(x);
	v->n = v->p ? strlen(v->p) : 0;
	v->plain = 1;
}

void evf_from_json(json_t *ev, struct evf *e, char **flags_text)
{
	json_t *sock = json_object_get(ev, "sock"), *flags = json_object_get(ev, "flags");

	memset(e, 0, sizeof(*e));
	e->v = json_integer_value(json_object_get(ev, "v"));
	e->ts = json_integer_value(json_object_get(ev, "ts"));
	e->pid = json_integer_value(json_object_get(ev, "pid"));
	e->tid = json_integer_value(json_object_get(ev, "tid"));
	e->has_fd = json_is_integer(json_object_get(ev, "fd"));
	e->fd = json_integer_value(json_object_get(ev, "fd"));
	e->ret = json_integer_value(json_object_get(ev, "ret"));
	e->dur = json_integer_value(json_object_get(ev, "dur_ns"));
	e->has_len = json_is_integer(json_object_get(ev, "len"));
	e->len = json_integer_value(json_object_get(ev, "len"));
	e->bytes_sent = json_integer_value(json_object_get(ev, "bytes_sent"));
	e->sample = json_integer_value(json_object_get(ev, "sample"));
	e->has_flags = json_is_integer(json_object_get(ev, "flags_raw"));
	e->flags_raw = json_integer_value(json_object_get(ev, "flags_raw"));
	e->has_sock = json_is_object(sock);
	e->lint = json_is_array(json_object_get(ev, "lint"));
	e->msgs = json_object_get(ev, "msgs");
	evs_json(&e->event, json_object_get(ev, "event"));
	evs_json(&e->call, json_object_get(ev, "call"));
	evs_json(&e->err, json_object_get(ev, "errno"));
	evs_json(&e->addr, json_object_get(ev, "addr"));
	evs_json(&e->family, json_object_get(sock, "family"));
	evs_json(&e->type, json_object_get(sock, "type"));
	evs_json(&e->proto, json_object_get(sock, "proto"));
	evs_json(&e->peer, json_object_get(sock, "peer"));
	if (!e->peer.p) /* accept: the listener has no peer, the new connection has */
		evs_json(&e->peer, json_object_get(json_object_get(ev, "new_sock"), "peer"));
	*flags_text = json_is_array(flags) ? json_dumps(flags, JSON_COMPACT) : NULL;
	e->flags.p = *flags_text;
	e->flags.n = *flags_text ? strlen(*flags_text) : 0;
}

/* An address of the event, as text, against the filter's peer term. */
static int evs_peer(const struct st_fs *fs, const struct evs *v)
{
	struct st_fs_addr a;

	if (!v->p || !v->plain)
		return 0;
	st_fs_addr_from_text(&a, v->p, v->n);
	return st_fs_match_addr(fs, &a);
}

/*
 * The peer term matches the socket's peer, or where the call sent: sendto's
 * and sendmsg's address, connect's, accept's new peer, or any of the
 * messages sendmmsg lists (as the library decides it when recording).
 */
static int peer_matches(const struct st_fs *fs, const struct evf *e)
{
	size_t i;

	if (evs_peer(fs, &e->peer) || evs_peer(fs, &e->addr))
		return 1;
	for (i = 0; json_is_array(e->msgs) && i < json_array_size(e->msgs); i++) {
		struct evs a;

		evs_json(&a, json_object_get(json_array_get(e->msgs, i), "addr"));
		if (evs_peer(fs, &a))
			return 1;
	}
	return 0;
}

/* Would the stats scanner's fields decide the peer term as jansson's would? */
int filter_needs_json(const struct filter *f, const struct evf *e)
{
	return (f->fs.terms & ST_FS_PEER) &&
	       ((e->peer.p && !e->peer.plain) || (e->addr.p && !e->addr.plain) ||
		evs_eq(&e->call, "sendmmsg"));
}

/* +SECONDS after the first event; the first ts is the trace's, so the sum may not fit. */
static long long after_first(const struct filter *f, long long d)
{
	long long t;

	if (__builtin_add_overflow(f->first_ts, d, &t))
		return f->first_ts < 0 ? (-9223372036854775807LL - 1) : 9223372036854775807LL;
	return t;
}

int filter_match_fields(const struct filter *f, const struct evf *e)
{
	const struct st_fs *fs = &f->fs;
	int is_call = evs_eq(&e->event, "call"), call;

	if (f->pid && e->pid != f->pid)
		return 0;
	if (f->tid && e->tid != f->tid)
		return 0;
	if (f->has_since && e->ts < (f->since_rel ? after_first(f, f->since) : f->since))
		return 0;
	if (f->has_until && e->ts > (f->until_rel ? after_first(f, f->until) : f->until))
		return 0;
	if (!fs->terms)
		return 1;
	/* The remaining filters are about calls: start/exit records do not pass them. */
	if (!is_call)
		return 0;
	call = e->call.p && e->call.plain ? st_fs_call_index(e->call.p, e->call.n) : -1;
	if ((fs->terms & ST_FS_CALL) && call < 0)
		return 0;
	if (!st_fs_match_call(fs, (unsigned)call, e->has_fd ? (int)e->fd : -1,
			      e->has_flags ? (long long)(unsigned)e->flags_raw : -1))
		return 0;
	if ((fs->terms & ST_FS_FD) && (!e->has_fd || e->fd != fs->fd))
		return 0;
	if (!st_fs_match_len(fs, e->has_len && e->len >= 0, (unsigned long long)e->len))
		return 0;
	if (!st_fs_match_result(fs, e->err.p != NULL, e->lint))
		return 0;
	return !(fs->terms & ST_FS_PEER) || peer_matches(fs, e);
}

int filter_match(const struct filter *f, json_t *ev)
{
	struct evf e;
	char *flags;
	int ok;

	evf_from_json(ev, &e, &flags);
	ok = filter_match_fields(f, &e);
	free(flags);
	return ok;
}

const char *filter_help(void)
{
	return "  --pid=PID, --tid=TID  events of that process or thread\n"
	       "  --since=T, --until=T  T in epoch seconds (1795300193.5), or +SECONDS\n"
	       "                        after the first event\n"
	       "  --filter=SPEC         calls that match every term of SPEC, the text\n"
	       "                        SENDTRACE_FILTER takes: \"call=send,sendto port=53\n"
	       "                        errors\" (see FILTERS in sendtrace(1)); each term\n"
	       "                        is also an option of its own:\n"
	       "  --call=LIST           calls named in LIST (send,sendto,...): sendto covers\n"
	       "                        send, as in strace, sendfile sendfile64, accept\n"
	       "                        accept4; all is every send call, lifecycle\n"
	       "                        connect,accept,close,shutdown\n"
	       "  --fd=FD               calls on that fd\n"
	       "  --flag=LIST           calls with any of those flags (MSG_MORE, or MORE)\n"
	       "  --peer=ADDR           calls to that peer or destination: 1.2.3.4[:PORT],\n"
	       "                        an IPv6 address or [IPv6]:PORT, /unix/path, @name\n"
	       "  --port=PORT           calls to that port, of any IP address\n"
	       "  --min-len=N, --max-len=N  calls of at least / at most N bytes (len)\n"
	       "  --errors              calls that failed\n"
	       "  --lint                calls with lint findings\n";
}
