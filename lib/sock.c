/* sock.c: the library's own fd table: what each fd number names, kept without a system call per event. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "filterspec.h"
#include "st.h"

/*
 * Asking the kernel what an fd is (fstat) and, for a socket, its family,
 * type, protocol and both endpoints costs up to six system calls, and on
 * some hosts one system call costs over a microsecond. So the answer is kept
 * per fd number and trusted while nothing has changed what the number names:
 *
 *  - every call that closes, replaces or creates an fd through libc is
 *    interposed (fdguard.c, fdhooks.c) and bumps the number's generation;
 *  - an entry filled under the current generation is used with no system
 *    call; socket()/accept()/connect()/bind() fill or refresh it at once;
 *  - what no wrapper sees (an inline syscall instruction, a close inside
 *    libc) is caught by re-checking an entry's inode with one fstat once it
 *    is older than ST_FD_RECHECK_NS: a stale entry lives at most that long.
 *
 * An fd first met without any of these (inherited, made inside libc) is
 * learned once, before the call: its peer is then known even when the send
 * provokes a reset that empties getpeername(). A stream socket's endpoints
 * are final once connected; a datagram socket's change only through
 * connect()/bind() (interposed) and its autobind on the first send, after
 * which it is learned once more.
 *
 * Entries are read and written under a per-entry sequence count, without a
 * lock: a reader that sees the entry change under it, or that interrupted
 * the writer from a signal handler, asks the kernel instead.
 *
 * The socket options that change how sends behave (TCP_NODELAY, TCP_CORK,
 * UDP_CORK, SO_ZEROCOPY) live beside the entry, in one word that names the
 * generation it holds for: they change without the number changing, so
 * setsockopt() (fdhooks.c) edits the word in place, and only a new owner of
 * the number invalidates it. A socket the program made here starts with
 * them all off; one it got otherwise (accepted, which inherits the
 * listener's, or inherited, or passed in) is asked with getsockopt once,
 * when it is learned. No event asks.
 */
#define ST_FD_TABLE	 4096
#define ST_FD_TEXT	 1400
#define ST_FD_RECHECK_NS 100000000ull /* 100 ms: the documented bound on staleness */

enum { ST_FD_UNKNOWN, ST_FD_SOCKET, ST_FD_OTHER };

struct st_fd {
	unsigned seq;	    /* odd while being written */
	unsigned gen;	    /* bumped whenever an interposed call changes the number */
	unsigned fill_gen;  /* the generation the entry was filled under */
	int kind;	    /* ST_FD_* */
	dev_t dev;
	ino_t ino;
	uint64_t checked;   /* monotonic ns of the last fstat that confirmed it */
	int family, type, proto;
	int connected;
	int settled;	    /* text holds endpoints that only an interposed call can change */
	uint64_t opts; /* (generation << 32) | ST_SO_* bits: the options, for that generation */
	struct st_fs_addr peer; /* the peer in binary, for the filter's peer term */
	size_t len;
	char text[ST_FD_TEXT];
};

static struct st_fd st_fds[ST_FD_TABLE];

static struct st_fd *st_fd_entry(int fd)
{
	return fd >= 0 && fd < ST_FD_TABLE ? &st_fds[fd] : NULL;
}

/* The program changed what `fd` names (or is about to): the entry no longer holds. */
void st_fd_changed(int fd)
{
	struct st_fd *e = st_fd_entry(fd);

	if (e)
		__atomic_fetch_add(&e->gen, 1, __ATOMIC_ACQ_REL);
}

static uint64_t st_opts_word(unsigned gen, unsigned bits)
{
	return (uint64_t)gen << 32 | bits;
}

/* The options known for generation `gen` (ST_SO_KNOWN among them), or 0. */
static unsigned st_opts_for(const struct st_fd *e, unsigned gen)
{
	uint64_t w = __atomic_load_n(&e->opts, __ATOMIC_ACQUIRE);

	return (unsigned)(w >> 32) == gen ? (unsigned)w : 0;
}

/* A socket just made by the program: a new owner, every option off. */
void st_fd_new_socket(int fd)
{
	struct st_fd *e = st_fd_entry(fd);

	if (e) {
		unsigned gen = __atomic_add_fetch(&e->gen, 1, __ATOMIC_ACQ_REL);

		__atomic_store_n(&e->opts, st_opts_word(gen, ST_SO_KNOWN), __ATOMIC_RELEASE);
	}
}

/*
 * connect() or bind(): the same socket with new endpoints. The entry is
 * refilled, the options carried over to the new generation (if setsockopt
 * races with this, they are simply asked again when the fd is learned).
 */
void st_fd_renamed(int fd)
{
	struct st_fd *e = st_fd_entry(fd);
	uint64_t w;
	unsigned gen;

	if (!e)
		return;
	w = __atomic_load_n(&e->opts, __ATOMIC_ACQUIRE);
	gen = __atomic_add_fetch(&e->gen, 1, __ATOMIC_ACQ_REL);
	if ((unsigned)(w >> 32) == gen - 1 && (w & ST_SO_KNOWN))
		__atomic_compare_exchange_n(&e->opts, &w, st_opts_word(gen, (unsigned)w), 0,
					    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

void st_fd_changed_range(unsigned lo, unsigned hi)
{
	unsigned fd;

	for (fd = lo; fd <= hi && fd < ST_FD_TABLE; fd++)
		st_fd_changed((int)fd);
}

void st_fd_forget_all(void)
{
	st_fd_changed_range(0, ST_FD_TABLE - 1);
}

static void st_json_name(struct st_json *j, int fd, int peer, int *ok, int *port0,
			 struct st_fs_addr *bin)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int r = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
		     : getsockname(fd, (struct sockaddr *)&ss, &len);

	*ok = r == 0;
	if (bin) {
		if (r == 0)
			st_fs_addr_from_sockaddr(bin, (struct sockaddr *)&ss,
						 len > sizeof(ss) ? sizeof(ss) : len);
		else
			memset(bin, 0, sizeof(*bin));
	}
	if (r == 0) {
		/* An IP socket not bound yet: the kernel picks its port at the first send. */
		if (port0)
			*port0 = (ss.ss_family == AF_INET &&
				  ((struct sockaddr_in *)&ss)->sin_port == 0) ||
				 (ss.ss_family == AF_INET6 &&
				  ((struct sockaddr_in6 *)&ss)->sin6_port == 0);
		st_json_sockaddr(j, (struct sockaddr *)&ss, len > sizeof(ss) ? sizeof(ss) : len);
	} else {
		st_json_null(j);
	}
}

static void st_json_kind(struct st_json *j, const struct st_sockinfo *si)
{
	st_json_key(j, "family");
	st_json_xlat(j, st_families, si->family);
	st_json_key(j, "type");
	st_json_xlat(j, st_socktypes, si->type);
	st_json_key(j, "proto");
	if (si->family == AF_INET || si->family == AF_INET6)
		st_json_xlat(j, st_ipprotos, si->proto);
	else
		st_json_int(j, si->proto);
}

static int st_stream_like(int type)
{
	return type == SOCK_STREAM || type == SOCK_SEQPACKET;
}

int st_fstat(int fd, struct stat *sb)
{
	return (int)st_sys(SYS_fstat, fd, sb);
}

static int st_opt_on(int fd, int level, int name)
{
	int on = 0;
	socklen_t len = sizeof(on);

	return getsockopt(fd, level, name, &on, &len) == 0 && on != 0;
}

/*
 * The send options of a socket the library did not see made: asked once.
 * Only TCP and UDP have them (SO_ZEROCOPY is refused elsewhere); an option
 * the kernel will not tell is taken as off, as untraced code would find it.
 */
static unsigned st_opts_ask(int fd, const struct st_sockinfo *si)
{
	unsigned bits = ST_SO_KNOWN;

	if (si->family != AF_INET && si->family != AF_INET6)
		return bits;
	if (si->type == SOCK_STREAM && (si->proto == IPPROTO_TCP || si->proto == IPPROTO_MPTCP)) {
		bits |= st_opt_on(fd, IPPROTO_TCP, TCP_NODELAY) ? ST_SO_NODELAY : 0;
		bits |= st_opt_on(fd, IPPROTO_TCP, TCP_CORK) ? ST_SO_CORK : 0;
	} else if (si->type == SOCK_DGRAM && si->proto == IPPROTO_UDP) {
		bits |= st_opt_on(fd, IPPROTO_UDP, UDP_CORK) ? ST_SO_CORK : 0;
	} else {
		return bits;
	}
	bits |= st_opt_on(fd, SOL_SOCKET, SO_ZEROCOPY) ? ST_SO_ZEROCOPY : 0;
	return bits;
}

/*
 * The options that are on, as the members that close the "sock" object:
 * one of eight texts, so that an event pays one copy for them.
 */
#define ST_OPT_NODELAY	",\"nodelay\":true"
#define ST_OPT_CORK	",\"cork\":true"
#define ST_OPT_ZEROCOPY ",\"zerocopy\":true"
#define ST_OPT_TEXT(s)	{s "}", sizeof(s)}
static const struct {
	const char *text; /* ending with the object's '}' */
	size_t len;
} st_opt_tails[8] = {
    ST_OPT_TEXT(""),
    ST_OPT_TEXT(ST_OPT_NODELAY),
    ST_OPT_TEXT(ST_OPT_CORK),
    ST_OPT_TEXT(ST_OPT_NODELAY ST_OPT_CORK),
    ST_OPT_TEXT(ST_OPT_ZEROCOPY),
    ST_OPT_TEXT(ST_OPT_NODELAY ST_OPT_ZEROCOPY),
    ST_OPT_TEXT(ST_OPT_CORK ST_OPT_ZEROCOPY),
    ST_OPT_TEXT(ST_OPT_NODELAY ST_OPT_CORK ST_OPT_ZEROCOPY),
};

static unsigned st_opt_tail(unsigned bits)
{
	return (bits & ST_SO_SHOWN) / ST_SO_NODELAY;
}

/*
 * Ask the kernel about `fd` and, for a socket, encode the "sock" value into
 * `j` (which starts empty at `start`). *settled: the endpoints are final.
 * with_opts: the send options too (the table keeps them apart from the text).
 * Returns the fd's kind.
 */
static int st_fd_ask(int fd, struct stat *sb, struct st_json *j, struct st_sockinfo *si,
		     int *settled, struct st_fs_addr *peer, int with_opts)
{
	socklen_t len;
	int ok_local, ok_peer, port0 = 0;

	memset(si, 0, sizeof(*si));
	*settled = 0;
	if (peer)
		memset(peer, 0, sizeof(*peer));
	if (st_fstat(fd, sb) != 0)
		return ST_FD_UNKNOWN;
	if (!S_ISSOCK(sb->st_mode))
		return ST_FD_OTHER;
	len = sizeof(si->family);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &si->family, &len) != 0)
		return ST_FD_UNKNOWN;
	len = sizeof(si->type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &si->type, &len) != 0)
		si->type = -1;
	len = sizeof(si->proto);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &si->proto, &len) != 0)
		si->proto = -1;
	si->is_sock = 1;
	st_json_obj(j);
	st_json_kind(j, si);
	st_json_key(j, "local");
	st_json_name(j, fd, 0, &ok_local, &port0, NULL);
	st_json_key(j, "peer");
	st_json_name(j, fd, 1, &ok_peer, NULL, peer);
	if (si->family == AF_UNIX) {
		unsigned long peer;

		/* The inodes pair the two ends of a socketpair, as strace -yy shows. */
		st_json_key(j, "ino");
		st_json_uint(j, (unsigned long long)sb->st_ino);
		if (st_unix_peer_ino((unsigned long)sb->st_ino, &peer) == 0) {
			st_json_key(j, "peer_ino");
			st_json_uint(j, peer);
		}
	}
	if (with_opts) {
		/* No table entry to keep them in: asked with the rest, each time. */
		unsigned k;

		si->opts = st_opts_ask(fd, si);
		k = st_opt_tail(si->opts);
		st_json_members(j, st_opt_tails[k].text, st_opt_tails[k].len - 1); /* not its '}' */
	}
	st_json_obj_end(j);
	si->connected = ok_peer;
	/*
	 * Final until an interposed call changes them: a connected stream
	 * socket; a datagram socket whose local address is bound (connect and
	 * bind are interposed; only the autobind of the first send is not).
	 */
	*settled = ok_local && (st_stream_like(si->type) ? ok_peer : !port0);
	return ST_FD_SOCKET;
}

/* The highest number an entry was filled for: how far a search for a socket's other fds goes. */
static int st_fd_top;

/* Keep what was learned, unless the number changed meanwhile (gen moved on). */
static void st_fd_store(struct st_fd *e, unsigned gen, int kind, const struct stat *sb,
			const struct st_sockinfo *si, const struct st_fs_addr *peer,
			const char *text, size_t len, int settled, uint64_t now)
{
	unsigned seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);

	if ((seq & 1) || len > sizeof(e->text))
		return;
	/* Claim the entry; if another thread got there first, let it. */
	if (!__atomic_compare_exchange_n(&e->seq, &seq, seq + 1, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED))
		return;
	e->kind = kind;
	e->dev = sb->st_dev;
	e->ino = sb->st_ino;
	e->checked = now;
	e->family = si->family;
	e->type = si->type;
	e->proto = si->proto;
	e->connected = si->connected;
	e->settled = settled;
	e->peer = *peer;
	e->len = len;
	memcpy(e->text, text, len);
	e->fill_gen = gen;
	__atomic_store_n(&e->seq, seq + 2, __ATOMIC_RELEASE);
	{
		int fd = (int)(e - st_fds), top = __atomic_load_n(&st_fd_top, __ATOMIC_RELAXED);

		while (fd > top && !__atomic_compare_exchange_n(&st_fd_top, &top, fd, 1,
								__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			;
	}
}

/* Learn `fd` now: the system calls, once. Returns its kind. */
static int st_fd_learn(int fd, uint64_t now)
{
	struct st_thread *t = st_thread_get();
	struct st_fd *e = st_fd_entry(fd);
	struct st_sockinfo si;
	struct st_fs_addr peer;
	struct st_json j;
	struct stat sb;
	unsigned gen;
	int kind, settled, saved = errno, *busy = NULL;
	char small[8];

	_Static_assert(sizeof(t->learn) >= ST_FD_TEXT, "learn[] holds an entry's text");
	if (!e) {
		errno = saved;
		return ST_FD_UNKNOWN;
	}
	gen = __atomic_load_n(&e->gen, __ATOMIC_ACQUIRE);
	/*
	 * The text is built in the thread's scratch space: it may be 1 KiB. A
	 * signal handler's call that interrupted a learn (or a site lookup)
	 * has a second buffer: without one it could not keep what it learned,
	 * and a handler run often enough would ask the kernel on every call,
	 * three times over, and starve the code it interrupted.
	 */
	if (t && !t->scratch_busy) {
		busy = &t->scratch_busy;
		st_json_init(&j, t->scratch, ST_FD_TEXT);
	} else if (t && !t->learn_busy) {
		busy = &t->learn_busy;
		st_json_init(&j, t->learn, ST_FD_TEXT);
	} else {
		st_json_init(&j, small, sizeof(small));
	}
	if (busy)
		*busy = 1;
	kind = st_fd_ask(fd, &sb, &j, &si, &settled, &peer, 0);
	if (kind != ST_FD_UNKNOWN && (kind == ST_FD_OTHER || !j.overflow))
		st_fd_store(e, gen, kind, &sb, &si, &peer, j.start,
			    kind == ST_FD_SOCKET ? st_json_len(&j) : 0, settled, now);
	if (kind == ST_FD_SOCKET) {
		uint64_t w = __atomic_load_n(&e->opts, __ATOMIC_ACQUIRE);

		/* Not made here since the number last changed hands: ask, once. */
		if ((unsigned)(w >> 32) != gen || !(w & ST_SO_KNOWN))
			__atomic_compare_exchange_n(&e->opts, &w,
						    st_opts_word(gen, st_opts_ask(fd, &si)), 0,
						    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
	}
	if (busy)
		*busy = 0;
	errno = saved;
	return kind;
}

/*
 * Is `fd` a socket, as far as the table knows? Called before the real call:
 * learns the fd (before the call, so that a reset cannot hide the peer) when
 * the entry is missing, from an older generation, or due for its re-check.
 * 1 socket, 0 something else, -1 unknown (no entry could be made).
 */
int st_fd_is_socket(int fd, uint64_t now)
{
	struct st_fd *e = st_fd_entry(fd);
	unsigned seq;
	int kind;

	if (!e)
		return -1;
	seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
	kind = e->kind;
	if (!(seq & 1) && kind != ST_FD_UNKNOWN &&
	    e->fill_gen == __atomic_load_n(&e->gen, __ATOMIC_ACQUIRE)) {
		if (st_sandboxed())
			return kind == ST_FD_SOCKET;
		if (now - e->checked < ST_FD_RECHECK_NS)
			return kind == ST_FD_SOCKET;
		/* Due: one fstat confirms the number still names the same file. */
		{
			struct stat sb;

			if (st_fstat(fd, &sb) == 0 && sb.st_ino == e->ino && sb.st_dev == e->dev) {
				__atomic_store_n(&e->checked, now, __ATOMIC_RELAXED);
				return kind == ST_FD_SOCKET;
			}
			/* Another file behind the number, which no wrapper saw: a new owner. */
			st_fd_changed(fd);
		}
	}
	if (st_sandboxed())
		return -1; /* no system call may be made */
	kind = st_fd_learn(fd, now);
	return kind == ST_FD_UNKNOWN ? -1 : kind == ST_FD_SOCKET;
}

/* A copy of an entry's text into the event, if it still holds. */
static int st_fd_copy(struct st_json *j, struct st_fd *e, struct st_sockinfo *si,
		      int need_settled)
{
	unsigned seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
	unsigned gen = __atomic_load_n(&e->gen, __ATOMIC_ACQUIRE), opts;
	int after_key, first;
	size_t len;
	char *at;

	if ((seq & 1) || e->kind != ST_FD_SOCKET || e->fill_gen != gen ||
	    (need_settled && !e->settled))
		return 0;
	len = e->len;
	opts = st_opts_for(e, gen);
	if (len < 2 || len > sizeof(e->text) || st_json_room(j) < len + 1 + 64)
		return 0;
	/* Copy first, then check nobody rewrote the entry meanwhile. */
	at = j->p;
	after_key = j->after_key;
	first = j->first;
	if (__builtin_expect(!(opts & ST_SO_SHOWN), 1)) {
		st_json_raw(j, e->text, len);
	} else {
		/* The options are not in the text: they go before its closing brace. */
		unsigned k = st_opt_tail(opts);

		st_json_raw(j, e->text, len - 1);
		st_json_members(j, st_opt_tails[k].text, st_opt_tails[k].len);
	}
	si->opts = opts;
	si->family = e->family;
	si->type = e->type;
	si->proto = e->proto;
	si->connected = e->connected;
	si->is_sock = 1;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) != seq ||
	    __atomic_load_n(&e->gen, __ATOMIC_RELAXED) != gen) {
		/* Torn: undo (the separator state too, or a retry writes a stray ','). */
		j->p = at;
		j->after_key = after_key;
		j->first = first;
		return 0;
	}
	return 1;
}

/*
 * The "sock" value of an event, after the call. A settled entry is copied
 * with no system call. An unsettled one (a datagram socket that the send
 * just autobound) is learned again, so the next events need nothing.
 */
void st_json_sock(struct st_json *j, int fd, struct st_sockinfo *si, uint64_t now)
{
	struct st_fd *e = st_fd_entry(fd);
	int saved = errno;

	memset(si, 0, sizeof(*si));
	if (e && st_fd_copy(j, e, si, 1))
		goto out;
	if (e && st_sandboxed()) {
		if (!st_fd_copy(j, e, si, 0))
			st_json_null(j);
		goto out;
	}
	if (e && st_fd_learn(fd, now) == ST_FD_SOCKET && st_fd_copy(j, e, si, 0))
		goto out;
	if (st_sandboxed()) {
		st_json_null(j);
		goto out;
	}
	/* Beyond the table, or it would not hold: ask and encode directly. */
	{
		struct stat sb;
		int settled;
		char *start = j->p;

		if (st_fd_ask(fd, &sb, j, si, &settled, NULL, 1) != ST_FD_SOCKET) {
			j->p = start;
			st_json_null(j);
		}
	}
out:
	errno = saved;
}

unsigned st_fd_gen(int fd)
{
	struct st_fd *e = st_fd_entry(fd);

	return e ? __atomic_load_n(&e->gen, __ATOMIC_ACQUIRE) : 0;
}

void st_json_sock_was(struct st_json *j, int fd, unsigned gen, struct st_sockinfo *si)
{
	struct st_fd *e = st_fd_entry(fd);

	memset(si, 0, sizeof(*si));
	if (!e || __atomic_load_n(&e->gen, __ATOMIC_ACQUIRE) != gen || !st_fd_copy(j, e, si, 0))
		st_json_null(j);
}

int st_fd_peek(int fd, struct st_sockinfo *si, struct st_fs_addr *peer)
{
	struct st_fd *e = st_fd_entry(fd);
	unsigned seq, gen;

	if (!e)
		return 0;
	seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
	gen = __atomic_load_n(&e->gen, __ATOMIC_ACQUIRE);
	if ((seq & 1) || e->kind == ST_FD_UNKNOWN || e->fill_gen != gen)
		return 0;
	memset(si, 0, sizeof(*si));
	if (e->kind == ST_FD_SOCKET) {
		si->is_sock = 1;
		si->family = e->family;
		si->type = e->type;
		si->proto = e->proto;
		si->connected = e->connected;
		si->opts = st_opts_for(e, gen);
		if (peer)
			*peer = e->peer;
	} else if (peer) {
		peer->kind = ST_FS_NONE;
	}
	/* As st_fd_copy: read first, then check nobody rewrote the entry meanwhile. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&e->seq, __ATOMIC_RELAXED) == seq &&
	       __atomic_load_n(&e->gen, __ATOMIC_RELAXED) == gen;
}

int st_sock_known(int fd)
{
	struct st_fd *e = st_fd_entry(fd);

	return e && !(__atomic_load_n(&e->seq, __ATOMIC_ACQUIRE) & 1) &&
	       e->kind == ST_FD_SOCKET && e->fill_gen == __atomic_load_n(&e->gen, __ATOMIC_ACQUIRE);
}

/*
 * Before a seccomp filter: every fd open now is asked about once, so that
 * events on it still name it when no query may be made.
 */
void st_sock_learn_all(void)
{
	uint64_t now = st_now_mono();
	struct stat sb;
	int fd;

	for (fd = 0; fd < ST_FD_TABLE; fd++)
		if (st_fstat(fd, &sb) == 0)
			(void)st_fd_learn(fd, now);
}

/* A socket the program just made, accepted or connected: learn it at once. */
void st_fd_learn_now(int fd)
{
	if (fd >= 0 && !st_sandboxed())
		(void)st_fd_learn(fd, st_now_mono());
}

/*
 * Set once the program has two numbers for one socket (dup, dup2, dup3,
 * F_DUPFD, SCM_RIGHTS): an option set through one is then also the other's.
 * Until then setsockopt() edits one word; after, it looks for the others.
 */
static int st_fd_shared;

void st_fd_copied(int fd)
{
	st_fd_changed(fd);
	if (!__atomic_load_n(&st_fd_shared, __ATOMIC_RELAXED))
		__atomic_store_n(&st_fd_shared, 1, __ATOMIC_RELAXED);
}

/* Turn an option bit on or off in e's word, if the word holds for e's generation. */
static void st_opts_edit(struct st_fd *e, unsigned bit, int on)
{
	unsigned gen = __atomic_load_n(&e->gen, __ATOMIC_ACQUIRE);
	uint64_t w = __atomic_load_n(&e->opts, __ATOMIC_ACQUIRE);

	/* Unknown (not made here, not learned yet): learning will ask the kernel. */
	while ((unsigned)(w >> 32) == gen && (w & ST_SO_KNOWN)) {
		uint64_t nw = on ? w | bit : w & ~(uint64_t)bit;

		if (nw == w || __atomic_compare_exchange_n(&e->opts, &w, nw, 0, __ATOMIC_ACQ_REL,
							   __ATOMIC_ACQUIRE))
			break;
	}
}

/* The entry's file, if it holds now: 1 and *dev, *ino. */
static int st_fd_file(struct st_fd *e, dev_t *dev, ino_t *ino)
{
	unsigned seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);

	if ((seq & 1) || e->kind != ST_FD_SOCKET ||
	    e->fill_gen != __atomic_load_n(&e->gen, __ATOMIC_ACQUIRE))
		return 0;
	*dev = e->dev;
	*ino = e->ino;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&e->seq, __ATOMIC_RELAXED) == seq;
}

/*
 * setsockopt() succeeded with one of the options the events show: record
 * it, no system call. The other numbers for the same socket, when the
 * program has made any, are found by inode among the entries filled.
 */
void st_fd_sockopt(int fd, unsigned bit, int on)
{
	struct st_fd *e = st_fd_entry(fd), *o;
	dev_t dev;
	ino_t ino;
	int top;

	if (!e)
		return;
	st_opts_edit(e, bit, on);
	if (!__atomic_load_n(&st_fd_shared, __ATOMIC_RELAXED))
		return;
	if (!st_fd_file(e, &dev, &ino)) {
		/* Not learned yet (a fresh dup): which socket it is costs one fstat, here only. */
		struct stat sb;

		if (st_sandboxed() || st_fstat(fd, &sb) != 0)
			return;
		dev = sb.st_dev;
		ino = sb.st_ino;
	}
	top = __atomic_load_n(&st_fd_top, __ATOMIC_RELAXED);
	for (o = st_fds; o <= &st_fds[top] && o < st_fds + ST_FD_TABLE; o++) {
		dev_t odev;
		ino_t oino;

		if (o != e && st_fd_file(o, &odev, &oino) && oino == ino && odev == dev)
			st_opts_edit(o, bit, on);
	}
}
