/* recfilter.c: which calls are recorded: SENDTRACE_FILTER and SENDTRACE_SAMPLE, live. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/single_threaded.h>

#include "filterspec.h"
#include "st.h"

/* The shared parser names the calls in the order of enum st_callkind. */
_Static_assert(ST_FS_NCALLS == ST_CALL_SHUTDOWN + 1, "call names and kinds differ");
_Static_assert(ST_FS_SENDS == ST_CALLS_SEND && ST_FS_LIFECYCLE == ST_CALLS_LIFECYCLE,
	       "call groups differ");

/*
 * A call is judged as early as what a term looks at is known, so that a
 * call turned away costs as little as it can: the call, its fd, flags and
 * given length before anything is taken (st_call_begin); the peer by the fd
 * table once the fd is known; failure, destinations and the iovecs' sum
 * after the call, before a buffer level is taken or anything encoded; only
 * findings (and sendmmsg's listed length) need the call decoded, and even
 * then no backtrace is taken and nothing is written.
 *
 * The filter can be replaced at run time (control.c) while other threads
 * are inside traced calls, and from a signal handler's point of view at any
 * instant: so a compiled filter is never edited where readers may look. It
 * is written into one of a few slots under a sequence count, then published
 * by swapping one pointer. A reader notes the sequence before and checks it
 * after: a slot rewritten under it (only after several more changes) means
 * the filter changed during the call, which is then recorded. No lock is
 * taken, so a handler interrupting the writer cannot deadlock.
 */
struct st_live_filter {
	unsigned seq; /* odd while the slot is being written */
	struct st_fs fs;
	char text[ST_FS_TEXT_MAX];
};

#define ST_FILTER_SLOTS 4
static struct st_live_filter st_slots[ST_FILTER_SLOTS];
struct st_live_filter *st_filter_now; /* NULL: no filter (st.h looks, inline) */
static unsigned st_next_slot;
unsigned st_sample_n; /* 0 or 1: every call */

/* The counts live in the control page (control.c), where `ctl status` reads them. */
unsigned long st_filtered_count(void)
{
	return st_count(ST_COUNT_FILTERED);
}

unsigned long st_sampled_out_count(void)
{
	return st_count(ST_COUNT_SAMPLED_OUT);
}

static int st_turned_away(enum st_count which)
{
	st_count_add(which, 1);
	return 0;
}

/* ---- publishing ---- */

int st_live_set_filter(const char *text)
{
	struct st_fs fs;
	struct st_fs_error e;
	struct st_live_filter *s;
	size_t n = text ? strlen(text) : 0;
	unsigned seq;

	if (st_fs_parse(&fs, text ? text : "", n, &e) != 0)
		return -1;
	if (!fs.terms) {
		__atomic_store_n(&st_filter_now, NULL, __ATOMIC_RELEASE);
		return 0;
	}
	s = &st_slots[__atomic_fetch_add(&st_next_slot, 1, __ATOMIC_RELAXED) % ST_FILTER_SLOTS];
	seq = __atomic_load_n(&s->seq, __ATOMIC_RELAXED) & ~1u;
	__atomic_store_n(&s->seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	s->fs = fs;
	memcpy(s->text, text, n + 1);
	__atomic_store_n(&s->seq, seq + 2, __ATOMIC_RELEASE);
	__atomic_store_n(&st_filter_now, s, __ATOMIC_RELEASE);
	return 0;
}

const char *st_live_filter_text(void)
{
	const struct st_live_filter *f = __atomic_load_n(&st_filter_now, __ATOMIC_ACQUIRE);

	return f ? f->text : "";
}

void st_live_set_sample(unsigned n)
{
	__atomic_store_n(&st_sample_n, n, __ATOMIC_RELAXED);
}

unsigned st_live_sample(void)
{
	unsigned n = __atomic_load_n(&st_sample_n, __ATOMIC_RELAXED);

	return n > 1 ? n : 1;
}

/* SENDTRACE_FILTER and SENDTRACE_SAMPLE, at start. */
void st_filter_config(void)
{
	const char *f = secure_getenv("SENDTRACE_FILTER"), *s = secure_getenv("SENDTRACE_SAMPLE");

	if (f && st_live_set_filter(f) != 0) {
		struct st_fs fs;
		struct st_fs_error e;
		char why[640];

		st_fs_parse(&fs, f, strlen(f), &e);
		st_fs_error_text(&e, why, sizeof(why));
		/* Never silently nothing: a filter that cannot be read filters nothing. */
		st_warn("SENDTRACE_FILTER: ", why,
			"; recording every call (see FILTERS in sendtrace(1))");
	}
	st_sample_n = 1;
	if (s && s[0]) {
		char *end;
		unsigned long n = strtoul(s, &end, 10);

		if (*end || s[0] == '-' || n < 1 || n > 1000000000ul)
			st_warn("SENDTRACE_SAMPLE='", s,
				"' is not valid (accepts a number from 1, every call, to "
				"1000000000); recording every call");
		else
			st_sample_n = (unsigned)n;
	}
}

/* ---- reading ---- */

static const struct st_live_filter *st_filter_get(unsigned *seq)
{
	const struct st_live_filter *f = __atomic_load_n(&st_filter_now, __ATOMIC_ACQUIRE);

	if (f)
		*seq = __atomic_load_n(&f->seq, __ATOMIC_ACQUIRE);
	return f;
}

/* Was the slot left as it was when *seq was read? */
static int st_filter_same(const struct st_live_filter *f, unsigned seq)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return !(seq & 1) && __atomic_load_n(&f->seq, __ATOMIC_RELAXED) == seq;
}

/* The length is the sum of iovecs read after the call (or, for sendmmsg, once encoded). */
static unsigned st_len_later(enum st_callkind kind)
{
	if (kind == ST_CALL_WRITEV || kind == ST_CALL_SENDMSG)
		return ST_DEFER_LEN;
	return kind == ST_CALL_SENDMMSG ? ST_DEFER_LATELEN : 0;
}

int st_filter_call(struct st_call *c, int fd)
{
	const struct st_live_filter *f;
	unsigned seq = 0, defer = 0, tries;
	int ok = 1;

	for (tries = 0; tries < 4; tries++) {
		const struct st_fs *fs;

		if (!(f = st_filter_get(&seq)))
			return 1;
		fs = &f->fs;
		ok = st_fs_match_call(fs, c->kind, fd,
				      c->has_flags ? (long long)(unsigned)c->flags : -1);
		defer = 0;
		if (ok && (fs->terms & (ST_FS_MINLEN | ST_FS_MAXLEN))) {
			defer = st_len_later(c->kind);
			if (!defer)
				ok = st_fs_match_len(fs, c->has_len, c->len);
		}
		defer |= (fs->terms & ST_FS_PEER ? ST_DEFER_PEER : 0) |
			 (fs->terms & ST_FS_ERRORS ? ST_DEFER_ERRORS : 0) |
			 (fs->terms & ST_FS_LINT ? ST_DEFER_LINT : 0);
		if (st_filter_same(f, seq))
			break;
	}
	if (tries == 4)
		return 1; /* changing under us all the while: recorded */
	if (!ok)
		return st_turned_away(ST_COUNT_FILTERED);
	c->filt = f;
	c->filt_seq = seq;
	c->defer = (unsigned char)defer;
	return 1;
}

/* The calls that name where they send (or, accept, whom they took): decided after the call. */
static int st_names_peer(enum st_callkind kind)
{
	return kind == ST_CALL_SENDTO || kind == ST_CALL_SENDMSG || kind == ST_CALL_SENDMMSG ||
	       kind == ST_CALL_CONNECT || kind == ST_CALL_ACCEPT || kind == ST_CALL_ACCEPT4;
}

/* A fd beyond the table: asked (one system call, only with a peer term). */
static int st_peer_asked(int fd, struct st_fs_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int saved = errno, r;

	a->kind = ST_FS_NONE;
	r = !st_sandboxed() && getpeername(fd, (struct sockaddr *)&ss, &len) == 0;
	if (r)
		st_fs_addr_from_sockaddr(a, (struct sockaddr *)&ss,
					 len > sizeof(ss) ? (socklen_t)sizeof(ss) : len);
	errno = saved;
	return r;
}

/*
 * xorshift64*, per thread: cheap, and unlike a counter it cannot fall in
 * step with a program that sends in a fixed pattern (every tenth send a
 * heartbeat, say). Seeded on first use in each thread and each process,
 * so a fork()ed child does not repeat its parent's draws.
 */
static uint64_t st_seed(struct st_thread *t)
{
	uint64_t z = st_now_mono() ^ (uint64_t)(uintptr_t)t ^ ((uint64_t)st_pid << 32) ^
		     (uint64_t)t->tid ^ 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	t->rng_pid = st_pid;
	return z ? z : 1;
}

/* Out of the sample: all but one call in n, on average. */
int st_drawn_out(struct st_thread *t, unsigned n)
{
	uint64_t x = t->rng;

	if (__builtin_expect(!x || t->rng_pid != st_pid, 0))
		x = st_seed(t);
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t->rng = x;
	x *= 0x2545f4914f6cdd1dull;
	return (((x >> 32) * n) >> 32) != 0;
}

int st_filter_peer(struct st_call *c, int fd)
{
	struct st_sockinfo si;
	struct st_fs_addr a;
	int known = st_fd_peek(fd, &si, &a), hit;

	if (!known)
		known = st_peer_asked(fd, &a);
	hit = known && a.kind != ST_FS_NONE && st_fs_match_addr(&c->filt->fs, &a);
	if (!st_filter_same(c->filt, c->filt_seq)) {
		c->filt = NULL; /* changed meanwhile: recorded */
		c->defer = 0;
	} else if (hit) {
		c->defer &= (unsigned char)~ST_DEFER_PEER;
	} else if (!st_names_peer(c->kind)) {
		return st_turned_away(ST_COUNT_FILTERED);
	}
	return 1;
}

/* ---- after the call ---- */

static int st_sockaddr_hit(const struct st_fs *fs, const struct st_mem *m, const void *sa,
			   socklen_t len)
{
	struct sockaddr_storage ss;
	struct st_fs_addr a;

	if (!sa || !len)
		return 0;
	if (len > sizeof(ss))
		len = sizeof(ss);
	if (st_mem_copy(m, &ss, sa, len) != 0)
		return 0;
	st_fs_addr_from_sockaddr(&a, (struct sockaddr *)&ss, len);
	return st_fs_match_addr(fs, &a);
}

/* sendmmsg: any of the messages an event lists (the first 64, as msghdr.c). */
static int st_mmsg_hit(const struct st_fs *fs, const struct st_call *c)
{
	struct st_mem trusted = {__libc_single_threaded || st_sandboxed()}, untrusted = {0};
	const struct mmsghdr *vec = c->arg;
	unsigned i;

	for (i = 0; i < c->argn && i < 64; i++) {
		const struct st_mem *m = (long long)i < c->ret ? &trusted : &untrusted;
		struct mmsghdr mm;

		if (st_mem_copy(m, &mm, vec + i, sizeof(mm)) != 0)
			return 0;
		if (st_sockaddr_hit(fs, m, mm.msg_hdr.msg_name, mm.msg_hdr.msg_namelen))
			return 1;
	}
	return 0;
}

/* The terms that waited for the call: failure, the iovecs' sum, where it went. */
static int st_after_terms(struct st_call *c, const struct st_fs *fs)
{
	struct st_mem m;
	struct msghdr msg;
	int have_msg = 0;

	if ((c->defer & ST_DEFER_ERRORS) && !c->failed)
		return 0;
	st_mem_for(&m, c);
	if (c->kind == ST_CALL_SENDMSG && (c->defer & (ST_DEFER_LEN | ST_DEFER_PEER)))
		have_msg = st_mem_copy(&m, &msg, c->arg, sizeof(msg)) == 0;
	if (c->defer & ST_DEFER_LEN) {
		unsigned long long len = 0;
		int has = 0;

		if (c->kind == ST_CALL_WRITEV && (int)c->argn > 0) {
			len = st_iov_total(&m, c->arg, (int)c->argn);
			has = 1;
		} else if (have_msg) {
			len = st_iov_total(&m, msg.msg_iov, (long)msg.msg_iovlen);
			has = 1;
		}
		if (!st_fs_match_len(fs, has, len))
			return 0;
	}
	if (c->defer & ST_DEFER_PEER) {
		struct st_sockinfo si;
		struct st_fs_addr a;

		switch (c->kind) {
		case ST_CALL_SENDTO:
		case ST_CALL_CONNECT:
			return st_sockaddr_hit(fs, &m, c->arg, c->argn);
		case ST_CALL_SENDMSG:
			return have_msg && st_sockaddr_hit(fs, &m, msg.msg_name, msg.msg_namelen);
		case ST_CALL_SENDMMSG:
			return st_mmsg_hit(fs, c);
		case ST_CALL_ACCEPT:
		case ST_CALL_ACCEPT4:
			/* Whom it took: the new fd, learned by the hook already. */
			return c->ret >= 0 && st_fd_peek((int)c->ret, &si, &a) &&
			       st_fs_match_addr(fs, &a);
		default:
			return 0;
		}
	}
	return 1;
}

/*
 * The rules that fire, before anything is encoded, where the call's own
 * arguments tell everything they look at: 1 with c->lint_hits set; 0 when
 * only the decoded call can tell (sendmsg's control messages, say).
 */
static int st_lint_early(struct st_call *c)
{
	c->lint_hits = 0;
	if (!st_config.lint || !(ST_CALLS_SEND & (1u << c->kind))) {
		c->lint_done = 1; /* no rule is about the lifecycle calls */
		return 1;
	}
	if (c->kind == ST_CALL_WRITEV || c->kind == ST_CALL_SENDMSG || c->kind == ST_CALL_SENDMMSG)
		return 0;
	if (!st_fd_peek(c->fd, &c->sock, NULL))
		return 0;
	c->lint_hits = st_lint_check(c);
	c->lint_done = 1;
	return 1;
}

/* Kept only with findings, and it has none: whose decision was it? */
static int st_unfound(struct st_call *c)
{
	if (c->defer & ST_DEFER_LINT)
		return st_turned_away(ST_COUNT_FILTERED);
	if (c->out && !c->failed && !st_config.only_lint)
		return st_turned_away(ST_COUNT_SAMPLED_OUT);
	return 0; /* SENDTRACE_ONLY=lint */
}

int st_filter_after(struct st_call *c)
{
	c->lint_done = 0;
	if (c->filt) {
		int ok = st_after_terms(c, &c->filt->fs);

		if (!st_filter_same(c->filt, c->filt_seq)) {
			c->filt = NULL; /* changed meanwhile: recorded */
			c->defer = 0;
		} else if (!ok) {
			return st_turned_away(ST_COUNT_FILTERED);
		}
	}
	if (!(c->defer & ST_DEFER_LINT) && !st_config.only_lint && !(c->out && !c->failed))
		return 1;
	if (!st_lint_early(c) || c->lint_hits)
		return 1;
	return st_unfound(c);
}

int st_filter_emit(struct st_call *c, int findings)
{
	if (c->defer & ST_DEFER_LATELEN) {
		int ok = st_fs_match_len(&c->filt->fs, c->has_len, c->len);

		if (st_filter_same(c->filt, c->filt_seq) && !ok)
			return st_turned_away(ST_COUNT_FILTERED);
	}
	if (findings)
		return 1;
	if ((c->defer & ST_DEFER_LINT) || st_config.only_lint || (c->out && !c->failed))
		return st_unfound(c);
	return 1;
}
