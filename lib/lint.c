/* lint.c: checks each traced call against the rule catalogue and records findings with their call
 * site. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rules.h"
#include "st.h"

#define F_OOB	       0x1
#define F_PEEK	       0x2
#define F_DONTROUTE    0x4
#define F_CTRUNC       0x8
#define F_TRUNC	       0x20
#define F_EOR	       0x80
#define F_WAITALL      0x100
#define F_CONFIRM      0x800
#define F_ERRQUEUE     0x2000
#define F_NOSIGNAL     0x4000
#define F_MORE	       0x8000
#define F_WAITFORONE   0x10000
#define F_ZEROCOPY     0x4000000
#define F_FASTOPEN     0x20000000
#define F_CMSG_CLOEXEC 0x40000000
#define F_RECV_ONLY                                                                                \
	(F_PEEK | F_CTRUNC | F_TRUNC | F_WAITALL | F_ERRQUEUE | F_WAITFORONE | F_CMSG_CLOEXEC)

/*
 * Call sites, by return address. A site's module and offset are looked up
 * once (from /proc/self/maps: plain reads, no loader lock, so safe in a
 * signal handler) and the per-site rules (sigpipe) fire once. The table is
 * lock-free: a slot is claimed with a compare-and-swap on its address.
 */
#define ST_SITES 1024

struct st_site {
	struct st_slot slot; /* keyed by the return address */
	unsigned checked;    /* per-site rules already decided here */
	size_t objlen;
	uintptr_t off;
	char obj[256];
};

static struct st_site st_sites[ST_SITES];
static int st_sites_full_warned;

static void st_site_resolve(struct st_site *s)
{
	/* In a seccomp sandbox /proc/self/maps may not be opened: the address alone. */
	s->objlen = st_sandboxed() ? 0 : st_addr_module(s->slot.ip, s->obj, sizeof(s->obj), &s->off);
}

static struct st_site *st_site_get(void *ip)
{
	int fresh;
	struct st_site *s = (struct st_site *)st_slot_find(st_sites, ST_SITES, sizeof(*s),
							   (uintptr_t)ip, ST_SITES, &fresh);

	if (s && fresh) {
		st_site_resolve(s);
		st_slot_ready(&s->slot);
	} else if (!s && fresh != -1 &&
		   !__atomic_exchange_n(&st_sites_full_warned, 1, __ATOMIC_RELAXED)) {
		st_warn("more than 1024 call sites with findings; ",
			"later ones are recorded without module and offset", "");
	}
	return s;
}

/* Has this per-site rule been decided at s? Marks it so. */
static int st_site_once(struct st_site *s, enum st_rule_id r)
{
	unsigned bit = 1u << r;

	/*
	 * Nearly always decided already: a plain load, so that threads sending
	 * from one site do not bounce its cache line with a locked write per call.
	 */
	if (!s || (__atomic_load_n(&s->checked, __ATOMIC_ACQUIRE) & bit))
		return s != NULL;
	return (__atomic_fetch_or(&s->checked, bit, __ATOMIC_ACQ_REL) & bit) != 0;
}

/* SIGPIPE would kill the process: default disposition, not blocked in this thread. */
static int st_sigpipe_fatal(void)
{
	struct sigaction sa;
	sigset_t cur;
	int saved = errno, fatal;

	if (st_sandboxed())
		return 0; /* no query may be made; the rule stays silent rather than guess */
	fatal = sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL &&
		pthread_sigmask(SIG_BLOCK, NULL, &cur) == 0 && !sigismember(&cur, SIGPIPE);
	errno = saved;
	return fatal;
}

/* SO_ZEROCOPY: from the fd table (sock.c), which knows it but for sockets beyond it. */
static int st_zerocopy_on(int fd, const struct st_sockinfo *si)
{
	int on = 0, saved = errno;
	socklen_t len = sizeof(on);

	if (si->opts & ST_SO_KNOWN)
		return (si->opts & ST_SO_ZEROCOPY) != 0;
	if (st_sandboxed())
		return 1; /* cannot ask: give the program the benefit of the doubt */
	if (getsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &on, &len) != 0)
		on = 0;
	errno = saved;
	return on;
}

struct st_findings {
	unsigned long long hit; /* bit per rule */
};

static void st_hit(struct st_findings *f, enum st_rule_id r)
{
	f->hit |= 1ull << r;
}

static int st_is_inet(int family)
{
	return family == AF_INET || family == AF_INET6;
}

static int st_stream(int type)
{
	return type == SOCK_STREAM || type == SOCK_SEQPACKET;
}

static void st_check_flags(const struct st_call *c, struct st_findings *f)
{
	const struct st_sockinfo *si = &c->sock;
	unsigned fl = (unsigned)c->flags;

	if (!c->has_flags)
		return;
	if (st_msg_flags_unknown(fl))
		st_hit(f, ST_R_UNKNOWN_BITS);
	if (fl & F_RECV_ONLY)
		st_hit(f, ST_R_RECV_FLAG);
	if (!si->is_sock)
		return;
	if ((fl & F_CONFIRM) &&
	    !(st_is_inet(si->family) && (si->type == SOCK_DGRAM || si->type == SOCK_RAW)))
		st_hit(f, ST_R_CONFIRM);
	if ((fl & F_EOR) &&
	    (si->type == SOCK_DGRAM || (si->family == AF_UNIX && si->type == SOCK_STREAM)))
		st_hit(f, ST_R_EOR);
	if ((fl & F_OOB) &&
	    (si->type == SOCK_DGRAM || si->type == SOCK_SEQPACKET || si->type == SOCK_RAW))
		st_hit(f, ST_R_OOB);
	if ((fl & F_DONTROUTE) && si->family == AF_UNIX)
		st_hit(f, ST_R_DONTROUTE);
	if ((fl & F_MORE) && si->family == AF_UNIX)
		st_hit(f, ST_R_MORE);
	if ((fl & F_ZEROCOPY) && !st_zerocopy_on(c->fd, si))
		st_hit(f, ST_R_ZEROCOPY);
	if (fl & F_FASTOPEN) {
		if (!(st_is_inet(si->family) && si->type == SOCK_STREAM &&
		      si->proto == IPPROTO_TCP))
			st_hit(f, ST_R_FASTOPEN_NOT_TCP);
		else if (si->connected || (c->failed && c->saved_errno == EISCONN))
			st_hit(f, ST_R_FASTOPEN_CONNECTED);
	}
}

static void st_check_socket(const struct st_call *c, struct st_findings *f, struct st_site *site)
{
	const struct st_sockinfo *si = &c->sock;
	int err = c->failed ? c->saved_errno : 0;

	if (!si->is_sock)
		return;
	if (st_stream(si->type)) {
		if (c->has_dest && (si->connected || err == EISCONN))
			st_hit(f, ST_R_DEST_CONNECTED);
		/*
		 * A short write is not judged here: one call cannot tell a program
		 * that sends the rest next (sendall, a poll loop) or a sendfile that
		 * reached the end of its file from one that drops the rest. The
		 * whole trace can (sendtrace lint).
		 */
		/* Once per call site: decide there, the first time. */
		if ((!c->has_flags || !(c->flags & F_NOSIGNAL)) && site &&
		    !st_site_once(site, ST_R_SIGPIPE) && st_sigpipe_fatal())
			st_hit(f, ST_R_SIGPIPE);
	}
	if (si->type == SOCK_DGRAM) {
		if (!c->has_dest && (!si->connected || err == EDESTADDRREQ) &&
		    c->kind != ST_CALL_SENDMMSG)
			st_hit(f, ST_R_UNCONNECTED_DGRAM);
		if (err == EMSGSIZE)
			st_hit(f, ST_R_DGRAM_TOO_LARGE);
	}
	if ((c->msg.rights || c->msg.creds) && si->family != AF_UNIX)
		st_hit(f, ST_R_SCM_NOT_UNIX);
}

static void st_check_msg(const struct st_call *c, struct st_findings *f)
{
	if (!c->msg.present)
		return;
	if (c->msg.msg_flags)
		st_hit(f, ST_R_MSG_FLAGS);
	if (c->msg.malformed)
		st_hit(f, ST_R_CMSG_MALFORMED);
	else if (c->msg.misaligned)
		st_hit(f, ST_R_CMSG_ALIGN);
}

/*
 * Which rules fire, decided once per call: a per-site rule marks its site
 * as it is decided, so asking twice would lose it (recfilter.c asks before
 * the event is encoded, to know whether a call drawn out must be kept).
 */
unsigned long long st_lint_check(struct st_call *c)
{
	struct st_findings f = {0};
	struct st_site *site = NULL;

	/* The site is needed up front only by the per-site rule. */
	if (c->sock.is_sock && st_stream(c->sock.type) &&
	    (!c->has_flags || !(c->flags & F_NOSIGNAL)))
		site = st_site_get(c->site);
	st_check_flags(c, &f);
	st_check_socket(c, &f, site);
	st_check_msg(c, &f);
	return f.hit;
}

int st_lint_json(struct st_call *c, unsigned long long hits)
{
	struct st_site *site;
	int i, n = 0;

	if (!hits)
		return 0;
	site = st_site_get(c->site);
	st_json_key(&c->j, "lint");
	st_json_arr(&c->j);
	for (i = 0; i < ST_R_COUNT; i++) {
		if (!(hits & (1ull << i)))
			continue;
		st_json_obj(&c->j);
		st_json_key(&c->j, "id");
		st_json_cstr(&c->j, st_rules[i].id);
		st_json_key(&c->j, "severity");
		st_json_cstr(&c->j, st_severity_name(st_rules[i].severity));
		st_json_key(&c->j, "msg");
		st_json_cstr(&c->j, st_rules[i].msg);
		st_json_obj_end(&c->j);
		n++;
	}
	st_json_arr_end(&c->j);
	st_json_key(&c->j, "site");
	st_json_obj(&c->j);
	st_json_key(&c->j, "ip");
	st_json_hexnum(&c->j, (uintptr_t)c->site);
	if (site && site->objlen) {
		st_json_key(&c->j, "obj");
		st_json_str(&c->j, site->obj, site->objlen);
		st_json_key(&c->j, "off");
		st_json_hexnum(&c->j, site->off);
	}
	st_json_obj_end(&c->j);
	return n;
}

int st_lint(struct st_call *c)
{
	return st_lint_json(c, st_lint_check(c));
}
