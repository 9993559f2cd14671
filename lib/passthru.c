/* passthru.c: the program's common waits through libc, made without a trap in complete mode. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "st.h"

#define ST_EXPORT __attribute__((visibility("default")))

/*
 * In complete mode every system call of an armed thread traps (about 2.5 us
 * of signal delivery on a small VM), but a call the program makes through
 * one of libc's exported functions is one the library can see directly:
 * it need not trap to be made. These are the calls a daemon spends its
 * life in (reads and receives, poll/select/epoll_wait, sleeps), forwarded
 * allowed (ST_ALLOWED, st.h). Traps are left for what matters: system
 * calls made inside libc or by the program's own instructions. Outside
 * complete mode each costs a forward and two stores to a thread-local byte.
 *
 * The ones that take a signal mask (ppoll, pselect, epoll_pwait) are not
 * here: their masks must lose SIGSYS, which the trap does (complete.c).
 * sigaction(), signal(), sigprocmask() and pthread_sigmask() are here the
 * other way round: they are made trapping even from inside an allowed wait
 * (a signal handler that ran there), so that no handler is installed with
 * SIGSYS in its mask, SIGSYS itself stays the library's, and no thread
 * blocks it.
 */
typedef ssize_t (*st_read_fn)(int, void *, size_t);
typedef ssize_t (*st_readv_fn)(int, const struct iovec *, int);
typedef ssize_t (*st_recv_fn)(int, void *, size_t, int);
typedef ssize_t (*st_recvfrom_fn)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
typedef int (*st_poll_fn)(struct pollfd *, nfds_t, int);
typedef int (*st_select_fn)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
typedef int (*st_epoll_wait_fn)(int, struct epoll_event *, int, int);
typedef int (*st_nanosleep_fn)(const struct timespec *, struct timespec *);
typedef int (*st_clock_nanosleep_fn)(clockid_t, int, const struct timespec *, struct timespec *);
typedef int (*st_sigaction_fn)(int, const struct sigaction *, struct sigaction *);
typedef sighandler_t (*st_signal_fn)(int, sighandler_t);
typedef int (*st_sigmask_fn)(int, const sigset_t *, sigset_t *);

/*
 * Bound at the first call: dlsym there is safe, since none of these is
 * called by dlsym itself; until bound (only while dlsym runs), the raw call.
 */
#define ST_PASS(fn) (st_real.fn ? st_real.fn : (st_bind(), st_real.fn))

static ssize_t st_read(int fd, void *buf, size_t n)
{
	if (!ST_PASS(read))
		return st_sys(SYS_read, fd, buf, n);
	return st_real.read(fd, buf, n);
}

static ssize_t st_readv(int fd, const struct iovec *iov, int cnt)
{
	if (!ST_PASS(readv))
		return st_sys(SYS_readv, fd, iov, cnt);
	return st_real.readv(fd, iov, cnt);
}

static ssize_t st_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *from,
			   socklen_t *len)
{
	if (!ST_PASS(recvfrom))
		return st_sys(SYS_recvfrom, fd, buf, n, flags, from, len);
	return st_real.recvfrom(fd, buf, n, flags, from, len);
}

static int st_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (!ST_PASS(poll))
		return (int)st_sys(SYS_poll, fds, n, timeout);
	return st_real.poll(fds, n, timeout);
}

static int st_select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *t)
{
	if (!ST_PASS(select))
		return (int)st_sys(SYS_select, n, r, w, e, t);
	return st_real.select(n, r, w, e, t);
}

static int st_epoll_wait(int ep, struct epoll_event *ev, int max, int timeout)
{
	if (!ST_PASS(epoll_wait))
		return (int)st_sys(SYS_epoll_wait, ep, ev, max, timeout);
	return st_real.epoll_wait(ep, ev, max, timeout);
}

static int st_clock_nanosleep(clockid_t c, int flags, const struct timespec *t,
			      struct timespec *rem)
{
	long r;

	if (ST_PASS(clock_nanosleep))
		return st_real.clock_nanosleep(c, flags, t, rem);
	r = st_sys(SYS_clock_nanosleep, c, flags, t, rem);
	return r < 0 ? errno : 0; /* it returns the error, not -1 */
}

static int st_nanosleep(const struct timespec *t, struct timespec *rem)
{
	if (!ST_PASS(nanosleep))
		return (int)st_sys(SYS_nanosleep, t, rem);
	return st_real.nanosleep(t, rem);
}

static int st_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (!ST_PASS(sigaction))
		return (int)st_sys(SYS_rt_sigaction, sig, act, old, 8);
	return st_real.sigaction(sig, act, old);
}

static sighandler_t st_signal(int sig, sighandler_t h)
{
	if (!ST_PASS(signal)) {
		errno = ENOSYS;
		return SIG_ERR;
	}
	return st_real.signal(sig, h);
}

static int st_sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	if (!ST_PASS(sigprocmask))
		return (int)st_sys(SYS_rt_sigprocmask, how, set, old, 8);
	return st_real.sigprocmask(how, set, old);
}

static int st_pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	if (!ST_PASS(pthread_sigmask))
		return st_sys(SYS_rt_sigprocmask, how, set, old, 8) < 0 ? errno : 0;
	return st_real.pthread_sigmask(how, set, old);
}

ST_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	return ST_ALLOWED(ssize_t, st_read(fd, buf, n));
}

ST_EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	return ST_ALLOWED(ssize_t, st_readv(fd, iov, cnt));
}

ST_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	return ST_ALLOWED(ssize_t, st_recvfrom(fd, buf, n, flags, NULL, NULL));
}

ST_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *from,
			   socklen_t *len)
{
	return ST_ALLOWED(ssize_t, st_recvfrom(fd, buf, n, flags, from, len));
}

ST_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	return ST_ALLOWED(int, st_poll(fds, n, timeout));
}

ST_EXPORT int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *t)
{
	return ST_ALLOWED(int, st_select(n, r, w, e, t));
}

ST_EXPORT int epoll_wait(int ep, struct epoll_event *ev, int max, int timeout)
{
	return ST_ALLOWED(int, st_epoll_wait(ep, ev, max, timeout));
}

ST_EXPORT int nanosleep(const struct timespec *t, struct timespec *rem)
{
	return ST_ALLOWED(int, st_nanosleep(t, rem));
}

ST_EXPORT int clock_nanosleep(clockid_t c, int flags, const struct timespec *t,
			      struct timespec *rem)
{
	return ST_ALLOWED(int, st_clock_nanosleep(c, flags, t, rem));
}

ST_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return ST_TRAPPED(int, st_sigaction(sig, act, old));
}

ST_EXPORT sighandler_t signal(int sig, sighandler_t h)
{
	return ST_TRAPPED(sighandler_t, st_signal(sig, h));
}

ST_EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	return ST_TRAPPED(int, st_sigprocmask(how, set, old));
}

ST_EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	return ST_TRAPPED(int, st_pthread_sigmask(how, set, old));
}
