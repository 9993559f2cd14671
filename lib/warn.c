/* warn.c: the library's only voice, one line on stderr that can never hurt the program. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "st.h"

/*
 * Write with `sig` (SIGPIPE, SIGXFSZ) blocked, and discard the one the write
 * raised: the default action of both kills the process, and the program must
 * never die of the tracer's own output.
 */
ssize_t st_write_masked(int fd, const void *buf, size_t n, int sig)
{
	static const struct timespec zero = {0, 0};
	sigset_t set, old, pending;
	int was_pending, e;
	ssize_t w;

	sigemptyset(&set);
	sigaddset(&set, sig);
	sigemptyset(&pending);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	sigpending(&pending);
	was_pending = sigismember(&pending, sig);
	do
		w = st_sys(SYS_write, fd, buf, n);
	while (w < 0 && errno == EINTR);
	e = errno;
	if (w < 0 && (e == EPIPE || e == EFBIG) && !was_pending)
		(void)sigtimedwait(&set, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return w;
}

/*
 * fd 2 is the program's, not ours. A daemon that closed 0-2 may have its own
 * socket there now, so the line goes out only while fd 2 is still the file
 * it was at start-up (device and inode), checked and written under the
 * stderr lock that the interposed close/dup2/dup3/close_range take: no other
 * thread can put its file at 2 in between. Otherwise, and inside a seccomp
 * sandbox (no system call of ours), the warning is not written anywhere.
 * The line is built in a static buffer, not on the stack (signal handlers
 * on small sigaltstacks get here); a second warning meanwhile is skipped.
 * stderr of a daemon is often a socket or a pipe whose reader is gone.
 */
void st_warn(const char *a, const char *b, const char *c)
{
	static char line[1024];
	static int busy;
	size_t n = 0;
	const char *parts[4] = {"sendtrace: ", a, b, c};
	struct st_fdlock l;
	struct stat sb;
	int saved = errno, i;

	if (st_sandboxed() || __atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE))
		return;
	for (i = 0; i < 4; i++) {
		size_t len = parts[i] ? strlen(parts[i]) : 0;

		if (len > sizeof(line) - 1 - n)
			len = sizeof(line) - 1 - n;
		memcpy(line + n, parts[i], len);
		n += len;
	}
	line[n++] = '\n';

	st_err_lock(&l);
	if (st_stderr_same()) {
		if (st_fstat(2, &sb) == 0 && S_ISSOCK(sb.st_mode))
			(void)st_sys(SYS_sendto, 2, line, n, MSG_NOSIGNAL | MSG_DONTWAIT, 0, 0);
		else
			(void)st_write_masked(2, line, n, SIGPIPE);
	}
	st_fd_unlock(&l);
	__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
	errno = saved;
}
