/* st.h: internals of libsendtrace shared between its files (never installed). */
#ifndef ST_H
#define ST_H

#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <time.h>
#include <sys/select.h>
#include <sys/epoll.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "decode.h"
#include "json.h"

#define ST_HIDDEN __attribute__((visibility("hidden")))
#define ST_TLS	  __thread __attribute__((tls_model("initial-exec")))

/* ---- real.c: the next definition of each interposed function ---- */
struct st_real {
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	int (*sendmmsg)(int, struct mmsghdr *, unsigned int, int);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*writev)(int, const struct iovec *, int);
	ssize_t (*sendfile)(int, int, off_t *, size_t);
	ssize_t (*sendfile64)(int, int, off64_t *, size_t);
	int (*close)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*prctl)(int, unsigned long, unsigned long, unsigned long, unsigned long);
	long (*syscall)(long, long, long, long, long, long, long);
	int (*socket)(int, int, int);
	int (*socketpair)(int, int, int, int[2]);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*shutdown)(int, int);
	int (*dup)(int);
	int (*pipe)(int[2]);
	int (*pipe2)(int[2], int);
	int (*fcntl)(int, int, void *);
	int (*fcntl64)(int, int, void *);
	int (*fclose)(FILE *);
	FILE *(*freopen)(const char *, const char *, FILE *);
	FILE *(*freopen64)(const char *, const char *, FILE *);
	int (*fcloseall)(void);
	int (*pclose)(FILE *);
	int (*daemon)(int, int);
	void (*abort)(void);
	int (*execve)(const char *, char *const[], char *const[]);
	int (*execvp)(const char *, char *const[]);
	int (*execvpe)(const char *, char *const[], char *const[]);
	int (*fexecve)(int, char *const[], char *const[]);
	void (*_exit)(int);
	void (*_Exit)(int);
	int (*setuid)(uid_t);
	int (*seteuid)(uid_t);
	int (*setreuid)(uid_t, uid_t);
	int (*setresuid)(uid_t, uid_t, uid_t);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*readv)(int, const struct iovec *, int);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
	int (*poll)(struct pollfd *, unsigned long, int);
	int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
	int (*epoll_wait)(int, struct epoll_event *, int, int);
	int (*nanosleep)(const struct timespec *, struct timespec *);
	int (*clock_nanosleep)(clockid_t, int, const struct timespec *, struct timespec *);
	int (*sigaction)(int, const struct sigaction *, struct sigaction *);
	void (*(*signal)(int, void (*)(int)))(int);
	int (*sigprocmask)(int, const sigset_t *, sigset_t *);
	int (*pthread_sigmask)(int, const sigset_t *, sigset_t *);
	void (*longjmp)(struct __jmp_buf_tag *, int);
	void (*_longjmp)(struct __jmp_buf_tag *, int);
	void (*siglongjmp)(struct __jmp_buf_tag *, int);
	void (*__longjmp_chk)(struct __jmp_buf_tag *, int);
	int (*recvmmsg)(int, struct mmsghdr *, unsigned int, int, struct timespec *);
};
extern struct st_real st_real ST_HIDDEN;
void st_bind(void) ST_HIDDEN;
/* The tracer's own output: the next write(), or the raw syscall before binding. */
ssize_t st_raw_write(int fd, const void *buf, size_t n) ST_HIDDEN;

/* ---- sys.c: system calls made directly ---- */
long st_sys6(long nr, long a, long b, long c, long d, long e, long f) ST_HIDDEN;
#define st_sys_pick(_0, _1, _2, _3, _4, _5, _6, n, ...) n
#define st_sys_0(nr)		   st_sys6(nr, 0, 0, 0, 0, 0, 0)
#define st_sys_1(nr, a)		   st_sys6(nr, (long)(a), 0, 0, 0, 0, 0)
#define st_sys_2(nr, a, b)	   st_sys6(nr, (long)(a), (long)(b), 0, 0, 0, 0)
#define st_sys_3(nr, a, b, c)	   st_sys6(nr, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define st_sys_4(nr, a, b, c, d)   st_sys6(nr, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define st_sys_5(nr, a, b, c, d, e) \
	st_sys6(nr, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)
#define st_sys_6(nr, a, b, c, d, e, f) \
	st_sys6(nr, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))
#define st_sys(...)                                                                       \
	st_sys_pick(__VA_ARGS__, st_sys_6, st_sys_5, st_sys_4, st_sys_3, st_sys_2, st_sys_1, \
		    st_sys_0, )(__VA_ARGS__)

/* ---- config.c ---- */
enum st_fds { ST_FDS_SOCKETS, ST_FDS_ALL };
struct st_config {
	char output[4096]; /* absolute path template, %p not yet expanded */
	enum st_fds fds;
	int lint;	/* SENDTRACE_LINT: check calls against the rules */
	int only_lint;	/* SENDTRACE_ONLY=lint: keep only events with findings */
	int procs_all;	/* SENDTRACE_PROCS=all: start and exit records of idle processes too */
	int backtrace;	/* SENDTRACE_BACKTRACE: frames per event, 0 for none */
	int payload;	/* SENDTRACE_PAYLOAD: bytes of data recorded per call */
	unsigned calls; /* SENDTRACE_CALLS: bit per enum st_callkind traced */
	int reserve_kib; /* SENDTRACE_SECCOMP_RESERVE: room claimed before a seccomp filter */
	unsigned long long max_size; /* SENDTRACE_MAX_SIZE: bytes per trace file, 0: no cap */
	int rotate; /* SENDTRACE_ROTATE: old files kept as FILE.1..FILE.N, 0: none (needs a cap) */
	int complete; /* SENDTRACE_COMPLETE=1: system calls from anywhere (complete.c) */
};
extern struct st_config st_config ST_HIDDEN;
void st_config_load(void) ST_HIDDEN;

/* ---- control.c: dormant or recording; settings `sendtrace ctl` changes ---- */
#include "ctlpage.h"
extern struct st_ctlpage *st_ctl ST_HIDDEN;
extern uint32_t st_ctl_seen ST_HIDDEN;
void st_ctl_init(void) ST_HIDDEN;
void st_ctl_start(void) ST_HIDDEN;
void st_ctl_after_fork(void) ST_HIDDEN;
void st_ctl_exit(void) ST_HIDDEN;
void st_ctl_exec(void) ST_HIDDEN;
void st_ctl_apply(void) ST_HIDDEN;
void st_ctl_sink_opened(const char *path) ST_HIDDEN;
void st_ctl_sink_failed(void) ST_HIDDEN;
int st_ctl_wants_bt_stacks(void) ST_HIDDEN;
/* Around setuid and kin (creds.c): 1 if the page was taken down to move it. */
int st_ctl_uid_leaving(uid_t new_euid) ST_HIDDEN;
void st_ctl_uid_changed(int ok) ST_HIDDEN;
void st_count_add(enum st_count which, unsigned long n) ST_HIDDEN;
unsigned long st_count(enum st_count which) ST_HIDDEN;
/*
 * Every traced call asks this first: a load of the switch, and of the
 * settings' sequence number, which changes only when ctl wrote new ones.
 */
static inline int st_ctl_on(void)
{
	struct st_ctlpage *p = st_ctl;

	if (__builtin_expect(__atomic_load_n(&p->seq, __ATOMIC_RELAXED) != st_ctl_seen, 0))
		st_ctl_apply();
	return __atomic_load_n(&p->on, __ATOMIC_RELAXED) != 0;
}
/*
 * Set once the library holds an fd of its own (the trace file, libunwind's
 * pipe), or runs in complete mode (where a forwarded call would trap).
 */
extern int st_fds_held ST_HIDDEN;
/*
 * The dormant fast path: switched off, no settings waiting, and no fd of
 * the library's that the call could be aimed at: nothing to do but forward.
 * Before init, st_ctl is the local page, which is on: init runs as usual.
 */
static inline int st_pass_through(void)
{
	const struct st_ctlpage *p = st_ctl;

	return !__atomic_load_n(&p->on, __ATOMIC_RELAXED) &&
	       !__atomic_load_n(&st_fds_held, __ATOMIC_RELAXED) &&
	       __atomic_load_n(&p->seq, __ATOMIC_RELAXED) == st_ctl_seen;
}

/* ---- complete.c: complete mode (Syscall User Dispatch) ---- */
enum { ST_COMPLETE_OFF, ST_COMPLETE_ARMED, ST_COMPLETE_UNAVAILABLE };
extern int st_complete_state ST_HIDDEN;
/* The thread's dispatch selector: 0 lets its system calls through, 1 traps them. */
extern ST_TLS volatile char st_sud_sel ST_HIDDEN;
/* The syscall instruction whose send the SIGSYS handler is recording ("via"). */
extern ST_TLS void *st_sud_site ST_HIDDEN;
void st_complete_init(void) ST_HIDDEN;
/* sandbox.c: syscall(2) as the library exports it: seccomp filters learned, fds guarded. */
long st_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6) ST_HIDDEN;
void st_complete_after_fork(void) ST_HIDDEN;
/* prctl(PR_SET_SYSCALL_USER_DISPATCH) by the program: the thread is left to it. */
void st_complete_foreign(void) ST_HIDDEN;
/* A longjmp out of the library lands in the program: the thread traps again. */
void st_complete_landing(void) ST_HIDDEN;
/* The selector set to trap (in an armed thread of ours); the old value, to put back. */
char st_complete_trapping(void) ST_HIDDEN;
/* wrap.c: a trapped send-family call made through its tracer; the raw result (-errno). */
long st_wrap_trapped(long nr, const long *a, void *site) ST_HIDDEN;
/*
 * The library's own code runs with its thread's selector on "allow": the
 * real call an exported wrapper makes must not trap and be recorded again.
 */
#define ST_ALLOWED(type, call)                    \
	({                                        \
		char st_sel_ = st_sud_sel;        \
		type st_r_;                       \
		st_sud_sel = 0;                   \
		st_r_ = (call);                   \
		st_sud_sel = st_sel_;             \
		st_r_;                            \
	})
/* Trapping whatever the thread's selector was, so that complete.c polices the call (passthru.c). */
#define ST_TRAPPED(type, call)                           \
	({                                               \
		char st_sel_ = st_complete_trapping();   \
		type st_r_ = (call);                     \
		st_sud_sel = st_sel_;                    \
		st_r_;                                   \
	})
#define ST_ALLOWED_VOID(call)                     \
	do {                                      \
		char st_sel_ = st_sud_sel;        \
		st_sud_sel = 0;                   \
		call;                             \
		st_sud_sel = st_sel_;             \
	} while (0)

/* ---- warn.c: one line on stderr, never fatal ---- */
void st_warn(const char *a, const char *b, const char *c) ST_HIDDEN;
ssize_t st_write_masked(int fd, const void *buf, size_t n, int sig) ST_HIDDEN;

/* ---- sink.c: the trace file ---- */
struct st_thread;
int st_sink_open(void) ST_HIDDEN;
void st_sink_write(struct st_thread *t, int level, const char *line, size_t n) ST_HIDDEN;
void st_sink_after_fork(void) ST_HIDDEN;
unsigned long st_sink_dropped(void) ST_HIDDEN;
/* Events not written because the trace file reached SENDTRACE_MAX_SIZE (and could not rotate). */
unsigned long st_sink_capped(void) ST_HIDDEN;
int st_sink_active(void) ST_HIDDEN;
/* Open (the file opened now if tracing was dormant until this call), or not. */
int st_sink_ready(void) ST_HIDDEN;
int st_sink_usable(void) ST_HIDDEN;
const char *st_sink_path(void) ST_HIDDEN;
int st_sink_fd(void) ST_HIDDEN;
/* Where the library's own fds go: far above the numbers programs use. */
int st_fd_high(void) ST_HIDDEN;
/* A thread's chunks: given back at its exit, forgotten in a fork()ed child. */
void st_sink_thread_exit(struct st_thread *t) ST_HIDDEN;
void st_sink_thread_forget(struct st_thread *t) ST_HIDDEN;
/* A clean exit: the room left is closed (tab-led lines) for followers. */
void st_sink_exit(struct st_thread *self) ST_HIDDEN;
void st_sink_level_abandoned(struct st_thread *t, int level) ST_HIDDEN;
/* Claim room ahead for a sandbox in which no more system calls may be made. */
int st_sink_reserve(size_t bytes) ST_HIDDEN;
/* Move the trace fd off `fd` (the program is about to reuse that number). Lock held. */
void st_sink_fd_move(int fd) ST_HIDDEN;

/* ---- fdguard.c: the library's own fds, kept out of the program's way ---- */
/*
 * One lock for the trace fd, libunwind's pipe and fd 2 while a warning is
 * written. Held with every signal blocked and cancellation disabled: the
 * interposed close/dup2/dup3/close_range/closefrom take it when they would
 * touch one of these numbers, so no check-then-use can race with them.
 */
struct st_fdlock {
	sigset_t old;
	int cancel;
	int masked;
	int nested; /* a sandboxed thread's handler re-entering: the lock is not taken */
	int *word;
};
void st_fd_lock(struct st_fdlock *l) ST_HIDDEN;
/* fd 2's own lock, for warnings (taken after the fd lock, never before). */
void st_err_lock(struct st_fdlock *l) ST_HIDDEN;
void st_fd_unlock(struct st_fdlock *l) ST_HIDDEN;
void st_fdguard_init(void) ST_HIDDEN;
void st_fd_lock_reset(void) ST_HIDDEN;
/* Around a short-lived fd of the library's (0 when it may go ahead). */
int st_tmp_begin(struct st_fdlock *l) ST_HIDDEN;
void st_tmp_end(struct st_fdlock *l) ST_HIDDEN;
/* The trace fd or libunwind's pipe: not the program's, whatever it asks of them. */
int st_fd_is_ours(int fd) ST_HIDDEN;
long st_fdguard_syscall(long nr, const long *a, int *handled) ST_HIDDEN;
/* Raw system calls: the library's own fd work never goes through its wrappers. */
int st_sys_close(int fd) ST_HIDDEN;
int st_sys_dupfd(int fd, int min) ST_HIDDEN;
/* Was fd 2 the same file at start-up as now? Lock held. */
int st_stderr_same(void) ST_HIDDEN;

/* ---- sandbox.c: seccomp filters in force ---- */
int st_sandboxed(void) ST_HIDDEN;
pid_t st_sandbox_tid(void) ST_HIDDEN;
void st_sandbox_init(void) ST_HIDDEN;
void st_sandbox_enter(int strict) ST_HIDDEN;
/* Clocks may not be read (seccomp strict mode, or no vDSO clock): timestamps are 0. */
extern int st_clock_off ST_HIDDEN;

/* ---- thread.c: per-thread state, mapped on first use ---- */
struct st_region;
struct st_chunk {
	struct st_region *r; /* the shared mapping this slice lies in */
	char *p;	     /* the slice */
	size_t size;
	size_t used;
	size_t next;	/* size of the next slice: small first, doubling */
	unsigned phase; /* where p lies within a 256-byte padding line */
	unsigned gen;
};
#define ST_BT_AREA  4096
#define ST_BT_STACK (128u << 10) /* a private stack for the unwinder, per level */
struct st_thread {
	unsigned arena, slot; /* where the block lives, to give it back */
	int busy[2];	      /* ST_NEST_MAX levels */
	uintptr_t sp[2];      /* the frame that took each level */
	int internal;	      /* >0: the tracer's own code is calling out (libunwind) */
	int scratch_busy;
	int learn_busy;	    /* learn[] in use: a learn nested in another (sock.c) */
	pid_t tid, tid_pid; /* tid_pid: st_pid when tid/comm/who were cached */
	char comm[17];
	size_t who_len;
	char who[160]; /* ,"pid":..,"tid":..,"comm":".." encoded once */
	uintptr_t bt_sp_ok; /* a stack pointer the kernel said is not on the sigaltstack */
	uint64_t ts_sec;    /* the second whose digits are in ts_digits */
	size_t ts_len;
	char ts_digits[24]; /* a timestamp's leading digits change once a second */
	uint64_t rng;	    /* sampling's generator (recfilter.c); 0 until seeded */
	pid_t rng_pid;	    /* the process it was seeded in: a fork()ed child reseeds */
	struct st_chunk chunks[2];
	/* Everything below is left as it is when a block is reused. */
	char buf[2][16384];
	char gather[2][1024]; /* payload bytes gathered from iovecs */
	char scratch[4096 + 768];
	char learn[1536]; /* an fd's text, learned while scratch is taken by the call interrupted */
	unsigned char bt[2][ST_BT_AREA] __attribute__((aligned(64)));
} __attribute__((aligned(64)));
struct st_thread *st_thread_get(void) ST_HIDDEN;
int st_level_take(struct st_thread *t) ST_HIDDEN;
void st_level_give(struct st_thread *t, int level) ST_HIDDEN;
void st_thread_ids(struct st_thread *t) ST_HIDDEN;
void st_thread_after_fork(void) ST_HIDDEN;
int st_forked_silently(void) ST_HIDDEN;
int st_tracer_inside(void) ST_HIDDEN;
void st_thread_drain(void) ST_HIDDEN;
void st_thread_each_idle(void (*fn)(struct st_thread *t)) ST_HIDDEN;
/* ---- init.c / exec.c: the ends of a process image ---- */
int st_same_memory_as_pid(void) ST_HIDDEN;
void st_process_exit_now(int status) ST_HIDDEN;
/* Before an exec: the room this image holds becomes filler records (sink.c). */
void st_sink_exec(void) ST_HIDDEN;
void st_sink_idle_exit(void) ST_HIDDEN;
void st_thread_init(void) ST_HIDDEN;
int st_arena_has_room(void) ST_HIDDEN;
void st_arena_reserve(void) ST_HIDDEN;
unsigned long st_thread_dropped(void) ST_HIDDEN;
/* The top of this level's private unwind stack, or NULL (backtraces off). */
char *st_thread_bt_stack(struct st_thread *t, int level) ST_HIDDEN;
/* Complete mode's stack for recording a trapped send, or NULL (not complete mode). */
char *st_thread_trap_stack(struct st_thread *t) ST_HIDDEN;
/* backtrace.c: call fn(arg) with the stack pointer at top, and come back. */
void st_on_stack(char *top, void (*fn)(void *), void *arg) ST_HIDDEN;

/* ---- untrace.c: what will escape the library (this image, or one it execs) ---- */
void st_untrace_init(void) ST_HIDDEN;
/* "go":true in a start record of a Go image. */
void st_untrace_start_json(struct st_json *j) ST_HIDDEN;
int st_untrace_go(void) ST_HIDDEN;
void st_untrace_say_start(void) ST_HIDDEN;
/*
 * Before exec*(): file (searched in PATH when search) or fd (fexecve), and
 * the new image's argv and environment. Warns and records when that image
 * will not be traced; errno and the exec itself are left as they are.
 */
void st_untrace_exec(const char *file, int search, int fd, char *const argv[],
		     char *const envp[]) ST_HIDDEN;

/* ---- init.c: process lifecycle ---- */
extern volatile int st_ready ST_HIDDEN;
extern pid_t st_pid ST_HIDDEN;
void st_ensure_init(void) ST_HIDDEN;
/* A child made without the atfork handlers running: start its own state. */
void st_after_fork_silent(void) ST_HIDDEN;

/* ---- call.c: one traced call, from entry to the written event ---- */
#define ST_EVENT_MAX 16384
#define ST_NEST_MAX  2 /* a signal handler may send while a call is traced */

/*
 * Which fds a call is traced on: any; sockets only where SENDTRACE_FDS says
 * so (write, writev); sockets only, always (the lifecycle calls).
 */
enum st_fdcheck { ST_ANY_FD, ST_SOCKET_FD, ST_SOCKET_ONLY };

#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif
#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

/* The socket options the table keeps (sock.c), as bits of st_sockinfo.opts. */
enum {
	ST_SO_KNOWN = 1,    /* the bits below are known (else: nothing is) */
	ST_SO_NODELAY = 2,  /* TCP_NODELAY */
	ST_SO_CORK = 4,	    /* TCP_CORK, or UDP_CORK */
	ST_SO_ZEROCOPY = 8, /* SO_ZEROCOPY */
	ST_SO_SHOWN = ST_SO_NODELAY | ST_SO_CORK | ST_SO_ZEROCOPY,
};

/* What the event says of the socket, for the decoders and the lint rules. */
struct st_sockinfo {
	int is_sock;
	int family;
	int type;
	int proto;
	int connected; /* a peer address is known */
	unsigned opts; /* ST_SO_* */
};

enum st_callkind {
	ST_CALL_SEND,
	ST_CALL_SENDTO,
	ST_CALL_SENDMSG,
	ST_CALL_SENDMMSG,
	ST_CALL_WRITE,
	ST_CALL_WRITEV,
	ST_CALL_SENDFILE,
	ST_CALL_SENDFILE64,
	/* The lifecycle calls, recorded only when SENDTRACE_CALLS names them. */
	ST_CALL_CONNECT,
	ST_CALL_ACCEPT,
	ST_CALL_ACCEPT4,
	ST_CALL_CLOSE,
	ST_CALL_SHUTDOWN,
};
#define ST_CALLS_SEND	   0xffu /* send .. sendfile64: what "all" and the default trace */
#define ST_CALLS_LIFECYCLE (0x1fu << ST_CALL_CONNECT)

/* What the msghdr decoder saw, for the lint rules. */
struct st_msginfo {
	int present;
	int has_name; /* msg_name given */
	int msg_flags;
	size_t controllen;
	int rights, creds; /* SCM_RIGHTS / SCM_CREDENTIALS present */
	int malformed;	   /* a control message the kernel rejects */
	int misaligned;	   /* msg_controllen not a multiple of CMSG_ALIGN */
};

struct st_live_filter;
struct st_call {
	enum st_callkind kind;
	const char *name;
	void *site; /* return address into the program */
	int flags, has_flags;
	int has_dest; /* a destination address was given */
	int has_len;
	unsigned long long len;
	/*
	 * The argument the filter's later terms read (recfilter.c): sendto and
	 * connect, the sockaddr; sendmsg, the msghdr; sendmmsg, the vector;
	 * writev, the iovecs. argn: its length, vlen or count.
	 */
	const void *arg;
	unsigned argn;
	/* Whether it is recorded (recfilter.c). */
	const struct st_live_filter *filt; /* the filter it was judged by, NULL for none */
	unsigned filt_seq;
	unsigned sample;      /* the sampling rate it was drawn at (>1), or 0 */
	unsigned char out;    /* drawn out: kept only if it fails or has findings */
	unsigned char decide; /* filt, out or SENDTRACE_ONLY=lint: more to decide after the call */
	unsigned char defer;  /* ST_DEFER_*: what is left to decide after the call */
	unsigned char lint_done;
	unsigned long long lint_hits; /* with lint_done: the rules that fired, decided early */
	struct st_msginfo msg;
	struct st_sockinfo sock;
	int fd;
	int saved_errno; /* the program's errno on entry, then the call's */
	int failed;
	long long ret;
	uint64_t ts;
	uint64_t t0;
	uint64_t dur;
	unsigned gen; /* close: the fd's table generation before the call */
	int level;
	struct st_thread *t;
	struct st_json j;
};

/*
 * What the call says of itself before it is made (flags and length when it
 * has them), for the filter's early terms: set before st_call_begin.
 */
static inline void st_call_args(struct st_call *c, int has_flags, int flags, int has_len,
				unsigned long long len)
{
	c->has_flags = has_flags;
	c->flags = flags;
	c->has_len = has_len;
	c->len = len;
	c->has_dest = 0;
	c->arg = NULL;
	c->argn = 0;
}
int st_call_begin(struct st_call *c, enum st_callkind kind, int fd, enum st_fdcheck check,
		  void *site) ST_HIDDEN;
/* Right after the real call: 0 when the call is not to be recorded (errno is the call's). */
int st_call_end(struct st_call *c, long long ret) ST_HIDDEN;

/* ---- recfilter.c: which calls are recorded (SENDTRACE_FILTER, SENDTRACE_SAMPLE) ---- */
enum {
	ST_DEFER_PEER = 1,    /* the peer term waits for the destination (or accept's new fd) */
	ST_DEFER_LEN = 2,     /* min-len/max-len wait for the iovecs' sum (writev, sendmsg) */
	ST_DEFER_LATELEN = 4, /* ... or for the encoded length (sendmmsg) */
	ST_DEFER_ERRORS = 8,  /* only failed calls */
	ST_DEFER_LINT = 16,   /* only calls with findings */
};
void st_filter_config(void) ST_HIDDEN;
/* The filter in force (NULL for none) and the sampling rate: one load each on the hot path. */
extern struct st_live_filter *st_filter_now ST_HIDDEN;
extern unsigned st_sample_n ST_HIDDEN;
/*
 * The terms on the call itself (call, fd, flag, length given), with a
 * filter in force: 0 if turned away (counted). c->filt and c->defer are
 * set when it is kept; the caller cleared them.
 */
int st_filter_call(struct st_call *c, int fd) ST_HIDDEN;
/* With ST_DEFER_PEER: the peer term by the fd table. 0 if turned away. */
int st_filter_peer(struct st_call *c, int fd) ST_HIDDEN;
/* The sampling draw: 1 when the call is out of the sample (1 in n stay in). */
int st_drawn_out(struct st_thread *t, unsigned n) ST_HIDDEN;
/* After the call, before a level is taken: 0 if not recorded (counted). */
int st_filter_after(struct st_call *c) ST_HIDDEN;
/* After encoding, with the findings: 0 if not recorded after all (counted). */
int st_filter_emit(struct st_call *c, int findings) ST_HIDDEN;
unsigned long st_filtered_count(void) ST_HIDDEN;
unsigned long st_sampled_out_count(void) ST_HIDDEN;
/*
 * Changed at run time (control.c), from any thread, while others are inside
 * traced calls: a compiled filter is published whole, never edited in place.
 */
int st_live_set_filter(const char *text) ST_HIDDEN; /* 0 ok; -1 bad text (nothing said) */
void st_live_set_sample(unsigned n) ST_HIDDEN;	    /* 0 or 1: every call */
unsigned st_live_sample(void) ST_HIDDEN;	    /* 1: every call */
/* The text of the filter in force ("" for none), valid until the filter is set 3 more times. */
const char *st_live_filter_text(void) ST_HIDDEN;
/* ---- addr.c: module and offset of an address ---- */
size_t st_addr_module(uintptr_t ip, char *obj, size_t cap, uintptr_t *off) ST_HIDDEN;
int st_addr_range(uintptr_t ip, uintptr_t *lo, uintptr_t *hi) ST_HIDDEN;
/* The head of an entry in a lock-free table keyed by address. */
struct st_slot {
	uintptr_t ip;
	int state; /* 0 free, 1 being filled, 2 ready */
};
/*
 * ip's entry when ready; with fresh != NULL, a free one claimed for ip
 * (*fresh = 1: fill it, then st_slot_ready()). NULL if absent or in progress.
 */
struct st_slot *st_slot_find(void *table, size_t n, size_t size, uintptr_t ip, unsigned probe,
			     int *fresh) ST_HIDDEN;
void st_slot_ready(struct st_slot *s) ST_HIDDEN;

/* ---- backtrace.c ---- */
void st_bt_init(void) ST_HIDDEN;
int st_bt_started(void) ST_HIDDEN;
/* ctl switched backtraces on: set libunwind up now (-1: not from inside a traced call). */
int st_bt_start_late(void) ST_HIDDEN;
/* libunwind's pipe, which the fd guard keeps from the program's hands. */
int st_bt_pipe(int i) ST_HIDDEN;
int st_bt_owns_fd(int fd) ST_HIDDEN;
/* The program is putting its own file at `fd`: if that was the pipe, stop backtraces. */
void st_bt_fd_lost(int fd) ST_HIDDEN;
/* pipe2() from inside libunwind: its fds, moved up high, are the library's. */
int st_bt_is_unwinder(const void *ip) ST_HIDDEN;
void st_bt_adopt_pipe(const int fds[2]) ST_HIDDEN;
void st_json_bt(struct st_json *j, int max, struct st_thread *t, int level) ST_HIDDEN;

/* ---- payload.c: the first bytes sent, opt-in ---- */
void st_json_payload(struct st_call *c, const void *buf, size_t len) ST_HIDDEN;
void st_json_payload_iov(struct st_call *c, const struct iovec *iov, size_t cnt) ST_HIDDEN;

/* ---- lint.c ---- */
int st_lint(struct st_call *c) ST_HIDDEN;
/* The same in two steps: which rules fire (a bit each), then their findings into the event. */
unsigned long long st_lint_check(struct st_call *c) ST_HIDDEN;
int st_lint_json(struct st_call *c, unsigned long long hits) ST_HIDDEN;
void st_call_emit(struct st_call *c) ST_HIDDEN;
/* Header common to every event: v, event, ts, pid, tid, comm. */
void st_event_head(struct st_json *j, struct st_thread *t, const char *event,
		   uint64_t ts) ST_HIDDEN;
void st_event_head_lit(struct st_json *j, struct st_thread *t, const char *head, size_t n,
		       uint64_t ts) ST_HIDDEN;
uint64_t st_now_real(void) ST_HIDDEN;
uint64_t st_now_mono(void) ST_HIDDEN;
unsigned long st_event_count(void) ST_HIDDEN;
unsigned long st_drop_count(void) ST_HIDDEN;
/* Encode a lifecycle record (start/exit) with this thread's free buffer. */
struct st_rec {
	struct st_json j;
	struct st_thread *t;
	int level;
};
int st_record_begin(struct st_rec *r, const char *event) ST_HIDDEN;
void st_record_emit(struct st_rec *r) ST_HIDDEN;
/* The start record, kept until the process's first event (SENDTRACE_PROCS=active). */
void st_record_defer(struct st_rec *r) ST_HIDDEN;
int st_record_idle(void) ST_HIDDEN;

/* ---- sock.c: the library's fd table ---- */
/* 1 a socket, 0 something else, -1 unknown; learns the fd (before the call) if needed. */
int st_fd_is_socket(int fd, uint64_t now) ST_HIDDEN;
void st_json_sock(struct st_json *j, int fd, struct st_sockinfo *si, uint64_t now) ST_HIDDEN;
/*
 * For close(): the fd's generation before the call, then, after it, the
 * entry as it was, or null if the number changed hands (never a query: the
 * fd is gone, or another thread's now).
 */
unsigned st_fd_gen(int fd) ST_HIDDEN;
void st_json_sock_was(struct st_json *j, int fd, unsigned gen, struct st_sockinfo *si) ST_HIDDEN;
/* The program changed what these numbers name: their entries no longer hold. */
void st_fd_changed(int fd) ST_HIDDEN;
/* ... to a socket it just made (its options all off). */
void st_fd_new_socket(int fd) ST_HIDDEN;
/* ... to a copy of another number (dup and kin): two numbers may now share a socket. */
void st_fd_copied(int fd) ST_HIDDEN;
/* The same socket with new endpoints (connect, bind): its options carry over. */
void st_fd_renamed(int fd) ST_HIDDEN;
/* setsockopt() set (on) or cleared an ST_SO_* option. */
void st_fd_sockopt(int fd, unsigned bit, int on) ST_HIDDEN;
void st_fd_changed_range(unsigned lo, unsigned hi) ST_HIDDEN;
void st_fd_forget_all(void) ST_HIDDEN;
/* A socket just made, accepted, connected or bound: learn it now. */
void st_fd_learn_now(int fd) ST_HIDDEN;
/* Is fd a socket the table knows (no system call: for sandboxes)? */
int st_sock_known(int fd) ST_HIDDEN;
/*
 * What the table holds of fd, with no system call: its kind into *si (1),
 * and its peer into *peer (kind ST_FS_NONE when not connected). 0 when the
 * table does not hold the fd now.
 */
struct st_fs_addr;
int st_fd_peek(int fd, struct st_sockinfo *si, struct st_fs_addr *peer) ST_HIDDEN;
void st_sock_learn_all(void) ST_HIDDEN;
/* ---- unixdiag.c: a unix socket's peer inode (sock_diag), 0 or -1 ---- */
int st_unix_peer_ino(unsigned long ino, unsigned long *peer) ST_HIDDEN;
/* fstat(2) as the plain system call: glibc's goes through newfstatat with "". */
int st_fstat(int fd, struct stat *sb) ST_HIDDEN;

/* ---- mem.c: reading the program's memory without trusting it ---- */
/*
 * After a successful call the kernel has read every argument, so reading it
 * again is safe. After a failed one it may not have, and a pointer may be
 * wild: copies then go through process_vm_readv, which reports EFAULT instead
 * of faulting.
 */
struct st_mem {
	int trusted; /* the call succeeded: the kernel read it all */
};
void st_mem_for(struct st_mem *m, const struct st_call *c) ST_HIDDEN;
int st_mem_copy(const struct st_mem *m, void *dst, const void *src, size_t n) ST_HIDDEN;
int st_mem_copy_strided(const struct st_mem *m, void *dst, const void *src, size_t each,
			size_t stride, size_t count, struct iovec *iov, size_t niov) ST_HIDDEN;

/* ---- msghdr.c ---- */
unsigned long long st_json_msghdr(struct st_json *j, const struct st_mem *m,
				  const struct msghdr *msg, struct st_msginfo *mi,
				  struct msghdr *copy) ST_HIDDEN;
void st_json_iov(struct st_json *j, const struct st_mem *m, const struct iovec *iov, long cnt,
		 unsigned long long *total) ST_HIDDEN;
/* The total st_json_iov would give, without encoding anything. */
unsigned long long st_iov_total(const struct st_mem *m, const struct iovec *iov,
				long cnt) ST_HIDDEN;
/* scratch: room (the level's gather buffer) for reading the msg_len of messages not listed. */
/* Returns the bytes asked for in the messages listed (the event's len). */
unsigned long long st_json_mmsg(struct st_json *j, struct mmsghdr *vec, unsigned int vlen, int sent,
				struct st_msginfo *mi, char *scratch,
				size_t scratch_size) ST_HIDDEN;

/* ---- sendfile.c ---- */
void st_json_infd(struct st_json *j, int in_fd) ST_HIDDEN;

#endif
