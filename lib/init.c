/* init.c: process lifecycle: start once, follow fork(), say goodbye at exit. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "st.h"

volatile int st_ready;
pid_t st_pid;

enum { ST_INIT_NONE, ST_INIT_RUNNING, ST_INIT_DONE };
static int st_init_state;

/* Only touched in single-threaded moments: first init, and a fork()ed child. */
static char st_cmdline[4096];

static void st_json_argv(struct st_json *j)
{
	ssize_t n = 0, r;
	struct st_fdlock l;
	int fd = -1, tmp = st_tmp_begin(&l) == 0;
	size_t i, start = 0;
	int truncated = 0;

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
	for (i = 0; i < (size_t)n; i++) {
		if (st_cmdline[i] != '\0')
			continue;
		st_json_str(j, st_cmdline + start, i - start);
		start = i + 1;
	}
	if (start < (size_t)n) {
		/* The last argument did not fit. */
		st_json_str(j, st_cmdline + start, (size_t)n - start);
		truncated = 1;
	}
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
	int saved = errno;

	if (!st_record_begin(&r, "start"))
		return;
	st_json_key(j, "ppid");
	st_json_int(j, getppid());
	st_json_key(j, "how");
	st_json_cstr(j, how);
	st_json_key(j, "exe");
	n = readlink("/proc/self/exe", exe, sizeof(exe));
	if (n >= 0)
		st_json_str(j, exe, (size_t)n);
	else
		st_json_null(j);
	st_json_argv(j);
	st_json_key(j, "tracer");
	st_json_cstr(j, PACKAGE_VERSION);
	st_json_key(j, "fds");
	st_json_cstr(j, st_config.fds == ST_FDS_ALL ? "all" : "sockets");
	st_record_emit(&r);
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
	st_counts_reset();
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
	st_thread_init();
	st_sandbox_init();
	if (st_config.backtrace)
		st_bt_init();
	pthread_atfork(NULL, NULL, st_after_fork_child);
	if (st_sink_open()) {
		st_ready = 1;
		st_record_start("exec");
		if (st_sandboxed())
			st_sandbox_enter(0); /* a filter inherited: claim the room now */
	}
	__atomic_store_n(&st_init_state, ST_INIT_DONE, __ATOMIC_RELEASE);
}

__attribute__((constructor)) static void st_constructor(void)
{
	st_ensure_init();
}

__attribute__((destructor)) static void st_destructor(void)
{
	struct st_rec r;
	int saved = errno;

	if (!st_ready)
		return;
	/* No event starts from now; the ones under way in other threads end whole. */
	__atomic_store_n(&st_ready, 0, __ATOMIC_SEQ_CST);
	st_thread_drain();
	if (!st_record_begin(&r, "exit"))
		return;
	st_json_key(&r.j, "events");
	st_json_uint(&r.j, st_event_count());
	st_json_key(&r.j, "dropped");
	st_json_uint(&r.j, st_drop_count() + st_sink_dropped() + st_thread_dropped());
	st_record_emit(&r);
	st_sink_exit(r.t);
	errno = saved;
}
