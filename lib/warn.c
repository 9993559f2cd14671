/* warn.c: the library's only voice, one line on stderr that can never hurt the program. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
		w = st_raw_write(fd, buf, n);
	while (w < 0 && errno == EINTR);
	e = errno;
	if (w < 0 && (e == EPIPE || e == EFBIG) && !was_pending)
		(void)sigtimedwait(&set, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return w;
}

/* stderr of a daemon is often a socket or a pipe whose reader is gone. */
void st_warn(const char *a, const char *b, const char *c)
{
	char line[1024];
	size_t n = 0;
	const char *parts[4] = {"sendtrace: ", a, b, c};
	struct stat sb;
	int saved = errno, i;

	for (i = 0; i < 4; i++) {
		size_t l = parts[i] ? strlen(parts[i]) : 0;

		if (l > sizeof(line) - 1 - n)
			l = sizeof(line) - 1 - n;
		memcpy(line + n, parts[i], l);
		n += l;
	}
	line[n++] = '\n';

	if (fstat(2, &sb) == 0 && S_ISSOCK(sb.st_mode) && st_real.send)
		(void)st_real.send(2, line, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	else
		(void)st_write_masked(2, line, n, SIGPIPE);
	errno = saved;
}
