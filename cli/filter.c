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

/* The names --call accepts: the calls, and the groups of SENDTRACE_CALLS. */
static const char *const call_names[] = {
    "send",    "sendto", "sendmsg", "sendmmsg", "write",    "writev", "sendfile",  "sendfile64",
    "connect", "accept", "accept4", "close",	"shutdown", "all",    "lifecycle",
};

/* 1 if every name in LIST is one, else -2, having said which is not. */
int calls_known(const char *list)
{
	const char *p = list;

	do {
		size_t l = strcspn(p, ","), i;
		int found = 0;

		for (i = 0; i < sizeof(call_names) / sizeof(call_names[0]); i++)
			found |= strlen(call_names[i]) == l && !strncmp(p, call_names[i], l);
		if (!found) {
			cli_error(
			    "unknown call '%.*s' (known: send, sendto, sendmsg, sendmmsg, "
			    "write, writev, sendfile, sendfile64, connect, accept, accept4, "
			    "close, shutdown, and the groups all and lifecycle)",
			    (int)l, p);
			return -2;
		}
		p += l;
	} while (*p++ == ',');
	return 1;
}

static int filter_value(struct filter *f, int opt, const char *arg)
{
	char *end;

	switch (opt) {
	case FILTER_PID:
		f->pid = strtoll(arg, &end, 10);
		return *end || f->pid <= 0 ? -1 : 1;
	case FILTER_TID:
		f->tid = strtoll(arg, &end, 10);
		return *end || f->tid <= 0 ? -1 : 1;
	case FILTER_FD:
		f->fd = strtoll(arg, &end, 10);
		f->has_fd = 1;
		return *end || f->fd < 0 ? -1 : 1;
	case FILTER_CALL:
		f->calls = arg;
		return calls_known(arg);
	case FILTER_FLAG:
		f->flag = arg;
		return 1;
	case FILTER_ERRORS:
		f->errors = 1;
		return 1;
	case FILTER_LINT:
		f->lint = 1;
		return 1;
	case FILTER_PEER:
		f->peer = arg;
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
 * value, which it has said, naming the option.
 */
int filter_option(struct filter *f, int opt, const char *arg)
{
	static const char *const names[] = {"pid",    "tid",  "call", "fd",    "flag",
					    "errors", "lint", "peer", "since", "until"};
	int r = filter_value(f, opt, arg);

	if (r == -1)
		cli_error("bad value '%s' for --%s", arg, names[opt - FILTER_PID]);
	return r < 0 ? -1 : r;
}

/* Is `name` the lifecycle call `call`, or one that `call` also covers? */
static int covers(const char *item, size_t l, const char *name)
{
	static const char *const groups[][2] = {
	    {"sendfile", "sendfile64"}, {"sendto", "send"},	   {"accept", "accept4"},
	    {"lifecycle", "connect"},	{"lifecycle", "accept"},   {"lifecycle", "accept4"},
	    {"lifecycle", "close"},	{"lifecycle", "shutdown"}, {"all", "send"},
	    {"all", "sendto"},		{"all", "sendmsg"},	   {"all", "sendmmsg"},
	    {"all", "write"},		{"all", "writev"},	   {"all", "sendfile"},
	    {"all", "sendfile64"},
	};
	size_t i;

	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (strlen(groups[i][0]) == l && !strncmp(item, groups[i][0], l) &&
		    !strcmp(name, groups[i][1]))
			return 1;
	return 0;
}

/*
 * "send,sendto": is name one of them? "sendto" covers send (send(2) is the
 * sendto system call, as strace shows it), "sendfile" sendfile64, "accept"
 * accept4, "all" every send call (as in SENDTRACE_CALLS), and "lifecycle"
 * connect, accept, close and shutdown.
 */
static int in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	for (p = list; *p;) {
		size_t l = strcspn(p, ",");

		if ((l == n && !strncmp(p, name, l)) || covers(p, l, name))
			return 1;
		p += l;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* ADDR matches a host:port exactly, or any port of the host when it has none. */
static int peer_matches(const char *want, const char *addr)
{
	size_t wl = strlen(want), al;
	const char *colon;

	if (!addr)
		return 0;
	if (!strcmp(want, addr))
		return 1;
	al = strlen(addr);
	colon = strrchr(addr, ':');
	/* "127.0.0.1" against "127.0.0.1:53"; "::1" against "[::1]:53". */
	if (colon && (size_t)(colon - addr) == wl && !strncmp(addr, want, wl))
		return 1;
	if (addr[0] == '[' && colon && colon > addr + 1 && colon[-1] == ']' &&
	    (size_t)(colon - addr - 2) == wl && !strncmp(addr + 1, want, wl))
		return 1;
	(void)al;
	return 0;
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
	e->len = json_integer_value(json_object_get(ev, "len"));
	e->bytes_sent = json_integer_value(json_object_get(ev, "bytes_sent"));
	e->has_sock = json_is_object(sock);
	e->lint = json_is_array(json_object_get(ev, "lint"));
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

static int evs_in_list(const char *list, const struct evs *v)
{
	char name[32];

	if (!v->p || v->n >= sizeof(name))
		return 0;
	memcpy(name, v->p, v->n);
	name[v->n] = '\0';
	return in_list(list, name);
}

static int evs_peer(const char *want, const struct evs *v)
{
	char addr[600];

	if (!v->p || v->n >= sizeof(addr))
		return 0;
	memcpy(addr, v->p, v->n);
	addr[v->n] = '\0';
	return peer_matches(want, addr);
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
	int is_call = evs_eq(&e->event, "call");

	if (f->pid && e->pid != f->pid)
		return 0;
	if (f->tid && e->tid != f->tid)
		return 0;
	if (f->has_since && e->ts < (f->since_rel ? after_first(f, f->since) : f->since))
		return 0;
	if (f->has_until && e->ts > (f->until_rel ? after_first(f, f->until) : f->until))
		return 0;
	/* The remaining filters are about calls: start/exit records do not pass them. */
	if ((f->calls || f->has_fd || f->flag || f->errors || f->lint || f->peer) && !is_call)
		return 0;
	if (f->calls && !evs_in_list(f->calls, &e->call))
		return 0;
	if (f->has_fd && (!e->has_fd || e->fd != f->fd))
		return 0;
	if (f->errors && !e->err.p)
		return 0;
	if (f->lint && !e->lint)
		return 0;
	if (f->flag) {
		char want[72];
		size_t wl, i;
		int found = 0;

		snprintf(want, sizeof(want), "\"%s%s\"", strncmp(f->flag, "MSG_", 4) ? "MSG_" : "",
			 f->flag);
		wl = strlen(want);
		for (i = 0; !found && e->flags.p && i + wl <= e->flags.n; i++)
			found = !strncasecmp(e->flags.p + i, want, wl);
		if (!found)
			return 0;
	}
	if (f->peer && !evs_peer(f->peer, &e->peer) && !evs_peer(f->peer, &e->addr))
		return 0;
	return 1;
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
	       "  --call=LIST           calls named in LIST (send,sendto,...): sendto covers\n"
	       "                        send, as in strace, sendfile sendfile64, accept\n"
	       "                        accept4; all is every send call, lifecycle\n"
	       "                        connect,accept,close,shutdown; an unknown name\n"
	       "                        is an error\n"
	       "  --fd=FD               calls on that fd\n"
	       "  --flag=NAME           calls with that flag (MSG_MORE, or MORE)\n"
	       "  --errors              calls that failed\n"
	       "  --lint                calls with lint findings\n"
	       "  --peer=ADDR[:PORT]    calls to that peer or destination\n"
	       "  --since=T, --until=T  T in epoch seconds (1795300193.5), or +SECONDS\n"
	       "                        after the first event\n";
}
