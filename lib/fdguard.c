/* fdguard.c: close, dup2, dup3, close_range and closefrom, kept off the library's own fds. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "st.h"

#define ST_EXPORT __attribute__((visibility("default")))

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/*
 * The library owns a few fds: the trace file and libunwind's pipe. Daemons
 * close every fd, and dup2() over numbers they believe free. Checking an fd's
 * identity and then using it leaves a gap in which another thread can put
 * its own file at that number, and the trace bytes would reach the program's
 * socket. So the calls that close or replace a number are interposed here:
 * when they would touch one of ours, they first take the fd lock, which the
 * library holds while it uses its fds, and move the trace fd elsewhere.
 * Closing one of ours gives EBADF, as it would untraced (that number is not
 * the program's); dup2() onto one succeeds, as it would untraced.
 *
 * What bypasses libc (an inline syscall instruction) is not seen; the
 * library still checks its trace fd's identity before each append, so such
 * a program loses at most its own race, never the trace's safety in the
 * common case. docs/reliability.md says so.
 */
/* The next definition (a cancellation point, as the program expects), or the raw call. */
static int st_next_close(int fd)
{
	return st_real.close ? st_real.close(fd) : (int)st_sys(SYS_close, fd);
}

static int st_next_dup2(int oldfd, int newfd)
{
	return st_real.dup2 ? st_real.dup2(oldfd, newfd) : (int)st_sys(SYS_dup2, oldfd, newfd);
}

static int st_next_dup3(int oldfd, int newfd, int flags)
{
	return st_real.dup3 ? st_real.dup3(oldfd, newfd, flags)
			    : (int)st_sys(SYS_dup3, oldfd, newfd, flags);
}

int st_sys_close(int fd)
{
	return (int)st_sys(SYS_close, fd);
}

int st_sys_dupfd(int fd, int min)
{
	return (int)st_sys(SYS_fcntl, fd, F_DUPFD_CLOEXEC, min);
}

static int st_fdlock_word;
/*
 * fd 2 has its own lock: warnings are said with the fd lock held, and a
 * lock that knew its owner (pthread_self) would be fooled by a child of
 * clone(CLONE_VM), which shares the thread's TCB. Two plain locks, always
 * taken in the order fd lock, then stderr lock, cannot deadlock.
 */
static int st_errlock_word;

/*
 * The lock word holds 1, or in a sandbox the owner's tid. A child forked
 * without atfork handlers (_Fork, raw fork) may have inherited it held by a
 * thread that does not exist there: the child's state is reset first.
 */
static void st_lock_word(struct st_fdlock *l, int *word)
{
	sigset_t all;
	int me = 1, free_;

	if (__builtin_expect(st_forked_silently(), 0))
		st_after_fork_silent();
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &l->cancel);
	/*
	 * In a seccomp sandbox even rt_sigprocmask may be refused, so signals
	 * stay open: a handler of the thread that holds the lock must not wait
	 * for it. The owner's tid (glibc's own record, no system call) tells.
	 */
	l->masked = !st_sandboxed();
	l->nested = 0;
	l->word = word;
	sigfillset(&all);
	if (l->masked) {
		pthread_sigmask(SIG_BLOCK, &all, &l->old);
	} else {
		me = st_sandbox_tid();
		if (me <= 0)
			me = 1;
		else if (__atomic_load_n(word, __ATOMIC_ACQUIRE) == me) {
			l->nested = 1; /* a handler of the holder: go on without it */
			return;
		}
	}
	for (;;) {
		free_ = 0;
		if (__atomic_compare_exchange_n(word, &free_, me, 0, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return;
		sched_yield();
	}
}

void st_fd_lock(struct st_fdlock *l)
{
	st_lock_word(l, &st_fdlock_word);
}

void st_err_lock(struct st_fdlock *l)
{
	st_lock_word(l, &st_errlock_word);
}

void st_fd_unlock(struct st_fdlock *l)
{
	int unused;

	if (!l->nested && l->word)
		__atomic_store_n(l->word, 0, __ATOMIC_RELEASE);
	if (l->masked)
		pthread_sigmask(SIG_SETMASK, &l->old, NULL);
	pthread_setcancelstate(l->cancel, &unused);
}

/*
 * The library's short-lived fds (/proc/self/maps, the trace file while it is
 * being opened) take the lowest free number for a moment. A program thread
 * that dup2()s onto that number, believing it free, would have the library
 * read its socket (or close it), or get EBUSY from the kernel. So such a
 * section first waits until no dup2/dup3 is under way, and dup2/dup3 wait
 * while one is open. The section blocks signals, so no handler on its own
 * thread can wait for it; and it gives up after a bounded wait (a handler
 * of a thread inside dup2 may be what keeps dup2 busy), failing cleanly.
 */
static int st_tmp_busy, st_dup_active;

int st_tmp_begin(struct st_fdlock *l)
{
	sigset_t all;
	int i;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &l->cancel);
	l->masked = !st_sandboxed();
	l->nested = 1; /* no lock word of its own */
	l->word = NULL;
	sigfillset(&all);
	if (l->masked)
		pthread_sigmask(SIG_BLOCK, &all, &l->old);
	__atomic_add_fetch(&st_tmp_busy, 1, __ATOMIC_SEQ_CST);
	for (i = 0; __atomic_load_n(&st_dup_active, __ATOMIC_SEQ_CST); i++) {
		if (i > 20000) {
			st_tmp_end(l);
			return -1;
		}
		sched_yield();
	}
	return 0;
}

void st_tmp_end(struct st_fdlock *l)
{
	__atomic_sub_fetch(&st_tmp_busy, 1, __ATOMIC_SEQ_CST);
	st_fd_unlock(l);
}

/* A dup2/dup3 of the program's: not while the library holds a short-lived fd. */
static void st_dup_enter(void)
{
	__atomic_add_fetch(&st_dup_active, 1, __ATOMIC_SEQ_CST);
	while (__builtin_expect(__atomic_load_n(&st_tmp_busy, __ATOMIC_SEQ_CST) != 0, 0)) {
		__atomic_sub_fetch(&st_dup_active, 1, __ATOMIC_SEQ_CST);
		sched_yield();
		__atomic_add_fetch(&st_dup_active, 1, __ATOMIC_SEQ_CST);
	}
}

static void st_dup_leave(void)
{
	__atomic_sub_fetch(&st_dup_active, 1, __ATOMIC_SEQ_CST);
}

/* In a fork()ed child: a thread that held the lock in the parent does not exist here. */
void st_fd_lock_reset(void)
{
	st_fdlock_word = 0;
	st_errlock_word = 0;
	st_tmp_busy = 0;
	st_dup_active = 0;
}

/* fd 2 as it was at start-up: warnings go there only while it still is. */
static dev_t st_err_dev;
static ino_t st_err_ino;
static int st_err_known;

void st_fdguard_init(void)
{
	struct stat sb;

	if (st_fstat(2, &sb) == 0) {
		st_err_dev = sb.st_dev;
		st_err_ino = sb.st_ino;
		st_err_known = 1;
	}
}

int st_stderr_same(void)
{
	struct stat sb;

	return st_err_known && st_fstat(2, &sb) == 0 && sb.st_dev == st_err_dev &&
	       sb.st_ino == st_err_ino;
}

/* Ours: the trace fd, or libunwind's pipe. */
static int st_fd_ours(int fd)
{
	return fd >= 0 && (fd == st_sink_fd() || st_bt_owns_fd(fd));
}

int st_fd_is_ours(int fd)
{
	return st_fd_ours(fd);
}

/* Numbers whose change must wait for the lock: ours, and fd 2 (warnings). */
static int st_fd_watched(int fd)
{
	return fd == 2 || st_fd_ours(fd);
}

/*
 * close(), and with SENDTRACE_CALLS=close a record of it: the socket is
 * described from the table as it was before the call, since afterwards the
 * number names nothing, or another thread's new file.
 */
static int st_close_how(int fd, int (*next)(int))
{
	struct st_call c;
	int r, traced;

	if (__builtin_expect(st_fd_ours(fd), 0)) {
		errno = EBADF; /* not the program's: untraced, it was not open */
		return -1;
	}
	st_call_args(&c, 0, 0, 0, 0);
	traced = (st_config.calls & (1u << ST_CALL_CLOSE)) &&
		 st_call_begin(&c, ST_CALL_CLOSE, fd, ST_SOCKET_ONLY, NULL);
	if (fd == 2) {
		struct st_fdlock l;
		int e;

		/* close() is a cancellation point: a pending cancel acts before the lock. */
		pthread_testcancel();
		st_err_lock(&l);
		r = next(fd);
		e = errno;
		if (!traced)
			st_fd_changed(fd);
		st_fd_unlock(&l);
		errno = e;
	} else {
		r = next(fd);
	}
	if (traced)
		traced = st_call_end(&c, r); /* copies the entry while its generation holds */
	st_fd_changed(fd);		     /* even on error: EINTR/EIO may still have closed it */
	if (traced)
		st_call_emit(&c); /* restores the call's errno */
	return r;
}

static int st_close(int fd)
{
	return st_close_how(fd, st_next_close);
}

/* fd 2 waits for a warning being written; ours for the library's use of them. */
static void st_watch_lock(struct st_fdlock *l, int fd)
{
	if (fd == 2)
		st_err_lock(l);
	else
		st_fd_lock(l);
}

/* Before the program's file lands on `newfd`: take ours off it. Lock held. */
static void st_fd_vacate(int newfd)
{
	st_sink_fd_move(newfd);
	st_bt_fd_lost(newfd);
}

static int st_dup2_guarded(int oldfd, int newfd);

static int st_dup2(int oldfd, int newfd)
{
	int r, e;

	st_dup_enter();
	r = st_dup2_guarded(oldfd, newfd);
	e = errno;
	st_dup_leave();
	if (r >= 0 && oldfd != newfd)
		st_fd_copied(newfd);
	errno = e;
	return r;
}

static int st_dup2_guarded(int oldfd, int newfd)
{
	struct st_fdlock l;
	int r, e;

	if (__builtin_expect(st_fd_ours(oldfd), 0)) {
		errno = EBADF; /* duplicating our fd: untraced, it was not open */
		return -1;
	}
	st_fd_changed(newfd); /* before and after: no event may pair the old entry with the new file */
	if (__builtin_expect(!st_fd_watched(newfd), 1)) {
		r = st_next_dup2(oldfd, newfd);
		st_fd_changed(newfd);
		return r;
	}
	st_watch_lock(&l, newfd);
	if (oldfd != newfd && fcntl(oldfd, F_GETFD) != -1)
		st_fd_vacate(newfd); /* only if dup2 will go ahead */
	r = st_next_dup2(oldfd, newfd);
	e = errno;
	st_fd_changed(newfd);
	st_fd_unlock(&l);
	errno = e;
	return r;
}

static int st_dup3_guarded(int oldfd, int newfd, int flags);

static int st_dup3(int oldfd, int newfd, int flags)
{
	int r, e;

	st_dup_enter();
	r = st_dup3_guarded(oldfd, newfd, flags);
	e = errno;
	st_dup_leave();
	if (r >= 0)
		st_fd_copied(newfd);
	errno = e;
	return r;
}

static int st_dup3_guarded(int oldfd, int newfd, int flags)
{
	struct st_fdlock l;
	int r, e;

	/* The kernel's order: bad flags and oldfd == newfd are EINVAL before EBADF. */
	if (__builtin_expect(st_fd_ours(oldfd), 0) && !(flags & ~O_CLOEXEC) && oldfd != newfd) {
		errno = EBADF; /* duplicating our fd: untraced, it was not open */
		return -1;
	}
	st_fd_changed(newfd);
	if (__builtin_expect(!st_fd_watched(newfd), 1)) {
		r = st_next_dup3(oldfd, newfd, flags);
		st_fd_changed(newfd);
		return r;
	}
	st_watch_lock(&l, newfd);
	if (oldfd != newfd && !(flags & ~O_CLOEXEC) && fcntl(oldfd, F_GETFD) != -1)
		st_fd_vacate(newfd);
	r = st_next_dup3(oldfd, newfd, flags);
	e = errno;
	st_fd_changed(newfd);
	st_fd_unlock(&l);
	errno = e;
	return r;
}

/*
 * close_range() with our fds cut out of the range: the program's fds close
 * exactly as they would untraced, ours stay. Returns what the kernel said.
 */
static int st_close_range_sys(unsigned lo, unsigned hi, int flags)
{
	return (int)st_sys(SYS_close_range, lo, hi, flags);
}

static int st_close_range_guarded(unsigned lo, unsigned hi, int flags)
{
	unsigned keep[3], from = lo;
	int n = 0, i, j, r = 0, e = 0, done = 0;
	struct st_fdlock l, el;

	if (lo > hi || (flags & CLOSE_RANGE_CLOEXEC) ||
	    (flags & ~(CLOSE_RANGE_CLOEXEC | CLOSE_RANGE_UNSHARE)))
		return st_close_range_sys(lo, hi, flags); /* nothing of ours can close */
	st_fd_lock(&l);
	if (lo <= 2 && hi >= 2)
		st_err_lock(&el);
	if (st_sink_fd() >= 0)
		keep[n++] = (unsigned)st_sink_fd();
	for (i = 0; i < 2; i++)
		if (st_bt_pipe(i) >= 0)
			keep[n++] = (unsigned)st_bt_pipe(i);
	/* Sorted, so that the pieces between them close in order. */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			unsigned t = keep[j];

			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	for (i = 0; i < n && !done; i++) {
		if (keep[i] < from || keep[i] > hi)
			continue;
		if (keep[i] > from && st_close_range_sys(from, keep[i] - 1, flags) != 0 && !e)
			r = -1, e = errno;
		if (keep[i] == hi)
			done = 1;
		else
			from = keep[i] + 1;
	}
	if (!done && st_close_range_sys(from, hi, flags) != 0 && !e)
		r = -1, e = errno;
	if (lo <= 2 && hi >= 2)
		st_fd_unlock(&el);
	st_fd_unlock(&l);
	errno = e;
	return r;
}

static int st_close_range(unsigned lo, unsigned hi, int flags)
{
	int saved = errno, r = st_close_range_guarded(lo, hi, flags);

	if (lo <= hi && !(flags & CLOSE_RANGE_CLOEXEC))
		st_fd_changed_range(lo, hi);
	if (r == 0)
		errno = saved;
	return r;
}

static void st_closefrom_scan(int lo)
{
	char buf[1024];
	int dir, again = 1;
	struct st_fdlock l;

	dir = st_tmp_begin(&l) == 0 ? (int)st_sys(SYS_openat, AT_FDCWD, "/proc/self/fd",
						  O_RDONLY | O_DIRECTORY | O_CLOEXEC)
				    : -2;
	if (dir < 0) {
		long max = sysconf(_SC_OPEN_MAX), fd;

		if (dir == -1)
			st_tmp_end(&l);
		for (fd = lo; fd < max; fd++)
			(void)st_close((int)fd);
		return;
	}
	/* Closing while listing: list again until a pass closes nothing. */
	while (again) {
		long n, off;

		again = 0;
		(void)st_sys(SYS_lseek, dir, 0, SEEK_SET);
		while ((n = st_sys(SYS_getdents64, dir, buf, sizeof(buf))) > 0) {
			for (off = 0; off < n;) {
				struct {
					unsigned long long ino;
					long long off;
					unsigned short reclen;
					unsigned char type;
					char name[];
				} *d = (void *)(buf + off);
				char *p = d->name;
				long fd = 0;

				off += d->reclen;
				if (*p < '0' || *p > '9')
					continue;
				while (*p >= '0' && *p <= '9')
					fd = fd * 10 + (*p++ - '0');
				if (fd < lo || fd == dir || st_fd_ours((int)fd))
					continue;
				if (st_close((int)fd) == 0)
					again = 1;
			}
		}
	}
	st_sys_close(dir);
	st_tmp_end(&l);
}

static void st_closefrom(int lo)
{
	int saved = errno;

	if (lo < 0)
		lo = 0;
	if (st_close_range_guarded((unsigned)lo, ~0U, 0) != 0) {
		/*
		 * As glibc does when close_range fails (before Linux 5.9, or a
		 * sandbox refusing it): every open number from /proc/self/fd,
		 * ours excepted; errno keeps close_range's error, as glibc's does.
		 */
		saved = errno;
		st_closefrom_scan(lo);
	}
	st_fd_changed_range((unsigned)lo, ~0U);
	errno = saved;
}

ST_EXPORT int close(int fd)
{
	return ST_ALLOWED(int, st_close(fd));
}

ST_EXPORT int dup2(int oldfd, int newfd)
{
	return ST_ALLOWED(int, st_dup2(oldfd, newfd));
}

ST_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	return ST_ALLOWED(int, st_dup3(oldfd, newfd, flags));
}

ST_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	return ST_ALLOWED(int, st_close_range(first, last, flags));
}

ST_EXPORT void closefrom(int lowfd)
{
	ST_ALLOWED_VOID(st_closefrom(lowfd));
}

/* The same, reached through syscall(2) by programs that bypass libc's wrappers. */
long st_fdguard_syscall(long nr, const long *a, int *handled)
{
	*handled = 1;
	switch (nr) {
	case SYS_close:
		/* The raw call is no cancellation point, unlike libc's close(). */
		return st_close_how((int)a[0], st_sys_close);
	case SYS_dup:
	case SYS_fcntl:
		if (st_fd_ours((int)a[0])) {
			errno = EBADF;
			return -1;
		}
		*handled = 0;
		return 0;
	case SYS_dup2:
		return st_dup2((int)a[0], (int)a[1]);
	case SYS_dup3:
		return st_dup3((int)a[0], (int)a[1], (int)a[2]);
	case SYS_close_range:
		return st_close_range((unsigned)a[0], (unsigned)a[1], (int)a[2]);
	}
	*handled = 0;
	return 0;
}
