/* format.c: renders one event as one strace-like line. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char *str(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A JSON value in compact form: strings bare, arrays and objects compact. */
static void fmt_value(FILE *out, json_t *v)
{
	char *s;

	if (json_is_string(v)) {
		fputs(json_string_value(v), out);
		return;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (s) {
		fputs(s, out);
		free(s);
	}
}

#define C_CALL "\033[1m"
#define C_ERR  "\033[31m"
#define C_LINT "\033[33m"
#define C_DIM  "\033[2m"
#define C_OFF  "\033[0m"

static const struct fmt_opts *cur; /* the options of the line being printed */

static const char *col(const char *code)
{
	return cur && cur->color ? code : "";
}

static void fmt_time(FILE *out, json_t *ev)
{
	json_int_t ts = json_integer_value(json_object_get(ev, "ts"));

	if (cur && cur->time != FMT_TIME_ABS) {
		long long base = cur->time == FMT_TIME_REL ? cur->first_ts : cur->prev_ts;
		long long d = (long long)ts - base;

		fprintf(out, "%s%lld.%06lld", d < 0 ? "-" : "+", (d < 0 ? -d : d) / 1000000000,
			((d < 0 ? -d : d) % 1000000000) / 1000);
		return;
	}
	time_t sec = (time_t)(ts / 1000000000);
	struct tm tm;
	char buf[32];

	localtime_r(&sec, &tm);
	strftime(buf, sizeof(buf), "%H:%M:%S", &tm);
	fprintf(out, "%s.%06lld", buf, (long long)(ts % 1000000000) / 1000);
}

static void fmt_who(FILE *out, json_t *ev)
{
	json_int_t pid = json_integer_value(json_object_get(ev, "pid"));
	json_int_t tid = json_integer_value(json_object_get(ev, "tid"));

	if (tid && tid != pid)
		fprintf(out, " %lld/%lld", (long long)pid, (long long)tid);
	else
		fprintf(out, " %lld", (long long)pid);
}

static void fmt_addr(FILE *out, const char *a)
{
	fputs(a && a[0] ? a : "(unnamed)", out);
}

/* "<TCP:127.0.0.1:40000->127.0.0.1:8080>" or "<UNIX-STREAM:/run/s>" */
static void fmt_sock(FILE *out, json_t *sock)
{
	const char *fam = str(sock, "family"), *type = str(sock, "type");
	const char *proto = str(sock, "proto");
	json_t *local = json_object_get(sock, "local"), *peer = json_object_get(sock, "peer");
	const char *t = type && !strncmp(type, "SOCK_", 5) ? type + 5 : type;
	const char *p;

	fputc('<', out);
	if (fam && (!strcmp(fam, "AF_INET") || !strcmp(fam, "AF_INET6")) && proto) {
		for (p = proto; *p; p++)
			fputc(*p >= 'a' && *p <= 'z' ? *p - 32 : *p, out);
		if (!strcmp(fam, "AF_INET6"))
			fputs("v6", out);
	} else if (fam) {
		fputs(!strncmp(fam, "AF_", 3) ? fam + 3 : fam, out);
		if (t)
			fprintf(out, "-%s", t);
	} else {
		fputs("socket", out);
	}
	if (json_is_integer(json_object_get(sock, "ino")) && json_is_string(local) &&
	    !json_string_value(local)[0] && (!json_is_string(peer) || !json_string_value(peer)[0])) {
		/* Unnamed unix ends: their inodes pair them, as in strace -yy. */
		fprintf(out, ":[%lld", (long long)json_integer_value(json_object_get(sock, "ino")));
		if (json_is_integer(json_object_get(sock, "peer_ino")))
			fprintf(out, "->%lld",
				(long long)json_integer_value(json_object_get(sock, "peer_ino")));
		fputs("]>", out);
		return;
	}
	if (json_is_string(local)) {
		fputc(':', out);
		fmt_addr(out, json_string_value(local));
	}
	if (json_is_string(peer)) {
		fputs("->", out);
		fmt_addr(out, json_string_value(peer));
	}
	fputc('>', out);
}

static void fmt_flags(FILE *out, json_t *flags)
{
	size_t i;
	json_t *f;

	if (!json_is_array(flags) || json_array_size(flags) == 0) {
		fputs("0", out);
		return;
	}
	json_array_foreach (flags, i, f) {
		if (i)
			fputc('|', out);
		fmt_value(out, f);
	}
}

static void fmt_iov(FILE *out, json_t *iov, json_t *more)
{
	size_t i;
	json_t *e;

	if (!json_is_array(iov)) {
		fputs("iov=?", out);
		return;
	}
	fputs("iov=[", out);
	json_array_foreach (iov, i, e) {
		if (i)
			fputc(',', out);
		fprintf(out, "%lld", (long long)json_integer_value(json_object_get(e, "len")));
	}
	if (json_is_integer(more))
		fprintf(out, ",+%lld more", (long long)json_integer_value(more));
	fputc(']', out);
}

/* SCM_RIGHTS{fds=[3,4]}, IP_TOS{tos=16}, 41/99{data=0a0b} */
static void fmt_cmsgs(FILE *out, json_t *cmsgs)
{
	size_t i;
	json_t *c;

	fputs("cmsg=[", out);
	json_array_foreach (cmsgs, i, c) {
		const char *key;
		json_t *v, *type = json_object_get(c, "type");
		int first = 1;

		if (i)
			fputs(", ", out);
		if (json_is_string(type)) {
			fputs(json_string_value(type), out);
		} else {
			fmt_value(out, json_object_get(c, "level"));
			fputc('/', out);
			fmt_value(out, type);
		}
		fputc('{', out);
		json_object_foreach (c, key, v) {
			if (!strcmp(key, "level") || !strcmp(key, "type") || !strcmp(key, "len"))
				continue;
			fprintf(out, "%s%s=", first ? "" : ",", key);
			fmt_value(out, v);
			first = 0;
		}
		fputc('}', out);
	}
	fputc(']', out);
}

static void fmt_msg(FILE *out, json_t *m)
{
	json_t *addr = json_object_get(m, "addr"), *cmsg = json_object_get(m, "cmsg");

	if (json_is_string(addr)) {
		fputs("to=", out);
		fmt_addr(out, json_string_value(addr));
		fputs(", ", out);
	}
	fmt_iov(out, json_object_get(m, "iov"), json_object_get(m, "iov_more"));
	fprintf(out, ", len=%lld", (long long)json_integer_value(json_object_get(m, "len")));
	if (json_is_array(cmsg)) {
		fputs(", ", out);
		fmt_cmsgs(out, cmsg);
	}
	if (json_is_integer(json_object_get(m, "msg_flags")))
		fprintf(out, ", msg_flags=%lld",
			(long long)json_integer_value(json_object_get(m, "msg_flags")));
}

static void fmt_mmsgs(FILE *out, json_t *ev)
{
	json_t *msgs = json_object_get(ev, "msgs"), *m;
	size_t i;

	fprintf(out, "vlen=%lld, ", (long long)json_integer_value(json_object_get(ev, "vlen")));
	if (!json_is_array(msgs)) {
		fputs("msgs=?", out);
		return;
	}
	fputc('[', out);
	json_array_foreach (msgs, i, m) {
		if (i)
			fputs(", ", out);
		fputc('{', out);
		fmt_msg(out, m);
		if (json_is_integer(json_object_get(m, "msg_len")))
			fprintf(out, ", sent=%lld",
				(long long)json_integer_value(json_object_get(m, "msg_len")));
		fputc('}', out);
	}
	if (json_is_integer(json_object_get(ev, "msgs_more")))
		fprintf(out, ", +%lld more",
			(long long)json_integer_value(json_object_get(ev, "msgs_more")));
	fputc(']', out);
}

static void fmt_sendfile(FILE *out, json_t *ev)
{
	json_t *in = json_object_get(ev, "in"), *off = json_object_get(ev, "offset");
	const char *path = str(in, "path"), *kind = str(in, "kind");

	fprintf(out, "in=%lld", (long long)json_integer_value(json_object_get(in, "fd")));
	if (path)
		fprintf(out, "<%s>", path);
	else if (kind)
		fprintf(out, "<%s>", kind);
	if (json_is_integer(off))
		fprintf(out, ", offset=%lld", (long long)json_integer_value(off));
	else
		fputs(", offset=NULL", out);
	fprintf(out, ", count=%lld", (long long)json_integer_value(json_object_get(ev, "len")));
}

static void fmt_dur(FILE *out, json_int_t ns)
{
	if (ns < 10000)
		fprintf(out, " <%lldns>", (long long)ns);
	else if (ns < 10000000)
		fprintf(out, " <%.1fus>", ns / 1e3);
	else
		fprintf(out, " <%.1fms>", ns / 1e6);
}

/* ") = RET ERRNO <dur>"; accept's new fd with its socket, as strace -yy shows it. */
static void fmt_ret(FILE *out, json_t *ev)
{
	const char *err = str(ev, "errno");
	json_t *nsock = json_object_get(ev, "new_sock");

	fprintf(out, ") = %lld", (long long)json_integer_value(json_object_get(ev, "ret")));
	if (json_is_object(nsock))
		fmt_sock(out, nsock);
	if (err)
		fprintf(out, " %s%s%s", col(C_ERR), err, col(C_OFF));
	fmt_dur(out, json_integer_value(json_object_get(ev, "dur_ns")));
}

/*
 * The lifecycle records (run -e lifecycle), after "call(fd<sock>":
 *   connect(8<TCP:a->b>, 127.0.0.1:80) = 0
 *   accept4(7<TCP:a>, SOCK_CLOEXEC) = 9<TCP:a->c>
 *   shutdown(8<TCP:a->b>, SHUT_WR) = 0
 *   close(8<TCP:a->b>) = 0
 * Returns 0 for the send calls.
 */
static int fmt_life(FILE *out, json_t *ev, const char *call)
{
	if (!strcmp(call, "connect")) {
		fputs(", ", out);
		fmt_addr(out, json_is_string(json_object_get(ev, "addr"))
				  ? json_string_value(json_object_get(ev, "addr"))
				  : "NULL");
	} else if (!strcmp(call, "accept4")) {
		fputs(", ", out);
		fmt_flags(out, json_object_get(ev, "sock_flags"));
	} else if (!strcmp(call, "shutdown")) {
		fputs(", ", out);
		fmt_value(out, json_object_get(ev, "how"));
	} else if (strcmp(call, "accept") && strcmp(call, "close")) {
		return 0;
	}
	fmt_ret(out, ev);
	return 1;
}

static void fmt_call(FILE *out, json_t *ev)
{
	const char *call = str(ev, "call");
	json_t *sock = json_object_get(ev, "sock"), *addr = json_object_get(ev, "addr");
	json_t *flags = json_object_get(ev, "flags");

	fprintf(out, " %s%s%s(%lld", col(C_CALL), call ? call : "?", col(C_OFF),
		(long long)json_integer_value(json_object_get(ev, "fd")));
	if (json_is_object(sock))
		fmt_sock(out, sock);
	else if (json_is_null(sock))
		fputs("<?>", out);
	if (call && fmt_life(out, ev, call))
		return;
	fputs(", ", out);
	if (!call) {
		fputs("...", out);
	} else if (!strcmp(call, "sendmsg")) {
		fmt_msg(out, ev);
	} else if (!strcmp(call, "sendmmsg")) {
		fmt_mmsgs(out, ev);
	} else if (!strncmp(call, "sendfile", 8)) {
		fmt_sendfile(out, ev);
	} else if (!strcmp(call, "writev")) {
		fmt_iov(out, json_object_get(ev, "iov"), json_object_get(ev, "iov_more"));
		fprintf(out, ", len=%lld",
			(long long)json_integer_value(json_object_get(ev, "len")));
	} else {
		fprintf(out, "len=%lld", (long long)json_integer_value(json_object_get(ev, "len")));
		if (!strcmp(call, "sendto")) {
			fputs(", to=", out);
			if (json_is_string(addr))
				fmt_addr(out, json_string_value(addr));
			else
				fputs("NULL", out);
		}
	}
	if (json_is_array(flags)) {
		fputs(", ", out);
		fmt_flags(out, flags);
	}
	fmt_ret(out, ev);
	if (json_is_string(json_object_get(ev, "payload"))) {
		char *p = json_dumps(json_object_get(ev, "payload"), JSON_ENCODE_ANY);

		fprintf(out, " %sdata=%s%s%s", col(C_DIM), p ? p : "",
			json_is_true(json_object_get(ev, "payload_truncated")) ? "..." : "",
			col(C_OFF));
		free(p);
	}
	if (json_is_array(json_object_get(ev, "lint"))) {
		json_t *f;
		size_t i;

		json_array_foreach (json_object_get(ev, "lint"), i, f)
			fprintf(out, " %s[%s %s]%s", col(C_LINT),
				json_string_value(json_object_get(f, "severity")),
				json_string_value(json_object_get(f, "id")), col(C_OFF));
	}
}

static void fmt_start(FILE *out, json_t *ev)
{
	const char *exe = str(ev, "exe"), *how = str(ev, "how");

	fprintf(out, " +++ start %s", exe ? exe : "?");
	fputs(" argv=", out);
	fmt_value(out, json_object_get(ev, "argv"));
	fprintf(out, " ppid=%lld", (long long)json_integer_value(json_object_get(ev, "ppid")));
	if (how)
		fprintf(out, " (%s)", how);
	fputs(" +++", out);
}

void fmt_event(FILE *out, json_t *ev)
{
	fmt_event_opts(out, ev, NULL);
}

void fmt_event_opts(FILE *out, json_t *ev, const struct fmt_opts *o)
{
	const char *kind = str(ev, "event");

	cur = o;
	fmt_time(out, ev);
	fmt_who(out, ev);
	if (!strcmp(kind, "call"))
		fmt_call(out, ev);
	else if (!strcmp(kind, "start"))
		fmt_start(out, ev);
	else if (!strcmp(kind, "exit"))
		fprintf(out, " +++ exit events=%lld +++",
			(long long)json_integer_value(json_object_get(ev, "events")));
	else
		fprintf(out, " %s", kind);
	fputc('\n', out);
}

void fmt_bt(FILE *out, json_t *ev)
{
	json_t *bt = json_object_get(ev, "bt"), *f;
	size_t i;

	json_array_foreach (bt, i, f) {
		const char *fn = str(f, "fn"), *fn_off = str(f, "fn_off");
		const char *obj = str(f, "obj"), *off = str(f, "off"), *ip = str(f, "ip");
		const char *where = sym_file_line(obj, off);

		fprintf(out, "    #%-2zu %s", i, fn ? fn : "??");
		if (fn && fn_off)
			fprintf(out, "+%s", fn_off);
		if (obj)
			fprintf(out, " (%s+%s)", obj, off ? off : "?");
		else if (ip)
			fprintf(out, " (%s)", ip);
		if (where)
			fprintf(out, " %s", where);
		fputc('\n', out);
	}
}
