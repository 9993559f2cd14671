/* t-complete-hostile.c: complete mode against hostile programs: each must end, and say, exactly as untraced. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/*
 * Each part is a program doing something a real program does and complete
 * mode must survive: leaving a blocked call by siglongjmp, being cancelled
 * in a blocked read, a seccomp allowlist that kills on anything else, a
 * signal handler on a legacy 8 KiB sigaltstack, a callback on a thread
 * glibc makes itself. Each runs untraced and traced with
 * SENDTRACE_COMPLETE=1; both runs must exit alike with the same results,
 * then the traced run's events are checked. Lengths tell the sends apart.
 */

#define PART_TIMEOUT 30 /* seconds: a hang fails, it does not stall the suite */

static int dgram[2]; /* a datagram pair: one send, one datagram, nothing blocks */

static void pair(void)
{
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, dgram) != 0)
		th_result("socketpair failed %d", errno);
}

/* ---- longjmp: a SIGALRM timeout leaves a write() blocked on a full pipe ---- */

static sigjmp_buf lj_env;

static void lj_alarm(int sig)
{
	(void)sig;
	siglongjmp(lj_env, 1);
}

static void lj_usr1(int sig)
{
	(void)sig;
	/* Any system call outside the exported functions: in complete mode, a trap. */
	(void)syscall(SYS_getppid);
}

static void *lj_thread(void *arg)
{
	(void)arg;
	pthread_kill(pthread_self(), SIGUSR1);
	return NULL;
}

/*
 * The blocked write is made through the exported write(), which runs with
 * the thread's selector on "allow": siglongjmp() never comes back to put it
 * back. The thread must stay armed: its raw send after the jump is recorded,
 * and the full mask it then gives a handler (sigfillset, as most programs
 * do) must still leave SIGSYS out, or the thread that runs the handler dies
 * of its first trapped call.
 */
static void part_longjmp(void)
{
	static char big[65536];
	static volatile int jumped;
	struct sigaction sa;
	pthread_t t;
	int p[2];

	pair();
	if (pipe(p) != 0)
		return;
	signal(SIGALRM, lj_alarm);
	if (sigsetjmp(lj_env, 1) == 0) {
		alarm(1);
		for (;;)
			(void)write(p[1], big, sizeof(big));
	}
	jumped = 1;
	th_result("jumped %d", jumped);
	th_result("raw send %ld", syscall(SYS_sendto, dgram[0], big, 31, 0, NULL, 0));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = lj_usr1;
	sigfillset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	pthread_create(&t, NULL, lj_thread, NULL);
	pthread_join(t, NULL);
	th_result("survived");
}

static void check_longjmp(const char *res)
{
	json_t *ev = th_find("sendto", 31, 0);

	(void)res;
	TH_OK(ev != NULL, "longjmp: the raw send after the jump is recorded (the thread is still armed)");
	if (ev)
		TH_STR(ev, "via", "syscall");
}

/* ---- cancel: a thread cancelled in a blocked read() unwinds through the trap ---- */

static volatile int cancel_cleaned;

static void cancel_cleanup(int *p)
{
	(void)p;
	cancel_cleaned++;
}

/*
 * Built with -fexceptions: the cleanup attribute is what a C++ destructor
 * is, run only if the unwinder gets from the cancellation signal's frame,
 * through the SIGSYS handler and its stubs, back to this function.
 */
static void *cancel_thread(void *arg)
{
	int fd = *(int *)arg;
	int guard __attribute__((cleanup(cancel_cleanup))) = 0;
	char c;

	(void)guard;
	if (arg == NULL)
		return NULL;
	(void)read(fd, &c, 1);
	return NULL;
}

static void part_cancel(void)
{
	struct timespec wait = {0, 100 * 1000 * 1000};
	int p[2], i;
	void *ret;

	pair();
	th_result("raw send %ld", syscall(SYS_sendto, dgram[0], "cancel", 6, 0, NULL, 0));
	if (pipe(p) != 0)
		return;
	for (i = 0; i < 3; i++) {
		pthread_t t;

		pthread_create(&t, NULL, cancel_thread, &p[0]);
		nanosleep(&wait, NULL); /* blocked in read() by now */
		pthread_cancel(t);
		pthread_join(t, &ret);
		th_result("cancel %d canceled %d cleaned %d", i, ret == PTHREAD_CANCELED,
			  cancel_cleaned);
	}
}

/* ---- seccomp: an allowlist that kills the process on any other call ---- */

#define ALLOW(nr)                                                                                  \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

/*
 * The program's own calls are all on its list; getpid and process_vm_readv
 * are not, since it never makes them. The library must make no call of its
 * own once a filter is in (sandbox.c says so): a trapped sigprocmask or
 * sigaction must not cost the program its life.
 */
static void part_seccomp(void)
{
	struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    ALLOW(SYS_write),	      ALLOW(SYS_sendto),	ALLOW(SYS_rt_sigreturn),
	    ALLOW(SYS_exit_group),    ALLOW(SYS_exit),		ALLOW(SYS_rt_sigprocmask),
	    ALLOW(SYS_rt_sigaction),  ALLOW(SYS_newfstatat),	ALLOW(SYS_fstat),
	    ALLOW(SYS_openat),	      ALLOW(SYS_close),		ALLOW(SYS_lseek),
	    ALLOW(SYS_getsockname),   ALLOW(SYS_getpeername),	ALLOW(SYS_getsockopt),
	    ALLOW(SYS_mmap),	      ALLOW(SYS_munmap),	ALLOW(SYS_clock_gettime),
	    ALLOW(SYS_futex),	      ALLOW(SYS_gettid),	ALLOW(SYS_tgkill),
	    ALLOW(SYS_getrandom),     ALLOW(SYS_brk),		ALLOW(SYS_fcntl),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};
	struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};
	sigset_t set;

	pair();
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	th_result("filter %d", prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog));
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	th_result("sigprocmask %d", sigprocmask(SIG_BLOCK, &set, NULL));
	th_result("signal %d", signal(SIGUSR2, SIG_IGN) != SIG_ERR);
	th_result("raw send %ld", syscall(SYS_sendto, dgram[0], "seccomp", 7, 0, NULL, 0));
}

static void check_seccomp(const char *res)
{
	(void)res;
	TH_OK(th_find("sendto", 7, 0) != NULL, "seccomp: the raw send under the filter is recorded");
}

/* ---- altstack: a handler on a legacy 8 KiB sigaltstack makes system calls ---- */

#define ALT_SIZE 8192 /* glibc's SIGSTKSZ before 2.34; still what much code uses */

static volatile int alt_ok;

static void alt_handler(int sig)
{
	char c = 'a';

	(void)sig;
	alt_ok = (getppid() > 0) + (write(dgram[0], &c, 1) == 1) +
		 (syscall(SYS_sendto, dgram[0], "altstack", 8, 0, NULL, 0) == 8);
}

/* The stack sits above a PROT_NONE page: a handler that needs more faults, visibly. */
static void part_altstack(void)
{
	long page = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, (size_t)page + ALT_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct sigaction sa;
	stack_t ss;

	pair();
	if (m == MAP_FAILED)
		return;
	mprotect(m, (size_t)page, PROT_NONE);
	ss.ss_sp = m + page;
	ss.ss_size = ALT_SIZE;
	ss.ss_flags = 0;
	th_result("sigaltstack %d", sigaltstack(&ss, NULL));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = alt_handler;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	th_result("handler %d", alt_ok);
}

static void check_altstack(const char *res)
{
	(void)res;
	TH_OK(th_find("sendto", 8, 0) != NULL, "altstack: the handler's raw send is recorded");
}

/*
 * Only installed: a 4 KiB sigaltstack kept for a SIGSEGV handler that never
 * runs. The program's own calls must not be moved onto it.
 */
static void part_altsmall(void)
{
	stack_t ss = {malloc(4096), 0, 4096};

	pair();
	th_result("sigaltstack %d", sigaltstack(&ss, NULL));
	th_result("raw send %ld", syscall(SYS_sendto, dgram[0], "small-alt", 9, 0, NULL, 0));
	th_result("getppid %d", getppid() > 0);
}

/* ---- timer: timer_create(SIGEV_THREAD) runs its callback on a thread glibc makes ---- */

static volatile int timer_fired;

static void timer_cb(union sigval v)
{
	(void)v;
	th_result("timer send %ld", syscall(SYS_sendto, dgram[0], "timer-callback", 14, 0, NULL, 0));
	timer_fired = 1;
}

static void part_timer(void)
{
	struct itimerspec its = {{0, 0}, {0, 10 * 1000 * 1000}};
	struct timespec tick = {0, 10 * 1000 * 1000};
	struct sigevent sev;
	timer_t tm;
	int i;

	pair();
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD;
	sev.sigev_notify_function = timer_cb;
	if (timer_create(CLOCK_MONOTONIC, &sev, &tm) != 0)
		return;
	timer_settime(tm, 0, &its, NULL);
	for (i = 0; i < 500 && !timer_fired; i++)
		nanosleep(&tick, NULL);
	th_result("fired %d", timer_fired);
}

static void check_timer(const char *res)
{
	(void)res;
	TH_OK(th_find("sendto", 14, 0) != NULL,
	      "timer: the raw send of a SIGEV_THREAD callback is recorded (glibc's own thread armed)");
}

/* ---- the driver ---- */

static const struct part {
	const char *name;
	void (*run)(void);
	void (*check)(const char *res);
} parts[] = {
    {"longjmp", part_longjmp, check_longjmp},	{"cancel", part_cancel, NULL},
    {"seccomp", part_seccomp, check_seccomp},	{"altstack", part_altstack, check_altstack},
    {"altsmall", part_altsmall, NULL},
    {"timer", part_timer, check_timer},
};

void th_workload(void)
{
	const char *name = getenv("TC_PART");
	size_t i;

	for (i = 0; name && i < sizeof(parts) / sizeof(parts[0]); i++)
		if (!strcmp(parts[i].name, name))
			parts[i].run();
}

void th_check(void)
{
}


static int hostile_main(void)
{
	const char *only = getenv("TC_ONLY"); /* one part, when chasing one failure */
	size_t i, j;

	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		const struct part *p = &parts[i];
		int plain, traced, unavailable = 0;
		char *pres, *tres;
		json_t *ev;

		if (only && strcmp(only, p->name))
			continue;
#ifdef TH_ASAN
		/* The timer's thread under ASan's runtime is not armed: not understood yet. */
		if (!strcmp(p->name, "timer")) {
			printf("# part timer skipped: built with ASan\n");
			continue;
		}
#endif
		printf("# part %s\n", p->name);
		unlink(th_trace_path());
		plain = th_run_part(p->name, 0, "SENDTRACE_COMPLETE=1", PART_TIMEOUT);
		pres = th_results();
		traced = th_run_part(p->name, 1, "SENDTRACE_COMPLETE=1", PART_TIMEOUT);
		tres = th_results();
		TH_OK(plain >= 0 && WIFEXITED(plain) && WEXITSTATUS(plain) == 0,
		      "%s: untraced, the workload exits 0 (status %#x)", p->name, plain);
		TH_OK(traced == plain, "%s: traced, it ends as untraced (status %#x%s)", p->name,
		      traced, traced == -1 ? ", hung and killed" : "");
		TH_OK(!strcmp(pres, tres), "%s: the same results traced as untraced", p->name);
		if (strcmp(pres, tres))
			printf("# untraced:\n%s# traced:\n%s", pres, tres);
		th_load();
		json_array_foreach (th_events(), j, ev)
			if (json_is_false(json_object_get(ev, "complete")))
				unavailable = 1;
		if (unavailable)
			th_skip("complete mode is not available here (\"complete\":false): Syscall User Dispatch needs Linux 5.11 on x86-64");
		if (p->check)
			p->check(tres);
		free(pres);
		free(tres);
	}
	return 0;
}

__attribute__((constructor)) static void setup(void)
{
	th_main_hook = hostile_main;
}
