/* fdhooks.c: the calls that make, name or hand over fds, or set their socket options, interposed to
 * keep the fd table true. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "st.h"

#define ST_EXPORT __attribute__((visibility("default")))

/*
 * Each wrapper forwards to the next definition and then tells the fd table
 * (sock.c) which numbers changed. None touches errno: the program sees the
 * same return value and errno as untraced, and errno unchanged on success.
 * The next definitions are bound on first use, so that a call made before
 * our constructor ran (another library's) still works.
 */
#define ST_NEXT(fn)                                                                         \
	(__builtin_expect(st_real.fn == NULL, 0) ? (st_bind(), st_real.fn) : st_real.fn)

/* No definition to forward to (only while dlsym itself runs): fail as ENOSYS. */
#define ST_MISSING(ret)                                                                     \
	do {                                                                                \
		errno = ENOSYS;                                                             \
		return ret;                                                                 \
	} while (0)

static void st_fds_changed(const int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++)
		st_fd_changed(fds[i]);
}

static int st_socket(int domain, int type, int proto)
{
	int r = ST_NEXT(socket) ? st_real.socket(domain, type, proto)
				: (int)st_sys(SYS_socket, domain, type, proto);

	if (r >= 0)
		st_fd_new_socket(r);
	return r;
}

static int st_socketpair(int domain, int type, int proto, int sv[2])
{
	int r = ST_NEXT(socketpair) ? st_real.socketpair(domain, type, proto, sv)
				    : (int)st_sys(SYS_socketpair, domain, type, proto, sv);

	if (r == 0) {
		st_fd_new_socket(sv[0]);
		st_fd_new_socket(sv[1]);
	}
	return r;
}

/*
 * The lifecycle records (SENDTRACE_CALLS=connect,accept,close,shutdown):
 * checked against the mask first, so that untraced they cost one load.
 */
static int st_life_begin(struct st_call *c, enum st_callkind kind, int fd)
{
	if (!(st_config.calls & (1u << kind)))
		return 0;
	st_call_args(c, 0, 0, 0, 0);
	return st_call_begin(c, kind, fd, ST_SOCKET_ONLY, NULL);
}

/* An address the program passed in, read without trusting it. */
static void st_life_addr(struct st_call *c, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_storage ss;
	struct st_mem m;
	socklen_t n = len > sizeof(ss) ? (socklen_t)sizeof(ss) : len;

	st_mem_for(&m, c);
	st_json_key(&c->j, "addr");
	if (addr && len && st_mem_copy(&m, &ss, addr, n) == 0)
		st_json_sockaddr(&c->j, (struct sockaddr *)&ss, n);
	else
		st_json_null(&c->j);
	st_json_key(&c->j, "addrlen");
	st_json_uint(&c->j, len);
}

/* A connection accepted: its endpoints are final now, so learn them at once. */
static int st_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags, int four)
{
	struct st_call c;
	int r, traced = st_life_begin(&c, four ? ST_CALL_ACCEPT4 : ST_CALL_ACCEPT, fd);

	if (four)
		r = ST_NEXT(accept4) ? st_real.accept4(fd, addr, len, flags)
				     : (int)st_sys(SYS_accept4, fd, addr, len, flags);
	else
		r = ST_NEXT(accept) ? st_real.accept(fd, addr, len)
				    : (int)st_sys(SYS_accept, fd, addr, len);
	if (r >= 0) {
		int saved = errno;

		st_fd_changed(r);
		st_fd_learn_now(r);
		errno = saved;
	}
	if (traced && st_call_end(&c, r)) {
		struct st_sockinfo si;

		if (four) {
			st_json_key(&c.j, "sock_flags");
			st_json_sock_flags(&c.j, flags);
		}
		if (r >= 0) {
			st_json_key(&c.j, "new_sock");
			st_json_sock(&c.j, r, &si, c.t0 + c.dur);
		}
		st_call_emit(&c);
	}
	return r;
}

/*
 * connect() settles a stream socket and (re)targets or, with AF_UNSPEC,
 * disconnects a datagram one; bind() names the local end. Either way the
 * entry no longer holds; a successful connect is learned at once.
 */
static int st_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct st_call c;
	int traced = st_life_begin(&c, ST_CALL_CONNECT, fd), r, saved;

	c.arg = addr; /* the filter's peer term: where it connects */
	c.argn = len;
	r = ST_NEXT(connect) ? st_real.connect(fd, addr, len)
			     : (int)st_sys(SYS_connect, fd, addr, len);
	saved = errno;
	st_fd_renamed(fd);
	if (r == 0)
		st_fd_learn_now(fd);
	errno = saved;
	if (traced && st_call_end(&c, r)) {
		st_life_addr(&c, addr, len);
		st_call_emit(&c);
	}
	return r;
}

/* shutdown() changes no fd: it is interposed only to be recorded. */
static int st_shutdown(int fd, int how)
{
	struct st_call c;
	int traced = st_life_begin(&c, ST_CALL_SHUTDOWN, fd);
	int r = ST_NEXT(shutdown) ? st_real.shutdown(fd, how) : (int)st_sys(SYS_shutdown, fd, how);

	if (traced && st_call_end(&c, r)) {
		st_json_key(&c.j, "how");
		st_json_xlat(&c.j, st_shut_hows, how);
		st_call_emit(&c);
	}
	return r;
}

static int st_bind_fd(int fd, const struct sockaddr *addr, socklen_t len)
{
	int r = ST_NEXT(bind) ? st_real.bind(fd, addr, len) : (int)st_sys(SYS_bind, fd, addr, len);

	st_fd_renamed(fd);
	return r;
}

/*
 * The options that change how sends go out, which the events show and the
 * lint rules read (TCP_NODELAY, TCP_CORK, UDP_CORK, SO_ZEROCOPY): kept in
 * the fd table when set, so that no event has to ask. Each takes an int.
 */
static unsigned st_sockopt_bit(int level, int name)
{
	if (level == IPPROTO_TCP)
		return name == TCP_NODELAY ? ST_SO_NODELAY : name == TCP_CORK ? ST_SO_CORK : 0;
	if (level == IPPROTO_UDP)
		return name == UDP_CORK ? ST_SO_CORK : 0;
	return level == SOL_SOCKET && name == SO_ZEROCOPY ? ST_SO_ZEROCOPY : 0;
}

static int st_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	int r = ST_NEXT(setsockopt) ? st_real.setsockopt(fd, level, name, val, len)
				    : (int)st_sys(SYS_setsockopt, fd, level, name, val, len);
	unsigned bit;

	if (r == 0 && (bit = st_sockopt_bit(level, name)) && len >= sizeof(int)) {
		/* The kernel read it; another thread may unmap it since, so read with care. */
		struct st_mem m = {__libc_single_threaded};
		int saved = errno, on;

		if (st_mem_copy(&m, &on, val, sizeof(on)) == 0)
			st_fd_sockopt(fd, bit, on != 0);
		else
			st_fd_changed(fd); /* unknown now: asked again when next learned */
		errno = saved;
	}
	return r;
}

/*
 * A pipe's two new numbers. libunwind's own pipe (called from its code) is
 * moved up high at once, so the program's fd numbers stay what they are
 * untraced.
 */
static int st_pipe2(int fds[2], int flags, int two, const void *caller)
{
	int r;

	if (two)
		r = ST_NEXT(pipe2) ? st_real.pipe2(fds, flags) : (int)st_sys(SYS_pipe2, fds, flags);
	else
		r = ST_NEXT(pipe) ? st_real.pipe(fds) : (int)st_sys(SYS_pipe2, fds, 0);
	if (r != 0)
		return r;
	if (st_bt_is_unwinder(caller)) {
		int i, saved = errno;

		for (i = 0; i < 2; i++) {
			int hi = st_sys_dupfd(fds[i], st_fd_high());

			if (hi >= 0) {
				st_sys_close(fds[i]);
				fds[i] = hi;
			}
		}
		st_bt_adopt_pipe(fds);
		errno = saved;
	}
	st_fds_changed(fds, 2);
	return r;
}

/* The library's own fds are not the program's: untraced they would not be open. */
#define ST_NOT_OURS(fd)                                                                     \
	do {                                                                                \
		if (__builtin_expect(st_fd_is_ours(fd), 0)) {                               \
			errno = EBADF;                                                      \
			return -1;                                                          \
		}                                                                           \
	} while (0)

static int st_dup(int fd)
{
	ST_NOT_OURS(fd);
	int r = ST_NEXT(dup) ? st_real.dup(fd) : (int)st_sys(SYS_dup, fd);

	if (r >= 0)
		st_fd_copied(r);
	return r;
}

static int st_fcntl(int fd, int cmd, void *arg, int sixty_four)
{
	int r;

	ST_NOT_OURS(fd);
	if (sixty_four && ST_NEXT(fcntl64))
		r = st_real.fcntl64(fd, cmd, arg);
	else if (ST_NEXT(fcntl))
		r = st_real.fcntl(fd, cmd, arg);
	else
		r = (int)st_sys(SYS_fcntl, fd, cmd, arg);
	if (r >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
		st_fd_copied(r);
	return r;
}

/* fclose() closes the fd inside libc, where the close wrapper cannot see it. */
static int st_fclose(FILE *f)
{
	int fd = f ? fileno(f) : -1, r;

	if (!ST_NEXT(fclose))
		ST_MISSING(EOF);
	r = st_real.fclose(f);
	if (fd >= 0)
		st_fd_changed(fd);
	return r;
}

static FILE *st_freopen(const char *path, const char *mode, FILE *f, int sixty_four)
{
	int fd = f ? fileno(f) : -1;
	FILE *r;

	if (sixty_four && ST_NEXT(freopen64))
		r = st_real.freopen64(path, mode, f);
	else if (ST_NEXT(freopen))
		r = st_real.freopen(path, mode, f);
	else
		ST_MISSING(NULL);
	if (fd >= 0)
		st_fd_changed(fd);
	if (r) {
		int saved = errno;

		st_fd_changed(fileno(r));
		errno = saved;
	}
	return r;
}

static int st_fcloseall(void)
{
	int r;

	if (!ST_NEXT(fcloseall))
		ST_MISSING(EOF);
	r = st_real.fcloseall();
	st_fd_forget_all();
	return r;
}

static int st_pclose(FILE *f)
{
	int fd = f ? fileno(f) : -1, r;

	if (!ST_NEXT(pclose))
		ST_MISSING(-1);
	r = st_real.pclose(f);
	if (fd >= 0)
		st_fd_changed(fd);
	return r;
}

/* daemon() puts /dev/null on 0, 1 and 2 inside libc. */
static int st_daemon(int nochdir, int noclose)
{
	int r;

	if (!ST_NEXT(daemon))
		ST_MISSING(-1);
	r = st_real.daemon(nochdir, noclose);
	st_fd_changed_range(0, 2);
	return r;
}

/*
 * fds that arrive in SCM_RIGHTS take numbers the program may have freed in
 * ways no wrapper saw: their entries no longer hold. The control data was
 * just written by the kernel; it is read through st_mem_copy all the same
 * (another thread may unmap it).
 */
static void st_rights_changed(const struct msghdr *umsg)
{
	struct st_mem m = {__libc_single_threaded};
	struct msghdr msg;
	size_t off = 0;

	if (st_mem_copy(&m, &msg, umsg, sizeof(msg)) != 0 || !msg.msg_control ||
	    msg.msg_controllen < sizeof(struct cmsghdr))
		return;
	while (off + sizeof(struct cmsghdr) <= msg.msg_controllen) {
		struct cmsghdr ch;
		size_t i, n;

		if (st_mem_copy(&m, &ch, (const char *)msg.msg_control + off, sizeof(ch)) != 0 ||
		    ch.cmsg_len < CMSG_LEN(0) || off + ch.cmsg_len > msg.msg_controllen)
			return;
		if (ch.cmsg_level == SOL_SOCKET && ch.cmsg_type == SCM_RIGHTS) {
			n = (ch.cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (i = 0; i < n; i++) {
				int fd;

				if (st_mem_copy(&m, &fd,
						(const char *)msg.msg_control + off + CMSG_LEN(0) +
						    i * sizeof(int),
						sizeof(fd)) == 0)
					st_fd_copied(fd);
			}
		}
		off += CMSG_ALIGN(ch.cmsg_len);
	}
}

static ssize_t st_recvmsg(int fd, struct msghdr *msg, int flags)
{
	ssize_t r = ST_NEXT(recvmsg) ? st_real.recvmsg(fd, msg, flags)
				     : st_sys(SYS_recvmsg, fd, msg, flags);

	if (r >= 0) {
		int saved = errno;

		st_rights_changed(msg);
		errno = saved;
	}
	return r;
}

static int st_recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
		       struct timespec *timeout)
{
	int r = ST_NEXT(recvmmsg) ? st_real.recvmmsg(fd, vec, vlen, flags, timeout)
				  : (int)st_sys(SYS_recvmmsg, fd, vec, vlen, flags, timeout);
	int i, saved = errno;

	for (i = 0; i < r; i++)
		st_rights_changed(&vec[i].msg_hdr);
	errno = saved;
	return r;
}

/* ---- the exported symbols ---- */

ST_EXPORT int socket(int domain, int type, int proto)
{
	return ST_ALLOWED(int, st_socket(domain, type, proto));
}

ST_EXPORT int socketpair(int domain, int type, int proto, int sv[2])
{
	return ST_ALLOWED(int, st_socketpair(domain, type, proto, sv));
}

ST_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return ST_ALLOWED(int, st_accept4(fd, addr, len, 0, 0));
}

ST_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	return ST_ALLOWED(int, st_accept4(fd, addr, len, flags, 1));
}

ST_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	return ST_ALLOWED(int, st_connect(fd, addr, len));
}

ST_EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	return ST_ALLOWED(int, st_setsockopt(fd, level, name, val, len));
}

ST_EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	return ST_ALLOWED(int, st_bind_fd(fd, addr, len));
}

ST_EXPORT int shutdown(int fd, int how)
{
	return ST_ALLOWED(int, st_shutdown(fd, how));
}

ST_EXPORT int pipe(int fds[2])
{
	return ST_ALLOWED(int, st_pipe2(fds, 0, 0, __builtin_return_address(0)));
}

ST_EXPORT int pipe2(int fds[2], int flags)
{
	return ST_ALLOWED(int, st_pipe2(fds, flags, 1, __builtin_return_address(0)));
}

ST_EXPORT int dup(int fd)
{
	return ST_ALLOWED(int, st_dup(fd));
}

/* Variadic in libc: the third argument, when there is one, is an int or a pointer. */
ST_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return ST_ALLOWED(int, st_fcntl(fd, cmd, arg, 0));
}

ST_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return ST_ALLOWED(int, st_fcntl(fd, cmd, arg, 1));
}

/*
 * The stdio closers stay out of ST_ALLOWED (st.h): the flush they make may
 * be the program's last send on a socket, which complete mode records.
 */
ST_EXPORT int fclose(FILE *f)
{
	return st_fclose(f);
}

ST_EXPORT FILE *freopen(const char *path, const char *mode, FILE *f)
{
	return st_freopen(path, mode, f, 0);
}

ST_EXPORT FILE *freopen64(const char *path, const char *mode, FILE *f)
{
	return st_freopen(path, mode, f, 1);
}

ST_EXPORT int fcloseall(void)
{
	return st_fcloseall();
}

ST_EXPORT int pclose(FILE *f)
{
	return st_pclose(f);
}

ST_EXPORT int daemon(int nochdir, int noclose)
{
	return ST_ALLOWED(int, st_daemon(nochdir, noclose));
}

ST_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	return ST_ALLOWED(ssize_t, st_recvmsg(fd, msg, flags));
}

ST_EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
		       struct timespec *timeout)
{
	return ST_ALLOWED(int, st_recvmmsg(fd, vec, vlen, flags, timeout));
}
