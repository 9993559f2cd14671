/* init.c: process lifecycle: start once, follow fork(), say goodbye at exit. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "st.h"

volatile int st_ready;
pid_t st_pid;

enum { ST_INIT_NONE, ST_INIT_RUNNING, ST_INIT_DONE };
static int st_init_state;

/* Only touched in single-threaded moments: first init, and a fork()ed child. */
static char st_cmdline[4096];

/*
 * A start record must fit in one event buffer (16 KiB) however the strings
 * escape: 4 KiB of argv made of control bytes is 24 KiB of JSON. So the
 * path gets at most ST_EXE_ROOM bytes (any printable path fits whole), argv
 * what is left but ST_START_TAIL (argv_truncated, tracer, fds and '}'), and
 * what does not fit is cut and marked rather than losing the record.
 */
#define ST_EXE_ROOM   4200
#define ST_START_TAIL 128

static size_t st_argv_room(const struct st_json *j)
{
	size_t room = st_json_room(j);

	return room > ST_START_TAIL ? room - ST_START_TAIL : 0;
}

static void st_json_argv(struct st_json *j)
{
	ssize_t n = 0, r;
	struct st_fdlock l;
	int fd = -1, tmp = st_tmp_begin(&l) == 0;
	size_t i, start = 0;
	int truncated = 0, cut = 0;

	if (tmp)
		fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	st_json_key(j, "argv");
	st_json_arr(j);
	if (fd >= 0) {
		while (n < (ssize_t)sizeof(st_cmdline) &&
		       (r = read(fd, st_cmdline + n, sizeof(st_cmdline) - (size_t)n)) > 0)
			n += r;
		if (n == (ssize_t)sizeof(st_cmdline)) {
			char extra;

			truncated = read(fd, &extra, 1) > 0;
		}
		st_sys_close(fd);
	}
	if (tmp)
		st_tmp_end(&l);
	for (i = 0; i < (size_t)n && !cut; i++) {
		if (st_cmdline[i] != '\0')
			continue;
		cut = st_json_str_max(j, st_cmdline + start, i - start, st_argv_room(j)) != 1;
		start = i + 1;
	}
	if (start < (size_t)n && !cut) {
		/* The last argument did not fit in the buffer. */
		(void)st_json_str_max(j, st_cmdline + start, (size_t)n - start, st_argv_room(j));
		cut = 1;
	}
	truncated |= cut;
	st_json_arr_end(j);
	if (truncated) {
		st_json_key(j, "argv_truncated");
		st_json_bool(j, 1);
	}
}

static void st_record_start(const char *how)
{
	struct st_rec r;
	struct st_json *j = &r.j;
	char exe[4096];
	ssize_t n;
	int saved = errno, fit;

	if (!st_record_begin(&r, "start"))
		return;
	st_json_key(j, "ppid");
	st_json_int(j, getppid());
	st_json_key(j, "how");
	st_json_cstr(j, how);
	st_json_key(j, "exe");
	n = readlink("/proc/self/exe", exe, sizeof(exe));
	fit = n < 0 ? -1 : st_json_str_max(j, exe, (size_t)n, ST_EXE_ROOM);
	if (fit < 0)
		st_json_null(j);
	if (n >= 0 && fit != 1) {
		st_json_key(j, "exe_truncated");
		st_json_bool(j, 1);
	}
	st_json_argv(j);
	st_json_key(j, "tracer");
	st_json_cstr(j, PACKAGE_VERSION);
	st_json_key(j, "fds");
	st_json_cstr(j, st_config.fds == ST_FDS_ALL ? "all" : "sockets");
	if (st_config.complete) {
		/* Asked for: armed, or not available here (the warning says why). */
		st_json_key(j, "complete");
		st_json_bool(j, st_complete_state == ST_COMPLETE_ARMED);
	}
	st_untrace_start_json(j);
	/*
	 * A Go program may record nothing at all (its own system calls pass
	 * the wrappers by): its start record, which says so, is not kept back
	 * for a first event that may never come.
	 */
	if ((st_config.procs_all || st_untrace_go()) && st_sink_active())
		st_record_emit(&r);
	else
		st_record_defer(&r);
	errno = saved;
}

static void st_after_fork_child(void)
{
	st_fd_lock_reset();
	if (!st_ready)
		return;
	if (st_sandboxed()) {
		/* No system call may be made: not even getpid(). The child runs untraced. */
		st_ready = 0;
		return;
	}
	st_pid = getpid();
	st_complete_after_fork(); /* before anything else: the child's calls are seen too */
	st_ctl_after_fork(); /* its own page, counts from zero */
	st_thread_after_fork();
	st_sink_after_fork();
	st_record_start("fork");
}

/*
 * _Fork(), syscall(SYS_fork) and clone() run no atfork handler: the child
 * finds out on its first traced call (thread.c's wipe-on-fork page), and
 * starts its own state then, as a forked child does.
 */
void st_after_fork_silent(void)
{
	st_after_fork_child();
	st_thread_after_fork(); /* marks the page even when tracing is off */
}

void st_ensure_init(void)
{
	int expect = ST_INIT_NONE;

	if (__atomic_load_n(&st_init_state, __ATOMIC_ACQUIRE) == ST_INIT_DONE)
		return;
	/* The first caller initializes; anyone meanwhile runs untraced. */
	if (!__atomic_compare_exchange_n(&st_init_state, &expect, ST_INIT_RUNNING, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return;
	st_bind();
	st_pid = getpid();
	/*
	 * Secure mode: a setuid/setgid/file-capability program (AT_SECURE), which
	 * the library reaches only when it is installed system-wide. The user who
	 * started it controls the environment, and the program runs with
	 * privileges that user lacks: any path from SENDTRACE_* or TMPDIR could
	 * make the library write where that user cannot. So nothing is read and
	 * nothing is recorded: the program runs exactly as untraced.
	 */
	if (getauxval(AT_SECURE)) {
		__atomic_store_n(&st_init_state, ST_INIT_DONE, __ATOMIC_RELEASE);
		return;
	}
	st_fdguard_init();
	st_config_load();
	st_untrace_init();
	st_ctl_init();
	st_thread_init();
	st_sandbox_init();
	st_ctl_start();
	if (st_config.backtrace)
		st_bt_init();
	pthread_atfork(NULL, NULL, st_after_fork_child);
	st_complete_init();
	if (st_sink_open()) {
		st_ready = 1;
		st_record_start("exec");
		if (st_sandboxed())
			st_sandbox_enter(0); /* a filter inherited: claim the room now */
	}
	/*
	 * A Go program ends with its own exit_group: no exit handler of ours
	 * runs, and the room its start record was written in would stay open
	 * padding. Closed now, as before an exec; a later event takes new room.
	 */
	if (st_ready && st_untrace_go())
		st_sink_exec();
	st_untrace_say_start();
	__atomic_store_n(&st_init_state, ST_INIT_DONE, __ATOMIC_RELEASE);
}

static int st_exit_status, st_exit_known, st_on_exit_set;

/*
 * Is this process the one the library's state describes? Not in a child
 * made by vfork() or clone(CLONE_VM), which runs on the parent's memory
 * with no fork handler: st_pid is still the parent's there.
 */
int st_same_memory_as_pid(void)
{
	return st_sandboxed() || (pid_t)st_sys(SYS_getpid) == st_pid;
}
static void st_finish(void);

/*
 * The exit status: exit(N) and a return from main both run the on_exit
 * handlers, and glibc passes them the status. Ours is registered in the
 * constructor, which the loader runs before libc registers the shared
 * objects' destructors, so it runs after all of them: the exit record is
 * written here, last, and also sees what other libraries' destructors send.
 * _exit() and quick_exit() run neither, and leave no exit record.
 */
static void st_on_exit(int status, void *arg)
{
	(void)arg;
	st_exit_status = status & 0377; /* what the parent's wait() sees */
	st_exit_known = 1;
	st_finish();
}

__attribute__((constructor)) static void st_constructor(void)
{
	st_ensure_init();
	if (st_ready && on_exit(st_on_exit, NULL) == 0)
		st_on_exit_set = 1;
}

static struct st_thread *st_record_exit(const char *signal)
{
	struct st_rec r;

	/* A process that recorded nothing leaves nothing (SENDTRACE_PROCS=active). */
	if (!st_config.procs_all && st_record_idle())
		return NULL;
	if (!st_record_begin(&r, "exit"))
		return NULL;
	st_json_key(&r.j, "events");
	st_json_uint(&r.j, st_event_count());
	st_json_key(&r.j, "dropped");
	st_json_uint(&r.j, st_drop_count() + st_sink_dropped() + st_thread_dropped());
	st_json_key(&r.j, "filtered");
	st_json_uint(&r.j, st_filtered_count());
	st_json_key(&r.j, "sampled_out");
	st_json_uint(&r.j, st_sampled_out_count());
	if (st_config.max_size) {
		/* Call events the size cap kept out of the file (SENDTRACE_MAX_SIZE). */
		st_json_key(&r.j, "capped");
		st_json_uint(&r.j, st_sink_capped());
	}
	if (signal) {
		st_json_key(&r.j, "signal");
		st_json_cstr(&r.j, signal);
	} else if (st_exit_known) {
		st_json_key(&r.j, "status");
		st_json_int(&r.j, st_exit_status);
	}
	st_record_emit(&r);
	return r.t;
}

static void st_finish(void)
{
	struct st_thread *t;
	int saved = errno;

	if (!st_ready || !st_same_memory_as_pid())
		return;
	/* No event starts from now; the ones under way in other threads end whole. */
	__atomic_store_n(&st_ready, 0, __ATOMIC_SEQ_CST);
	st_thread_drain();
	t = st_record_exit(NULL);
	if (t)
		st_sink_exit(t); /* the room this process leaves, closed for readers */
	else if (!st_config.procs_all && st_record_idle())
		st_sink_idle_exit(); /* it recorded nothing: nor does it leave a file */
	st_ctl_exit();
	errno = saved;
}

/*
 * _exit() and _Exit() called by the program: no exit handler runs, so the
 * record (with the status) and the closing of the room are done here. Not
 * in a vfork()ed child, which shares the parent's memory and so its trace
 * state: what it would close is the parent's.
 */
void st_process_exit_now(int status)
{
	if (!st_ready || !st_same_memory_as_pid())
		return;
	st_exit_status = status & 0377;
	st_exit_known = 1;
	st_finish();
}

/* Without the on_exit handler (it could not be registered), the record is written here. */
__attribute__((destructor)) static void st_destructor(void)
{
	if (!st_on_exit_set)
		st_finish();
}

/*
 * abort(): the one crash the library sees coming, since the program calls
 * it (directly; glibc's assert() reaches abort inside libc, unseen). The
 * exit record goes first, marked SIGABRT; should a SIGABRT handler jump
 * out instead of returning, the process goes on and a later exit writes
 * another.
 */
static void st_abort(void)
{
	int saved = errno;

	if (st_ready && !st_sandboxed() && st_same_memory_as_pid())
		(void)st_record_exit("SIGABRT");
	errno = saved;
	if (!st_real.abort)
		st_bind();
	if (st_real.abort)
		st_real.abort();
	for (;;) /* no libc abort to forward to: what it would do */
		(void)st_sys(SYS_kill, (long)getpid(), SIGABRT);
}

__attribute__((visibility("default"), noreturn)) void abort(void)
{
	st_abort();
	__builtin_unreachable();
}
