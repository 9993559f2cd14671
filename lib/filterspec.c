/* filterspec.c: the one filter syntax, parsed and matched alike by the library and the CLI. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "decode.h"
#include "filterspec.h"

/*
 * One parser for SENDTRACE_FILTER, `sendtrace run --filter`, `show` and
 * `stats --filter` and their single options, so that every one of them
 * accepts the same text and refuses it with the same words. It allocates
 * nothing and keeps no pointer into the text: the library parses at start
 * (and when the filter is changed at run time) and matches on the hot path
 * without formatting anything; the CLI matches events read back the same way.
 */

const char *const st_fs_call_names[ST_FS_NCALLS] = {
    "send",	  "sendto",  "sendmsg", "sendmmsg", "write", "writev",	 "sendfile",
    "sendfile64", "connect", "accept",	"accept4",  "close", "shutdown",
};

#define ST_FS_CALLS_HINT                                                                           \
	"(known: send, sendto, sendmsg, sendmmsg, write, writev, sendfile, sendfile64, "           \
	"connect, accept, accept4, close, shutdown, and the groups all and lifecycle)"
#define ST_FS_TERMS_HINT                                                                           \
	"(known: call=LIST, fd=N, flag=LIST, peer=ADDR, port=N, errors, lint, min-len=N, "         \
	"max-len=N)"

static int st_fs_eq(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && !memcmp(s, word, n);
}

static int st_fs_eq_nocase(const char *s, size_t n, const char *word)
{
	size_t i;

	if (strlen(word) != n)
		return 0;
	for (i = 0; i < n; i++) {
		char a = s[i], b = word[i];

		if (a >= 'a' && a <= 'z')
			a = (char)(a - 32);
		if (b >= 'a' && b <= 'z')
			b = (char)(b - 32);
		if (a != b)
			return 0;
	}
	return 1;
}

int st_fs_call_index(const char *name, size_t n)
{
	int i;

	for (i = 0; i < ST_FS_NCALLS; i++)
		if (st_fs_eq(name, n, st_fs_call_names[i]))
			return i;
	return -1;
}

static int st_fs_fail(struct st_fs_error *e, const char *bad, size_t bad_len, const char *what,
		      const char *hint)
{
	e->bad = bad;
	e->bad_len = bad_len;
	e->what = what;
	e->hint = hint;
	return -1;
}

/*
 * "sendto" covers send (send(2) is the sendto system call, as strace shows
 * it), "sendfile" sendfile64 and "accept" accept4; "all" is every send
 * call, "lifecycle" connect, accept, accept4, close and shutdown.
 */
int st_fs_calls(const char *s, size_t n, unsigned *mask, struct st_fs_error *e)
{
	static const struct {
		const char *name;
		unsigned extra;
	} groups[] = {
	    {"all", ST_FS_SENDS},  {"lifecycle", ST_FS_LIFECYCLE}, {"sendto", 1u << 0},
	    {"sendfile", 1u << 7}, {"accept", 1u << 10},
	};
	const char *p = s, *end = s + n;

	*mask = 0;
	for (;;) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		size_t l = (size_t)((c ? c : end) - p), i;
		int k = st_fs_call_index(p, l), found = k >= 0;

		if (k >= 0)
			*mask |= 1u << k;
		for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
			if (st_fs_eq(p, l, groups[i].name)) {
				*mask |= groups[i].extra;
				found = 1;
			}
		if (!found)
			return st_fs_fail(e, p, l, "unknown call", ST_FS_CALLS_HINT);
		if (!c)
			return 0;
		p = c + 1;
	}
}

/* A whole number, decimal (or 0x hex when hex is allowed), at most max. */
static int st_fs_number(const char *s, size_t n, unsigned long long max, int hex,
			unsigned long long *out)
{
	unsigned long long v = 0;
	unsigned base = 10;
	size_t i = 0;

	if (hex && n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == n)
		return -1;
	for (; i < n; i++) {
		char c = s[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && (c | 32) >= 'a' && (c | 32) <= 'f')
			d = (unsigned)((c | 32) - 'a' + 10);
		else
			return -1;
		if (v > (max - d) / base)
			return -1;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

/* MSG_MORE, MORE, more, or a number (0x8000): any of them, comma-separated. */
static int st_fs_flags(const char *s, size_t n, unsigned *mask, struct st_fs_error *e)
{
	const char *p = s, *end = s + n;

	*mask = 0;
	for (;;) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		size_t l = (size_t)((c ? c : end) - p);
		const struct st_flag *fl;
		unsigned long long v;
		unsigned bits = 0;

		if (st_fs_number(p, l, 0xffffffffull, 1, &v) == 0) {
			bits = (unsigned)v;
		} else {
			const char *name = p;
			size_t nl = l;

			if (nl > 4 && st_fs_eq_nocase(name, 4, "MSG_")) {
				name += 4;
				nl -= 4;
			}
			for (fl = st_msg_flags; fl->name && !bits; fl++)
				if (st_fs_eq_nocase(name, nl, fl->name + 4))
					bits = fl->bit;
		}
		if (!bits)
			return st_fs_fail(e, p, l, "unknown flag",
					  "(a MSG_* name, with or without MSG_: MORE, NOSIGNAL, "
					  "DONTWAIT, ...; or a number such as 0x8000)");
		*mask |= bits;
		if (!c)
			return 0;
		p = c + 1;
	}
}

/* inet_pton wants a string: the n bytes, copied into a small buffer. */
static int st_fs_pton(int family, const char *s, size_t n, unsigned char *out)
{
	char buf[64];

	if (n == 0 || n >= sizeof(buf))
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(family, buf, out) == 1;
}

/* An IPv6 address (its %scope ignored); IPv4-mapped ones become IPv4. */
static int st_fs_in6(struct st_fs_addr *a, const char *s, size_t n)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const char *pct = memchr(s, '%', n);

	if (pct)
		n = (size_t)(pct - s);
	if (!st_fs_pton(AF_INET6, s, n, a->ip))
		return 0;
	a->kind = ST_FS_IN6;
	if (!memcmp(a->ip, mapped, sizeof(mapped))) {
		memmove(a->ip, a->ip + 12, 4);
		memset(a->ip + 4, 0, 12);
		a->kind = ST_FS_IN4;
	}
	return 1;
}

static int st_fs_port(const char *s, size_t n, unsigned short *port)
{
	unsigned long long v;

	if (st_fs_number(s, n, 65535, 0, &v) != 0)
		return 0;
	*port = (unsigned short)v;
	return 1;
}

/*
 * An IP address: a.b.c.d, a.b.c.d:port, an IPv6 address, or [IPv6]:port.
 * 1 when it is one; the port is required when need_port (event text).
 */
static int st_fs_ip(struct st_fs_addr *a, const char *s, size_t n, int need_port)
{
	const char *colon = memchr(s, ':', n), *rb;

	if (n && s[0] == '[') {
		rb = memchr(s, ']', n);
		if (!rb || !st_fs_in6(a, s + 1, (size_t)(rb - s - 1)))
			return 0;
		if (rb == s + n - 1)
			return !need_port;
		if (rb[1] != ':' || !st_fs_port(rb + 2, (size_t)(s + n - rb - 2), &a->port))
			return 0;
		a->has_port = 1;
		return 1;
	}
	if (colon && memchr(colon + 1, ':', (size_t)(s + n - colon - 1)))
		return !need_port && st_fs_in6(a, s, n); /* bare IPv6: no port */
	if (!st_fs_pton(AF_INET, s, colon ? (size_t)(colon - s) : n, a->ip))
		return 0;
	a->kind = ST_FS_IN4;
	if (!colon)
		return !need_port;
	if (!st_fs_port(colon + 1, (size_t)(s + n - colon - 1), &a->port))
		return 0;
	a->has_port = 1;
	return 1;
}

static void st_fs_path(struct st_fs_addr *a, const char *s, size_t n)
{
	if (n > ST_FS_PATH_MAX)
		n = ST_FS_PATH_MAX;
	a->kind = ST_FS_UNIX;
	a->pathlen = (unsigned char)n;
	memcpy(a->path, s, n);
}

void st_fs_addr_from_text(struct st_fs_addr *a, const char *s, size_t n)
{
	static const char *const other[] = {"family=", "netlink:", "packet:", "invalid:"};
	size_t i;

	memset(a, 0, sizeof(*a));
	if (st_fs_ip(a, s, n, 1))
		return;
	memset(a, 0, sizeof(*a));
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		if (n >= strlen(other[i]) && !memcmp(s, other[i], strlen(other[i])))
			return;
	st_fs_path(a, s, n); /* a unix path as the event spells it: "/run/x", "@name", "" */
}

void st_fs_addr_from_sockaddr(struct st_fs_addr *a, const struct sockaddr *sa, socklen_t len)
{
	memset(a, 0, sizeof(*a));
	if (!sa || len < sizeof(sa_family_t))
		return;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

		a->kind = ST_FS_IN4;
		memcpy(a->ip, &in->sin_addr, 4);
		a->port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		const unsigned char *b = in6->sin6_addr.s6_addr;

		a->port = ntohs(in6->sin6_port);
		if (!memcmp(b, mapped, sizeof(mapped))) {
			a->kind = ST_FS_IN4;
			memcpy(a->ip, b + 12, 4);
		} else {
			a->kind = ST_FS_IN6;
			memcpy(a->ip, b, 16);
		}
	} else if (sa->sa_family == AF_UNIX) {
		const struct sockaddr_un *un = (const struct sockaddr_un *)(const void *)sa;
		size_t off = offsetof(struct sockaddr_un, sun_path), n;
		char buf[ST_FS_PATH_MAX];

		n = len > off ? len - off : 0;
		if (n > sizeof(un->sun_path))
			n = sizeof(un->sun_path);
		if (n && un->sun_path[0] == '\0') {
			/* Abstract: written "@name" in events, and so named in filters. */
			n = n - 1 < sizeof(buf) - 1 ? n - 1 : sizeof(buf) - 1;
			buf[0] = '@';
			memcpy(buf + 1, un->sun_path + 1, n);
			st_fs_path(a, buf, n + 1);
		} else {
			const char *nul = memchr(un->sun_path, '\0', n);

			st_fs_path(a, un->sun_path, nul ? (size_t)(nul - un->sun_path) : n);
		}
	}
}

/* peer=: the address, merged with a port= given before it. */
static int st_fs_peer(struct st_fs *f, const char *v, size_t n, struct st_fs_error *e)
{
	struct st_fs_addr a;

	memset(&a, 0, sizeof(a));
	if ((f->terms & ST_FS_PEER) && f->peer.kind != ST_FS_ANYIP)
		return st_fs_fail(e, NULL, 0, "peer given twice", "");
	if (n && (v[0] == '/' || v[0] == '@')) {
		if (n > 108)
			return st_fs_fail(e, v, n, "unix path too long",
					  "(at most 108 bytes, as sun_path)");
		st_fs_path(&a, v, n);
	} else if (!st_fs_ip(&a, v, n, 0)) {
		return st_fs_fail(e, v, n, "not an address",
				  "(a.b.c.d[:port], an IPv6 address or [IPv6]:port, "
				  "/unix/path or @abstract)");
	}
	if (f->terms & ST_FS_PORT) {
		if (a.has_port)
			return st_fs_fail(e, NULL, 0, "port given twice (in peer= and port=)", "");
		if (a.kind == ST_FS_UNIX)
			return st_fs_fail(e, v, n, "a unix path has no port", "");
		a.has_port = 1;
		a.port = f->peer.port;
	}
	f->peer = a;
	f->terms |= ST_FS_PEER;
	return 0;
}

static int st_fs_port_term(struct st_fs *f, const char *v, size_t n, struct st_fs_error *e)
{
	unsigned short port;

	if (f->terms & ST_FS_PORT)
		return st_fs_fail(e, NULL, 0, "port given twice", "");
	if (!st_fs_port(v, n, &port))
		return st_fs_fail(e, v, n, "not a port number", "(0 to 65535)");
	if (f->terms & ST_FS_PEER) {
		if (f->peer.has_port)
			return st_fs_fail(e, NULL, 0, "port given twice (in peer= and port=)", "");
		if (f->peer.kind == ST_FS_UNIX)
			return st_fs_fail(e, v, n, "a unix path has no port", "");
	} else {
		memset(&f->peer, 0, sizeof(f->peer));
		f->peer.kind = ST_FS_ANYIP;
	}
	f->peer.has_port = 1;
	f->peer.port = port;
	f->terms |= ST_FS_PEER | ST_FS_PORT;
	return 0;
}

int st_fs_add(struct st_fs *f, const char *term, size_t n, struct st_fs_error *e)
{
	const char *eq = memchr(term, '=', n), *v = eq ? eq + 1 : term + n;
	size_t kl = eq ? (size_t)(eq - term) : n, vl = (size_t)(term + n - v);
	unsigned long long num;

	e->term = term;
	e->term_len = n;
	/* The terms that take no value. */
	if (st_fs_eq(term, kl, "errors") || st_fs_eq(term, kl, "lint")) {
		if (eq)
			return st_fs_fail(e, NULL, 0, "takes no value", "");
		f->terms |= term[0] == 'e' ? ST_FS_ERRORS : ST_FS_LINT;
		return 0;
	}
	if (!st_fs_eq(term, kl, "call") && !st_fs_eq(term, kl, "fd") &&
	    !st_fs_eq(term, kl, "flag") && !st_fs_eq(term, kl, "peer") &&
	    !st_fs_eq(term, kl, "port") && !st_fs_eq(term, kl, "min-len") &&
	    !st_fs_eq(term, kl, "max-len"))
		return st_fs_fail(e, term, kl, "unknown term", ST_FS_TERMS_HINT);
	if (!vl)
		return st_fs_fail(e, NULL, 0, "needs a value", "(KEY=VALUE, no spaces around =)");
	switch (term[0] == 'm' ? term[1] : term[0]) {
	case 'c':
		if (f->terms & ST_FS_CALL)
			return st_fs_fail(e, NULL, 0, "call given twice",
					  "(give one list: call=a,b)");
		f->terms |= ST_FS_CALL;
		return st_fs_calls(v, vl, &f->calls, e);
	case 'f':
		if (term[1] == 'd') {
			if (f->terms & ST_FS_FD)
				return st_fs_fail(e, NULL, 0, "fd given twice", "");
			if (st_fs_number(v, vl, 0x7fffffff, 0, &num) != 0)
				return st_fs_fail(e, v, vl, "not a file descriptor number", "");
			f->fd = (int)num;
			f->terms |= ST_FS_FD;
			return 0;
		}
		if (f->terms & ST_FS_FLAG)
			return st_fs_fail(e, NULL, 0, "flag given twice",
					  "(give one list: flag=a,b)");
		f->terms |= ST_FS_FLAG;
		return st_fs_flags(v, vl, &f->flags, e);
	case 'p':
		return term[1] == 'e' ? st_fs_peer(f, v, vl, e) : st_fs_port_term(f, v, vl, e);
	case 'i': /* min-len */
	case 'a': /* max-len */
	{
		unsigned bit = term[1] == 'i' ? ST_FS_MINLEN : ST_FS_MAXLEN;

		if (f->terms & bit)
			return st_fs_fail(e, NULL, 0,
					  bit == ST_FS_MINLEN ? "min-len given twice"
							      : "max-len given twice",
					  "");
		if (st_fs_number(v, vl, ~0ull, 0, &num) != 0)
			return st_fs_fail(e, v, vl, "not a byte count", "");
		if (bit == ST_FS_MINLEN)
			f->min_len = num;
		else
			f->max_len = num;
		f->terms |= bit;
		return 0;
	}
	}
	return st_fs_fail(e, term, kl, "unknown term", ST_FS_TERMS_HINT);
}

static int st_fs_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int st_fs_parse(struct st_fs *f, const char *text, size_t n, struct st_fs_error *e)
{
	memset(f, 0, sizeof(*f));
	return st_fs_add_text(f, text, n, e);
}

int st_fs_add_text(struct st_fs *f, const char *text, size_t n, struct st_fs_error *e)
{
	size_t i = 0;

	memset(e, 0, sizeof(*e));
	if (n >= ST_FS_TEXT_MAX)
		return st_fs_fail(e, NULL, 0, "filter text longer than 1023 bytes", "");
	while (i < n) {
		size_t start;

		while (i < n && st_fs_space(text[i]))
			i++;
		if (i == n)
			break;
		start = i;
		while (i < n && !st_fs_space(text[i]))
			i++;
		if (st_fs_add(f, text + start, i - start, e) != 0)
			return -1;
	}
	return 0;
}

/* Appends s (n bytes) where there is room, always leaving a NUL. */
static size_t st_fs_put(char *out, size_t cap, size_t at, const char *s, size_t n)
{
	if (!cap)
		return at;
	if (at + n > cap - 1)
		n = at < cap - 1 ? cap - 1 - at : 0;
	memcpy(out + at, s, n);
	out[at + n] = '\0';
	return at + n;
}

#define ST_FS_PUTS(s) (at = st_fs_put(out, cap, at, (s), strlen(s)))

size_t st_fs_error_text(const struct st_fs_error *e, char *out, size_t cap)
{
	size_t at = st_fs_put(out, cap, 0, "", 0);

	if (e->term) {
		ST_FS_PUTS("bad filter term '");
		at = st_fs_put(out, cap, at, e->term, e->term_len);
		ST_FS_PUTS("': ");
	}
	ST_FS_PUTS(e->what ? e->what : "not valid");
	if (e->bad) {
		ST_FS_PUTS(" '");
		at = st_fs_put(out, cap, at, e->bad, e->bad_len);
		ST_FS_PUTS("'");
	}
	if (e->hint && e->hint[0]) {
		ST_FS_PUTS(" ");
		ST_FS_PUTS(e->hint);
	}
	return at;
}

int st_fs_match_call(const struct st_fs *f, unsigned call, int fd, long long flags)
{
	if ((f->terms & ST_FS_CALL) && (call >= ST_FS_NCALLS || !(f->calls & (1u << call))))
		return 0;
	if ((f->terms & ST_FS_FD) && fd != f->fd)
		return 0;
	if ((f->terms & ST_FS_FLAG) && (flags < 0 || !((unsigned)flags & f->flags)))
		return 0;
	return 1;
}

int st_fs_match_len(const struct st_fs *f, int has_len, unsigned long long len)
{
	if ((f->terms & ST_FS_MINLEN) && (!has_len || len < f->min_len))
		return 0;
	if ((f->terms & ST_FS_MAXLEN) && (!has_len || len > f->max_len))
		return 0;
	return 1;
}

int st_fs_match_result(const struct st_fs *f, int failed, int lint)
{
	if ((f->terms & ST_FS_ERRORS) && !failed)
		return 0;
	if ((f->terms & ST_FS_LINT) && !lint)
		return 0;
	return 1;
}

int st_fs_match_addr(const struct st_fs *f, const struct st_fs_addr *a)
{
	const struct st_fs_addr *w = &f->peer;

	if (!(f->terms & ST_FS_PEER))
		return 1;
	switch (w->kind) {
	case ST_FS_ANYIP:
		if (a->kind != ST_FS_IN4 && a->kind != ST_FS_IN6)
			return 0;
		break;
	case ST_FS_IN4:
		if (a->kind != ST_FS_IN4 || memcmp(a->ip, w->ip, 4))
			return 0;
		break;
	case ST_FS_IN6:
		if (a->kind != ST_FS_IN6 || memcmp(a->ip, w->ip, 16))
			return 0;
		break;
	case ST_FS_UNIX:
		return a->kind == ST_FS_UNIX && a->pathlen == w->pathlen &&
		       !memcmp(a->path, w->path, w->pathlen);
	default:
		return 0;
	}
	return !w->has_port || a->port == w->port;
}
