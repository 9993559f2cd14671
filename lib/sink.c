/* sink.c: the trace file: chunks appended with one write, filled through a shared mapping. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "st.h"

enum { ST_SINK_CLOSED, ST_SINK_OPEN, ST_SINK_OFF };

static struct {
	int fd;
	int state;
	int fsize_limited; /* RLIMIT_FSIZE is set: a write past it raises SIGXFSZ */
	unsigned gen;	   /* which opening of the file the chunks belong to */
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

int st_sink_open(void);

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

	fd = open(st_sink.path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
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
	__atomic_fetch_add(&st_sink.gen, 1, __ATOMIC_ACQ_REL);
	__atomic_store_n(&st_sink.fd, fd, __ATOMIC_RELEASE);
	__atomic_store_n(&st_sink.state, ST_SINK_OPEN, __ATOMIC_RELEASE);
	return 1;
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
 * Called with the chunk lock held.
 */
static int st_sink_recover(void)
{
	__atomic_store_n(&st_sink.fd, -1, __ATOMIC_RELEASE);
	return st_sink_open_path();
}

/*
 * Events are not written one by one: a system call per event would cost
 * more than everything else together. Each thread owns a chunk of the file,
 * appended as blank padding with one O_APPEND write (atomic, so processes
 * sharing the file never overlap) and mapped MAP_SHARED. An event is then a
 * memcpy into the chunk: it is in the page cache at once, so it survives
 * SIGKILL or a crash, and no fd of the program is ever written to. Unused
 * room stays spaces ending in a newline: whitespace that readers skip.
 */
#define ST_CHUNK_MIN (16u << 10)
#define ST_CHUNK_MAX (256u << 10)
#define ST_PAD	     4096

struct st_chunk {
	char *map;    /* what mmap returned (page aligned) */
	size_t delta; /* chunk start within the mapping */
	size_t size;
	size_t used;
	size_t next;  /* size of the next chunk: small first, doubling */
	pid_t pid;    /* a fork()ed child must not fill its parent's chunk */
	unsigned gen; /* bumped when the file is reopened or tracing stops */
};

/*
 * One chunk per nesting level: a signal handler that sends while this thread
 * is between reserving and copying must neither share nor replace the chunk
 * being written, so it fills one of its own.
 */
#define ST_LEVELS 2
static ST_TLS struct st_chunk st_chunks[ST_LEVELS];
static ST_TLS int st_inflight;
static int st_chunk_lock;
static pthread_key_t st_chunk_key;
static int st_chunk_key_ok;
static unsigned long st_sink_drops;
static char st_spaces[ST_PAD];
static char st_spaces_nl[ST_PAD];

unsigned long st_sink_dropped(void)
{
	return __atomic_load_n(&st_sink_drops, __ATOMIC_RELAXED);
}

static void st_chunk_unmap(struct st_chunk *c)
{
	if (c->map)
		munmap(c->map, c->size + c->delta);
	c->map = NULL;
	c->size = c->used = 0;
}

/* pthread key destructor: a finished thread gives its mapping back. */
static void st_chunk_thread_exit(void *unused)
{
	int i;

	(void)unused;
	for (i = 0; i < ST_LEVELS; i++)
		st_chunk_unmap(&st_chunks[i]);
}

static void st_lock(void)
{
	while (__atomic_exchange_n(&st_chunk_lock, 1, __ATOMIC_ACQUIRE))
		sched_yield();
}

static void st_unlock(void)
{
	__atomic_store_n(&st_chunk_lock, 0, __ATOMIC_RELEASE);
}

/* Append `size` bytes of padding; returns the offset where they start, or -1. */
static off_t st_chunk_append(int fd, size_t size)
{
	struct iovec iov[ST_CHUNK_MAX / ST_PAD + 1];
	size_t i, n = size / ST_PAD;
	ssize_t w;
	off_t end;

	for (i = 0; i < n; i++) {
		iov[i].iov_base = i + 1 == n ? st_spaces_nl : st_spaces;
		iov[i].iov_len = ST_PAD;
	}
	do
		w = st_real.writev ? st_real.writev(fd, iov, (int)n) : -1;
	while (w < 0 && errno == EINTR);
	if (w != (ssize_t)size) {
		if (w > 0) {
			/* Cut short (disk full, size limit): take the stub back if last. */
			struct stat sb;

			end = lseek(fd, 0, SEEK_CUR);
			if (end >= w && fstat(fd, &sb) == 0 && sb.st_size == end)
				(void)ftruncate(fd, end - w);
		}
		return -1;
	}
	/* Our own open file description: its offset is where our append ended. */
	end = lseek(fd, 0, SEEK_CUR);
	return end < (off_t)size ? -1 : end - (off_t)size;
}

/* A fresh chunk for this thread, big enough for `need` bytes. 0 on success. */
static int st_chunk_new(struct st_chunk *c, size_t need)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t size, delta;
	sigset_t all, old, pending;
	off_t off;
	char *map;
	int saved = errno, fd, err = 0;

	size = c->next ? c->next : ST_CHUNK_MIN;
	while (size < need + 1 && size < ST_CHUNK_MAX)
		size *= 2;
	if (size < need + 1)
		return -1; /* larger than any chunk: cannot happen below 16 KiB events */
	/*
	 * All signals stay blocked while the lock is held: a handler on this
	 * thread that sent would otherwise spin on a lock its own thread holds.
	 * That also keeps SIGXFSZ from killing the program when the append
	 * crosses RLIMIT_FSIZE; one we raised is taken off the pending set.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	sigemptyset(&pending);
	sigpending(&pending);
	st_lock();
	fd = __atomic_load_n(&st_sink.fd, __ATOMIC_ACQUIRE);
	if (!st_sink_active() || (!st_sink_is_ours(fd) && !st_sink_recover())) {
		off = -1;
	} else {
		fd = st_sink.fd;
		off = st_chunk_append(fd, size);
		if (off < 0)
			err = errno ? errno : EIO;
	}
	st_unlock();
	if (err == EFBIG && !sigismember(&pending, SIGXFSZ)) {
		static const struct timespec zero = {0, 0};
		sigset_t xfsz;

		sigemptyset(&xfsz);
		sigaddset(&xfsz, SIGXFSZ);
		(void)sigtimedwait(&xfsz, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (off < 0 && !err) {
		errno = saved;
		return -1;
	}
	if (off < 0) {
		st_sink_off(err == ENOSPC  ? "no space left for trace file "
			    : err == EFBIG ? "trace file reached the file size limit: "
					   : "cannot extend trace file ");
		errno = saved;
		return -1;
	}
	/* Another writer may have left the file unaligned: map from the page below. */
	delta = (size_t)(off % page);
	map = mmap(NULL, size + delta, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off - (off_t)delta);
	if (map == MAP_FAILED) {
		st_sink_off("cannot map trace file ");
		errno = saved;
		return -1;
	}
	st_chunk_unmap(c);
	if (__atomic_load_n(&st_chunk_key_ok, __ATOMIC_ACQUIRE))
		pthread_setspecific(st_chunk_key, c);
	c->map = map;
	c->delta = delta;
	c->size = size;
	c->next = size < ST_CHUNK_MAX ? size * 2 : size;
	c->used = 0;
	errno = saved;
	return 0;
}

void st_sink_write(const char *line, size_t n)
{
	unsigned gen = __atomic_load_n(&st_sink.gen, __ATOMIC_ACQUIRE);
	int level = st_inflight++, tries;
	struct st_chunk *c;

	if (level >= ST_LEVELS)
		goto drop;
	c = &st_chunks[level];
	if (c->pid != st_pid || c->gen != gen) {
		/* A chunk of our parent's (after fork), or of an older file. */
		st_chunk_unmap(c);
		c->next = 0;
		c->pid = st_pid;
		c->gen = gen;
	}
	for (tries = 0; tries < 2; tries++) {
		if (c->map) {
			size_t off = c->used;

			/* The chunk's last byte stays the newline that ends its padding. */
			if (off + n < c->size) {
				c->used = off + n;
				memcpy(c->map + c->delta + off, line, n);
				st_inflight--;
				return;
			}
		}
		if (st_chunk_new(c, n) != 0)
			break;
	}
drop:
	__atomic_fetch_add(&st_sink_drops, 1, __ATOMIC_RELAXED);
	st_inflight--;
}

/*
 * In a fork()ed child (single-threaded now): the chunk lock may have been
 * held by a thread that does not exist here, and the open file description
 * is shared with the parent, whose appends would move our offset. Take a
 * description of our own (or our own file, with %p).
 */
void st_sink_after_fork(void)
{
	int fd = st_sink.fd, nfd;
	char link[40];
	size_t n;

	st_chunk_lock = 0;
	st_sink_drops = 0;
	if (st_sink.state != ST_SINK_OPEN)
		return;
	if (strstr(st_config.output, "%p")) {
		if (st_sink_is_ours(fd))
			close(fd);
		st_sink.fd = -1;
		st_sink_open();
		return;
	}
	memcpy(link, "/proc/self/fd/", 14);
	n = 14 + st_fmt_uint(link + 14, (unsigned)fd);
	link[n] = '\0';
	nfd = st_sink_is_ours(fd) ? open(link, O_RDWR | O_APPEND | O_CLOEXEC | O_NOCTTY) : -1;
	if (nfd >= 0) {
		int hi = fcntl(nfd, F_DUPFD_CLOEXEC, st_high_fd());

		if (hi >= 0) {
			close(nfd);
			nfd = hi;
		}
		close(fd);
		st_sink.fd = nfd;
	} else {
		st_sink.fd = -1;
		st_sink_open();
	}
}

int st_sink_open(void)
{
	if (!__atomic_load_n(&st_chunk_key_ok, __ATOMIC_ACQUIRE)) {
		memset(st_spaces, ' ', sizeof(st_spaces));
		memset(st_spaces_nl, ' ', sizeof(st_spaces_nl));
		st_spaces_nl[ST_PAD - 1] = '\n';
		if (pthread_key_create(&st_chunk_key, st_chunk_thread_exit) == 0)
			__atomic_store_n(&st_chunk_key_ok, 1, __ATOMIC_RELEASE);
	}
	st_expand(st_sink.path, sizeof(st_sink.path), st_config.output, st_pid);
	return st_sink_open_path();
}
