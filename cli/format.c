/* format.c: renders one event as one strace-like line. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "elfcheck.h"

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
		esc_put(out, json_string_value(v));
		return;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (s) {
		esc_put_json(out, s);
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

void fmt_clock(char *buf, size_t n, long long ts)
{
	/* Rounded down, so that a time before 1970 still has 0-999999 us. */
	long long sec = ts / 1000000000, ns = ts % 1000000000;
	time_t t;
	struct tm tm;
	size_t l;

	if (ns < 0) {
		sec--;
		ns += 1000000000;
	}
	t = (time_t)sec;
	/* A time no calendar holds (a hostile or broken ts): the seconds as they are. */
	if (!localtime_r(&t, &tm) || !(l = strftime(buf, n, "%H:%M:%S", &tm))) {
		snprintf(buf, n, "%lld.%06lld", sec, ns / 1000);
		return;
	}
	snprintf(buf + l, n - l, ".%06lld", ns / 1000);
}

static void fmt_time(FILE *out, json_t *ev)
{
	long long ts = (long long)json_integer_value(json_object_get(ev, "ts"));
	char buf[64];

	if (cur && cur->time != FMT_TIME_ABS) {
		long long base = cur->time == FMT_TIME_REL ? cur->first_ts : cur->prev_ts, d;
		unsigned long long mag;

		/* ts and base come from the trace: their difference may not fit. */
		if (__builtin_sub_overflow(ts, base, &d)) {
			fputs("?", out);
			return;
		}
		mag = d < 0 ? 0ULL - (unsigned long long)d : (unsigned long long)d;
		fprintf(out, "%s%llu.%06llu", d < 0 ? "-" : "+", mag / 1000000000,
			(mag % 1000000000) / 1000);
		return;
	}
	fmt_clock(buf, sizeof(buf), ts);
	fputs(buf, out);
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
	esc_put(out, a && a[0] ? a : "(unnamed)");
}

/* "<TCP:127.0.0.1:40000->127.0.0.1:8080>" or "<UNIX-STREAM:/run/s>" */
static void fmt_sock(FILE *out, json_t *sock)
{
	const char *fam = str(sock, "family"), *type = str(sock, "type");
	const char *proto = str(sock, "proto");
	json_t *local = json_object_get(sock, "local"), *peer = json_object_get(sock, "peer");
	const char *t = type && !strncmp(type, "SOCK_", 5) ? type + 5 : type;

	fputc('<', out);
	if (fam && (!strcmp(fam, "AF_INET") || !strcmp(fam, "AF_INET6")) && proto) {
		char *up = strdup(proto), *q;

		for (q = up; up && *q; q++)
			if (*q >= 'a' && *q <= 'z')
				*q = (char)(*q - 32);
		esc_put(out, up ? up : proto);
		free(up);
		if (!strcmp(fam, "AF_INET6"))
			fputs("v6", out);
	} else if (fam) {
		esc_put(out, !strncmp(fam, "AF_", 3) ? fam + 3 : fam);
		if (t) {
			fputc('-', out);
			esc_put(out, t);
		}
	} else {
		fputs("socket", out);
	}
	if (json_is_integer(json_object_get(sock, "ino")) && json_is_string(local) &&
	    !json_string_value(local)[0] &&
	    (!json_is_string(peer) || !json_string_value(peer)[0])) {
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
			esc_put(out, json_string_value(type));
		} else {
			fmt_value(out, json_object_get(c, "level"));
			fputc('/', out);
			fmt_value(out, type);
		}
		fputc('{', out);
		json_object_foreach (c, key, v) {
			if (!strcmp(key, "level") || !strcmp(key, "type") || !strcmp(key, "len"))
				continue;
			if (!first)
				fputc(',', out);
			esc_put(out, key);
			fputc('=', out);
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
	if (path || kind) {
		fputc('<', out);
		esc_put(out, path ? path : kind);
		fputc('>', out);
	}
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
	if (err) {
		fprintf(out, " %s", col(C_ERR));
		esc_put(out, err);
		fputs(col(C_OFF), out);
	}
	fmt_dur(out, json_integer_value(json_object_get(ev, "dur_ns")));
	/* Complete mode: made as a system call outside the exported functions. */
	if (json_is_string(json_object_get(ev, "via"))) {
		fputs(" [via ", out);
		esc_put(out, str(ev, "via"));
		fputc(']', out);
	}
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

	fprintf(out, " %s", col(C_CALL));
	esc_put(out, call ? call : "?");
	fprintf(out, "%s(%lld", col(C_OFF),
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

		fprintf(out, " %sdata=", col(C_DIM));
		esc_put_json(out, p);
		fprintf(out, "%s%s",
			json_is_true(json_object_get(ev, "payload_truncated")) ? "..." : "",
			col(C_OFF));
		free(p);
	}
	if (json_is_array(json_object_get(ev, "lint"))) {
		json_t *f;
		size_t i;

		/* A finding that is not an object, or lacks a field, shows as "?". */
		json_array_foreach (json_object_get(ev, "lint"), i, f) {
			const char *sev = str(f, "severity"), *id = str(f, "id");

			fprintf(out, " %s[", col(C_LINT));
			esc_put(out, sev ? sev : "?");
			fputc(' ', out);
			esc_put(out, id ? id : "?");
			fprintf(out, "]%s", col(C_OFF));
		}
	}
}

/*
 * argv as ["a","b"]: each string as the trace holds it, whose backslashes
 * are already doubled (docs/events.md), so not through json_dumps, which
 * doubled them again (a \n typed as two characters showed as \\\\n).
 * A quote is shown as \", control bytes as \xHH.
 */
static void fmt_strings(FILE *out, json_t *arr)
{
	size_t i;
	json_t *v;

	if (!json_is_array(arr)) {
		fmt_value(out, arr);
		return;
	}
	fputc('[', out);
	json_array_foreach (arr, i, v) {
		const char *s = json_string_value(v), *q;

		if (i)
			fputc(',', out);
		if (!s) {
			fmt_value(out, v);
			continue;
		}
		fputc('"', out);
		while ((q = strchr(s, '"'))) {
			esc_putn(out, s, (size_t)(q - s));
			fputs("\\\"", out);
			s = q + 1;
		}
		esc_put(out, s);
		fputc('"', out);
	}
	fputc(']', out);
}

static void fmt_start(FILE *out, json_t *ev)
{
	const char *exe = str(ev, "exe"), *how = str(ev, "how"), *untraced = str(ev, "untraced");

	fputs(" +++ start ", out);
	esc_put(out, exe ? exe : "?");
	fputs(" argv=", out);
	fmt_strings(out, json_object_get(ev, "argv"));
	fprintf(out, " ppid=%lld", (long long)json_integer_value(json_object_get(ev, "ppid")));
	if (how) {
		fputs(" (", out);
		esc_put(out, how);
		fputc(')', out);
	}
	/* Written by the image that exec'd it: this one records nothing (events.md). */
	if (untraced) {
		const char *words = st_untraced_words(untraced);

		fputs(" UNTRACED: ", out);
		esc_put(out, words ? words : untraced);
	}
	/* Go's own system calls pass the wrappers by, unless complete mode caught them. */
	if (json_is_true(json_object_get(ev, "go")))
		fputs(untraced ? " (Go)"
		      : json_is_true(json_object_get(ev, "complete"))
			  ? " (Go)"
			  : " Go: its own system calls are not seen without --complete",
		      out);
	fputs(" +++", out);
}

/* +++ exit events=6 status=0 +++, or killed=SIGABRT for abort(), like strace's ending. */
static void fmt_exit(FILE *out, json_t *ev)
{
	const char *sig = str(ev, "signal");

	fprintf(out, " +++ exit events=%lld",
		(long long)json_integer_value(json_object_get(ev, "events")));
	if (json_is_integer(json_object_get(ev, "status")))
		fprintf(out, " status=%lld",
			(long long)json_integer_value(json_object_get(ev, "status")));
	if (sig) {
		fputs(" killed=", out);
		esc_put(out, sig);
	}
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
		fmt_exit(out, ev);
	else {
		fputc(' ', out);
		esc_put(out, kind);
	}
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

		fprintf(out, "    #%-2zu ", i);
		esc_put(out, fn ? fn : "??");
		if (fn && fn_off) {
			fputc('+', out);
			esc_put(out, fn_off);
		}
		if (obj || ip) {
			fputs(" (", out);
			esc_put(out, obj ? obj : ip);
			if (obj) {
				fputc('+', out);
				esc_put(out, off ? off : "?");
			}
			fputc(')', out);
		}
		if (where) { /* addr2line's answer: a file name from the module's debug info */
			fputc(' ', out);
			esc_put(out, where);
		}
		fputc('\n', out);
	}
	/* The library shortened it to keep the event whole: say what is missing. */
	if (str(ev, "bt_truncated")) {
		const char *cut = str(ev, "bt_truncated");
		json_t *more = json_object_get(ev, "bt_more");

		fputs("    (backtrace shortened to fit the event: ", out);
		fputs(!strcmp(cut, "fn") ? "function names left out"
		      : !strcmp(cut, "obj")
			  ? "function names left out, module paths cut to file names"
			  : "function names and module directories left out",
		      out);
		if (json_is_integer(more))
			fprintf(out, ", %lld outer frame%s more",
				(long long)json_integer_value(more),
				json_integer_value(more) == 1 ? "" : "s");
		fputs(")\n", out);
	}
}
