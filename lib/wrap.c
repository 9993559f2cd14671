/* wrap.c: the exported send-family symbols, each a one-line call into its tracer. */
#include "config.h"

#include <errno.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "st.h"

#define ST_EXPORT __attribute__((visibility("default")))

/*
 * The next definition, or the system call itself while it is not bound yet
 * (a call made from inside dlsym, or before any constructor has run).
 */
static ssize_t st_next_send(int fd, const void *buf, size_t len, int flags)
{
	if (st_real.send)
		return st_real.send(fd, buf, len, flags);
	return st_sys(SYS_sendto, fd, buf, len, flags, NULL, 0);
}

static ssize_t st_next_sendto(int fd, const void *buf, size_t len, int flags,
			      const struct sockaddr *to, socklen_t tolen)
{
	if (st_real.sendto)
		return st_real.sendto(fd, buf, len, flags, to, tolen);
	return st_sys(SYS_sendto, fd, buf, len, flags, to, tolen);
}

static ssize_t st_next_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (st_real.sendmsg)
		return st_real.sendmsg(fd, msg, flags);
	return st_sys(SYS_sendmsg, fd, msg, flags);
}

static int st_next_sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
	if (st_real.sendmmsg)
		return st_real.sendmmsg(fd, vec, vlen, flags);
	return (int)st_sys(SYS_sendmmsg, fd, vec, vlen, flags);
}

static ssize_t st_next_write(int fd, const void *buf, size_t len)
{
	if (st_real.write)
		return st_real.write(fd, buf, len);
	return st_sys(SYS_write, fd, buf, len);
}

static ssize_t st_next_writev(int fd, const struct iovec *iov, int cnt)
{
	if (st_real.writev)
		return st_real.writev(fd, iov, cnt);
	return st_sys(SYS_writev, fd, iov, cnt);
}

static ssize_t st_next_sendfile64(int out, int in, off64_t *off, size_t count)
{
	if (st_real.sendfile64)
		return st_real.sendfile64(out, in, off, count);
	return st_sys(SYS_sendfile, out, in, off, count);
}

static ssize_t st_next_sendfile(int out, int in, off_t *off, size_t count)
{
	if (st_real.sendfile)
		return st_real.sendfile(out, in, off, count);
	return st_sys(SYS_sendfile, out, in, off, count);
}

static inline __attribute__((always_inline)) void st_json_flags(struct st_call *c, int flags)
{
	c->flags = flags;
	c->has_flags = 1;
	st_json_key(&c->j, "flags");
	st_json_msg_flags(&c->j, (unsigned int)flags);
	st_json_key(&c->j, "flags_raw");
	st_json_int(&c->j, flags);
}

static void st_call_len(struct st_call *c, unsigned long long len)
{
	c->len = len;
	c->has_len = 1;
	st_json_key(&c->j, "len");
	st_json_uint(&c->j, len);
}

/*
 * The tracers are out of line, so that the exported functions stay small
 * enough for the dormant fast path to be a few instructions and a tail call;
 * each is given the program's call site, which only the exported function
 * sees as its return address.
 */
#define ST_TRACER static __attribute__((noinline))
#define ST_SITE	  site

/*
 * The trace fd and libunwind's pipe are not the program's: a call on one
 * gets EBADF, as it would untraced. libunwind's own writes to its pipe (the
 * tracer calling out, t->internal) go through.
 */
static int st_refused(int fd)
{
	if (__builtin_expect(!st_fd_is_ours(fd), 1) || st_tracer_inside())
		return 0;
	errno = EBADF;
	return 1;
}

ST_TRACER ssize_t st_send(int fd, const void *buf, size_t len, int flags, void *site)
{
	struct st_call c;
	ssize_t r;

	if (st_refused(fd))
		return -1;
	st_call_args(&c, 1, flags, 1, len);
	if (!st_call_begin(&c, ST_CALL_SEND, fd, ST_ANY_FD, ST_SITE))
		return st_next_send(fd, buf, len, flags);
	r = st_next_send(fd, buf, len, flags);
	if (!st_call_end(&c, r))
		return r;
	st_call_len(&c, len);
	st_json_flags(&c, flags);
	st_json_payload(&c, buf, len);
	st_call_emit(&c);
	return r;
}

ST_TRACER ssize_t st_sendto(int fd, const void *buf, size_t len, int flags,
			    const struct sockaddr *to, socklen_t tolen, void *site)
{
	struct sockaddr_storage ss;
	struct st_mem m;
	struct st_call c;
	socklen_t n = tolen;
	ssize_t r;

	if (st_refused(fd))
		return -1;
	st_call_args(&c, 1, flags, 1, len);
	c.arg = to;
	c.argn = tolen;
	c.has_dest = to != NULL && tolen != 0;
	if (!st_call_begin(&c, ST_CALL_SENDTO, fd, ST_ANY_FD, ST_SITE))
		return st_next_sendto(fd, buf, len, flags, to, tolen);
	r = st_next_sendto(fd, buf, len, flags, to, tolen);
	if (!st_call_end(&c, r))
		return r;
	st_mem_for(&m, &c);
	st_call_len(&c, len);
	st_json_flags(&c, flags);
	st_json_key(&c.j, "addr");
	if (n > sizeof(ss))
		n = sizeof(ss);
	if (to && tolen && st_mem_copy(&m, &ss, to, n) == 0)
		st_json_sockaddr(&c.j, (struct sockaddr *)&ss, n);
	else
		st_json_null(&c.j);
	st_json_key(&c.j, "addrlen");
	st_json_uint(&c.j, tolen);
	st_json_payload(&c, buf, len);
	st_call_emit(&c);
	return r;
}

ST_TRACER ssize_t st_sendmsg(int fd, const struct msghdr *msg, int flags, void *site)
{
	struct msghdr copy;
	struct st_mem m;
	struct st_call c;
	ssize_t r;

	if (st_refused(fd))
		return -1;
	st_call_args(&c, 1, flags, 0, 0);
	c.arg = msg;
	if (!st_call_begin(&c, ST_CALL_SENDMSG, fd, ST_ANY_FD, ST_SITE))
		return st_next_sendmsg(fd, msg, flags);
	r = st_next_sendmsg(fd, msg, flags);
	if (!st_call_end(&c, r))
		return r;
	st_mem_for(&m, &c);
	st_json_flags(&c, flags);
	c.len = st_json_msghdr(&c.j, &m, msg, &c.msg, &copy);
	c.has_len = c.msg.present;
	c.has_dest = c.msg.has_name;
	if (!c.failed && st_config.payload)
		st_json_payload_iov(&c, copy.msg_iov, copy.msg_iovlen);
	st_call_emit(&c);
	return r;
}

ST_TRACER int st_sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags, void *site)
{
	struct st_call c;
	int r;

	if (st_refused(fd))
		return -1;
	st_call_args(&c, 1, flags, 0, 0);
	c.arg = vec;
	c.argn = vlen;
	if (!st_call_begin(&c, ST_CALL_SENDMMSG, fd, ST_ANY_FD, ST_SITE))
		return st_next_sendmmsg(fd, vec, vlen, flags);
	r = st_next_sendmmsg(fd, vec, vlen, flags);
	if (!st_call_end(&c, r))
		return r;
	st_json_flags(&c, flags);
	c.len = st_json_mmsg(&c.j, vec, vlen, r, &c.msg, c.level >= 0 ? c.t->gather[c.level] : NULL,
			     c.level >= 0 ? sizeof(c.t->gather[0]) : 0);
	c.has_len = 1;
	c.has_dest = 1; /* per message; the datagram rules look at each call's result */
	st_call_emit(&c);
	return r;
}

ST_TRACER ssize_t st_write(int fd, const void *buf, size_t len, void *site)
{
	struct st_call c;
	ssize_t r;

	if (st_refused(fd))
		return -1;
	st_call_args(&c, 0, 0, 1, len);
	if (!st_call_begin(&c, ST_CALL_WRITE, fd, ST_SOCKET_FD, ST_SITE))
		return st_next_write(fd, buf, len);
	r = st_raw_write(fd, buf, len);
	if (!st_call_end(&c, r))
		return r;
	st_call_len(&c, len);
	st_json_payload(&c, buf, len);
	st_call_emit(&c);
	return r;
}

ST_TRACER ssize_t st_writev(int fd, const struct iovec *iov, int cnt, void *site)
{
	unsigned long long total;
	struct st_mem m;
	struct st_call c;
	ssize_t r;

	if (st_refused(fd))
		return -1;
	st_call_args(&c, 0, 0, 0, 0);
	c.arg = iov;
	c.argn = (unsigned)cnt;
	if (!st_call_begin(&c, ST_CALL_WRITEV, fd, ST_SOCKET_FD, ST_SITE))
		return st_next_writev(fd, iov, cnt);
	r = st_next_writev(fd, iov, cnt);
	if (!st_call_end(&c, r))
		return r;
	st_mem_for(&m, &c);
	st_json_key(&c.j, "iov");
	if (cnt > 0) {
		st_json_iov(&c.j, &m, iov, cnt, &total);
		st_call_len(&c, total);
	} else {
		st_json_null(&c.j);
	}
	st_json_key(&c.j, "iovcnt");
	st_json_int(&c.j, cnt);
	if (!c.failed && st_config.payload && cnt > 0)
		st_json_payload_iov(&c, iov, (size_t)cnt);
	st_call_emit(&c);
	return r;
}

/*
 * The kernel reads *offset, sends, and writes the advanced offset back, also
 * when it fails (then unchanged). So the offset before the call is what is
 * there now, less what was sent, and nothing is read before the call.
 */
static void st_json_sendfile(struct st_call *c, int in, const void *off, size_t count)
{
	struct st_mem m;
	off64_t now;

	st_mem_for(&m, c);
	st_json_key(&c->j, "in");
	st_json_infd(&c->j, in);
	st_json_key(&c->j, "offset");
	if (off && st_mem_copy(&m, &now, off, sizeof(now)) == 0) {
		st_json_int(&c->j, c->ret > 0 ? now - c->ret : now);
	} else {
		st_json_null(&c->j);
		if (off) {
			st_json_key(&c->j, "offset_unreadable");
			st_json_bool(&c->j, 1);
		}
	}
	st_call_len(c, count);
}

ST_TRACER ssize_t st_sendfile(int out, int in, off_t *off, size_t count, void *site)
{
	struct st_call c;
	ssize_t r;

	if (st_refused(out))
		return -1;
	st_call_args(&c, 0, 0, 1, count);
	if (!st_call_begin(&c, ST_CALL_SENDFILE, out, ST_SOCKET_FD, ST_SITE))
		return st_next_sendfile(out, in, off, count);
	r = st_next_sendfile(out, in, off, count);
	if (!st_call_end(&c, r))
		return r;
	st_json_sendfile(&c, in, off, count);
	st_call_emit(&c);
	return r;
}

ST_TRACER ssize_t st_sendfile64(int out, int in, off64_t *off, size_t count, void *site)
{
	struct st_call c;
	ssize_t r;

	if (st_refused(out))
		return -1;
	st_call_args(&c, 0, 0, 1, count);
	if (!st_call_begin(&c, ST_CALL_SENDFILE64, out, ST_SOCKET_FD, ST_SITE))
		return st_next_sendfile64(out, in, off, count);
	r = st_next_sendfile64(out, in, off, count);
	if (!st_call_end(&c, r))
		return r;
	st_json_sendfile(&c, in, off, count);
	st_call_emit(&c);
	return r;
}

/* ---- the exported symbols ---- */
/*
 * Each first asks st_pass_through() (st.h): loaded dormant and holding no
 * fd of its own yet, the library forwards the call at once, for the cost of
 * a few loads; everything else (the guard of the library's fds, tracing)
 * comes after.
 */

ST_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	if (st_pass_through())
		return st_next_send(fd, buf, len, flags);
	return ST_ALLOWED(ssize_t, st_send(fd, buf, len, flags, __builtin_return_address(0)));
}

ST_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
			 socklen_t tolen)
{
	if (st_pass_through())
		return st_next_sendto(fd, buf, len, flags, to, tolen);
	return ST_ALLOWED(ssize_t, st_sendto(fd, buf, len, flags, to, tolen, __builtin_return_address(0)));
}

ST_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (st_pass_through())
		return st_next_sendmsg(fd, msg, flags);
	return ST_ALLOWED(ssize_t, st_sendmsg(fd, msg, flags, __builtin_return_address(0)));
}

ST_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
	if (st_pass_through())
		return st_next_sendmmsg(fd, vec, vlen, flags);
	return ST_ALLOWED(int, st_sendmmsg(fd, vec, vlen, flags, __builtin_return_address(0)));
}

ST_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	if (st_pass_through())
		return st_next_write(fd, buf, len);
	return ST_ALLOWED(ssize_t, st_write(fd, buf, len, __builtin_return_address(0)));
}

ST_EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	if (st_pass_through())
		return st_next_writev(fd, iov, cnt);
	return ST_ALLOWED(ssize_t, st_writev(fd, iov, cnt, __builtin_return_address(0)));
}

ST_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
	if (st_pass_through())
		return st_next_sendfile(out, in, off, count);
	return ST_ALLOWED(ssize_t, st_sendfile(out, in, off, count, __builtin_return_address(0)));
}

ST_EXPORT ssize_t sendfile64(int out, int in, off64_t *off, size_t count)
{
	if (st_pass_through())
		return st_next_sendfile64(out, in, off, count);
	return ST_ALLOWED(ssize_t, st_sendfile64(out, in, off, count, __builtin_return_address(0)));
}

/*
 * Complete mode: a send-family system call made outside the exported
 * functions (inside libc, syscall(), an inline instruction), trapped by
 * complete.c, made and recorded by the same tracer, from the same site.
 */
long st_wrap_trapped(long nr, const long *a, void *site)
{
	int saved = errno;
	long r;

	switch (nr) {
	case SYS_sendto:
		r = st_sendto((int)a[0], (const void *)a[1], (size_t)a[2], (int)a[3],
			      (const struct sockaddr *)a[4], (socklen_t)a[5], site);
		break;
	case SYS_sendmsg:
		r = st_sendmsg((int)a[0], (const struct msghdr *)a[1], (int)a[2], site);
		break;
	case SYS_sendmmsg:
		r = st_sendmmsg((int)a[0], (struct mmsghdr *)a[1], (unsigned int)a[2], (int)a[3], site);
		break;
	case SYS_write:
		r = st_write((int)a[0], (const void *)a[1], (size_t)a[2], site);
		break;
	case SYS_writev:
		r = st_writev((int)a[0], (const struct iovec *)a[1], (int)a[2], site);
		break;
	case SYS_sendfile:
		r = st_sendfile((int)a[0], (int)a[1], (off_t *)a[2], (size_t)a[3], site);
		break;
	default:
		return -ENOSYS;
	}
	if (r < 0)
		r = -errno;
	errno = saved;
	return r;
}
