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
 * Is dir (made 0700 if absent) a real directory of this user that nobody
 * else may enter? One that anybody else could use (a symlink, open to others)
 * is said; another user's private one is only skipped, unless it was the
 * last choice: a process that became another user meets its old one.
 */
static int st_ctl_dir_ok(const char *dir, int last)
{
	struct stat sb;
	int unsafe;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return 0;
	if (lstat(dir, &sb) != 0)
		return 0;
	unsafe = !S_ISDIR(sb.st_mode) || (sb.st_mode & 077);
	if (unsafe || sb.st_uid != geteuid()) {
		/* In /tmp, anyone could have made it first: never used. */
		if (unsafe || last)
			st_warn("control directory ", dir,
				" is not a private directory of this user (0700, not a symlink): "
				"not used");
		return 0;
	}
	return 1;
}

/*
 * The private directory the pages live in, the first that is usable of:
 * SENDTRACE_CTL_DIR, $XDG_RUNTIME_DIR/sendtrace, /run/sendtrace for root,
 * /tmp/sendtrace-UID. A process that became another user (creds.c) may no
 * longer use the first ones: it goes on down the list.
 */
static int st_ctl_dir(char *dir, size_t cap)
{
	const char *env = secure_getenv("SENDTRACE_CTL_DIR");
	const char *xdg = secure_getenv("XDG_RUNTIME_DIR");
	uid_t uid = geteuid();
	struct stat sb;
	size_t n;

	if (env && env[0] == '/' && strlen(env) < cap) {
		st_copy_str(dir, cap, env);
		if (st_ctl_dir_ok(dir, 0))
			return 0;
	}
	if (xdg && xdg[0] == '/' && strlen(xdg) + 16 < cap) {
		st_copy_str(dir, cap, xdg);
		strcat(dir, "/" ST_CTL_DIRNAME);
		if (st_ctl_dir_ok(dir, 0))
			return 0;
	}
	if (uid == 0 && stat("/run", &sb) == 0 && sb.st_uid == 0) {
		st_copy_str(dir, cap, "/run/" ST_CTL_DIRNAME);
		if (st_ctl_dir_ok(dir, 0))
			return 0;
	}
	st_copy_str(dir, cap, "/tmp/" ST_CTL_DIRNAME "-");
	n = strlen(dir);
	dir[n + st_fmt_uint(dir + n, uid)] = '\0';
	return st_ctl_dir_ok(dir, 1) ? 0 : -1;
}

/* st_ctl_path: DIR/sendtrace-ctl.PID for this user and process; -1 without a directory. */
static int st_ctl_make_path(void)
{
	char dir[3900];
	size_t n;

	st_ctl_path[0] = '\0';
	if (st_ctl_dir(dir, sizeof(dir)) != 0)
		return -1;
	n = strlen(dir);
	memcpy(st_ctl_path, dir, n);
	memcpy(st_ctl_path + n, "/" ST_CTL_PREFIX, sizeof(ST_CTL_PREFIX));
	n += sizeof(ST_CTL_PREFIX);
	st_ctl_path[n + st_fmt_uint(st_ctl_path + n, (unsigned long long)st_pid)] = '\0';
	return 0;
}

/* Map ctl.PID (made 0600 if absent): the page, or NULL. */
static struct st_ctlpage *st_ctl_map(const char *path)
{
	struct st_fdlock l;
	struct st_ctlpage *p = NULL;
	struct rlimit rl;
	struct stat sb;
	void *m;
	int fd;

	/* Growing the file past RLIMIT_FSIZE would raise SIGXFSZ in the program. */
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < ST_CTL_SIZE)
		return NULL;
	if (st_tmp_begin(&l) != 0)
		return NULL;
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd >= 0) {
		if (st_fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_uid == geteuid() &&
		    sb.st_nlink == 1 &&
		    (sb.st_size == ST_CTL_SIZE || ftruncate(fd, ST_CTL_SIZE) == 0)) {
			m = mmap(NULL, ST_CTL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			if (m != MAP_FAILED)
				p = m;
		}
		st_sys_close(fd);
	}
	st_tmp_end(&l);
	return p;
}

/* The settings in force, where `ctl status` reads them. */
static void st_ctl_publish(struct st_ctlpage *p)
{
	p->cur_backtrace = st_config.backtrace;
	p->cur_sample = (int32_t)st_live_sample();
	st_copy_str(p->cur_filter, sizeof(p->cur_filter), st_live_filter_text());
}

/*
 * A page for this process: a new one, or, after an exec (same pid, same
 * start time), the one the previous image of this process had, whose
 * switch the new image keeps: `ctl on` survives an exec.
 */
static void st_ctl_attach(int on)
{
	struct st_ctlpage *p;
	uint64_t start = st_starttime();
	int keep;

	st_ctl_local.on = (uint32_t)on;
	if (st_ctl_make_path() != 0)
		return;
	p = st_ctl_map(st_ctl_path);
	if (!p) {
		st_ctl_path[0] = '\0';
		return;
	}
	keep = p->magic == ST_CTL_MAGIC && p->size == sizeof(*p) && p->pid == st_pid &&
	       start && p->starttime == start;
	if (keep) {
		on = p->on != 0;
		/* Settings asked of the previous image are asked again of this one. */
		p->applied = 0;
		memset(p->count, 0, sizeof(p->count));
	} else {
		memset(p, 0, ST_CTL_SIZE);
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

/* At exit: the page goes with the process (what a crash leaves, ctl sweeps). */
void st_ctl_exit(void)
{
	if (st_ctl_mapped && st_ctl_path[0] && !st_sandboxed())
		(void)unlink(st_ctl_path);
}

/* The trace file is open: say where, for `ctl status`. */
void st_ctl_sink_opened(const char *path)
{
	st_copy_str(st_ctl->trace, sizeof(st_ctl->trace), path);
	__atomic_store_n(&st_ctl->sink_open, 1, __ATOMIC_RELEASE);
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
 * name lies in the old user's private directory, where the new user cannot
 * remove it: take the name down now, while it still can be (the mapping
 * stays, the process is unfindable for the moment of the switch), and make
 * the page anew where it belongs once the switch is done.
 */
static int st_ctl_moves;

int st_ctl_uid_leaving(uid_t to)
{
	if (!st_ctl_mapped || to == (uid_t)-1 || to == geteuid() || st_sandboxed() ||
	    !st_same_memory_as_pid())
		return 0;
	/* Each move leaves the old mapping behind (another thread may be reading it). */
	if (st_ctl_moves >= 64)
		return 0;
	(void)unlink(st_ctl_path);
	return 1;
}

/*
 * After the switch (or its failure): the page made again, in the directory
 * of the user the process now is, holding what the old one held.
 */
void st_ctl_uid_changed(int ok)
{
	struct st_ctlpage *old = st_ctl, *p;

	(void)ok;
	st_ctl_moves++;
	if (st_ctl_make_path() != 0)
		return; /* the old mapping stays in use, unreachable: not controllable */
	p = st_ctl_map(st_ctl_path);
	if (!p) {
		st_ctl_path[0] = '\0';
		return;
	}
	memcpy(p, old, sizeof(*p));
	p->uid = (uint32_t)geteuid();
	__atomic_store_n(&st_ctl, p, __ATOMIC_RELEASE);
}
