/* sink.c: the trace file: opened privately, one write per line, guarded against fd theft. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "st.h"

enum { ST_SINK_CLOSED, ST_SINK_OPEN, ST_SINK_OFF };

static struct {
	int fd;
	int state;
	int reopening;
	int fsize_limited; /* RLIMIT_FSIZE is set: a write past it raises SIGXFSZ */
	dev_t dev;
	ino_t ino;
	char path[4200];
} st_sink = {-1, ST_SINK_CLOSED, 0, 0, 0, 0, ""};

int st_sink_active(void)
{
	return __atomic_load_n(&st_sink.state, __ATOMIC_ACQUIRE) == ST_SINK_OPEN;
}

const char *st_sink_path(void)
{
	return st_sink.path;
}

static void st_sink_off(const char *why)
{
	int expect = ST_SINK_OPEN;

	/* Only the thread that switches tracing off says so: one line in all. */
	if (__atomic_compare_exchange_n(&st_sink.state, &expect, ST_SINK_OFF, 0, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE))
		st_warn(why, st_sink.path, "; tracing stops, the program runs on");
}

static void st_expand(char *dst, size_t size, const char *tmpl, pid_t pid)
{
	size_t n = 0;
	char num[24];

	for (; *tmpl && n + 24 < size; tmpl++) {
		if (tmpl[0] == '%' && tmpl[1] == 'p') {
			size_t l = st_fmt_uint(num, (unsigned long long)pid);

			memcpy(dst + n, num, l);
			n += l;
			tmpl++;
		} else if (tmpl[0] == '%' && tmpl[1] == '%') {
			dst[n++] = '%';
			tmpl++;
		} else {
			dst[n++] = *tmpl;
		}
	}
	dst[n] = '\0';
}

/*
 * Keep our fd far above the ones programs use, so that the common low numbers
 * stay the program's, but not at the top of a huge RLIMIT_NOFILE, which would
 * make the kernel grow the fd table to that size.
 */
static int st_high_fd(void)
{
	struct rlimit rl;
	rlim_t target = 1000;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur <= target + 8)
		target = rl.rlim_cur > 16 ? rl.rlim_cur - 8 : 3;
	return (int)target;
}

/* Returns 1 with the sink open, 0 with tracing off and the reason said once. */
static int st_sink_open_path(void)
{
	struct stat sb;
	struct rlimit rl;
	int fd, hi;

	fd = open(st_sink.path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
		  0600);
	if (fd < 0) {
		int e = errno;

		st_sink.state = ST_SINK_OFF;
		st_warn("cannot open trace file ", st_sink.path,
			e == ELOOP
			    ? " (it is a symlink, which is refused); the program runs untraced"
			: e == EACCES ? " (permission denied); the program runs untraced"
			: e == ENOENT ? " (no such directory); the program runs untraced"
				      : "; the program runs untraced");
		return 0;
	}
	if (fstat(fd, &sb) != 0 || !(S_ISREG(sb.st_mode) || S_ISCHR(sb.st_mode)) ||
	    (S_ISREG(sb.st_mode) && sb.st_uid != geteuid())) {
		close(fd);
		st_sink.state = ST_SINK_OFF;
		st_warn("refusing trace file ", st_sink.path,
			" (not a regular file owned by this user); the program runs untraced");
		return 0;
	}
	hi = fcntl(fd, F_DUPFD_CLOEXEC, st_high_fd());
	if (hi >= 0) {
		close(fd);
		fd = hi;
	}
	st_sink.fsize_limited = getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY;
	st_sink.dev = sb.st_dev;
	st_sink.ino = sb.st_ino;
	__atomic_store_n(&st_sink.fd, fd, __ATOMIC_RELEASE);
	__atomic_store_n(&st_sink.state, ST_SINK_OPEN, __ATOMIC_RELEASE);
	return 1;
}

int st_sink_open(void)
{
	st_expand(st_sink.path, sizeof(st_sink.path), st_config.output, st_pid);
	return st_sink_open_path();
}

/* Is `fd` still the file we opened? The program may have closed or dup2()ed it. */
static int st_sink_is_ours(int fd)
{
	struct stat sb;

	return fd >= 0 && fstat(fd, &sb) == 0 && sb.st_dev == st_sink.dev &&
	       sb.st_ino == st_sink.ino;
}

/*
 * The program took our fd away (close loop, close_range, dup2). That number
 * is the program's now: never write to or close it. Open the file again.
 */
static int st_sink_recover(void)
{
	int expect = 0;

	if (!__atomic_compare_exchange_n(&st_sink.reopening, &expect, 1, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return 0; /* another thread is at it; this event is dropped */
	__atomic_store_n(&st_sink.fd, -1, __ATOMIC_RELEASE);
	if (!st_sink_open_path()) {
		__atomic_store_n(&st_sink.reopening, 0, __ATOMIC_RELEASE);
		return 0;
	}
	__atomic_store_n(&st_sink.reopening, 0, __ATOMIC_RELEASE);
	return 1;
}

static ssize_t st_sink_put(int fd, const char *buf, size_t n)
{
	ssize_t w;

	if (st_sink.fsize_limited)
		return st_write_masked(fd, buf, n, SIGXFSZ);
	do
		w = st_raw_write(fd, buf, n);
	while (w < 0 && errno == EINTR);
	return w;
}

/*
 * A write cut short (disk full, file size limit) left part of a line at the
 * end of the file. Take it back, unless someone appended after it since.
 */
static void st_sink_unwrite(int fd, ssize_t partial)
{
	struct stat sb;
	off_t end = lseek(fd, 0, SEEK_CUR);

	if (end >= partial && fstat(fd, &sb) == 0 && sb.st_size == end &&
	    ftruncate(fd, end - partial) == 0)
		return;
	(void)st_sink_put(fd, "\n", 1);
}

void st_sink_write(const char *line, size_t n)
{
	int fd = __atomic_load_n(&st_sink.fd, __ATOMIC_ACQUIRE);
	ssize_t w;

	if (!st_sink_is_ours(fd)) {
		if (!st_sink_recover())
			return;
		fd = __atomic_load_n(&st_sink.fd, __ATOMIC_ACQUIRE);
	}
	/* One write per line: O_APPEND makes each line land whole, in one place. */
	w = st_sink_put(fd, line, n);
	if (w == (ssize_t)n)
		return;
	if (w >= 0) {
		st_sink_unwrite(fd, w);
		st_sink_off("trace file full: ");
		return;
	}
	st_sink_off(errno == ENOSPC  ? "no space left for trace file "
		    : errno == EFBIG ? "trace file too large: "
				     : "cannot write trace file ");
}

/*
 * In a fork()ed child: with a per-process path (%p) the child gets its own
 * file; otherwise it keeps appending to the shared one.
 */
void st_sink_after_fork(void)
{
	if (st_sink.state != ST_SINK_OPEN || !strstr(st_config.output, "%p"))
		return;
	if (st_sink_is_ours(st_sink.fd))
		close(st_sink.fd);
	st_sink.fd = -1;
	st_sink_open();
}
