/* sink.c: the trace file: chunks appended with one write, filled through a shared mapping. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/single_threaded.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "st.h"

/*
 * LATER: loaded dormant (SENDTRACE_ENABLE=0): no file is made until a call
 * is traced after `ctl on`; OPENING: one thread is making it now.
 */
enum { ST_SINK_CLOSED, ST_SINK_OPEN, ST_SINK_OFF, ST_SINK_LATER, ST_SINK_OPENING };

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

/* A start record may be encoded: the file is open, or will be at the first event. */
int st_sink_usable(void)
{
	int s = __atomic_load_n(&st_sink.state, __ATOMIC_ACQUIRE);

	return s == ST_SINK_OPEN || s == ST_SINK_LATER || s == ST_SINK_OPENING;
}

static int st_sink_open_path(void);

/*
 * The first call traced after a dormant start makes the file. One thread
 * does; a call of another thread meanwhile goes untraced (it is the moment
 * tracing was switched on: a microsecond either way).
 */
static __attribute__((noinline)) int st_sink_open_late(void)
{
	int expect = ST_SINK_LATER;

	if (!__atomic_compare_exchange_n(&st_sink.state, &expect, ST_SINK_OPENING, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return 0;
	if (st_sandboxed()) {
		__atomic_store_n(&st_sink.state, ST_SINK_OFF, __ATOMIC_RELEASE);
		st_warn("switched on inside a seccomp sandbox: trace file ", st_sink.path,
			" cannot be opened now; the program runs on untraced");
		st_ctl_sink_failed();
		return 0;
	}
	if (st_sink_open_path())
		return 1;
	st_ctl_sink_failed(); /* `ctl status` says so: the process said why on its stderr */
	return 0;
}

int st_sink_ready(void)
{
	int s = __atomic_load_n(&st_sink.state, __ATOMIC_ACQUIRE);

	if (__builtin_expect(s == ST_SINK_OPEN, 1))
		return 1;
	return s == ST_SINK_LATER ? st_sink_open_late() : 0;
}

const char *st_sink_path(void)
{
	return st_sink.path;
}

int st_sink_open(void);

static void st_sink_off_because(const char *why, const char *detail)
{
	int expect = ST_SINK_OPEN;

	/* Only the thread that switches tracing off says so: one line in all. */
	if (__atomic_compare_exchange_n(&st_sink.state, &expect, ST_SINK_OFF, 0, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE))
		st_warn(why, st_sink.path, detail);
}

static void st_sink_off(const char *why)
{
	st_sink_off_because(why, "; tracing stops, the program runs on");
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
int st_fd_high(void)
{
	struct rlimit rl;
	rlim_t target = 1000;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur <= target + 8)
		target = rl.rlim_cur > 16 ? rl.rlim_cur - 8 : 3;
	return (int)target;
}

/*
 * open(), then straight up to the library's high numbers, inside a section
 * that no dup2() of the program's can race (fdguard.c): for the moment the
 * file sits at the lowest free number, the program must not take it over.
 */
static int st_open_high(const char *path, int flags, mode_t mode)
{
	struct st_fdlock l;
	int fd, hi, e;

	if (st_tmp_begin(&l) != 0) {
		errno = EBUSY;
		return -1;
	}
	fd = open(path, flags, mode);
	e = errno;
	if (fd >= 0) {
		hi = st_sys_dupfd(fd, st_fd_high());
		if (hi >= 0) {
			st_sys_close(fd);
			fd = hi;
		}
	}
	st_tmp_end(&l);
	errno = e;
	return fd;
}

static void st_hdr_reset(void);

/*
 * Opens the path and checks what it names. Returns the fd, or -1 with
 * tracing off and the reason said once; with busy_ok, -2 when the moment
 * was not safe (a dup2() of the program's under way): nothing said, try
 * again later.
 */
static int st_sink_open_checked(struct stat *sb, int busy_ok)
{
	int fd;

	/* Refused before it is even opened: opening some devices does something. */
	if (lstat(st_sink.path, sb) == 0 && !S_ISREG(sb->st_mode)) {
		st_sink.state = ST_SINK_OFF;
		st_warn("refusing trace file ", st_sink.path,
			S_ISLNK(sb->st_mode) ? " (it is a symlink, which is refused); the program "
					       "runs untraced"
			: S_ISCHR(sb->st_mode) ? " (it is a character device: only a regular file "
						 "is accepted); the program runs untraced"
			: S_ISFIFO(sb->st_mode)
			    ? " (it is a FIFO: only a regular file is accepted); the program runs "
			      "untraced"
			: S_ISDIR(sb->st_mode) ? " (it is a directory: only a regular file is "
						 "accepted); the program runs untraced"
					       : " (not a regular file, which is all that is "
						 "accepted); the program runs untraced");
		return -1;
	}
	/*
	 * O_NONBLOCK: opening a FIFO or a device must not wait for a peer; what
	 * is not a regular file is refused below, before anything is written.
	 */
	fd = st_open_high(
	    st_sink.path,
	    O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
	if (fd < 0) {
		int e = errno;

		if (e == EBUSY && busy_ok)
			return -2;
		st_sink.state = ST_SINK_OFF;
		st_warn("cannot open trace file ", st_sink.path,
			e == ELOOP
			    ? " (it is a symlink, which is refused); the program runs untraced"
			: e == EACCES ? " (permission denied); the program runs untraced"
			: e == ENOENT ? " (no such directory); the program runs untraced"
				      : "; the program runs untraced");
		return -1;
	}
	/*
	 * Only a regular file owned by the user running the program (real and
	 * effective uid alike): never a device, FIFO, tty, socket or somebody
	 * else's file, whatever SENDTRACE_OUTPUT names.
	 */
	if (st_fstat(fd, sb) != 0 || !S_ISREG(sb->st_mode) || sb->st_uid != geteuid() ||
	    sb->st_uid != getuid()) {
		st_sys_close(fd);
		st_sink.state = ST_SINK_OFF;
		st_warn("refusing trace file ", st_sink.path,
			" (not a regular file owned by this user: devices, FIFOs, ttys and "
			"symlinks are refused); the program runs untraced");
		return -1;
	}
	return fd;
}

/*
 * The file just opened becomes the trace: a new generation, so that room
 * of the one before is no longer handed out. `old`, the fd of that one
 * when it is still ours, is closed first, while it is still ours: the fd
 * lock is held, and the program cannot have the number before we let go.
 */
static void st_sink_publish(int fd, const struct stat *sb, int old)
{
	struct rlimit rl;

	if (old >= 0 && old != fd)
		st_sys_close(old);
	st_hdr_reset();
	st_sink.fsize_limited = getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY;
	st_sink.dev = sb->st_dev;
	st_sink.ino = sb->st_ino;
	__atomic_fetch_add(&st_sink.gen, 1, __ATOMIC_ACQ_REL);
	__atomic_store_n(&st_sink.fd, fd, __ATOMIC_RELEASE);
	__atomic_store_n(&st_fds_held, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&st_sink.state, ST_SINK_OPEN, __ATOMIC_RELEASE);
	st_ctl_sink_opened(st_sink.path);
}

/* Returns 1 with the sink open, 0 with tracing off and the reason said once. */
static int st_sink_open_path(void)
{
	struct stat sb;
	int fd = st_sink_open_checked(&sb, 0);

	if (fd < 0)
		return 0;
	st_sink_publish(fd, &sb, -1);
	return 1;
}

/* Is `fd` still the file we opened? The program may have closed or dup2()ed it. */
static int st_sink_is_ours(int fd)
{
	struct stat sb;

	return fd >= 0 && st_fstat(fd, &sb) == 0 && sb.st_dev == st_sink.dev &&
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
 * more than everything else together. Room in the file is appended as blank
 * padding with one O_APPEND write (atomic, so processes sharing the file
 * never overlap) and mapped MAP_SHARED: a region. Each thread fills a slice
 * of a region, and an event is a memcpy into it: it is in the page cache at
 * once, so it survives SIGKILL or a crash, and no fd of the program is ever
 * written to. Unused room stays spaces, each 256 bytes ending in a newline:
 * whitespace that readers skip.
 *
 * Threads share regions rather than map one each: every mapping counts
 * against vm.max_map_count, and a thousand threads must not cost a thousand
 * mappings. A region is unmapped when its last slice is given back.
 *
 * Padding is what a trace wastes, so everything starts small: a process's
 * first region holds 512 bytes (its start and exit records fit), a thread's
 * first slice 512; both grow as they fill. The unused end of a slice that a
 * thread leaves (at its exit, or for a bigger slice) goes to a small pool of
 * tails that other threads take before carving new room; one too small to
 * keep, or that finds the pool full, is closed: a tab begins each of its
 * lines, telling followers nothing will ever be written there.
 */
#define ST_GRAIN	 256 /* a padding line: 255 spaces and a newline */
#define ST_LINE_MIN	 22  /* {"v":1,"event":"pad"} and its newline */
#define ST_SLICE_FIRST	 512
#define ST_SANDBOX_SLICE (16u << 10)
#define ST_CHUNK_MAX	 (256u << 10)
#define ST_REGION_FIRST	 512
#define ST_REGION_MAX	 (1u << 20)
#define ST_PAD		 4096 /* bytes of padding per iovec */
#define ST_REGIONS	 256
#define ST_TAILS	 64
#define ST_TAIL_MIN	 384 /* smaller tails fit hardly any event: closed at once */
#define ST_PAD_HEAD	 "{\"v\":1,\"event\":\"pad\"" /* a filler record's first bytes */

struct st_region {
	int refs;	/* slices not given back, +1 while it is the current region */
	unsigned gen;	/* which opening of the file it belongs to */
	char *map;	/* what mmap returned (page aligned) */
	size_t maplen;
	char *data;	/* the region's first byte within the mapping */
	off_t off;	/* and its offset in the file */
	size_t size;
	size_t next;	/* bytes handed out; a compare-and-swap takes more */
};

/* A tail given back: free (0), being changed (1), or holding room (2). */
struct st_tail {
	int state;
	unsigned gen;
	struct st_region *r; /* the tail keeps its region's reference */
	char *p;
	size_t size;
};

static struct st_region st_regions[ST_REGIONS];
/* When the file could not grow: bytes free on its file system (ENOSPC), or RLIMIT_FSIZE (EFBIG). */
static unsigned long long st_sink_room;
static struct st_region *st_current;
static struct st_tail st_tails[ST_TAILS];
static size_t st_region_next = ST_REGION_FIRST;
static unsigned long st_sink_drops;
static char st_spaces_nl[ST_PAD];
static int st_pad_ready;

unsigned long st_sink_dropped(void)
{
	return __atomic_load_n(&st_sink_drops, __ATOMIC_RELAXED);
}

int st_sink_fd(void)
{
	return __atomic_load_n(&st_sink.fd, __ATOMIC_ACQUIRE);
}

static void st_region_unmap(struct st_region *r)
{
	if (r->map)
		munmap(r->map, r->maplen);
	r->map = NULL;
	r->data = NULL;
	r->size = r->next = 0;
	__atomic_store_n(&r->refs, 0, __ATOMIC_RELEASE);
}

/* One reference fewer; the last one of a region no longer current unmaps it. */
static void st_region_put(struct st_region *r)
{
	/* In a sandbox slices are carved without the lock: no region may go away then. */
	if (r && __atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) == 0 && !st_sandboxed() &&
	    __atomic_load_n(&st_current, __ATOMIC_ACQUIRE) != r)
		st_region_unmap(r);
}

/*
 * Append `size` bytes of padding; returns the offset where they start, or
 * -1 with errno set (and *got: the bytes a short write took, else 0).
 */
static off_t st_chunk_append(int fd, size_t size, size_t *got)
{
	struct iovec iov[ST_REGION_MAX / ST_PAD + 1];
	size_t i, n = (size + ST_PAD - 1) / ST_PAD;
	ssize_t w;
	off_t end;

	*got = 0;
	/* One write, or processes sharing the file could interleave: no more than fits. */
	if (n > sizeof(iov) / sizeof(iov[0])) {
		errno = E2BIG; /* not the file size limit: a claim larger than one append */
		return -1;
	}
	for (i = 0; i < n; i++) {
		iov[i].iov_base = st_spaces_nl;
		iov[i].iov_len = i + 1 < n || size % ST_PAD == 0 ? ST_PAD : size % ST_PAD;
	}
	do
		w = st_sys(SYS_writev, fd, iov, (int)n);
	while (w < 0 && errno == EINTR);
	if (w != (ssize_t)size) {
		if (w > 0) {
			/*
			 * Cut short: take the stub back if last, and say why. A
			 * short write sets no errno: it was the size limit if the
			 * write stopped at RLIMIT_FSIZE, else the disk is full. *got
			 * is how much room there was, for a smaller try.
			 */
			struct stat sb;
			struct rlimit rl;

			end = lseek(fd, 0, SEEK_CUR);
			if (end >= w && st_fstat(fd, &sb) == 0 && sb.st_size == end)
				(void)ftruncate(fd, end - w);
			*got = (size_t)w;
			errno = getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
					end >= 0 && (rlim_t)end >= rl.rlim_cur
				    ? EFBIG
				    : ENOSPC;
		}
		return -1;
	}
	/* Our own open file description: its offset is where our append ended. */
	end = lseek(fd, 0, SEEK_CUR);
	return end < (off_t)size ? -1 : end - (off_t)size;
}

static void st_tail_put(struct st_region *r, unsigned gen, char *p, size_t n);
static void st_tail_close(struct st_region *r, char *p, size_t n);
static void st_sink_close_shared(int again);

/*
 * The size cap (SENDTRACE_MAX_SIZE) and rotation (SENDTRACE_ROTATE).
 *
 * The file grows only by regions, so the cap is looked at once per region,
 * never per event: fstat() gives the size, and the region is cut to what is
 * left. Processes append without a lock between them, so several that look
 * at the same moment may each take the last room: a file can end past the
 * cap by one region per process doing so, and regions are kept to an eighth
 * of the cap (4 KiB to 1 MiB) to keep that small.
 *
 * Without rotation, a full file takes no more room. The process warns once,
 * fills the room it already holds, and counts each call event after that as
 * capped (the exit record's "capped"). The exit record may take one small
 * region past the cap, so that the count reaches the reader.
 *
 * With rotation, the process that finds the file full takes flock() on its
 * fd (each process has an open file description of its own: a fork()ed
 * child reopens), checks that the path still names that file, renames
 * FILE.N-1 to FILE.N ... FILE to FILE.1, and lets go. A process whose fd no
 * longer names the path opens the path again before it claims room; the
 * first to claim room in the new file creates it. Nobody waits on another
 * process for more than a bounded spin.
 *
 * Room a process still holds in the renamed file would be filled there,
 * and an idle process could hold some until after FILE.N is deleted: what
 * it wrote then would be lost. So a rotating file's first line is a filler
 * record that every process writing it maps (page 0, always at one address
 * in the process), and the rotation turns one of its spaces into a tab,
 * which is still JSON whitespace. Each event looks at that byte (a load, no
 * system call); a thread that sees the tab closes the rest of its slice
 * into filler records and takes room in the new file.
 */
#define ST_HDR_FLAG   128	    /* the byte of the first line that says "renamed away" */
#define ST_ROT_WAIT   5000000000ull /* for another process's rotation, at most 5 s */
#define ST_ROT_PAUSE  100000000ull  /* then claims fail (capped) for 100 ms */
#define ST_CAPPED     (-1000)	    /* not an errno: no room under the cap this time */
#define ST_SAID	      (-1001)	    /* not an errno: tracing stopped, and why was said */
#define ST_WAIT	      (-1002)	    /* not an errno: another process is rotating the file */
#define ST_RN_RESERVE 1		    /* st_region_new: exactly `need`, room for a sandbox */
#define ST_RN_LAST    2		    /* past the cap, not made current: the exit record's */

static struct {
	int full; /* no more room may be claimed: the cap, and no rotation */
	int warned;
	int had_room;	/* this process has held room in the file */
	int last_words; /* the exit record's region past the cap has been taken */
	uint64_t busy_until; /* another process held the rotation lock too long */
	uint64_t wait_since; /* when this process began to wait for another's rotation */
	char *hdr;	     /* page 0 of the file, at this address once mapped */
	int hdr_ok;	     /* hdr maps the file below, whose first line is a filler record */
	dev_t hdr_dev;	     /* the file whose first line was looked at */
	ino_t hdr_ino;
	char from[4224], to[4224];
	char detail[256];
} st_cap;
static const char st_no_flag;
static const char *st_rot_flag = &st_no_flag;

/* Kept in the control page (control.c), where `ctl status` reads it. */
unsigned long st_sink_capped(void)
{
	return st_count(ST_COUNT_CAPPED);
}

/* Has another process renamed our file away? One load, no system call. */
static int st_rotated(void)
{
	return __atomic_load_n(__atomic_load_n(&st_rot_flag, __ATOMIC_ACQUIRE), __ATOMIC_ACQUIRE) ==
	       '\t';
}

/* The most a region may hold under the cap: an eighth of it, 4 KiB to 1 MiB. */
static size_t st_cap_region(void)
{
	unsigned long long most = st_config.max_size / 8 / ST_PAD * ST_PAD;

	return most < ST_PAD ? ST_PAD : most > ST_REGION_MAX ? ST_REGION_MAX : (size_t)most;
}

/*
 * The flag of the file we leave no longer applies. The page stays mapped
 * (a thread may be reading it this instant), replaced in place by zeroes
 * until the next file's first line is mapped there.
 */
static void st_hdr_reset(void)
{
	st_cap.hdr_ok = 0;
	st_cap.hdr_dev = 0;
	st_cap.hdr_ino = 0;
	if (st_cap.hdr && mmap(st_cap.hdr, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) {
		__atomic_store_n(&st_rot_flag, &st_no_flag, __ATOMIC_RELEASE);
		st_cap.hdr = NULL;
	}
}

/* Page 0 of the file, once, if its first line is a filler record: its flag is then watched. */
static void st_hdr_map(int fd, const struct stat *sb)
{
	char line[ST_GRAIN], *m;

	if ((st_cap.hdr_dev == sb->st_dev && st_cap.hdr_ino == sb->st_ino) ||
	    sb->st_size < ST_GRAIN)
		return;
	st_cap.hdr_ok = 0;
	st_cap.hdr_dev = sb->st_dev;
	st_cap.hdr_ino = sb->st_ino;
	/* pread() ignores O_APPEND; it is pwrite() that would not. */
	if (pread(fd, line, ST_GRAIN, 0) != ST_GRAIN ||
	    memcmp(line, ST_PAD_HEAD, sizeof(ST_PAD_HEAD) - 1) != 0 || line[ST_GRAIN - 1] != '\n' ||
	    (line[ST_HDR_FLAG] != ' ' && line[ST_HDR_FLAG] != '\t'))
		return; /* a writer without rotation began it: renames are found by path */
	m = mmap(st_cap.hdr, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE,
		 MAP_SHARED | (st_cap.hdr ? MAP_FIXED : 0), fd, 0);
	if (m == MAP_FAILED) {
		st_hdr_reset();
		return;
	}
	st_cap.hdr = m;
	st_cap.hdr_ok = 1;
	__atomic_store_n(&st_rot_flag, m + ST_HDR_FLAG, __ATOMIC_RELEASE);
}

/*
 * The first line of a new file, by the first process to claim room in it:
 * a filler record, one write (a second process doing the same at the same
 * moment adds a second filler line, which is harmless).
 */
static void st_hdr_append(int fd)
{
	char line[ST_GRAIN];
	ssize_t w;
	off_t end;

	memcpy(line, st_spaces_nl, ST_GRAIN);
	memcpy(line, ST_PAD_HEAD, sizeof(ST_PAD_HEAD) - 1);
	line[ST_GRAIN - 2] = '}';
	w = st_write_masked(fd, line, ST_GRAIN, SIGXFSZ);
	/* Cut short (a full disk): take the stub back, the region's append says why. */
	if (w > 0 && w < ST_GRAIN && (end = lseek(fd, 0, SEEK_CUR)) >= w)
		(void)ftruncate(fd, end - w);
}

/* "FILE" for k = 0, else "FILE.k". */
static void st_rot_name(char *dst, int k)
{
	size_t n = strlen(st_sink.path);

	memcpy(dst, st_sink.path, n);
	if (k) {
		dst[n++] = '.';
		n += st_fmt_uint(dst + n, (unsigned)k);
	}
	dst[n] = '\0';
}

/*
 * FILE.N-1 to FILE.N ... FILE to FILE.1, under flock() on the file, if the
 * path still names it. Returns 0 (renamed, by us or by another process
 * first: the path names another file now, or soon), ST_WAIT (another
 * process holds the lock: it is renaming), or the errno of what failed.
 *
 * Never a blocking flock(): the fd lock is held here, and the renames can
 * take long (a journal commit on a busy disk: seconds were seen), or the
 * process holding the lock may be stopped (SIGSTOP, a debugger). The caller
 * waits without the fd lock, so that this process's other threads sleep
 * rather than spin on it, and for a bounded time.
 */
static int st_rotate(int fd, const struct stat *sb)
{
	struct stat pb;
	int k, e = 0;

	if (strlen(st_sink.path) + 8 > sizeof(st_cap.from))
		return ENAMETOOLONG;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0)
		return errno == EWOULDBLOCK || errno == EINTR ? ST_WAIT : errno;
	if (lstat(st_sink.path, &pb) == 0 && pb.st_dev == sb->st_dev && pb.st_ino == sb->st_ino) {
		/*
		 * The oldest goes first, so that each rename is onto a free name:
		 * ext4 flushes a file's data before renaming it over another
		 * (auto_da_alloc), which took seconds for a file being written.
		 */
		st_rot_name(st_cap.to, st_config.rotate);
		if (unlink(st_cap.to) != 0 && errno != ENOENT)
			e = errno;
		for (k = st_config.rotate; k >= 1 && !e; k--) {
			st_rot_name(st_cap.from, k - 1);
			st_rot_name(st_cap.to, k);
			if (rename(st_cap.from, st_cap.to) != 0 && errno != ENOENT)
				e = errno;
		}
		/* Every process writing it learns at its next event. */
		if (!e && st_cap.hdr_ok && st_cap.hdr_dev == sb->st_dev &&
		    st_cap.hdr_ino == sb->st_ino)
			__atomic_store_n(st_cap.hdr + ST_HDR_FLAG, '\t', __ATOMIC_RELEASE);
	}
	(void)flock(fd, LOCK_UN);
	return e;
}

/* An errno value's name (EACCES), or E and its number: n bytes written. */
static size_t st_errname(char *dst, int err)
{
	const char *name = NULL;

#ifdef HAVE_STRERRORNAME_NP
	name = strerrorname_np(err);
#endif
	if (name && strlen(name) < 24) {
		memcpy(dst, name, strlen(name));
		return strlen(name);
	}
	dst[0] = 'E';
	return 1 + st_fmt_uint(dst + 1, (unsigned)err);
}

/*
 * No more room, for good: said once, with the cap, and why there is no
 * rotation when it failed (err). Returns ST_CAPPED. Fd lock held.
 */
static int st_cap_full(int err)
{
	static const char tail[] = "; this process records no more events (counted as \"capped\" "
				   "in its exit record), the program runs on";
	char *d = st_cap.detail;
	size_t n = 0;

	__atomic_store_n(&st_cap.full, 1, __ATOMIC_RELEASE);
	if (__atomic_exchange_n(&st_cap.warned, 1, __ATOMIC_ACQ_REL))
		return ST_CAPPED;
	if (err) {
		memcpy(d, " (", 2);
		n = 2 + st_errname(d + 2, err);
		memcpy(d + n, "): it stops at", 14);
		n += 14;
	} else {
		memcpy(d, " reached", 8);
		n = 8;
	}
	memcpy(d + n, " SENDTRACE_MAX_SIZE (", 21);
	n += 21;
	if (st_config.max_size % 1024 == 0) {
		n += st_fmt_uint(d + n, st_config.max_size / 1024);
		memcpy(d + n, " KiB)", 5);
		n += 5;
	} else {
		n += st_fmt_uint(d + n, st_config.max_size);
		memcpy(d + n, " bytes)", 7);
		n += 7;
	}
	memcpy(d + n, tail, sizeof(tail));
	st_warn(err ? "cannot rotate trace file " : "trace file ", st_sink.path, d);
	return ST_CAPPED;
}

/*
 * The path names another file now (rotated by another process, or moved):
 * open it, and close the room of the old one that no thread holds. Returns
 * 0, ST_CAPPED (not now: try at a later claim) or ST_SAID. Fd lock held.
 */
static int st_sink_reopen(void)
{
	struct stat sb;
	int fd = st_sink_open_checked(&sb, 1);

	if (fd == -2)
		return ST_CAPPED;
	if (fd < 0)
		return ST_SAID;
	st_sink_close_shared(1);
	st_sink_publish(fd, &sb, st_sink.fd);
	return 0;
}

/*
 * Under the cap, fd lock held: the room a new region may take (*size cut
 * to it), after a rotation if one is due. Returns 0, ST_CAPPED, ST_SAID, or
 * an errno value.
 *
 * A claim that followed a rotation into a new file takes its room there
 * even if other processes filled that file meanwhile (while this one waited
 * for the lock): each claim ends after one rotation, and a process still
 * adds at most one region past the cap to a file.
 */
static int st_cap_room(size_t *size, size_t least)
{
	unsigned long long max = st_config.max_size, used, room;
	struct stat sb, pb;
	int tries, fd, r, fresh = 0;

	/* For good: the current region must stay as it is (carved without the lock). */
	if (__atomic_load_n(&st_cap.full, __ATOMIC_ACQUIRE))
		return ST_CAPPED;
	for (tries = 0; tries < 8; tries++) {
		fd = st_sink.fd;
		if (st_fstat(fd, &sb) != 0)
			return errno ? errno : EBADF;
		if (st_config.rotate) {
			/* Renamed away (by another process, or by hand): follow the path. */
			if (lstat(st_sink.path, &pb) != 0 || pb.st_dev != sb.st_dev ||
			    pb.st_ino != sb.st_ino) {
				if ((r = st_sink_reopen()) != 0)
					return r;
				fresh = 1;
				continue;
			}
			if (sb.st_size == 0) {
				st_hdr_append(fd);
				continue;
			}
			st_hdr_map(fd, &sb);
			/*
			 * A tab, yet the path names this file: left from an earlier
			 * life of it (renamed back by hand), unless a rotation came
			 * in between. Cleared, or every event would come here.
			 */
			if (st_cap.hdr_ok && st_rotated()) {
				if (lstat(st_sink.path, &pb) != 0 || pb.st_ino != sb.st_ino ||
				    pb.st_dev != sb.st_dev)
					continue;
				__atomic_store_n(st_cap.hdr + ST_HDR_FLAG, ' ', __ATOMIC_RELEASE);
			}
		}
		used = (unsigned long long)sb.st_size;
		room = used < max ? (max - used) / ST_GRAIN * ST_GRAIN : 0;
		if (room >= least) {
			if (*size > room)
				*size = (size_t)room;
			return 0;
		}
		if (fresh) {
			*size = least;
			return 0;
		}
		if (!st_config.rotate)
			return st_cap_full(0);
		if (used <= 2 * ST_GRAIN)
			return ST_CAPPED; /* no file could hold it: this one record is dropped */
		r = st_rotate(fd, &sb);
		if (r == ST_WAIT)
			return ST_WAIT;
		if (r)
			return st_cap_full(r);
		if ((r = st_sink_reopen()) != 0)
			return r;
		fresh = 1;
	}
	return ST_CAPPED;
}

/*
 * A new current region of at least `need` bytes, or (the disk or the size
 * limit short of room) at least `least`. Called with the fd lock held: the
 * fd cannot be moved or taken over by the program meanwhile. Returns 0, or
 * an errno value, or (under the cap) ST_CAPPED or ST_SAID. With
 * ST_RN_RESERVE the size is `need` (not cut to the cap's eighth); with
 * ST_RN_LAST it is `need` past the cap, and the region goes to *last, not
 * to be current.
 */
static int st_region_new(size_t need, size_t least, int flags, struct st_region **last)
{
	long page = sysconf(_SC_PAGESIZE);
	struct st_region *r = NULL, *old;
	size_t size = flags ? need : st_region_next, delta, got;
	sigset_t pending;
	int fd, i, tries, raised = 0;
	off_t off;
	char *map;

	while (size < need)
		size *= 2;
	for (i = 0; i < ST_REGIONS && !r; i++)
		if (!st_regions[i].map && !__atomic_load_n(&st_regions[i].refs, __ATOMIC_ACQUIRE))
			r = &st_regions[i];
	if (!r)
		return EMFILE;
	fd = __atomic_load_n(&st_sink.fd, __ATOMIC_ACQUIRE);
	if (!st_sink_is_ours(fd) && !st_sink_recover())
		return 0; /* said so already; tracing is off */
	if (st_config.max_size && !(flags & ST_RN_LAST)) {
		size_t most = st_cap_region() > least ? st_cap_region() : least;
		int e;

		if (!(flags & ST_RN_RESERVE) && size > most)
			size = most;
		if ((e = st_cap_room(&size, least)) != 0)
			return e;
	}
	fd = st_sink.fd;
	sigemptyset(&pending);
	sigpending(&pending);
	/*
	 * Regions grow to 1 MiB: when the room left is smaller, a short write
	 * says how much there is, and a region that small is tried instead,
	 * so tracing stops only when not even `least` bytes are left.
	 */
	for (tries = 0;; tries++) {
		errno = 0;
		off = st_chunk_append(fd, size, &got);
		/* Only a write refused outright at the limit raises SIGXFSZ; a short one does not. */
		raised |= off < 0 && !got && errno == EFBIG;
		got = got / ST_PAD * ST_PAD;
		if (off >= 0 || tries == 4 || got < least || got >= size)
			break;
		size = got;
	}
	if (off < 0) {
		int e = errno ? errno : EIO;
		struct statvfs vfs;
		struct rlimit rl;

		/* The figure for the warning, taken now, while the fd is surely ours. */
		if (e == ENOSPC && fstatvfs(fd, &vfs) == 0)
			st_sink_room = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
		else if (e == EFBIG && getrlimit(RLIMIT_FSIZE, &rl) == 0)
			st_sink_room = (unsigned long long)rl.rlim_cur;

		/* Crossing RLIMIT_FSIZE raised SIGXFSZ (blocked now): it is ours, not the program's. */
		if (raised && !sigismember(&pending, SIGXFSZ)) {
			static const struct timespec zero = {0, 0};
			sigset_t xfsz;

			sigemptyset(&xfsz);
			sigaddset(&xfsz, SIGXFSZ);
			(void)sigtimedwait(&xfsz, NULL, &zero);
		}
		return e;
	}
	/* Another writer may have left the file unaligned: map from the page below. */
	delta = (size_t)(off % page);
	map = mmap(NULL, size + delta, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off - (off_t)delta);
	if (map == MAP_FAILED)
		return errno ? errno : ENOMEM;
	r->map = map;
	r->maplen = size + delta;
	r->data = map + delta;
	r->off = off;
	r->size = size;
	r->next = 0;
	r->gen = st_sink.gen;
	__atomic_store_n(&r->refs, 1, __ATOMIC_RELEASE);
	if (flags & ST_RN_LAST) {
		*last = r;
		return 0;
	}
	old = __atomic_exchange_n(&st_current, r, __ATOMIC_ACQ_REL);
	if (size >= st_region_next && st_region_next < ST_REGION_MAX)
		st_region_next = size * 4 < ST_REGION_MAX ? size * 4 : ST_REGION_MAX;
	if (st_config.max_size && st_region_next > st_cap_region())
		st_region_next = st_cap_region();
	if (old) {
		/* What no slice took of the old region: to the pool, or closed (another file's). */
		size_t at = __atomic_exchange_n(&old->next, old->size, __ATOMIC_ACQ_REL);

		if (at < old->size && old->gen == r->gen) {
			__atomic_fetch_add(&old->refs, 1, __ATOMIC_ACQ_REL);
			st_tail_put(old, old->gen, old->data + at, old->size - at);
		} else if (at < old->size) {
			st_tail_close(old, old->data + at, old->size - at);
		}
		st_region_put(old);
	}
	return 0;
}

/*
 * A slice of `want` bytes (at least `need`) from the current region, with no
 * system call: a compare-and-swap on the bytes handed out. Called under the
 * fd lock, except in a sandbox, where regions are never replaced or unmapped
 * and the lock (which blocks signals with a system call) is not taken.
 */
static int st_slice_carve(struct st_chunk *c, size_t need, size_t want)
{
	struct st_region *r = __atomic_load_n(&st_current, __ATOMIC_ACQUIRE);
	size_t at, take;

	if (!r || r->gen != __atomic_load_n(&st_sink.gen, __ATOMIC_ACQUIRE))
		return -1;
	at = __atomic_load_n(&r->next, __ATOMIC_ACQUIRE);
	do {
		if (at > r->size || r->size - at < need + 1)
			return -1;
		take = r->size - at < want ? r->size - at : want;
	} while (!__atomic_compare_exchange_n(&r->next, &at, at + take, 0, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	__atomic_fetch_add(&r->refs, 1, __ATOMIC_ACQ_REL);
	c->r = r;
	c->p = r->data + at;
	c->size = take;
	c->used = 0;
	c->phase = 0; /* regions are handed out in whole padding lines */
	c->gen = r->gen;
	return 0;
}

static void st_chunk_drop(struct st_chunk *c)
{
	struct st_region *r = c->r;

	c->r = NULL;
	c->p = NULL;
	c->size = c->used = 0;
	st_region_put(r);
}

/*
 * Say which wall the file hit. ENOSPC and EFBIG are told apart (a short
 * write sets no errno: st_chunk_append decides), with the free bytes or the
 * limit, since "disk full" and "ulimit -f" have different fixes.
 */
static void st_sink_off_err(int err)
{
	static const char stops[] = "; tracing stops, the program runs on";
	static const char full[] = " KiB free, too little for one more event)";
	static const char limit[] = " KiB: RLIMIT_FSIZE, ulimit -f)";
	char detail[160];
	size_t n = 0;

	if (err == ENOSPC || err == EFBIG) {
		memcpy(detail, " (", 2);
		n = 2;
		if (err == ENOSPC) {
			memcpy(detail + n, "the disk is full: ", 18);
			n += 18;
		}
		n += st_fmt_uint(detail + n, st_sink_room / 1024);
		memcpy(detail + n, err == ENOSPC ? full : limit,
		       err == ENOSPC ? sizeof(full) - 1 : sizeof(limit) - 1);
		n += err == ENOSPC ? sizeof(full) - 1 : sizeof(limit) - 1;
	} else if (err != EMFILE) {
		memcpy(detail, " (", 2);
		n = 2 + st_errname(detail + 2, err);
		detail[n++] = ')';
	}
	memcpy(detail + n, stops, sizeof(stops));
	st_sink_off_because(err == ENOSPC   ? "no space left for trace file "
			    : err == EFBIG  ? "trace file reached the file size limit: "
			    : err == EMFILE ? "too many trace regions in use for "
					    : "cannot extend trace file ",
			    detail);
}

/*
 * Room that nobody will write becomes filler records, so that a trace that
 * ended cleanly holds only JSON values, one per line, which every reader
 * accepts (docs/events.md): each padding line of it, 255 spaces and a
 * newline, is rewritten in place as {"v":1,"event":"pad"   ...   }. The
 * first byte goes last, released, as for events: a follower that sees the
 * '{' sees the whole line, and knows nothing will be written there.
 *
 * The room starts on a padding line's start, or right after an event's
 * newline with at least ST_LINE_MIN bytes left of its line (st_sink_write
 * sees to that), so every piece of it holds a record. Events already
 * written are never touched: a follower that showed one must not see it
 * change.
 */
static void st_tail_close(struct st_region *r, char *p, size_t n)
{
	size_t pos = (size_t)(p - r->data), end = pos + n;

	while (pos < end) {
		size_t eol = pos - pos % ST_GRAIN + ST_GRAIN - 1; /* this line's newline */
		char *l = r->data + pos;

		if (eol >= end)
			break; /* cannot happen: room ends on a padding newline */
		if (l[0] != ' ') {
			/* already closed, or not padding: leave it */
		} else if (eol - pos + 1 >= ST_LINE_MIN) {
			memcpy(l + 1, ST_PAD_HEAD + 1, sizeof(ST_PAD_HEAD) - 2);
			r->data[eol - 1] = '}';
			__atomic_store_n(l, '{', __ATOMIC_RELEASE);
		}
		pos = eol + 1;
	}
}

/*
 * The unused end [p, p+n) of a slice, with the region reference that came
 * with it, goes to the pool for another thread; failing that, it is closed.
 * No system call and no lock: a slot is claimed by compare-and-swap.
 */
static void st_tail_put(struct st_region *r, unsigned gen, char *p, size_t n)
{
	struct st_tail *small = NULL;
	int i, st;

	if (n < ST_TAIL_MIN || st_sink.state != ST_SINK_OPEN)
		goto close;
	for (i = 0; i < ST_TAILS; i++) {
		st = 0;
		if (__atomic_compare_exchange_n(&st_tails[i].state, &st, 1, 0, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			goto fill;
		if (st == 2 && st_tails[i].size < n && (!small || st_tails[i].size < small->size))
			small = &st_tails[i];
	}
	/* Full: the smallest tail kept makes way for a bigger one. */
	st = 2;
	if (!small || !__atomic_compare_exchange_n(&small->state, &st, 1, 0, __ATOMIC_ACQ_REL,
						   __ATOMIC_ACQUIRE))
		goto close;
	i = (int)(small - st_tails);
	st_tail_close(small->r, small->p, small->size); /* whatever file it is in: still mapped */
	st_region_put(small->r);
fill:
	st_tails[i].r = r;
	st_tails[i].gen = gen;
	st_tails[i].p = p;
	st_tails[i].size = n;
	__atomic_store_n(&st_tails[i].state, 2, __ATOMIC_RELEASE);
	return;
close:
	st_tail_close(r, p, n);
	st_region_put(r);
}

/*
 * A pooled tail with room for `need` bytes and the newline kept, as the
 * level's slice; only one at or after file offset `after`, so that each
 * thread's events stay in order in the file.
 */
static int st_tail_take(struct st_chunk *c, size_t need, off_t after)
{
	unsigned gen = __atomic_load_n(&st_sink.gen, __ATOMIC_ACQUIRE);
	int i, st;

	for (i = 0; i < ST_TAILS; i++) {
		struct st_tail *t = &st_tails[i];

		st = 2;
		if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) != 2 ||
		    !__atomic_compare_exchange_n(&t->state, &st, 1, 0, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE))
			continue;
		if (t->gen != gen || t->size < need + 1 ||
		    t->r->off + (t->p - t->r->data) < after) {
			__atomic_store_n(&t->state, 2, __ATOMIC_RELEASE);
			continue;
		}
		c->r = t->r;
		c->p = t->p;
		c->size = t->size;
		c->used = 0;
		c->phase = (unsigned)((size_t)(t->p - t->r->data) % ST_GRAIN);
		c->gen = t->gen;
		__atomic_store_n(&t->state, 0, __ATOMIC_RELEASE);
		return 0;
	}
	return -1;
}

/* A level leaves its slice: what is left goes to the pool or is closed. */
static void st_chunk_retire(struct st_chunk *c)
{
	struct st_region *r = c->r;

	if (!r)
		return;
	if (c->used >= c->size) {
		st_chunk_drop(c);
		return;
	}
	/* In an older opening of the file, or one renamed away: closed, not given to others. */
	if (c->gen != __atomic_load_n(&st_sink.gen, __ATOMIC_ACQUIRE) ||
	    (st_config.rotate && st_rotated())) {
		st_tail_close(r, c->p + c->used, c->size - c->used);
		st_chunk_drop(c);
		return;
	}
	st_tail_put(r, c->gen, c->p + c->used, c->size - c->used);
	c->r = NULL;
	c->p = NULL;
	c->size = c->used = 0;
}

/*
 * The exit record of a process that reached the cap: one region past it,
 * of the record's own size, held by this level alone, so that the count of
 * capped events reaches the reader. Once per process, fd lock not held.
 */
static int st_chunk_last(struct st_chunk *c, size_t need)
{
	struct st_fdlock l;
	struct st_region *r = NULL;
	size_t size = (need + ST_GRAIN) / ST_GRAIN * ST_GRAIN;
	int err = -1;

	st_fd_lock(&l);
	if (st_sink_active())
		err = st_region_new(size, size, ST_RN_LAST, &r);
	st_fd_unlock(&l);
	if (err || !r)
		return -1;
	c->r = r;
	c->p = r->data;
	c->size = r->size;
	c->used = 0;
	c->phase = 0;
	c->gen = r->gen;
	return 0;
}

/*
 * Another process holds the rotation lock (it is renaming the file): sleep
 * a millisecond, without the fd lock, and try again; past ST_ROT_WAIT (that
 * process is stuck, or stopped), claims fail for a while and their events
 * are counted as capped. 0 to try again, or ST_CAPPED. The raw system call:
 * no cancellation point inside the library.
 */
static int st_rot_wait(void)
{
	static const struct timespec tick = {0, 1000000};
	uint64_t now = st_now_mono(), since = 0;

	if (!__atomic_compare_exchange_n(&st_cap.wait_since, &since, now, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE) &&
	    now - since > ST_ROT_WAIT) {
		__atomic_store_n(&st_cap.busy_until, now + ST_ROT_PAUSE, __ATOMIC_RELAXED);
		__atomic_store_n(&st_cap.wait_since, 0, __ATOMIC_RELAXED);
		return ST_CAPPED;
	}
	(void)st_sys(SYS_nanosleep, &tick, NULL);
	return 0;
}

/*
 * The cap reached for good: no region is made any more, so the current one
 * never changes and is carved without the lock (which costs system calls),
 * as in a sandbox. Past that, only the exit record (st_ready is 0 once the
 * process is ending) of a process that wrote something gets room.
 */
static int st_chunk_capped(struct st_chunk *c, size_t need, size_t want)
{
	if (st_slice_carve(c, need, want) == 0)
		return 0;
	if (!__atomic_load_n(&st_ready, __ATOMIC_SEQ_CST) && st_cap.had_room &&
	    !__atomic_exchange_n(&st_cap.last_words, 1, __ATOMIC_ACQ_REL) &&
	    st_chunk_last(c, need) == 0)
		return 0;
	return ST_CAPPED;
}

/*
 * A fresh slice for this thread's level, big enough for `need` bytes.
 * Returns 0, ST_CAPPED (no room under the cap), or -1 (dropped).
 */
static int st_chunk_new(struct st_chunk *c, size_t need)
{
	struct st_fdlock l;
	size_t want = c->next ? c->next : ST_SLICE_FIRST;
	int saved = errno, err = 0, got;
	uint64_t busy;
	off_t after;

	while (want < need + 1 && want < ST_CHUNK_MAX)
		want *= 2;
	if (want < need + 1)
		return -1; /* larger than any slice: cannot happen below 16 KiB events */
	want = (want + ST_GRAIN - 1) / ST_GRAIN * ST_GRAIN;
	after = c->r ? c->r->off + (c->p - c->r->data) + (off_t)c->used : 0;
	st_chunk_retire(c);
	/* A tail another thread left: no lock, no system call (none of a file renamed away). */
	if (!(st_config.rotate && !st_sandboxed() && st_rotated()) &&
	    st_tail_take(c, need, after) == 0)
		goto done;
	if (st_sandboxed()) {
		/* No system call may be made: only the room claimed ahead. */
		got =
		    st_slice_carve(c, need, want < ST_SANDBOX_SLICE ? want : ST_SANDBOX_SLICE) == 0;
		if (got)
			c->next = want < ST_CHUNK_MAX ? want * 2 : want;
		errno = saved;
		return got ? 0 : -1;
	}
	if (__atomic_load_n(&st_cap.full, __ATOMIC_ACQUIRE)) {
		err = st_chunk_capped(c, need, want);
		errno = saved;
		if (err)
			return err;
		goto done;
	}
	busy = __atomic_load_n(&st_cap.busy_until, __ATOMIC_RELAXED);
	if (busy && st_now_mono() < busy) {
		errno = saved;
		return ST_CAPPED; /* another process is stuck in its rotation */
	}
	/*
	 * A new region: under the fd lock, with every signal blocked (a handler
	 * on this thread that sent would otherwise wait on its own thread) and
	 * cancellation disabled (no cancellation point may run under a lock).
	 * SIGXFSZ from crossing RLIMIT_FSIZE is blocked too, and taken off.
	 */
	do {
		st_fd_lock(&l);
		got = !(st_config.rotate && st_rotated()) &&
		      st_slice_carve(c, need, st_sandboxed() ? ST_SANDBOX_SLICE : want) == 0;
		if (!got && st_sink_active() && !st_sandboxed()) {
			err = st_region_new(want, (need + ST_PAD) / ST_PAD * ST_PAD, 0, NULL);
			got = !err && st_slice_carve(c, need, want) == 0;
		}
		st_fd_unlock(&l);
	} while (!got && err == ST_WAIT && (err = st_rot_wait()) == 0);
	if (got && __atomic_load_n(&st_cap.wait_since, __ATOMIC_RELAXED))
		__atomic_store_n(&st_cap.wait_since, 0, __ATOMIC_RELAXED);
	/* The exit record, just as the cap is met. */
	if (!got && err == ST_CAPPED && __atomic_load_n(&st_cap.full, __ATOMIC_ACQUIRE))
		got = st_chunk_capped(c, need, want) == 0;
	if (!got) {
		if (err > 0)
			st_sink_off_err(err);
		errno = saved;
		return err == ST_CAPPED ? ST_CAPPED : -1;
	}
done:
	c->next = want < ST_CHUNK_MAX ? want * 2 : want;
	if (!st_cap.had_room)
		st_cap.had_room = 1;
	errno = saved;
	return 0;
}

/* One line into the level's slice, if it fits there: 1, else 0. */
static int st_chunk_fit(struct st_chunk *c, const char *line, size_t n)
{
	size_t off = c->used, e;

	/* The slice's last byte stays the newline that ends its padding. */
	if (!c->r || off + n >= c->size)
		return 0;
	/*
	 * The first byte last, released: a reader that sees the '{' sees the
	 * whole line (docs/events.md).
	 */
	memcpy(c->p + off + 1, line + 1, n - 1);
	/*
	 * What an event leaves of its padding line must hold a filler record
	 * (ST_LINE_MIN bytes), or be nothing: a shorter rest would stay a blank
	 * line that strict readers reject. The event then ends with spaces
	 * instead, and that line's newline ends it.
	 */
	e = (c->phase + off + n) % ST_GRAIN;
	if (e && ST_GRAIN - e < ST_LINE_MIN) {
		c->p[off + n - 1] = ' ';
		n += ST_GRAIN - e;
	}
	__atomic_store_n(c->p + off, line[0], __ATOMIC_RELEASE);
	c->used = off + n;
	return 1;
}

/* A slice that must not take another line: of an older opening of the file. */
static void st_chunk_leave(struct st_chunk *c)
{
	if (c->used < c->size)
		st_tail_close(c->r, c->p + c->used, c->size - c->used);
	st_chunk_drop(c);
}

/* One line, into a new slice if need be: 0, -1 (dropped) or ST_CAPPED. */
static int st_sink_put(struct st_chunk *c, const char *line, size_t n)
{
	unsigned gen = __atomic_load_n(&st_sink.gen, __ATOMIC_ACQUIRE);
	int tries, r = -1;

	if (c->r && c->gen != gen)
		st_chunk_leave(c);
	for (tries = 0; tries < 2; tries++) {
		if (st_chunk_fit(c, line, n))
			return 0;
		if ((r = st_chunk_new(c, n)) != 0)
			break;
	}
	return r ? r : -1;
}

/* A line that could not be written: a call event the cap kept out, or a loss. */
static void st_sink_lost(const char *line, size_t n, int why)
{
	static const char call[] = "{\"v\":1,\"event\":\"call\"";

	if (why != ST_CAPPED)
		__atomic_fetch_add(&st_sink_drops, 1, __ATOMIC_RELAXED);
	else if (n >= sizeof(call) - 1 && !memcmp(line, call, sizeof(call) - 1))
		st_count_add(ST_COUNT_CAPPED, 1);
}

/*
 * In a rotating trace a process's start record is held back, and written
 * with the process's next record (its first event, or its exit record),
 * into one slice: so the two are in the same file, and a reader of any one
 * file finds the start record of a process before its first event.
 */
static struct {
	int held;
	size_t len;
	char line[ST_EVENT_MAX];
} st_start;

static int st_start_hold(const char *line, size_t n)
{
	static const char start[] = "{\"v\":1,\"event\":\"start\"";

	/* Byte 16 tells "start" from "call" and "exit" at once: the usual case costs one load. */
	if (n < sizeof(start) - 1 || line[16] != 's' || n > sizeof(st_start.line) ||
	    memcmp(line, start, sizeof(start) - 1) != 0)
		return 0;
	memcpy(st_start.line, line, n);
	st_start.len = n;
	__atomic_store_n(&st_start.held, 1, __ATOMIC_RELEASE);
	return 1;
}

/* The start record held back, then `line`, in one slice; one by one if none holds both. */
static void st_start_with(struct st_chunk *c, const char *line, size_t n)
{
	size_t both = st_start.len + n + 2 * ST_LINE_MIN; /* each may end padded to its line */
	int r = 0;

	if (c->r && c->gen != __atomic_load_n(&st_sink.gen, __ATOMIC_ACQUIRE))
		st_chunk_leave(c);
	if (!c->r || c->used + both >= c->size)
		r = st_chunk_new(c, both);
	if (r == 0) {
		(void)st_chunk_fit(c, st_start.line, st_start.len);
		if (st_chunk_fit(c, line, n))
			return;
	} else if (r != ST_CAPPED) {
		(void)st_sink_put(c, st_start.line, st_start.len);
	}
	if (r == ST_CAPPED || (r = st_sink_put(c, line, n)) != 0)
		st_sink_lost(line, n, r);
}

/* At an exec or an exit: the start record still held back goes out alone. */
static void st_start_flush(struct st_thread *t)
{
	int level;

	if (!t || !__atomic_load_n(&st_start.held, __ATOMIC_ACQUIRE) ||
	    (level = st_level_take(t)) < 0)
		return;
	if (__atomic_exchange_n(&st_start.held, 0, __ATOMIC_ACQ_REL))
		(void)st_sink_put(&t->chunks[level], st_start.line, st_start.len);
	st_level_give(t, level);
}

void st_sink_write(struct st_thread *t, int level, const char *line, size_t n)
{
	struct st_chunk *c = &t->chunks[level];
	int r;

	if (__builtin_expect(st_config.rotate != 0, 0)) {
		if (st_start_hold(line, n))
			return;
		/* Renamed away by another process: this slice closed, the next in the new file. */
		if (c->r && !st_sandboxed() && st_rotated())
			st_chunk_leave(c);
		if (__atomic_load_n(&st_start.held, __ATOMIC_ACQUIRE) &&
		    __atomic_exchange_n(&st_start.held, 0, __ATOMIC_ACQ_REL)) {
			st_start_with(c, line, n);
			return;
		}
	}
	if ((r = st_sink_put(c, line, n)) != 0)
		st_sink_lost(line, n, r);
}

void st_sink_thread_exit(struct st_thread *t)
{
	int i;

	for (i = 0; i < ST_NEST_MAX; i++)
		st_chunk_retire(&t->chunks[i]);
}

/* A thread's slices, closed where they are unused. */
static void st_sink_close_thread(struct st_thread *t)
{
	int i;

	for (i = 0; i < ST_NEST_MAX; i++) {
		struct st_chunk *c = &t->chunks[i];

		/* Whichever file it is in (an older opening, or one renamed away): still mapped. */
		if (c->r && c->used < c->size) {
			st_tail_close(c->r, c->p + c->used, c->size - c->used);
			c->used = c->size;
		}
	}
}

/*
 * The room no thread holds: the pooled tails, and the rest of the current
 * region. At exit the tails stay claimed (nobody takes them any more);
 * before an exec, which may fail, their slots and references are given back.
 */
static void st_sink_close_shared(int again)
{
	struct st_region *r = __atomic_load_n(&st_current, __ATOMIC_ACQUIRE);
	size_t at;
	int i, st;

	for (i = 0; i < ST_TAILS; i++) {
		st = 2;
		if (!__atomic_compare_exchange_n(&st_tails[i].state, &st, 1, 0, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE))
			continue;
		st_tail_close(st_tails[i].r, st_tails[i].p, st_tails[i].size);
		if (again) {
			st_region_put(st_tails[i].r);
			__atomic_store_n(&st_tails[i].state, 0, __ATOMIC_RELEASE);
		}
	}
	if (r && !st_sandboxed()) {
		at = __atomic_exchange_n(&r->next, r->size, __ATOMIC_ACQ_REL);
		if (at < r->size)
			st_tail_close(r, r->data + at, r->size - at);
	}
}

/*
 * At a clean exit, after the exit record (no event starts any more): the
 * room this process holds will never be written. Every thread's slices
 * (but one still inside an event past the drain's deadline), the pooled
 * tails and the rest of the current region become filler records: the
 * trace holds only JSON values, and a follower stops watching at once.
 */
void st_sink_exit(struct st_thread *self)
{
	st_start_flush(self);
	st_thread_each_idle(st_sink_close_thread);
	st_sink_close_shared(0);
}

/*
 * Before an exec, which runs no exit handler: the same closing, while the
 * process may still go on (the exec can fail; the next event takes new
 * room). Other threads' slices only when there are none: otherwise they
 * may be writing, and the exec ends them in the middle anyway.
 */
void st_sink_exec(void)
{
	struct st_thread *self = st_thread_get();

	if (!st_sink_active() || st_sandboxed())
		return;
	st_start_flush(self);
	if (__libc_single_threaded)
		st_thread_each_idle(st_sink_close_thread);
	else if (self && !self->busy[0] && !self->busy[1])
		st_sink_close_thread(self);
	st_sink_close_shared(1);
}

/*
 * At exit, a process that recorded nothing (SENDTRACE_PROCS=active) and has
 * a file of its own (%p in SENDTRACE_OUTPUT) takes its empty file away: a
 * shell loop under `run -F` leaves no file per /bin/true. Only if the path
 * still names the file it opened, and that file is empty.
 */
void st_sink_idle_exit(void)
{
	struct stat a, b;

	if (st_sandboxed() || st_sink.state != ST_SINK_OPEN || !strstr(st_config.output, "%p"))
		return;
	if (st_fstat(st_sink.fd, &a) == 0 && a.st_size == 0 && lstat(st_sink.path, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		(void)unlink(st_sink.path);
}

/* In a fork()ed child: the slices are the parent's; never write there again. */
void st_sink_thread_forget(struct st_thread *t)
{
	memset(t->chunks, 0, sizeof(t->chunks));
}

/*
 * A jump out of a handler that interrupted memcpy into this level's slice
 * left part of a line after `used`: blank it, so the next event (perhaps
 * shorter) leaves no fragment behind.
 */
void st_sink_level_abandoned(struct st_thread *t, int level)
{
	struct st_chunk *c = &t->chunks[level];
	size_t n, i;

	if (!c->r || c->used + 1 >= c->size)
		return;
	n = c->size - 1 - c->used;
	if (n > ST_EVENT_MAX)
		n = ST_EVENT_MAX;
	/* Padding as it was: the line may have covered some of its newlines. */
	for (i = c->used; i < c->used + n; i++)
		c->p[i] = (c->phase + i) % ST_GRAIN == ST_GRAIN - 1 ? '\n' : ' ';
}

/*
 * Room for `bytes` claimed now, while system calls are allowed: after a
 * seccomp filter is in force, slices come only from it.
 */
int st_sink_reserve(size_t bytes)
{
	struct st_fdlock l;
	struct st_region *r;
	size_t least = bytes;
	int err = 0;

	if (!st_sink_active())
		return -1;
	/*
	 * Under a cap: no more than a file may hold. Rotating, a fresh file if
	 * this one has too little left (no rotation is possible in the sandbox);
	 * not rotating, what is left.
	 */
	if (st_config.max_size) {
		unsigned long long most = (st_config.max_size - 2 * ST_GRAIN) / ST_PAD * ST_PAD;

		if (bytes > most)
			bytes = (size_t)most;
		least = st_config.rotate ? bytes : ST_PAD;
		if (st_config.rotate)
			st_warn("trace file ", st_sink.path,
				" cannot be rotated under a seccomp filter: this process writes "
				"only the room claimed ahead (SENDTRACE_SECCOMP_RESERVE), in the "
				"file it is in now");
	}
	do {
		st_fd_lock(&l);
		r = __atomic_load_n(&st_current, __ATOMIC_ACQUIRE);
		err = 0;
		if (!r || r->size - __atomic_load_n(&r->next, __ATOMIC_ACQUIRE) < bytes ||
		    (st_config.rotate && st_rotated()))
			err = st_region_new(bytes, least, ST_RN_RESERVE, NULL);
		st_fd_unlock(&l);
	} while (err == ST_WAIT && st_rot_wait() == 0);
	return err ? -1 : 0;
}

/*
 * The program is about to close or reuse `fd`, our trace fd's number: take
 * another number first (the fd lock is held, so no append is under way).
 */
void st_sink_fd_move(int fd)
{
	int nfd;

	if (fd != st_sink.fd || fd < 0)
		return;
	nfd = st_sys_dupfd(fd, st_fd_high());
	__atomic_store_n(&st_sink.fd, nfd, __ATOMIC_RELEASE);
	if (nfd < 0)
		st_sink_off("cannot keep an fd for trace file ");
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

	int i;

	/* The regions are mapped copies of the parent's: the parent writes there. */
	for (i = 0; i < ST_REGIONS; i++) {
		if (st_regions[i].map)
			munmap(st_regions[i].map, st_regions[i].maplen);
		memset(&st_regions[i], 0, sizeof(st_regions[i]));
	}
	memset(st_tails, 0, sizeof(st_tails));
	st_current = NULL;
	st_region_next = ST_REGION_FIRST;
	st_sink_drops = 0;
	/* The cap's state is the process's own (its page 0 mapping is kept: the same file). */
	st_cap.full = st_cap.warned = st_cap.had_room = st_cap.last_words = 0;
	st_cap.busy_until = st_cap.wait_since = 0;
	st_start.held = 0;
	if (st_sink.state == ST_SINK_LATER || st_sink.state == ST_SINK_OPENING) {
		/* Still dormant (or a thread of the parent was opening): the child's own path. */
		st_expand(st_sink.path, sizeof(st_sink.path), st_config.output, st_pid);
		st_sink.state = ST_SINK_LATER;
		return;
	}
	if (st_sink.state != ST_SINK_OPEN)
		return;
	if (strstr(st_config.output, "%p")) {
		if (st_sink_is_ours(fd))
			st_sys_close(fd);
		st_sink.fd = -1;
		st_sink_open();
		return;
	}
	memcpy(link, "/proc/self/fd/", 14);
	n = 14 + st_fmt_uint(link + 14, (unsigned)fd);
	link[n] = '\0';
	nfd = st_sink_is_ours(fd) ? st_open_high(link, O_RDWR | O_APPEND | O_CLOEXEC | O_NOCTTY, 0)
				  : -1;
	if (nfd >= 0) {
		st_sys_close(fd);
		st_sink.fd = nfd;
	} else {
		st_sink.fd = -1;
		st_sink_open();
	}
}

int st_sink_open(void)
{
	if (!st_pad_ready) {
		size_t i;

		for (i = 0; i < sizeof(st_spaces_nl); i++)
			st_spaces_nl[i] = i % ST_GRAIN == ST_GRAIN - 1 ? '\n' : ' ';
		st_pad_ready = 1;
	}
	st_expand(st_sink.path, sizeof(st_sink.path), st_config.output, st_pid);
	if (!__atomic_load_n(&st_ctl->on, __ATOMIC_RELAXED)) {
		/* Dormant: no file until something is recorded. */
		__atomic_store_n(&st_sink.state, ST_SINK_LATER, __ATOMIC_RELEASE);
		return 1;
	}
	return st_sink_open_path();
}
