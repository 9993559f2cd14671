/* other-preload.c: another LD_PRELOAD library that wraps send, to run beside libsendtrace in either
 * order. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static unsigned long calls;

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	static ssize_t (*next)(int, const void *, size_t, int);

	if (!next)
		next = (ssize_t(*)(int, const void *, size_t, int))dlsym(RTLD_NEXT, "send");
	__atomic_fetch_add(&calls, 1, __ATOMIC_RELAXED);
	return next(fd, buf, len, flags);
}

__attribute__((destructor)) static void report(void)
{
	const char *path = getenv("OTHER_OUT");
	char line[64];
	int fd, n;

	if (!path)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd < 0)
		return;
	n = snprintf(line, sizeof(line), "other %lu\n", calls);
	(void)!syscall(SYS_write, fd, line, (size_t)n);
	close(fd);
}
