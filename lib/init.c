/* init.c: process lifecycle: start once, follow fork(), say goodbye at exit. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	size_t i, start = 0;
	int truncated = 0;

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
		close(fd);
	}
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
	struct st_json j;
	char exe[4096];
	ssize_t n;
	int saved = errno;

	if (!st_record_begin(&j, "start"))
		return;
	st_json_key(&j, "ppid");
	st_json_int(&j, getppid());
	st_json_key(&j, "how");
	st_json_cstr(&j, how);
	st_json_key(&j, "exe");
	n = readlink("/proc/self/exe", exe, sizeof(exe));
	if (n >= 0)
		st_json_str(&j, exe, (size_t)n);
	else
		st_json_null(&j);
	st_json_argv(&j);
	st_json_key(&j, "tracer");
	st_json_cstr(&j, PACKAGE_VERSION);
	st_json_key(&j, "fds");
	st_json_cstr(&j, st_config.fds == ST_FDS_ALL ? "all" : "sockets");
	st_record_emit(&j);
	errno = saved;
}

static void st_after_fork_child(void)
{
	st_pid = getpid();
	st_counts_reset();
	st_sink_after_fork();
	st_record_start("fork");
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
	st_config_load();
	if (st_config.backtrace)
		st_bt_init();
	pthread_atfork(NULL, NULL, st_after_fork_child);
	if (st_sink_open()) {
		st_ready = 1;
		st_record_start("exec");
	}
	__atomic_store_n(&st_init_state, ST_INIT_DONE, __ATOMIC_RELEASE);
}

__attribute__((constructor)) static void st_constructor(void)
{
	st_ensure_init();
}

__attribute__((destructor)) static void st_destructor(void)
{
	struct st_json j;
	int saved = errno;

	if (!st_ready || !st_record_begin(&j, "exit"))
		return;
	st_json_key(&j, "events");
	st_json_uint(&j, st_event_count());
	st_json_key(&j, "dropped");
	st_json_uint(&j, st_drop_count() + st_sink_dropped());
	st_record_emit(&j);
	errno = saved;
}
