/* control.c: the control page: dormant or recording, and settings that `sendtrace ctl` changes at run time. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ctlpage.h"
#include "st.h"

_Static_assert(sizeof(struct st_ctlpage) <= ST_CTL_SIZE, "the control page is one page");

/*
 * Without a page (SENDTRACE_CTL=off, no private directory, a sandbox) the
 * same fields live here, where nobody but the process sees them: the hot
 * path reads one pointer and one word either way.
 */
static struct st_ctlpage st_ctl_local = {.on = 1};
struct st_ctlpage *st_ctl = &st_ctl_local;
uint32_t st_ctl_seen;
int st_fds_held;
static int st_ctl_busy;
static char st_ctl_path[4096];
static int st_ctl_mapped;
/* The page's inode: at exit, the name is taken away only if it is still ours. */
static ino_t st_ctl_ino;
/* The unwinder's stacks were set aside at start: backtraces may be switched on later. */
static int st_ctl_bt_ready;

void st_count_add(enum st_count which, unsigned long n)
{
	__atomic_fetch_add(&st_ctl->count[which], n, __ATOMIC_RELAXED);
}

unsigned long st_count(enum st_count which)
{
	return (unsigned long)__atomic_load_n(&st_ctl->count[which], __ATOMIC_RELAXED);
}

static void st_copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* /proc/self/stat's start time (field 22): what tells this process from a reused pid. */
static uint64_t st_starttime(void)
{
	char buf[1024], *p;
	ssize_t n = 0, r;
	int fd, field;
	uint64_t v = 0;

	fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	while (n < (ssize_t)sizeof(buf) - 1 &&
	       (r = read(fd, buf + n, sizeof(buf) - 1 - (size_t)n)) > 0)
		n += r;
	st_sys_close(fd);
	buf[n > 0 ? n : 0] = '\0';
	/* The name (field 2) may hold spaces and parentheses: count from the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	for (field = 2; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	while (*p >= '0' && *p <= '9')
		v = v * 10 + (uint64_t)(*p++ - '0');
	return v;
}

/*
 * This process has no page, so `sendtrace ctl` cannot reach it: said once
 * (a fork()ed child of a process that said it stays silent), and only when
 * it matters most, loaded dormant, when nothing will ever switch it on; or
 * `always` (a directory that is not private, which someone may have made
 * for that). A recording process does not warn: what keeps its page from
 * being made (a small RLIMIT_FSIZE or RLIMIT_NOFILE, a full disk) often
 * stops its trace file too, which says so, and a program is owed one line
 * at most. `err` names the cause, or `why` says it in words.
 */
static int st_ctl_warned;

static void st_ctl_cannot(const char *what, const char *path, const char *why, int err,
			  int always)
{
	static char tail[256];
	const char *name = NULL, *rest = st_ctl_local.on ? ": `sendtrace ctl` cannot reach this process"
							: ": `sendtrace ctl` cannot reach this process, "
							  "loaded dormant: it records nothing";
	size_t n = 0;

	if (st_ctl_warned || (st_ctl_local.on && !always))
		return;
	st_ctl_warned = 1;
	tail[n++] = ' ';
	tail[n++] = '(';
	if (!why) {
#ifdef HAVE_STRERRORNAME_NP
		name = strerrorname_np(err); /* a constant table: no allocation, no locale */
#endif
		if (!name) {
			tail[n++] = 'E';
			n += st_fmt_uint(tail + n, (unsigned)err);
		}
		why = name ? name : "";
	}
	st_copy_str(tail + n, sizeof(tail) - n, why);
	n += strlen(tail + n);
	if (n + 2 < sizeof(tail)) {
		tail[n++] = ')';
		st_copy_str(tail + n, sizeof(tail) - n, rest);
	}
	st_warn(what, path, tail);
}

/*
 * The private directories the pages may live in, in order: SENDTRACE_CTL_DIR,
 * $XDG_RUNTIME_DIR/sendtrace, /run/sendtrace for root, /tmp/sendtrace-UID.
 * Candidate i into dir, or 0 when there is no such candidate.
 */
static int st_ctl_candidate(int i, char *dir, size_t cap)
{
	const char *env = secure_getenv("SENDTRACE_CTL_DIR");
	const char *xdg = secure_getenv("XDG_RUNTIME_DIR");
	uid_t uid = geteuid();
	struct stat sb;
	size_t n;

	switch (i) {
	case 0:
		if (!env || env[0] != '/' || strlen(env) >= cap)
			return 0;
		st_copy_str(dir, cap, env);
		return 1;
	case 1:
		if (!xdg || xdg[0] != '/' || strlen(xdg) + 16 >= cap)
			return 0;
		st_copy_str(dir, cap, xdg);
		strcat(dir, "/" ST_CTL_DIRNAME);
		return 1;
	case 2:
		if (uid != 0 || stat("/run", &sb) != 0 || sb.st_uid != 0)
			return 0;
		st_copy_str(dir, cap, "/run/" ST_CTL_DIRNAME);
		return 1;
	case 3:
		st_copy_str(dir, cap, "/tmp/" ST_CTL_DIRNAME "-");
		n = strlen(dir);
		dir[n + st_fmt_uint(dir + n, uid)] = '\0';
		return 1;
	default:
		return 0;
	}
}

/* Make dir 0700 if absent; 0, or -1 with errno when it cannot be made. */
static int st_ctl_dir_make(const char *dir)
{
	if (mkdir(dir, 0700) == 0)
		(void)chmod(dir, 0700); /* whatever the program's umask took away */
	else if (errno != EEXIST)
		return -1; /* not ours to make (another user's XDG_RUNTIME_DIR, read-only) */
	return 0;
}

/*
 * The directory, open, and checked on the fd rather than by name (a check by
 * name could be raced by anyone who may rename in its parent): a real
 * directory (not a symlink) of this user that nobody else may enter. In
 * /tmp, anyone could have made it first. Returns the fd, -1 (errno: could
 * not open) or -2 (not private).
 */
static int st_ctl_dir_open(const char *dir)
{
	struct stat sb;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return errno == ELOOP || errno == ENOTDIR ? -2 : -1;
	if (st_fstat(fd, &sb) != 0 || !S_ISDIR(sb.st_mode) || sb.st_uid != geteuid() ||
	    (sb.st_mode & 077)) {
		st_sys_close(fd);
		return -2;
	}
	return fd;
}

/* Another user's private directory (not a symlink, closed to others): not ours, not unsafe. */
static int st_ctl_dir_foreign(const char *dir)
{
	struct stat sb;

	return lstat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) && !(sb.st_mode & 077) &&
	       sb.st_uid != geteuid();
}

/*
 * Map `name` in the directory: the page the previous image of this process
 * left (an exec: same pid, same start time), which it keeps (*kept = 1), or
 * a new one. Anything else by that name (the page of an ended process whose
 * pid this one reuses, perhaps still mapped by a process of the same pid
 * number in another pid namespace; a symlink; a hard link; another user's
 * file; a file of the wrong size) is never written, grown or truncated: the
 * name is taken from it and a new file made (O_EXCL). The new file's block
 * is written, not just sized: a write to a hole in a mapping is SIGBUS in
 * the program when the file system is full or the quota spent. NULL with
 * errno set when there is no page.
 */
static struct st_ctlpage *st_ctl_map(int dfd, const char *name, uint64_t start, int *kept)
{
	static const char zero[ST_CTL_SIZE];
	struct st_ctlpage *p;
	struct stat sb;
	void *m;
	int fd, e;

	*kept = 0;
	/* Opened only if a regular file: opening a FIFO or a device can do something. */
	fd = fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode)
		 ? openat(dfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
		 : -1;
	if (fd >= 0) {
		if (st_fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_uid == geteuid() &&
		    sb.st_nlink == 1 && sb.st_size == ST_CTL_SIZE &&
		    (m = mmap(NULL, ST_CTL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) !=
			MAP_FAILED) {
			p = m;
			if (p->magic == ST_CTL_MAGIC && p->size == sizeof(*p) && p->pid == st_pid &&
			    start && p->starttime == start) {
				st_ctl_ino = sb.st_ino;
				st_sys_close(fd);
				*kept = 1;
				return p;
			}
			munmap(m, ST_CTL_SIZE);
		}
		st_sys_close(fd);
	}
	(void)unlinkat(dfd, name, 0);
	fd = openat(dfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return NULL;
	errno = ENOSPC; /* a short write sets none */
	/*
	 * 0600 whatever the program's umask: ctl, and this process's next image
	 * after an exec, open it for writing.
	 */
	if (fchmod(fd, 0600) != 0 || pwrite(fd, zero, sizeof(zero), 0) != (ssize_t)sizeof(zero) ||
	    (m = mmap(NULL, ST_CTL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
		e = errno;
		(void)unlinkat(dfd, name, 0);
		st_sys_close(fd);
		errno = e;
		return NULL;
	}
	st_ctl_ino = st_fstat(fd, &sb) == 0 ? sb.st_ino : 0;
	st_sys_close(fd);
	return m;
}

/* The settings in force, where `ctl status` reads them. */
static void st_ctl_publish(struct st_ctlpage *p)
{
	p->cur_backtrace = st_config.backtrace;
	p->cur_sample = (int32_t)st_live_sample();
	st_copy_str(p->cur_filter, sizeof(p->cur_filter), st_live_filter_text());
}

/*
 * The page `name` in the first usable directory (st_ctl_candidate), its
 * path in st_ctl_path. A process that became another user (creds.c) finds
 * the first ones are no longer its own: another user's private directory
 * is passed over quietly while a later one may do; one that is not private
 * (a symlink, open to others: someone may have made it for that) is said.
 * NULL when there is none, having said why once (st_ctl_cannot).
 */
static struct st_ctlpage *st_ctl_make(const char *name, uint64_t start, int *keep)
{
	struct st_ctlpage *p = NULL;
	struct st_fdlock l;
	char dir[3900];
	size_t n;
	int i, dfd = -1, err = 0, last = 0;

	*keep = 0;
	for (i = 0; i < 4 && !p; i++) {
		if (!st_ctl_candidate(i, dir, sizeof(dir)))
			continue;
		last = i == 3;
		if (st_ctl_dir_make(dir) != 0) {
			err = errno;
			if (last)
				st_ctl_cannot("cannot make control directory ", dir, NULL, err, 0);
			continue;
		}
		if (st_tmp_begin(&l) != 0)
			return NULL;
		dfd = st_ctl_dir_open(dir);
		err = errno;
		if (dfd >= 0) {
			p = st_ctl_map(dfd, name, start, keep);
			err = errno;
			st_sys_close(dfd);
		}
		st_tmp_end(&l);
		n = strlen(dir);
		memcpy(st_ctl_path, dir, n);
		st_ctl_path[n] = '/';
		st_copy_str(st_ctl_path + n + 1, sizeof(st_ctl_path) - n - 1, name);
		if (dfd == -2 && (last || !st_ctl_dir_foreign(dir)))
			st_ctl_cannot("control directory ", dir,
				      "not a private directory of this user: 0700, not a symlink", 0,
				      1);
		else if (dfd == -1 && last)
			st_ctl_cannot("cannot open control directory ", dir, NULL, err, 0);
		else if (dfd >= 0 && !p)
			st_ctl_cannot("cannot make control page ", st_ctl_path, NULL, err, 0);
		if (dfd >= 0)
			break; /* the directory was ours: whatever became of the page, stop here */
	}
	if (!p)
		st_ctl_path[0] = '\0';
	return p;
}

/*
 * A page for this process: a new one, or, after an exec (same pid, same
 * start time), the one the previous image of this process had, whose
 * switch the new image keeps: `ctl on` survives an exec.
 */
static void st_ctl_attach(int on)
{
	struct st_ctlpage *p;
	struct rlimit rl;
	uint64_t start = st_starttime();
	char name[sizeof(ST_CTL_PREFIX) + 24];
	size_t n;
	int keep = 0;

	st_ctl_local.on = (uint32_t)on;
	/* Making the file past RLIMIT_FSIZE would raise SIGXFSZ in the program. */
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < ST_CTL_SIZE) {
		st_ctl_cannot("no control page", "", "RLIMIT_FSIZE is below one page", 0, 0);
		return;
	}
	memcpy(name, ST_CTL_PREFIX, sizeof(ST_CTL_PREFIX) - 1);
	n = sizeof(ST_CTL_PREFIX) - 1;
	name[n + st_fmt_uint(name + n, (unsigned long long)st_pid)] = '\0';
	p = st_ctl_make(name, start, &keep);
	if (!p) {
		st_ctl_path[0] = '\0';
		return;
	}
	if (keep) {
		on = p->on != 0;
		/* Settings asked of the previous image are asked again of this one. */
		p->applied = 0;
		memset(p->count, 0, sizeof(p->count));
	} else {
		p->size = sizeof(*p);
		p->pid = st_pid;
		p->uid = (uint32_t)geteuid();
		p->starttime = start;
		p->backtrace = -1;
		p->sample = -1;
	}
	p->on = (uint32_t)on;
	p->sink_open = 0;
	p->trace[0] = '\0';
	p->reply[0] = '\0';
	{
		char comm[17] = "";

		(void)st_sys(SYS_prctl, PR_GET_NAME, comm);
		comm[16] = '\0';
		st_copy_str(p->comm, sizeof(p->comm), comm);
	}
	st_ctl_publish(p);
	__atomic_store_n(&p->magic, ST_CTL_MAGIC, __ATOMIC_RELEASE);
	st_ctl_seen = keep ? 0 : __atomic_load_n(&p->seq, __ATOMIC_ACQUIRE);
	st_ctl = p;
	st_ctl_mapped = 1;
}

/*
 * At start: SENDTRACE_ENABLE=0 loads the library dormant; SENDTRACE_CTL=off
 * makes no page (the process cannot be switched from outside).
 */
void st_ctl_init(void)
{
	const char *en = secure_getenv("SENDTRACE_ENABLE");
	const char *ctl = secure_getenv("SENDTRACE_CTL");
	int on = 1;

	if (en && en[0]) {
		if (!strcmp(en, "0") || !strcmp(en, "off"))
			on = 0;
		else if (strcmp(en, "1") && strcmp(en, "on"))
			st_warn("SENDTRACE_ENABLE='", en,
				"' is not valid (accepts: 1, on, 0, off); recording");
	}
	st_ctl_local.on = (uint32_t)on;
	st_ctl_bt_ready = 1; /* thread.c sets the unwinder's stacks aside when there is a page */
	if (ctl && ctl[0] && strcmp(ctl, "on") && strcmp(ctl, "1")) {
		if (!strcmp(ctl, "off") || !strcmp(ctl, "0")) {
			st_ctl_bt_ready = 0;
			if (!on)
				st_warn("SENDTRACE_ENABLE=0 with SENDTRACE_CTL=off: ",
					"nothing can switch this process on; ",
					"it will record nothing");
		} else
			st_warn("SENDTRACE_CTL='", ctl,
				"' is not valid (accepts: on, off); making the control page");
	}
}

/* Once the sandbox is known (a seccomp filter may forbid the opens): the page. */
void st_ctl_start(void)
{
	if (st_ctl_bt_ready && !st_sandboxed())
		st_ctl_attach((int)st_ctl_local.on);
}

/* Does a process with a control page set the unwinder's stacks aside (thread.c)? */
int st_ctl_wants_bt_stacks(void)
{
	return st_ctl_bt_ready;
}

/*
 * In a fork()ed child: the page mapped is the parent's (MAP_SHARED: what the
 * child wrote there, the parent would see). The child gets its own, with
 * the parent's switch and settings, and counts from zero.
 */
void st_ctl_after_fork(void)
{
	struct st_ctlpage *parent = st_ctl;
	uint32_t on = __atomic_load_n(&parent->on, __ATOMIC_RELAXED);

	st_ctl_busy = 0;
	st_ctl_local = *parent;
	memset(st_ctl_local.count, 0, sizeof(st_ctl_local.count));
	st_ctl = &st_ctl_local;
	if (st_ctl_mapped) {
		munmap(parent, ST_CTL_SIZE);
		st_ctl_mapped = 0;
		st_ctl_path[0] = '\0';
		if (!st_sandboxed())
			st_ctl_attach((int)on);
	}
	st_ctl->on = on;
	st_ctl_publish(st_ctl);
	st_ctl_seen = __atomic_load_n(&st_ctl->seq, __ATOMIC_ACQUIRE);
}

/*
 * At exit: the page goes with the process (what a crash leaves, ctl sweeps),
 * if the name is still its page's: a process of the same pid number in
 * another pid namespace, sharing the directory, may have taken the name.
 */
void st_ctl_exit(void)
{
	struct stat sb;

	if (st_ctl_mapped && st_ctl_path[0] && !st_sandboxed() && lstat(st_ctl_path, &sb) == 0 &&
	    sb.st_ino == st_ctl_ino)
		(void)unlink(st_ctl_path);
}

/*
 * Before an exec: the page is left for the next image, which maps it again
 * (same pid, same start time) and keeps its switch. Meanwhile no process
 * maps it, and `ctl --all` sweeps pages nobody maps unless they changed in
 * the last two seconds: its time is set to now. One system call per exec.
 */
void st_ctl_exec(void)
{
	if (st_ctl_mapped && st_ctl_path[0] && !st_sandboxed())
		(void)utimensat(AT_FDCWD, st_ctl_path, NULL, AT_SYMLINK_NOFOLLOW);
}

/* The trace file is open: say where, for `ctl status`. */
void st_ctl_sink_opened(const char *path)
{
	st_copy_str(st_ctl->trace, sizeof(st_ctl->trace), path);
	__atomic_store_n(&st_ctl->sink_open, 1, __ATOMIC_RELEASE);
}

/* Switched on, the trace file could not be made (a sandbox, a full disk): ctl says so. */
void st_ctl_sink_failed(void)
{
	__atomic_store_n(&st_ctl->sink_open, 2, __ATOMIC_RELEASE);
}

static void st_ctl_refuse(struct st_ctlpage *p, const char *why)
{
	st_copy_str(p->reply, sizeof(p->reply), why);
}

/*
 * New settings from ctl, applied by whichever traced call sees them first
 * (one at a time; the others, and a signal handler inside this one, go on
 * with the settings in force). Read seqlock-style: copied, then kept only if
 * ctl did not write meanwhile. Everything is checked: the page is the user's
 * to write, and a bad value changes nothing.
 */
void st_ctl_apply(void)
{
	struct st_ctlpage *p = st_ctl;
	uint32_t s = __atomic_load_n(&p->seq, __ATOMIC_ACQUIRE);
	int32_t bt, sample;
	uint32_t has_filter;
	char filter[sizeof(p->filter)];
	int ok = 1;

	if (s & 1 || __atomic_exchange_n(&st_ctl_busy, 1, __ATOMIC_ACQUIRE))
		return;
	bt = __atomic_load_n(&p->backtrace, __ATOMIC_RELAXED);
	sample = __atomic_load_n(&p->sample, __ATOMIC_RELAXED);
	has_filter = __atomic_load_n(&p->has_filter, __ATOMIC_RELAXED);
	memcpy(filter, p->filter, sizeof(filter));
	filter[sizeof(filter) - 1] = '\0';
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&p->seq, __ATOMIC_RELAXED) != s) {
		__atomic_store_n(&st_ctl_busy, 0, __ATOMIC_RELEASE);
		return; /* ctl is writing: the next call tries again */
	}
	p->reply[0] = '\0';
	if (bt > 64 || sample > 1000000000) {
		st_ctl_refuse(p, "a value out of range (backtrace 0-64, sample 1-1000000000)");
		ok = 0;
	}
	if (ok && bt > 0 && !st_config.backtrace && !st_bt_started()) {
		if (!st_ctl_bt_ready || st_sandboxed()) {
			st_ctl_refuse(p, "backtraces were not set up at start (SENDTRACE_BACKTRACE, "
					 "or a control page) and cannot be now");
			ok = 0;
		} else if (st_bt_start_late() != 0) {
			st_ctl_refuse(p, "backtraces cannot be set up now (the call was nested); "
					 "asked again at the next call");
			__atomic_store_n(&st_ctl_busy, 0, __ATOMIC_RELEASE);
			return;
		}
	}
	if (ok && has_filter && st_live_set_filter(filter) != 0) {
		st_ctl_refuse(p, "the filter is not valid (see FILTERS in sendtrace(1))");
		ok = 0;
	}
	if (ok) {
		if (bt >= 0)
			__atomic_store_n(&st_config.backtrace, bt, __ATOMIC_RELAXED);
		if (sample >= 0)
			st_live_set_sample((unsigned)sample);
	}
	st_ctl_publish(p);
	__atomic_store_n(&p->applied, s, __ATOMIC_RELEASE);
	__atomic_store_n(&st_ctl_seen, s, __ATOMIC_RELEASE);
	__atomic_store_n(&st_ctl_busy, 0, __ATOMIC_RELEASE);
}

/*
 * The effective uid is about to become `to` (-1: unchanged). The page's
 * name lies in the old user's private directory, where the new user can
 * neither remove it at exit nor, unless root, reach it: the name is taken
 * down now, while it still can be (the mapping stays; the process is
 * unfindable for the moment of the switch), and the page made anew where it
 * belongs once the switch is done.
 */
static int st_ctl_moves;

int st_ctl_uid_leaving(uid_t to)
{
	struct stat sb;

	if (!st_ctl_mapped || to == (uid_t)-1 || to == geteuid() || st_sandboxed() ||
	    !st_same_memory_as_pid())
		return 0;
	/* Each move leaves the old mapping behind (another thread may be reading it). */
	if (st_ctl_moves >= 64)
		return 0;
	if (st_ctl_path[0] && lstat(st_ctl_path, &sb) == 0 && sb.st_ino == st_ctl_ino)
		(void)unlink(st_ctl_path);
	return 1;
}

/*
 * After the switch (or its failure, when the page is made again where it
 * was): a page in the directory of the user the process now is, holding
 * what the old one held.
 */
void st_ctl_uid_changed(int ok)
{
	struct st_ctlpage *old = st_ctl, *p;
	char name[sizeof(ST_CTL_PREFIX) + 24];
	size_t n;
	int keep;

	(void)ok;
	st_ctl_moves++;
	memcpy(name, ST_CTL_PREFIX, sizeof(ST_CTL_PREFIX) - 1);
	n = sizeof(ST_CTL_PREFIX) - 1;
	name[n + st_fmt_uint(name + n, (unsigned long long)st_pid)] = '\0';
	/* start 0: whatever has the name is never kept, a new page is made. */
	p = st_ctl_make(name, 0, &keep);
	if (!p)
		return; /* the old mapping stays in use, unreachable: not controllable */
	memcpy(p, old, sizeof(*p));
	p->uid = (uint32_t)geteuid();
	__atomic_store_n(&st_ctl, p, __ATOMIC_RELEASE);
}
