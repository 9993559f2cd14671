/* sock.c: the socket behind an fd (family, type, protocol, endpoints), cached while it cannot
 * change. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "st.h"

/*
 * Asking the kernel for family, type, protocol and both endpoints is five
 * system calls per event. The answer is kept per fd number, with the
 * socket's inode to tell whether the number still means the same socket:
 * libc can close an fd behind our back (fclose) and the number be reused,
 * so every use is checked with one fstat(). Family, type and protocol never
 * change for a socket; the endpoints are final once a stream socket is
 * connected, and are asked again each time for datagram sockets, which
 * connect(), disconnect and autobind at will.
 *
 * Entries are read and written under a per-entry sequence count, without a
 * lock: a reader that sees the entry change under it, or that interrupted
 * the writer from a signal handler, gives up and asks the kernel.
 */
#define ST_SOCK_CACHED 1024
#define ST_SOCK_TEXT   1400

struct st_sock_entry {
	unsigned seq; /* odd while being written */
	dev_t dev;
	ino_t ino;
	int family, type, proto;
	int connected;
	int settled; /* text holds the final endpoints */
	int learned; /* stored before a seccomp filter: trusted as it is from then on */
	size_t len;
	char text[ST_SOCK_TEXT];
};

static struct st_sock_entry st_socks[ST_SOCK_CACHED];

static void st_json_name(struct st_json *j, int fd, int peer, int *ok)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int r = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
		     : getsockname(fd, (struct sockaddr *)&ss, &len);

	*ok = r == 0;
	if (r == 0)
		st_json_sockaddr(j, (struct sockaddr *)&ss, len > sizeof(ss) ? sizeof(ss) : len);
	else
		st_json_null(j);
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

/* A copy of a settled entry's text into the event, if it is still valid. */
static int st_sock_cached(struct st_json *j, struct st_sock_entry *e, const struct stat *sb,
			  struct st_sockinfo *si)
{
	unsigned seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
	size_t len;

	if (seq & 1)
		return 0;
	if (!sb) {
		/* In a sandbox: no fstat may be made; what was learned is all there is. */
		if (!e->settled && !e->learned)
			return 0;
	} else if (!e->settled || e->ino != sb->st_ino || e->dev != sb->st_dev) {
		return 0;
	}
	len = e->len;
	if (len > sizeof(e->text) || st_json_room(j) < len + 1)
		return 0;
	/* Copy first, then check nobody rewrote the entry meanwhile. */
	{
		char *at = j->p;

		st_json_raw(j, e->text, len);
		si->family = e->family;
		si->type = e->type;
		si->proto = e->proto;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) != seq) {
			j->p = at; /* torn: undo, and ask the kernel instead */
			return 0;
		}
	}
	si->is_sock = 1;
	si->connected = e->settled || e->connected;
	return 1;
}

static void st_sock_store(struct st_sock_entry *e, const struct stat *sb,
			  const struct st_sockinfo *si, const char *text, size_t len, int settled)
{
	unsigned seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);

	if ((seq & 1) || len > sizeof(e->text))
		return;
	/* Claim the entry; if another thread got there first, let it. */
	if (!__atomic_compare_exchange_n(&e->seq, &seq, seq + 1, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED))
		return;
	e->dev = sb->st_dev;
	e->ino = sb->st_ino;
	e->family = si->family;
	e->type = si->type;
	e->proto = si->proto;
	e->connected = si->connected;
	e->settled = settled;
	e->learned = !settled;
	e->len = len;
	memcpy(e->text, text, len);
	__atomic_store_n(&e->seq, seq + 2, __ATOMIC_RELEASE);
}

int st_fstat(int fd, struct stat *sb)
{
	return (int)st_sys(SYS_fstat, fd, sb);
}

void st_json_sock(struct st_json *j, int fd, const struct stat *before, struct st_sockinfo *si)
{
	struct st_sock_entry *e = fd >= 0 && fd < ST_SOCK_CACHED ? &st_socks[fd] : NULL;
	struct stat sb;
	socklen_t len;
	char *start;
	int saved = errno, ok_local, ok_peer;

	memset(si, 0, sizeof(*si));
	if (st_sandboxed()) {
		if (!e || !st_sock_cached(j, e, NULL, si))
			st_json_null(j);
		errno = saved;
		return;
	}
	if (before)
		sb = *before; /* the fd was checked just before the call */
	else if (st_fstat(fd, &sb) != 0)
		sb.st_mode = 0;
	if (!S_ISSOCK(sb.st_mode)) {
		st_json_null(j);
		errno = saved;
		return;
	}
	if (e && st_sock_cached(j, e, &sb, si)) {
		errno = saved;
		return;
	}
	len = sizeof(si->family);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &si->family, &len) != 0) {
		st_json_null(j);
		errno = saved;
		return;
	}
	len = sizeof(si->type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &si->type, &len) != 0)
		si->type = -1;
	len = sizeof(si->proto);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &si->proto, &len) != 0)
		si->proto = -1;
	si->is_sock = 1;

	/* Called right after the "sock" key, so the value starts here, no comma. */
	start = j->p;
	st_json_obj(j);
	st_json_kind(j, si);
	st_json_key(j, "local");
	st_json_name(j, fd, 0, &ok_local);
	st_json_key(j, "peer");
	st_json_name(j, fd, 1, &ok_peer);
	st_json_obj_end(j);
	si->connected = ok_peer;
	if (e && ok_local && ok_peer && st_stream_like(si->type) && !j->overflow)
		st_sock_store(e, &sb, si, start, (size_t)(j->p - start), 1);
	errno = saved;
}

int st_sock_known(int fd)
{
	struct st_sock_entry *e = fd >= 0 && fd < ST_SOCK_CACHED ? &st_socks[fd] : NULL;

	return e && !(__atomic_load_n(&e->seq, __ATOMIC_ACQUIRE) & 1) &&
	       (e->settled || e->learned);
}

/*
 * Before a seccomp filter: every socket open now is asked about once, and
 * kept, so that events on it still name it when no query may be made.
 */
void st_sock_learn_all(void)
{
	static char text[ST_SOCK_TEXT + 64];
	struct st_sockinfo si;
	struct st_json j;
	struct stat sb;
	int fd;

	for (fd = 0; fd < ST_SOCK_CACHED; fd++) {
		if (st_fstat(fd, &sb) != 0 || !S_ISSOCK(sb.st_mode))
			continue;
		st_json_init(&j, text, sizeof(text));
		st_json_sock(&j, fd, &sb, &si);
		if (j.overflow || !si.is_sock || st_socks[fd].settled)
			continue;
		st_sock_store(&st_socks[fd], &sb, &si, text, st_json_len(&j), 0);
	}
}
