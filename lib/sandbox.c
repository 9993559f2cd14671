/* sandbox.c: seccomp filters: learn of them, claim room ahead, then make no system call. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "st.h"

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#endif

#define ST_EXPORT __attribute__((visibility("default")))

/*
 * A daemon that installs a seccomp allowlist of exactly the system calls it
 * makes would die of SIGSYS (or, with an errno action, silently lose events)
 * on the first query the tracer made behind its back. Once a filter is in
 * force the tracer makes no system call at all on its own account:
 *
 *  - before the filter goes in (prctl and st_sys(SYS_seccomp) are
 *    interposed), or at start-up when one was inherited (the Seccomp field
 *    of /proc/self/status), room in the trace file is claimed and mapped,
 *    a thread block is kept free, and every open socket is asked about once;
 *  - from then on events fill only that room; sockets are named from what
 *    was learned; the arguments of failed calls are not read; thread ids come
 *    from glibc's own record (libthread_db's descriptor), not gettid();
 *  - when the room is used up, events are dropped and counted, and the exit
 *    record says how many.
 *
 * A filter installed with an inline syscall instruction is not seen.
 */
static int st_sandbox_on;
static const unsigned *st_tid_desc; /* libthread_db's {bits, count, offset} of a thread's tid */

int st_sandboxed(void)
{
	return __atomic_load_n(&st_sandbox_on, __ATOMIC_RELAXED);
}

pid_t st_sandbox_tid(void)
{
	if (st_tid_desc && st_tid_desc[0] == 32)
		return *(const pid_t *)((const char *)pthread_self() + st_tid_desc[2]);
	return -1;
}

/* A filter already in force at start-up (inherited across exec)? */
static int st_seccomp_inherited(void)
{
	char buf[4096];
	ssize_t n = 0, r;
	struct st_fdlock l;
	const char *p;
	int fd;

	if (st_tmp_begin(&l) != 0)
		return 0;
	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	while (fd >= 0 && n < (ssize_t)sizeof(buf) - 1 &&
	       (r = read(fd, buf + n, sizeof(buf) - 1 - (size_t)n)) > 0)
		n += r;
	if (fd >= 0)
		st_sys_close(fd);
	st_tmp_end(&l);
	buf[n] = '\0';
	p = strstr(buf, "\nSeccomp:");
	if (!p)
		return 0;
	p += 9;
	while (*p == ' ' || *p == '\t')
		p++;
	return *p == '1' || *p == '2';
}

static int st_sandbox_pending;
int st_clock_off;

/* Are clock reads free of system calls here (a vDSO-capable clocksource)? */
static int st_clock_in_vdso(void)
{
	static const char *const ok[] = {"tsc", "kvm-clock", "arch_sys_counter",
					 "hyperv_clocksource_tsc_page", NULL};
	char name[64];
	ssize_t n = -1;
	struct st_fdlock l;
	int fd, i;

	if (st_tmp_begin(&l) != 0)
		return 1;
	fd = open("/sys/devices/system/clocksource/clocksource0/current_clocksource",
		  O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, name, sizeof(name) - 1);
		st_sys_close(fd);
	}
	st_tmp_end(&l);
	if (n <= 0)
		return 1;
	name[n] = '\0';
	name[strcspn(name, "\n")] = '\0';
	for (i = 0; ok[i]; i++)
		if (!strcmp(name, ok[i]))
			return 1;
	return 0;
}

void st_sandbox_init(void)
{
	st_tid_desc = dlsym(RTLD_DEFAULT, "_thread_db_pthread_tid");
	st_sandbox_pending = st_seccomp_inherited();
}

/*
 * About to come under a filter (or already, inherited): claim what the
 * hot path will need while system calls are still allowed.
 */
void st_sandbox_enter(int strict)
{
	struct st_fdlock l, el;
	struct st_thread *t;
	int saved = errno;

	st_sandbox_pending = 0;
	/*
	 * Strict mode leaves read, write, exit and sigreturn, and turns off the
	 * TSC: the vDSO clock would fault. A clocksource without vDSO support
	 * makes every clock read a system call. Either way, no clock from now.
	 */
	if (strict || !st_clock_in_vdso())
		__atomic_store_n(&st_clock_off, 1, __ATOMIC_SEQ_CST);
	if (st_sandboxed() || !st_ready)
		return;
	t = st_thread_get();
	if (t)
		st_thread_ids(t);
	st_sock_learn_all();
	st_arena_reserve();
	/*
	 * Dormant, there is no file to claim room in, and none is made for
	 * this (nothing is recorded yet); once inside, none can be: say so now,
	 * while the warning may still be written.
	 */
	if (st_sink_usable() && !st_sink_active())
		st_warn("a seccomp filter while dormant: if switched on, this process cannot record ",
			"(its trace file cannot be made inside the sandbox): ", st_sink_path());
	else if (st_sink_reserve((size_t)st_config.reserve_kib << 10) != 0)
		st_warn("cannot claim room ahead in trace file ", st_sink_path(),
			" for the seccomp sandbox; events past what fits are dropped");
	/*
	 * Threads in the middle of a locked section (an append, a warning)
	 * unblock their signals on the way out, a system call: wait for them,
	 * then switch, so that none is left half in the old mode.
	 */
	st_fd_lock(&l);
	st_err_lock(&el);
	__atomic_store_n(&st_sandbox_on, 1, __ATOMIC_SEQ_CST);
	el.masked = l.masked = 1; /* taken with signals blocked: restore them now, still allowed */
	st_fd_unlock(&el);
	st_fd_unlock(&l);
	errno = saved;
}

/* The filter was refused: the tracer may make its own calls again. */
static void st_sandbox_cancel(int was)
{
	if (!was)
		__atomic_store_n(&st_sandbox_on, 0, __ATOMIC_SEQ_CST);
}

int st_sandbox_pending_now(void)
{
	return st_sandbox_pending;
}

static int st_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4,
		    unsigned long a5)
{
	int was = st_sandboxed(), r, e;

	st_ensure_init();
	if (option == PR_SET_SYSCALL_USER_DISPATCH)
		st_complete_foreign(); /* ours is replaced in this thread (complete.c) */
	if (option != PR_SET_SECCOMP || !st_real.prctl)
		return st_real.prctl ? st_real.prctl(option, a2, a3, a4, a5)
				     : (int)st_sys(SYS_prctl, option, a2, a3, a4, a5);
	st_sandbox_enter(a2 == SECCOMP_MODE_STRICT);
	r = st_real.prctl(option, a2, a3, a4, a5);
	e = errno;
	if (r < 0)
		st_sandbox_cancel(was);
	errno = e;
	return r;
}

/* Also complete mode's way in (complete.c) for the calls trapped at the instruction. */
long st_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	long args[6] = {a1, a2, a3, a4, a5, a6}, r;
	int was = st_sandboxed(), handled, e;

	st_ensure_init();
	if ((nr == SYS_seccomp &&
	     (a1 == SECCOMP_SET_MODE_FILTER || a1 == SECCOMP_SET_MODE_STRICT)) ||
	    (nr == SYS_prctl && a1 == PR_SET_SECCOMP)) {
		st_sandbox_enter(nr == SYS_seccomp ? a1 == SECCOMP_SET_MODE_STRICT
						   : a2 == SECCOMP_MODE_STRICT);
		r = st_real.syscall ? st_real.syscall(nr, a1, a2, a3, a4, a5, a6)
				    : st_sys(nr, a1, a2, a3, a4, a5, a6);
		e = errno;
		/* Success may be a positive fd (SECCOMP_FILTER_FLAG_NEW_LISTENER): only < 0 failed. */
		if (r < 0)
			st_sandbox_cancel(was);
		errno = e;
		return r;
	}
	r = st_fdguard_syscall(nr, args, &handled);
	if (handled)
		return r;
	return st_real.syscall ? st_real.syscall(nr, a1, a2, a3, a4, a5, a6)
			       : st_sys(nr, a1, a2, a3, a4, a5, a6);
}

/* Both are variadic in libc: the arguments are read as the kernel takes them, as longs. */
ST_EXPORT int prctl(int option, ...)
{
	unsigned long a[4];
	va_list ap;
	int i;

	va_start(ap, option);
	for (i = 0; i < 4; i++)
		a[i] = va_arg(ap, unsigned long);
	va_end(ap);
	return ST_ALLOWED(int, st_prctl(option, a[0], a[1], a[2], a[3]));
}

ST_EXPORT long syscall(long nr, ...)
{
	long a[6];
	va_list ap;
	int i;

	va_start(ap, nr);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	/*
	 * Only the calls this library handles itself run allowed (complete.c);
	 * the rest trap as the program made them: a send is recorded "via"
	 * syscall, a fork's child is armed.
	 */
	if (nr == SYS_close || nr == SYS_close_range || nr == SYS_dup || nr == SYS_dup2 ||
	    nr == SYS_dup3 || nr == SYS_fcntl || nr == SYS_seccomp || nr == SYS_prctl)
		return ST_ALLOWED(long, st_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]));
	return st_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
