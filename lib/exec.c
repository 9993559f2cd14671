/* exec.c: exec*() and _exit() end an image without exit(): its trace is left clean all the same. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "st.h"

#define ST_EXPORT __attribute__((visibility("default")))

extern char **environ;

/*
 * An exec replaces the image with no exit handler run, so the room its
 * threads hold would stay as padding lines, which strict JSON Lines readers
 * reject: it is turned into filler records first (sink.c). The exec may
 * fail, and the process then goes on, taking new room for its next event.
 * A vfork()ed child shares its parent's memory and trace state, and does
 * nothing here: what it would close is the parent's.
 */
static void st_before_exec(const char *file, int search, int fd, char *const argv[],
			   char *const envp[])
{
	int saved = errno;

	/* First: its record goes in this image's room, which st_sink_exec closes. */
	st_untrace_exec(file, search, fd, argv, envp);
	if (st_ready && st_same_memory_as_pid()) {
		st_sink_exec();
		st_ctl_exec(); /* the next image finds the page: not swept meanwhile */
	}
	errno = saved;
}

#define ST_NEXT(fn) (st_real.fn ? st_real.fn : (st_bind(), st_real.fn))

static int st_execve(const char *path, char *const argv[], char *const envp[])
{
	st_before_exec(path, 0, -1, argv, envp);
	if (!ST_NEXT(execve))
		return (int)st_sys(SYS_execve, path, argv, envp);
	return st_real.execve(path, argv, envp);
}

static int st_execvpe(const char *file, char *const argv[], char *const envp[], int p, int e)
{
	st_before_exec(file, p, -1, argv, e ? envp : environ);
	if (p && e && ST_NEXT(execvpe))
		return st_real.execvpe(file, argv, envp);
	if (p && ST_NEXT(execvp))
		return st_real.execvp(file, argv);
	if (!p && ST_NEXT(execve))
		return st_real.execve(file, argv, e ? envp : environ);
	errno = ENOSYS;
	return -1;
}

static int st_fexecve(int fd, char *const argv[], char *const envp[])
{
	st_before_exec(NULL, 0, fd, argv, envp);
	if (!ST_NEXT(fexecve)) {
		errno = ENOSYS;
		return -1;
	}
	return st_real.fexecve(fd, argv, envp);
}

__attribute__((noreturn)) static void st_exit_now(int status, void (*next)(int))
{
	st_process_exit_now(status);
	if (next)
		next(status);
	for (;;)
		(void)st_sys(SYS_exit_group, status);
}

/*
 * Not ST_ALLOWED (st.h): in a vfork()ed child the selector is the parent's
 * (same memory), and an exec that succeeds would never set it back.
 */
ST_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	return st_execve(path, argv, envp);
}

ST_EXPORT int execv(const char *path, char *const argv[])
{
	return st_execvpe(path, argv, NULL, 0, 0);
}

ST_EXPORT int execvp(const char *file, char *const argv[])
{
	return st_execvpe(file, argv, NULL, 1, 0);
}

ST_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	return st_execvpe(file, argv, envp, 1, 1);
}

ST_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	return st_fexecve(fd, argv, envp);
}

/*
 * The list forms gather their arguments into an array on the stack, as
 * glibc's own do (so they need no more stack than untraced), then take the
 * vector path; execle's environment follows the NULL that ends the list.
 */
static int st_execl(const char *file, const char *arg, va_list ap, int p, int e)
{
	char **envp = NULL;
	size_t n = 1, i;
	va_list count;

	va_copy(count, ap);
	while (va_arg(count, char *))
		n++;
	va_end(count);
	{
		char *argv[n + 1];

		argv[0] = (char *)arg;
		for (i = 1; i <= n; i++)
			argv[i] = va_arg(ap, char *);
		if (e)
			envp = va_arg(ap, char **);
		return st_execvpe(file, argv, envp, p, e);
	}
}

ST_EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	int r;

	va_start(ap, arg);
	r = st_execl(path, arg, ap, 0, 0);
	va_end(ap);
	return r;
}

ST_EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	int r;

	va_start(ap, arg);
	r = st_execl(file, arg, ap, 1, 0);
	va_end(ap);
	return r;
}

ST_EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	int r;

	va_start(ap, arg);
	r = st_execl(path, arg, ap, 0, 1);
	va_end(ap);
	return r;
}

ST_EXPORT void _exit(int status)
{
	st_exit_now(status, ST_NEXT(_exit));
}

ST_EXPORT void _Exit(int status)
{
	st_exit_now(status, ST_NEXT(_Exit));
}
