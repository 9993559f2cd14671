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
	if (*end || end == s || v < 0)
		return -1;
	*ns = (long long)(v * 1e9);
	return 0;
}

/* Returns 1 if opt was a filter option (and consumed), 0 if not, -1 on a bad value. */
int filter_option(struct filter *f, int opt, const char *arg)
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
		return 1;
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

/* "send,sendto": is name one of them? "sendfile" covers sendfile64. */
static int in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	for (p = list; *p;) {
		size_t l = strcspn(p, ",");

		if ((l == n && !strncmp(p, name, l)) ||
		    (l == 8 && !strncmp(p, "sendfile", 8) && !strcmp(name, "sendfile64")))
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

int filter_match(const struct filter *f, json_t *ev)
{
	const char *kind = json_string_value(json_object_get(ev, "event"));
	const char *call = json_string_value(json_object_get(ev, "call"));
	long long ts = json_integer_value(json_object_get(ev, "ts"));
	int is_call = kind && !strcmp(kind, "call");

	if (f->pid && json_integer_value(json_object_get(ev, "pid")) != f->pid)
		return 0;
	if (f->tid && json_integer_value(json_object_get(ev, "tid")) != f->tid)
		return 0;
	if (f->has_since && ts < (f->since_rel ? f->first_ts + f->since : f->since))
		return 0;
	if (f->has_until && ts > (f->until_rel ? f->first_ts + f->until : f->until))
		return 0;
	/* The remaining filters are about calls: start/exit records do not pass them. */
	if (f->calls || f->has_fd || f->flag || f->errors || f->lint || f->peer) {
		if (!is_call)
			return 0;
	}
	if (f->calls && (!call || !in_list(f->calls, call)))
		return 0;
	if (f->has_fd && json_integer_value(json_object_get(ev, "fd")) != f->fd)
		return 0;
	if (f->errors && !json_is_string(json_object_get(ev, "errno")))
		return 0;
	if (f->lint && !json_is_array(json_object_get(ev, "lint")))
		return 0;
	if (f->flag) {
		json_t *flags = json_object_get(ev, "flags"), *x;
		size_t i;
		int found = 0;
		char want[64];

		snprintf(want, sizeof(want), "%s%s", strncmp(f->flag, "MSG_", 4) ? "MSG_" : "",
			 f->flag);
		json_array_foreach (flags, i, x)
			found |= !strcasecmp(json_string_value(x), want);
		if (!found)
			return 0;
	}
	if (f->peer) {
		json_t *sock = json_object_get(ev, "sock");

		if (!peer_matches(f->peer, json_string_value(json_object_get(sock, "peer"))) &&
		    !peer_matches(f->peer, json_string_value(json_object_get(ev, "addr"))))
			return 0;
	}
	return 1;
}

const char *filter_help(void)
{
	return "  --pid=PID, --tid=TID  events of that process or thread\n"
	       "  --call=LIST           calls named in LIST (send,sendto,...)\n"
	       "  --fd=FD               calls on that fd\n"
	       "  --flag=NAME           calls with that flag (MSG_MORE, or MORE)\n"
	       "  --errors              calls that failed\n"
	       "  --lint                calls with lint findings\n"
	       "  --peer=ADDR[:PORT]    calls to that peer or destination\n"
	       "  --since=T, --until=T  T in epoch seconds (1795300193.5), or +SECONDS\n"
	       "                        after the first event\n";
}
