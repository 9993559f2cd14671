/* lintrace.c: the whole-trace lint rules: each process's calls, per fd and in time order, judged
 * after the fact. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rules.h"

/*
 * What no single event can show: a partial write that is never completed,
 * a retry loop that never waits, a burst of small writes, sends that go on
 * after the connection failed, one hot destination on an unconnected UDP
 * socket. The rules are those of the table in lib/rules.c whose scope is
 * ST_SCOPE_TRACE.
 *
 * Order. The rules need the calls in time order, and a trace file does not
 * hold them so: each thread fills its own slice of the file, and a slice left
 * by one thread is taken by another, so the lines of one process, and even
 * of one thread, can come back in time; several files (run -F) are read one
 * after the other. The calls are therefore held, and judged in time order
 * (ties: in the order read) at the end of the input. To stay within bounded
 * memory on traces of many GB, at most LT_PENDING_MAX calls are held: when
 * that is reached, they are sorted and the older half is judged. A call that
 * comes later than ones already judged on its fd is judged where it comes,
 * and counted: lint says how many. Judging all fds in one time order is what
 * lets small-writes-burst see the peer's sends between two writes, when both
 * ends of a connection are in the trace.
 *
 * Each call is held as a small struct wev (the strings it names are
 * interned), never as its JSON.
 *
 * A remainder whose fd saw no send after it is judged only at the very end:
 * the same socket may be sent on through another fd or by another process
 * (a dup, a forked child), later in time. A stream socket is known by its
 * endpoints (and an AF_UNIX one by its inode), whatever fd holds it.
 *
 * Completeness. The rules that conclude from a call that did not happen
 * (unsent-remainder: no send followed; eagain-spin and small-writes-burst:
 * nothing came between) are wrong on a trace that left calls out. They are
 * not applied to a process whose trace is known or likely incomplete:
 * sampled (events carry "sample", or its exit record counts sampled_out),
 * filtered (its exit record counts filtered calls), or recorded with
 * SENDTRACE_ONLY=lint, which is guessed when every send call of the process
 * carries a finding. The findings are therefore held per (rule, call site,
 * pid) until the end, when every process's records have been read.
 */

#define LT_PENDING_MAX (1u << 19) /* calls held for ordering: about 50 MB */

enum { W_SEND, W_CLOSE, W_SHUT, W_MARK };	    /* what a held call is */
enum { E_NONE, E_AGAIN, E_PIPE, E_RESET, E_OTHER }; /* how it failed */
enum { K_OTHER, K_TCP, K_STREAM, K_UDP }; /* the socket: TCP, another stream, IP datagram */
enum {					  /* what the reader decided of a send */
       B_SHORT = 1,			  /* took less than given, and more was there */
       B_SMALL = 2,			  /* a small TCP write that Nagle may hold */
};
enum { R_CLOSED, R_SHUT, R_REUSED, R_EXITED, R_UNKNOWN }; /* how a socket's story ended */

static const char *const calls[] = {"send",   "sendto",	  "sendmsg",	"sendmmsg", "write",
				    "writev", "sendfile", "sendfile64", NULL};

struct wev {
	long long ts, end; /* start, and start + duration */
	long long pid, fd;
	long long len, ret;
	long long ino;	     /* AF_UNIX inode, or 0 */
	unsigned long ident; /* the socket, as its family, type and endpoints say; 0: unknown */
	unsigned long seq;   /* the order read, for ties */
	unsigned site, kind, local, peer; /* interned: call site, "AF_INET SOCK_STREAM", ends */
	unsigned char what, err, cls, bits, call;
};

/* Strings, each kept once: sites, socket kinds and peers recur on every call. */
struct strtab {
	char **v;
	size_t n, cap;
	struct table t;
};

struct wfd {
	long long pid, fd;
	long long done_ts; /* the last call judged */
	int done_any;
	unsigned long ident; /* the socket the fd holds now, as far as known */
	long long ino;
	/* unsent-remainder: a short send not yet carried on */
	int rem_on;
	struct wev rem;
	/* eagain-spin: the current run of EAGAIN failures */
	unsigned long spin_n;
	long long *ring; /* the last ST_SPIN_MIN failures' times */
	unsigned ring_head;
	int spin_fired;
	struct wev spin_ev;
	long long spin_last;
	/* small-writes-burst */
	unsigned long burst_n;
	long long burst_min, burst_max, burst_last, burst_end; /* last: the last write's start */
	struct wev burst_ev;
	/* send-after-error */
	int err_on;
	unsigned long err_after;
	long long err_last;
	struct wev err_ev;
};

struct wpid {
	long long pid;
	int exited, sampled, filtered;
	int hid; /* a finding of it was not reported: its trace may lack calls */
	long long exit_ts;
	unsigned long sends, sends_lint;
	unsigned comm;
	unsigned nosite; /* its calls without a recorded site, as one site */
};

/* One destination of one unconnected UDP socket. */
struct whot {
	long long pid, fd;
	unsigned local, dest, site, kind;
	unsigned char call;
	int other; /* it sent to another address too */
	unsigned long long n;
	long long first, last;
};

/* One end of a TCP connection, by its endpoints: did it send, and when last? */
struct wconn {
	unsigned local, peer;
	long long last_send;
	int sent;
};

/*
 * A stream socket by its identity, whatever fd or process sends on it (dup,
 * fork, SCM_RIGHTS): when did anyone last send on it?
 */
struct wsock {
	unsigned long ident;
	long long ino, last_send;
};

/* A remainder whose fd's story ended with no send after: judged at the very end. */
struct wended {
	struct wev rem;
	int reason;
	long long ts;
};

/* Findings, per (rule, call site, pid), until the end. */
struct wfind {
	const struct st_rule *rule;
	unsigned site, peer, kind;
	long long pid, fd;
	unsigned char call;
	unsigned long count;
	unsigned long long events, bytes;
	long long first, last;
	double rate;
	char *detail;
};

struct lt {
	struct strtab str;
	struct wfd **fds;
	size_t nfds, capfds;
	struct table fd_t;
	struct wpid *pids;
	size_t npids, cappids;
	struct table pid_t;
	struct whot *hot;
	size_t nhot, caphot;
	struct table hot_t;
	struct wfind *finds;
	size_t nfinds, capfinds;
	struct table find_t;
	struct wconn *conns;
	size_t nconns, capconns;
	struct table conn_t;
	struct wsock *socks;
	size_t nsocks, capsocks;
	struct table sock_t;
	struct wended *ended;
	size_t nended, capended;
	struct wev *q; /* held, not yet judged */
	size_t nq, capq, hold;
	unsigned long seq, late, undecided;
};

static void *lt_grow(void *v, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return v;
	*cap = *cap ? 2 * *cap : 4;
	while (*cap < need)
		*cap *= 2;
	v = realloc(v, *cap * size);
	if (!v) {
		cli_error("out of memory");
		exit(EXIT_TROUBLE);
	}
	return v;
}

/* ---- small helpers ---- */

static unsigned long mix(unsigned long h, unsigned long long x)
{
	h ^= (unsigned long)(x ^ (x >> 29)) * 0x9E3779B1u;
	return h * 16777619u;
}

/* a + b without the overflow a hostile trace could ask for. */
static long long add(long long a, long long b)
{
	long long r;

	return __builtin_add_overflow(a, b, &r) ? (b > 0 ? __LONG_LONG_MAX__ : -__LONG_LONG_MAX__)
						: r;
}

static long long sub(long long a, long long b)
{
	long long r;

	return __builtin_sub_overflow(a, b, &r) ? (b < 0 ? __LONG_LONG_MAX__ : -__LONG_LONG_MAX__)
						: r;
}

/* A span of time, for the details: "850 ns", "12.5 us", "3.2 ms", "1.50 s". */
static void span(char *buf, size_t n, long long ns)
{
	if (ns < 0)
		ns = 0;
	if (ns < 1000)
		snprintf(buf, n, "%lld ns", ns);
	else if (ns < 1000000)
		snprintf(buf, n, "%.1f us", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, n, "%.1f ms", ns / 1e6);
	else
		snprintf(buf, n, "%.2f s", ns / 1e9);
}

static const char *str_of(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static long long int_of(json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

struct str_key {
	const struct strtab *s;
	const char *text;
};

static int same_str(size_t item, const void *key)
{
	const struct str_key *k = key;

	return !strcmp(k->s->v[item], k->text);
}

/* The number of text in s (NULL reads as ""; number 0 is always ""). */
static unsigned intern(struct strtab *s, const char *text)
{
	struct str_key key = {s, text ? text : ""};
	size_t i;

	if (!*key.text)
		return 0;
	i = table_find(&s->t, table_hash(TABLE_HASH_INIT, key.text), same_str, &key, s->n);
	if (i == s->n) {
		s->v = lt_grow(s->v, &s->cap, s->n + 1, sizeof(*s->v));
		if (!(s->v[s->n] = strdup(key.text))) {
			cli_error("out of memory");
			exit(EXIT_TROUBLE);
		}
		s->n++;
	}
	return (unsigned)i;
}

/* ---- the tables: fds, processes, hot destinations, findings ---- */

struct fd_key {
	const struct lt *t;
	long long pid, fd;
};

static int same_fd(size_t item, const void *key)
{
	const struct fd_key *k = key;

	return k->t->fds[item]->pid == k->pid && k->t->fds[item]->fd == k->fd;
}

static struct wfd *fd_get(struct lt *t, long long pid, long long fd)
{
	struct fd_key key = {t, pid, fd};
	size_t i = table_find(
	    &t->fd_t, mix(mix(TABLE_HASH_INIT, (unsigned long long)pid), (unsigned long long)fd),
	    same_fd, &key, t->nfds);

	if (i == t->nfds) {
		t->fds = lt_grow(t->fds, &t->capfds, t->nfds + 1, sizeof(*t->fds));
		if (!(t->fds[i] = calloc(1, sizeof(**t->fds)))) {
			cli_error("out of memory");
			exit(EXIT_TROUBLE);
		}
		t->fds[i]->pid = pid;
		t->fds[i]->fd = fd;
		t->nfds++;
	}
	return t->fds[i];
}

struct pid_key {
	const struct lt *t;
	long long pid;
};

static int same_pid(size_t item, const void *key)
{
	const struct pid_key *k = key;

	return k->t->pids[item].pid == k->pid;
}

static struct wpid *pid_get(struct lt *t, long long pid)
{
	struct pid_key key = {t, pid};
	size_t i = table_find(&t->pid_t, mix(TABLE_HASH_INIT, (unsigned long long)pid), same_pid,
			      &key, t->npids);

	if (i == t->npids) {
		t->pids = lt_grow(t->pids, &t->cappids, t->npids + 1, sizeof(*t->pids));
		memset(&t->pids[i], 0, sizeof(t->pids[i]));
		t->pids[i].pid = pid;
		t->npids++;
	}
	return &t->pids[i];
}

struct hot_key {
	const struct lt *t;
	long long pid, fd;
	unsigned local;
};

static int same_hot(size_t item, const void *key)
{
	const struct hot_key *k = key;
	const struct whot *h = &k->t->hot[item];

	return h->pid == k->pid && h->fd == k->fd && h->local == k->local;
}

struct find_key {
	const struct lt *t;
	const struct st_rule *rule;
	unsigned site;
	long long pid;
};

static int same_find(size_t item, const void *key)
{
	const struct find_key *k = key;
	const struct wfind *f = &k->t->finds[item];

	return f->rule == k->rule && f->site == k->site && f->pid == k->pid;
}

/*
 * One finding: an instance of a rule, about ev (the call that shows it),
 * counting `events` calls from first to last.
 */
static void found(struct lt *t, enum st_rule_id r, long long pid, long long fd,
		  const struct wev *ev, unsigned long long events, long long first, long long last,
		  double rate, unsigned long long bytes, const char *detail)
{
	struct find_key key = {t, &st_rules[r], ev->site, pid};
	size_t i = table_find(&t->find_t,
			      mix(mix(table_hash(TABLE_HASH_INIT, st_rules[r].id), ev->site),
				  (unsigned long long)pid),
			      same_find, &key, t->nfinds);
	struct wfind *f;

	if (i == t->nfinds) {
		t->finds = lt_grow(t->finds, &t->capfinds, t->nfinds + 1, sizeof(*t->finds));
		f = &t->finds[i];
		memset(f, 0, sizeof(*f));
		f->rule = &st_rules[r];
		f->site = ev->site;
		f->pid = pid;
		f->fd = fd;
		f->peer = ev->peer;
		f->kind = ev->kind;
		f->call = ev->call;
		f->first = first;
		f->last = last;
		f->detail = strdup(detail);
		t->nfinds++;
	}
	f = &t->finds[i];
	f->count++;
	f->events += events;
	f->bytes += bytes;
	if (first < f->first)
		f->first = first;
	if (last > f->last)
		f->last = last;
	if (rate > f->rate)
		f->rate = rate;
}

struct conn_key {
	const struct lt *t;
	unsigned local, peer;
};

static int same_conn(size_t item, const void *key)
{
	const struct conn_key *k = key;

	return k->t->conns[item].local == k->local && k->t->conns[item].peer == k->peer;
}

/* The end (local, peer) of a TCP connection: made if `make`, else NULL when not met yet. */
static struct wconn *conn_get(struct lt *t, unsigned local, unsigned peer, int make)
{
	struct conn_key key = {t, local, peer};
	size_t i = table_find(&t->conn_t, mix(mix(TABLE_HASH_INIT, local), peer), same_conn, &key,
			      make ? t->nconns : TABLE_NONE);

	if (i == TABLE_NONE)
		return NULL;
	if (i == t->nconns) {
		t->conns = lt_grow(t->conns, &t->capconns, t->nconns + 1, sizeof(*t->conns));
		memset(&t->conns[i], 0, sizeof(t->conns[i]));
		t->conns[i].local = local;
		t->conns[i].peer = peer;
		t->nconns++;
	}
	return &t->conns[i];
}

struct sock_key {
	const struct lt *t;
	unsigned long ident;
	long long ino;
};

static int same_sock(size_t item, const void *key)
{
	const struct sock_key *k = key;

	return k->t->socks[item].ident == k->ident && k->t->socks[item].ino == k->ino;
}

static struct wsock *sock_get(struct lt *t, unsigned long ident, long long ino, int make)
{
	struct sock_key key = {t, ident, ino};
	size_t i = table_find(&t->sock_t, mix(mix(TABLE_HASH_INIT, ident), (unsigned long long)ino),
			      same_sock, &key, make ? t->nsocks : TABLE_NONE);

	if (i == TABLE_NONE)
		return NULL;
	if (i == t->nsocks) {
		t->socks = lt_grow(t->socks, &t->capsocks, t->nsocks + 1, sizeof(*t->socks));
		t->socks[i].ident = ident;
		t->socks[i].ino = ino;
		t->socks[i].last_send = 0;
		t->nsocks++;
	}
	return &t->socks[i];
}

/* The address part of "1.2.3.4:80" or "[::1]:80", into buf; "" if it is neither. */
static void host_of(const char *ep, char *buf, size_t n)
{
	const char *colon = strrchr(ep, ':');
	size_t l;

	buf[0] = '\0';
	if (!colon)
		return;
	l = (size_t)(colon - ep);
	if (ep[0] == '[' && l >= 2 && ep[l - 1] == ']') {
		ep++;
		l -= 2;
	}
	if (l >= n)
		return;
	memcpy(buf, ep, l);
	buf[l] = '\0';
}

/*
 * Can no reply have come between two writes this close together? Only when
 * the peer is on another host: over loopback (or to the host's own address)
 * a reply can come back within a microsecond.
 */
static int remote_peer(const struct lt *t, const struct wev *e)
{
	char l[64], p[64];

	host_of(t->str.v[e->local], l, sizeof(l));
	host_of(t->str.v[e->peer], p, sizeof(p));
	return *l && *p && strcmp(l, p) && strncmp(p, "127.", 4) && strcmp(p, "::1") &&
	       strncmp(p, "::ffff:127.", 11);
}

/* ---- the rules, on one fd's calls in time order ---- */

static void spin_end(struct lt *t, struct wfd *w)
{
	char d[160], s[32];
	long long dt = sub(w->spin_last, w->spin_ev.ts);
	double rate = (double)w->spin_n / ((dt > 0 ? (double)dt : 1.0) / 1e6);

	if (w->spin_fired) {
		span(s, sizeof(s), dt);
		snprintf(d, sizeof(d),
			 "%lu %s calls failed with EAGAIN in a row in %s (%.0f per ms)", w->spin_n,
			 calls[w->spin_ev.call], s, rate);
		found(t, ST_R_EAGAIN_SPIN, w->pid, w->fd, &w->spin_ev, w->spin_n, w->spin_ev.ts,
		      w->spin_last, rate, 0, d);
	}
	w->spin_n = 0;
	w->spin_fired = 0;
	w->ring_head = 0;
}

static void spin_add(struct wfd *w, const struct wev *e)
{
	if (!w->ring && !(w->ring = malloc(ST_SPIN_MIN * sizeof(*w->ring)))) {
		cli_error("out of memory");
		exit(EXIT_TROUBLE);
	}
	if (!w->spin_n)
		w->spin_ev = *e;
	w->spin_last = e->ts;
	w->spin_n++;
	/* The last ST_SPIN_MIN times; once full, the oldest is the one the head points at. */
	w->ring[w->ring_head] = e->ts;
	w->ring_head = (w->ring_head + 1) % ST_SPIN_MIN;
	if (w->spin_n >= ST_SPIN_MIN && sub(e->ts, w->ring[w->ring_head]) <= ST_SPIN_WINDOW_NS)
		w->spin_fired = 1;
}

static void burst_end(struct lt *t, struct wfd *w)
{
	char d[160], s[32];

	if (w->burst_n >= ST_BURST_MIN) {
		span(s, sizeof(s), sub(w->burst_end, w->burst_ev.ts));
		snprintf(d, sizeof(d), "%lu writes of %lld to %lld bytes in %s", w->burst_n,
			 w->burst_min, w->burst_max, s);
		found(t, ST_R_SMALL_WRITES, w->pid, w->fd, &w->burst_ev, w->burst_n, w->burst_ev.ts,
		      w->burst_last, 0, 0, d);
	}
	w->burst_n = 0;
}

static void burst_add(struct lt *t, struct wfd *w, const struct wev *e)
{
	struct wconn *peer = conn_get(t, e->peer, e->local, 0);

	/* Not judged where a reply could have come unseen: the next write starts afresh. */
	if (!peer && !remote_peer(t, e)) {
		if (w->burst_n)
			burst_end(t, w);
		return;
	}
	/* Calls of two threads can overlap: a negative gap is no gap. */
	if (w->burst_n && (sub(e->ts, w->burst_end) > ST_BURST_GAP_NS ||
			   (peer && peer->sent && peer->last_send >= w->burst_last)))
		burst_end(t, w);
	if (!w->burst_n) {
		w->burst_ev = *e;
		w->burst_min = w->burst_max = e->len;
	}
	if (e->len < w->burst_min)
		w->burst_min = e->len;
	if (e->len > w->burst_max)
		w->burst_max = e->len;
	w->burst_last = e->ts;
	w->burst_end = e->end;
	w->burst_n++;
}

static void err_end(struct lt *t, struct wfd *w)
{
	char d[200], s[32];

	if (w->err_on && w->err_after >= ST_AFTER_ERROR_MIN) {
		span(s, sizeof(s), sub(w->err_last, w->err_ev.ts));
		snprintf(d, sizeof(d), "%s failed with %s, then %lu more send calls in %s",
			 calls[w->err_ev.call], w->err_ev.err == E_PIPE ? "EPIPE" : "ECONNRESET",
			 w->err_after, s);
		found(t, ST_R_SEND_AFTER_ERROR, w->pid, w->fd, &w->err_ev, w->err_after + 1,
		      w->err_ev.ts, w->err_last, 0, 0, d);
	}
	w->err_on = 0;
	w->err_after = 0;
}

static void rem_end(struct lt *t, struct wfd *w, int reason, long long ts)
{
	if (!w->rem_on)
		return;
	w->rem_on = 0;
	if (reason == R_UNKNOWN) {
		t->undecided++; /* no exit record: killed, or still running; say nothing */
		return;
	}
	/* The same socket may still be sent on through another fd, later: wait for the end. */
	t->ended = lt_grow(t->ended, &t->capended, t->nended + 1, sizeof(*t->ended));
	t->ended[t->nended].rem = w->rem;
	t->ended[t->nended].reason = reason;
	t->ended[t->nended].ts = ts;
	t->nended++;
}

/* A remainder whose fd saw no send after it, once every call is judged. */
static void rem_judge(struct lt *t, const struct wended *x)
{
	static const char *const how[] = {
	    [R_CLOSED] = "the fd was closed",
	    [R_SHUT] = "the socket was shut down for writing",
	    [R_REUSED] = "the fd was taken by another socket",
	    [R_EXITED] = "the process exited",
	};
	const struct wev *r = &x->rem;
	struct wsock *k = r->ident ? sock_get(t, r->ident, r->ino, 0) : NULL;
	char d[256], s[32];
	long long unsent = sub(r->len, r->ret);

	if (k && k->last_send > r->ts)
		return; /* carried on through another fd, or by another process */
	span(s, sizeof(s), sub(x->ts, r->end));
	snprintf(d, sizeof(d),
		 "%s of %lld bytes took %lld; %s %s later with no send between: %lld bytes never "
		 "sent",
		 calls[r->call], r->len, r->ret, how[x->reason], s, unsent);
	found(t, ST_R_UNSENT, r->pid, r->fd, r, 1, r->ts, r->ts, 0, (unsigned long long)unsent, d);
}

/* The socket the fd held is gone (or its story is over): judge what was pending on it. */
static void end_socket(struct lt *t, struct wfd *w, int reason, long long ts)
{
	rem_end(t, w, reason, ts);
	if (w->spin_n)
		spin_end(t, w);
	if (w->burst_n)
		burst_end(t, w);
	err_end(t, w);
}

static void judge(struct lt *t, const struct wev *e)
{
	struct wfd *w = fd_get(t, e->pid, e->fd);

	if (w->done_any && e->ts < w->done_ts)
		t->late++; /* judged where it came: see LT_PENDING_MAX */
	else
		w->done_ts = e->ts;
	w->done_any = 1;
	/* Another socket on the fd: the one before was closed where no record shows it. */
	if (e->ident && w->ident &&
	    (e->ident != w->ident || (e->ino && w->ino && e->ino != w->ino)))
		end_socket(t, w, R_REUSED, e->ts);
	if (e->ident) {
		w->ident = e->ident;
		w->ino = e->ino;
	}
	switch (e->what) {
	case W_CLOSE:
		end_socket(t, w, R_CLOSED, e->ts);
		w->ident = 0;
		w->ino = 0;
		return;
	case W_SHUT:
		rem_end(t, w, R_SHUT, e->ts);
		return;
	case W_MARK:
		/* Its end of the connection is in the trace: small-writes-burst can see its
		 * replies. */
		if (e->cls == K_TCP && e->local && e->peer)
			conn_get(t, e->local, e->peer, 1);
		return;
	}
	/* Any send carries a remainder on: its bytes cannot be compared, only its being there. */
	w->rem_on = 0;
	if (e->bits & B_SHORT) {
		w->rem_on = 1;
		w->rem = *e;
	}
	if (e->err == E_AGAIN)
		spin_add(w, e);
	else if (w->spin_n)
		spin_end(t, w);
	if (e->bits & B_SMALL)
		burst_add(t, w, e);
	else if (w->burst_n)
		burst_end(t, w);
	if ((e->cls == K_TCP || e->cls == K_STREAM) && e->ident) {
		struct wsock *k = sock_get(t, e->ident, e->ino, 1);

		if (e->ts > k->last_send)
			k->last_send = e->ts;
	}
	if (e->cls == K_TCP && e->local && e->peer) {
		struct wconn *c = conn_get(t, e->local, e->peer, 1);

		c->sent = 1;
		c->last_send = e->ts;
	}
	if (w->err_on) {
		w->err_after++;
		w->err_last = e->ts;
	} else if (e->err == E_PIPE || e->err == E_RESET) {
		w->err_on = 1;
		w->err_ev = *e;
		w->err_last = e->ts;
	}
}

static int by_time(const void *a, const void *b)
{
	const struct wev *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sort what is held and judge the first k. */
static void judge_upto(struct lt *t, size_t k)
{
	size_t i;

	if (!t->nq)
		return; /* nothing held: t->q may be NULL, which qsort must not get */
	qsort(t->q, t->nq, sizeof(*t->q), by_time);
	for (i = 0; i < k; i++)
		judge(t, &t->q[i]);
	memmove(t->q, t->q + k, (t->nq - k) * sizeof(*t->q));
	t->nq -= k;
}

static void push(struct lt *t, long long pid, long long fd, struct wev *e)
{
	e->pid = pid;
	e->fd = fd;
	e->seq = t->seq++;
	t->q = lt_grow(t->q, &t->capq, t->nq + 1, sizeof(*t->q));
	t->q[t->nq++] = *e;
	if (t->nq >= t->hold)
		judge_upto(t, t->nq / 2);
}

/* ---- reading the events ---- */

static int err_of(json_t *ev)
{
	const char *e = str_of(ev, "errno");

	if (!e)
		return E_NONE;
	if (!strcmp(e, "EAGAIN") || !strcmp(e, "EWOULDBLOCK"))
		return E_AGAIN;
	if (!strcmp(e, "EPIPE"))
		return E_PIPE;
	if (!strcmp(e, "ECONNRESET"))
		return E_RESET;
	return E_OTHER;
}

/* The socket of a call (sock, or accept's new_sock) into e: its class, kind, peer and identity. */
static void describe(struct lt *t, struct wev *e, json_t *sock)
{
	const char *fam = str_of(sock, "family"), *type = str_of(sock, "type");
	const char *proto = str_of(sock, "proto"), *local = str_of(sock, "local");
	const char *peer = str_of(sock, "peer");
	int inet = fam && (!strcmp(fam, "AF_INET") || !strcmp(fam, "AF_INET6"));
	int stream = type && !strcmp(type, "SOCK_STREAM");
	char kind[128];
	unsigned long h;

	e->cls = stream && inet && proto && !strcmp(proto, "tcp") ? K_TCP
		 : stream					  ? K_STREAM
		 : inet && type && !strcmp(type, "SOCK_DGRAM") && proto && !strcmp(proto, "udp")
		     ? K_UDP
		     : K_OTHER;
	snprintf(kind, sizeof(kind), "%s %s", fam ? fam : "?", type ? type : "?");
	e->kind = intern(&t->str, kind);
	e->peer = intern(&t->str, peer);
	e->local = intern(&t->str, local);
	e->ino = (long long)json_integer_value(json_object_get(sock, "ino"));
	/* A stream without its peer yet (a connect under way) is not known by its endpoints. */
	if (stream && !peer) {
		e->ident = 0;
		return;
	}
	h = table_hash(
	    table_hash(table_hash(table_hash(TABLE_HASH_INIT, fam ? fam : "?"), type ? type : "?"),
		       local ? local : "?"),
	    peer ? peer : "-");
	e->ident = h ? h : 1;
}

static int has_more(json_t *ev)
{
	json_t *raw = json_object_get(ev, "flags_raw"), *f;
	size_t i;

	if (json_is_integer(raw))
		return (json_integer_value(raw) & 0x8000) != 0; /* MSG_MORE */
	json_array_foreach (json_object_get(ev, "flags"), i, f)
		if (json_is_string(f) && !strcmp(json_string_value(f), "MSG_MORE"))
			return 1;
	return 0;
}

/* A sendfile that stopped short of its count: before the end of its file, or can that not be told?
 */
static int sendfile_short(json_t *ev, const struct wev *e)
{
	json_t *in = json_object_get(ev, "in"), *off = json_object_get(ev, "offset");
	json_t *size = json_object_get(in, "size");
	const char *kind = str_of(in, "kind");

	if (e->ret == 0)
		return 0; /* sendfile returns 0 only at the end of its input */
	/* Without the offset (NULL: the file position) or the size, the end cannot be told. */
	if (!kind || strcmp(kind, "file") || !json_is_integer(off) || !json_is_integer(size))
		return 0;
	return add(json_integer_value(off), e->ret) < json_integer_value(size);
}

static void hot_add(struct lt *t, long long pid, long long fd, json_t *sock, const char *dest,
		    unsigned long long weight, const struct wev *e)
{
	const char *local = str_of(sock, "local");
	struct hot_key key = {t, pid, fd, 0};
	size_t i, n;
	struct whot *h;
	unsigned d = intern(&t->str, dest);

	/* Unbound yet: every new socket would look the same. */
	n = local ? strlen(local) : 0;
	if (n < 2 || !strcmp(local + n - 2, ":0") || !d)
		return;
	key.local = intern(&t->str, local);
	i = table_find(
	    &t->hot_t,
	    mix(mix(mix(TABLE_HASH_INIT, (unsigned long long)pid), (unsigned long long)fd),
		key.local),
	    same_hot, &key, t->nhot);
	if (i == t->nhot) {
		t->hot = lt_grow(t->hot, &t->caphot, t->nhot + 1, sizeof(*t->hot));
		h = &t->hot[i];
		memset(h, 0, sizeof(*h));
		h->pid = pid;
		h->fd = fd;
		h->local = key.local;
		h->dest = d;
		h->site = e->site;
		h->kind = e->kind;
		h->call = e->call;
		h->first = h->last = e->ts;
		t->nhot++;
	}
	h = &t->hot[i];
	if (h->dest != d)
		h->other = 1;
	h->n += weight;
	if (e->ts < h->first)
		h->first = e->ts;
	if (e->ts > h->last)
		h->last = e->ts;
}

static unsigned site_of_event(struct lt *t, json_t *ev, struct wpid *p)
{
	char *s, buf[300];
	unsigned i;

	/* Most calls have neither: grouped by program then, its name being all there is. */
	if (!json_object_get(ev, "bt") && !json_object_get(ev, "site")) {
		if (!p->nosite) {
			snprintf(buf, sizeof(buf), "%s (no call site recorded; run -k records one)",
				 p->comm ? t->str.v[p->comm] : "?");
			p->nosite = intern(&t->str, buf);
		}
		return p->nosite;
	}
	if (!(s = lint_site(ev)))
		return intern(&t->str, "(unknown site)");
	i = intern(&t->str, s);
	free(s);
	return i;
}

void lt_event(struct lt *t, json_t *ev)
{
	const char *event = str_of(ev, "event"), *call = str_of(ev, "call");
	long long pid = int_of(ev, "pid"), fd = int_of(ev, "fd");
	json_t *sock = json_object_get(ev, "sock"), *sample = json_object_get(ev, "sample");
	struct wpid *p;
	struct wev e;
	int c;

	if (!event)
		return;
	if (!strcmp(event, "exit")) {
		p = pid_get(t, pid);
		/* The latest: a pid used again by a later process ends later. */
		if (!p->exited || int_of(ev, "ts") > p->exit_ts)
			p->exit_ts = int_of(ev, "ts");
		p->exited = 1;
		p->filtered |= int_of(ev, "filtered") > 0;
		p->sampled |= int_of(ev, "sampled_out") > 0;
		return;
	}
	if (strcmp(event, "call") || !call)
		return;
	p = pid_get(t, pid);
	if (!p->comm)
		p->comm = intern(&t->str, str_of(ev, "comm"));
	p->sampled |= json_integer_value(sample) > 1;
	memset(&e, 0, sizeof(e));
	e.ts = int_of(ev, "ts");
	e.end = add(e.ts, int_of(ev, "dur_ns"));
	e.ret = int_of(ev, "ret");
	e.err = (unsigned char)err_of(ev);
	if (!strcmp(call, "close")) {
		const char *err = str_of(ev, "errno");

		/* Linux frees the fd even when close fails with EINTR; EBADF closed nothing. */
		if (e.ret == 0 || (err && !strcmp(err, "EINTR"))) {
			e.what = W_CLOSE;
			push(t, pid, fd, &e);
		}
		return;
	}
	if (!strcmp(call, "shutdown")) {
		const char *how = str_of(ev, "how");

		if (e.ret == 0 && how && (!strcmp(how, "SHUT_WR") || !strcmp(how, "SHUT_RDWR"))) {
			e.what = W_SHUT;
			push(t, pid, fd, &e);
		}
		return;
	}
	if (!strcmp(call, "accept") || !strcmp(call, "accept4") || !strcmp(call, "connect")) {
		int acc = call[0] == 'a';
		json_t *s = acc ? json_object_get(ev, "new_sock") : sock;
		const char *err = str_of(ev, "errno");

		if (!json_is_object(s) ||
		    (acc ? e.ret < 0 : e.ret != 0 && !(err && !strcmp(err, "EINPROGRESS"))))
			return;
		e.what = W_MARK;
		describe(t, &e, s);
		push(t, pid, acc ? e.ret : fd, &e);
		return;
	}
	for (c = 0; calls[c] && strcmp(calls[c], call); c++)
		;
	if (!calls[c] || !json_is_object(sock))
		return; /* not a send, or not on a socket */
	p->sends++;
	if (json_array_size(json_object_get(ev, "lint")))
		p->sends_lint++;
	e.what = W_SEND;
	e.call = (unsigned char)c;
	e.len = int_of(ev, "len");
	describe(t, &e, sock);
	e.site = site_of_event(t, ev, p);
	if (e.cls == K_TCP || e.cls == K_STREAM) {
		int sf = !strncmp(call, "sendfile", 8), mm = !strcmp(call, "sendmmsg");

		if (e.err == E_NONE && e.ret >= 0 && e.len > 0 && e.ret < e.len && !mm &&
		    (!sf || sendfile_short(ev, &e)))
			e.bits |= B_SHORT;
		if (e.cls == K_TCP && e.err == E_NONE && e.ret > 0 && e.len < ST_SMALL_WRITE &&
		    !sf && !mm && !has_more(ev) &&
		    json_array_size(json_object_get(ev, "iov")) <= 1 &&
		    !json_object_get(ev, "iov_more") &&
		    !json_is_true(json_object_get(sock, "cork")) &&
		    !json_is_true(json_object_get(sock, "nodelay")))
			e.bits |= B_SMALL;
	}
	if (e.cls == K_UDP && !str_of(sock, "peer")) {
		unsigned long long w = json_integer_value(sample) > 1
					   ? (unsigned long long)json_integer_value(sample)
					   : 1;
		json_t *m;
		size_t i;

		if (!strcmp(call, "sendmmsg")) {
			json_array_foreach (json_object_get(ev, "msgs"), i, m)
				hot_add(t, pid, fd, sock, str_of(m, "addr"), w, &e);
		} else if (str_of(ev, "addr")) {
			hot_add(t, pid, fd, sock, str_of(ev, "addr"), w, &e);
		}
	}
	push(t, pid, fd, &e);
}

/* ---- the end ---- */

struct lt *lt_new(void)
{
	struct lt *t = calloc(1, sizeof(*t));

	if (!t) {
		cli_error("out of memory");
		exit(EXIT_TROUBLE);
	}
	t->str.v = lt_grow(NULL, &t->str.cap, 1, sizeof(*t->str.v));
	t->str.v[0] = strdup(""); /* number 0: no string */
	t->str.n = 1;
	t->hold = LT_PENDING_MAX;
	/* For the tests: a small hold shows what a cap does without a huge trace. */
	if (getenv("SENDTRACE_LINT_HOLD") && atol(getenv("SENDTRACE_LINT_HOLD")) >= 2)
		t->hold = (size_t)atol(getenv("SENDTRACE_LINT_HOLD"));
	return t;
}

static int needs_every_call(const struct st_rule *r)
{
	return r == &st_rules[ST_R_UNSENT] || r == &st_rules[ST_R_EAGAIN_SPIN] ||
	       r == &st_rules[ST_R_SMALL_WRITES];
}

void lt_finish(struct lt *t, void (*fn)(const struct lt_finding *, void *), void *arg)
{
	unsigned long incomplete = 0, skipped = 0;
	size_t k;

	judge_upto(t, t->nq);
	for (k = 0; k < t->nfds; k++) {
		struct wfd *w = t->fds[k];
		struct wpid *p = pid_get(t, w->pid);

		/* A remainder after the exit record is a later process's, of the same pid. */
		end_socket(t, w,
			   p->exited && (!w->rem_on || w->rem.ts <= p->exit_ts) ? R_EXITED
										: R_UNKNOWN,
			   p->exit_ts);
	}
	for (k = 0; k < t->nended; k++)
		rem_judge(t, &t->ended[k]);
	for (k = 0; k < t->nhot; k++) {
		struct whot *h = &t->hot[k];
		struct wev e;
		char d[200], s[32];

		if (h->other || h->n < ST_HOT_DEST_MIN)
			continue;
		memset(&e, 0, sizeof(e));
		e.site = h->site;
		e.kind = h->kind;
		e.peer = h->dest;
		e.call = h->call;
		span(s, sizeof(s), sub(h->last, h->first));
		snprintf(d, sizeof(d), "%llu datagrams to one address in %s, from %s", h->n, s,
			 "a socket that never connected");
		found(t, ST_R_UDP_HOT_DEST, h->pid, h->fd, &e, h->n, h->first, h->last, 0, 0, d);
	}
	for (k = 0; k < t->nfinds; k++) {
		struct wfind *f = &t->finds[k];
		struct wpid *p = pid_get(t, f->pid);
		struct lt_finding out;

		if (needs_every_call(f->rule) &&
		    (p->sampled || p->filtered || p->sends_lint == p->sends)) {
			skipped += f->count;
			p->hid = 1;
			continue;
		}
		out.rule = f->rule;
		out.site = t->str.v[f->site];
		out.peer = f->peer ? t->str.v[f->peer] : NULL;
		out.kind = t->str.v[f->kind];
		out.call = calls[f->call];
		out.detail = f->detail ? f->detail : "";
		out.pid = f->pid;
		out.fd = f->fd;
		out.count = f->count;
		out.events = f->events;
		out.bytes = f->bytes;
		out.first = f->first;
		out.last = f->last;
		out.rate = f->rate;
		fn(&out, arg);
	}
	/* Known to lack calls: said always; guessed (every send with a finding): if it hid one. */
	for (k = 0; k < t->npids; k++)
		incomplete += t->pids[k].hid ||
			      (t->pids[k].sends && (t->pids[k].sampled || t->pids[k].filtered));
	if (incomplete)
		cli_error(
		    "lint: note: unsent-remainder, eagain-spin and small-writes-burst were not "
		    "applied to %lu process%s whose trace may lack calls (sampled, filtered, or "
		    "every send with a finding, as SENDTRACE_ONLY=lint records)%s",
		    incomplete, incomplete == 1 ? "" : "es",
		    skipped ? "; they would have found something" : "");
	if (t->undecided)
		cli_error("lint: note: %lu partial write%s not judged by unsent-remainder: the "
			  "process left no exit record (killed, or still running) and no close or "
			  "shutdown was recorded after (run -e all,lifecycle records them)",
			  t->undecided, t->undecided == 1 ? "" : "s");
	if (t->late)
		cli_error("lint: note: %lu call%s came after later calls of their fd had been "
			  "judged (more than %zu calls held for ordering); judged where they came",
			  t->late, t->late == 1 ? "" : "s", t->hold);
}

void lt_free(struct lt *t)
{
	size_t k;

	free(t->q);
	free(t->conns);
	table_free(&t->conn_t);
	free(t->socks);
	table_free(&t->sock_t);
	free(t->ended);
	for (k = 0; k < t->nfds; k++) {
		free(t->fds[k]->ring);
		free(t->fds[k]);
	}
	for (k = 0; k < t->nfinds; k++)
		free(t->finds[k].detail);
	for (k = 0; k < t->str.n; k++)
		free(t->str.v[k]);
	free(t->str.v);
	table_free(&t->str.t);
	free(t->fds);
	table_free(&t->fd_t);
	free(t->pids);
	table_free(&t->pid_t);
	free(t->hot);
	table_free(&t->hot_t);
	free(t->finds);
	table_free(&t->find_t);
	free(t);
}
