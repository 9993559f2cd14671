/* backtrace.c: call-site backtraces with libunwind's local unwinder, symbolized once per address.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "st.h"

/*
 * Our own frames (the wrapper, the encoder) lie in our module's mappings and
 * are skipped, so the first frame is the program's call site.
 */
static uintptr_t st_self_lo, st_self_hi;

/*
 * Each address is symbolized once: module and offset from /proc/self/maps,
 * function and offset from libunwind (it reads the ELF symbol tables, no
 * loader lock). A repeated call site then costs only the unwind itself.
 * Lock-free: a slot is claimed by compare-and-swap on its address.
 */
#define ST_FRAMES 4096

struct st_frame {
	struct st_slot slot; /* keyed by ip */
	unsigned short objlen, fnlen;
	uintptr_t off, fn_off;
	char obj[192];
	char fn[96];
	unsigned short textlen;
	char text[640]; /* the frame's JSON object, encoded once */
};

static struct st_frame st_frames[ST_FRAMES];

static void st_json_frame_fields(struct st_json *j, uintptr_t ip, const struct st_frame *f)
{
	st_json_obj(j);
	st_json_key(j, "ip");
	st_json_hexnum(j, ip);
	if (f && f->objlen) {
		st_json_key(j, "obj");
		st_json_str(j, f->obj, f->objlen);
		st_json_key(j, "off");
		st_json_hexnum(j, f->off);
	}
	if (f && f->fnlen) {
		st_json_key(j, "fn");
		st_json_str(j, f->fn, f->fnlen);
		st_json_key(j, "fn_off");
		st_json_hexnum(j, f->fn_off);
	}
	st_json_obj_end(j);
}

/* The text is what every later event copies: no formatting per frame. */
static void st_frame_encode(struct st_frame *f)
{
	struct st_json w;

	st_json_init(&w, f->text, sizeof(f->text));
	st_json_frame_fields(&w, f->slot.ip, f);
	f->textlen = w.overflow ? 0 : (unsigned short)st_json_len(&w);
}

/*
 * unw_context_t and unw_cursor_t are about 1 KiB each: too big for a
 * sigaltstack, and too big for static TLS (glibc takes that from every
 * thread's stack). They live in the thread's block, one set per level.
 */
#define ST_BT_MAX  64
#define ST_BT_OURS 6 /* our own frames above the program's: bt, call_end, the wrapper */
struct st_bt_area {
	unw_context_t uc;
	unw_cursor_t cur;
	void *ips[ST_BT_MAX + ST_BT_OURS];
	struct st_frame *hit[ST_BT_MAX];
};
_Static_assert(sizeof(struct st_bt_area) <= ST_BT_AREA, "ST_BT_AREA too small");

static struct st_bt_area *st_bt_area(struct st_thread *t, int level)
{
	return (struct st_bt_area *)(void *)t->bt[level];
}

/*
 * libunwind opens a pipe (for validating addresses) the first time it
 * unwinds. Left alone it would take the lowest free fds, 3 and 4, and the
 * program's own fds would all come one number later than untraced. The
 * library interposes pipe2() (fdhooks.c): a call from inside libunwind's
 * own code gets its two fds moved up high, where our trace fd lives, and
 * they are noted here. No fd is parked, and no system call is made for it
 * beyond the pipe itself and the two moves.
 */
static uintptr_t st_unw_lo, st_unw_hi; /* libunwind's mappings */

/*
 * libunwind reads and writes that pipe to validate addresses while it
 * unwinds. If the program closes those numbers and reuses them (daemons
 * close every fd), libunwind would read bytes from, and write bytes into,
 * the program's own fd. So the pipe's identity is checked before every
 * unwind, and backtraces stop, with one warning, once it is gone.
 */
static int st_pipe_fd[2] = {-1, -1};
static dev_t st_pipe_dev;
static ino_t st_pipe_ino;
static int st_bt_off;

/* Unwinds under way: the fd guard waits for them before the pipe's number changes hands. */
static int st_bt_active;

int st_bt_pipe(int i)
{
	return st_pipe_fd[i];
}

int st_bt_owns_fd(int fd)
{
	return fd >= 0 && !__atomic_load_n(&st_bt_off, __ATOMIC_ACQUIRE) &&
	       (fd == st_pipe_fd[0] || fd == st_pipe_fd[1]);
}

/*
 * The program is putting its own file at `fd` (fd lock held). If that is
 * libunwind's pipe, no unwind may use the number again: stop, wait for the
 * ones under way, and say so once.
 */
void st_bt_fd_lost(int fd)
{
	if (!st_bt_owns_fd(fd))
		return;
	__atomic_store_n(&st_bt_off, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&st_bt_active, __ATOMIC_SEQ_CST))
		sched_yield();
	st_pipe_fd[0] = st_pipe_fd[1] = -1;
	st_warn("the program reused the fds of libunwind's pipe; ",
		"backtraces stop here, tracing goes on", "");
}

/*
 * Backtraces may go ahead: the pipe is still libunwind's. The fd guard sees
 * every close/dup2 through libc, so no system call per event is needed; the
 * pipe's identity is checked once in a while (every 4096 unwinds) for the
 * programs that close fds with an inline syscall instruction.
 */
static int st_bt_enter(void)
{
	static unsigned long calls;
	struct stat sb;
	int i;

	__atomic_fetch_add(&st_bt_active, 1, __ATOMIC_SEQ_CST);
	/* In a seccomp sandbox libunwind's pipe writes and maps reads may be refused. */
	if (__atomic_load_n(&st_bt_off, __ATOMIC_SEQ_CST) || st_sandboxed())
		goto off;
	if ((__atomic_fetch_add(&calls, 1, __ATOMIC_RELAXED) & 4095) != 0 || st_sandboxed())
		return 1;
	for (i = 0; i < 2; i++) {
		if (st_pipe_fd[i] < 0)
			continue; /* libunwind opened no pipe */
		if (st_fstat(st_pipe_fd[i], &sb) != 0 || !S_ISFIFO(sb.st_mode) ||
		    sb.st_ino != st_pipe_ino || sb.st_dev != st_pipe_dev) {
			if (!__atomic_exchange_n(&st_bt_off, 1, __ATOMIC_ACQ_REL))
				st_warn(
				    "the program closed or reused the fds of libunwind's pipe; ",
				    "backtraces stop here, tracing goes on", "");
			goto off;
		}
	}
	return 1;
off:
	__atomic_fetch_sub(&st_bt_active, 1, __ATOMIC_SEQ_CST);
	return 0;
}

static void st_bt_leave(void)
{
	__atomic_fetch_sub(&st_bt_active, 1, __ATOMIC_SEQ_CST);
}

/* Was this pipe2() called by libunwind? */
int st_bt_is_unwinder(const void *ip)
{
	return (uintptr_t)ip >= st_unw_lo && (uintptr_t)ip < st_unw_hi;
}

/* libunwind's new pipe, already moved up by the pipe2 wrapper: ours from now on. */
void st_bt_adopt_pipe(const int fds[2])
{
	struct stat sb;

	if (st_fstat(fds[0], &sb) != 0)
		return;
	st_pipe_dev = sb.st_dev;
	st_pipe_ino = sb.st_ino;
	st_pipe_fd[0] = fds[0];
	st_pipe_fd[1] = fds[1];
}

/* The first unwind, at start: libunwind sets itself up (its pipe among it) now. */
static void st_bt_first_unwind(void)
{
	struct st_thread *t = st_thread_get();
	unw_context_t *uc;
	unw_cursor_t *cur;

	/* Per-thread caches are the ones libunwind documents as signal-safe. */
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
	if (!t)
		return;
	uc = &st_bt_area(t, 0)->uc;
	cur = &st_bt_area(t, 0)->cur;
	if (unw_getcontext(uc) == 0 && unw_init_local(cur, uc) == 0) {
		void *ips[8];
		int steps = 0;

		while (unw_step(cur) > 0 && ++steps < 64)
			;
		(void)unw_backtrace(ips, 8);
	}
}

static int st_bt_ready;

int st_bt_started(void)
{
	return __atomic_load_n(&st_bt_ready, __ATOMIC_ACQUIRE);
}

/*
 * Switched on by `sendtrace ctl set backtrace=N` in a process that started
 * without: the first unwind uses this thread's level-0 area, so not while a
 * call of this thread (one a signal interrupted) holds a level.
 */
int st_bt_start_late(void)
{
	struct st_thread *t = st_thread_get();

	if (!t || t->busy[0] || t->busy[1] || t->internal)
		return -1;
	st_bt_init();
	return 0;
}

void st_bt_init(void)
{
	int saved = errno;

	__atomic_store_n(&st_fds_held, 1, __ATOMIC_RELEASE); /* libunwind's pipe, soon */
	st_addr_range((uintptr_t)&st_bt_init, &st_self_lo, &st_self_hi);
	st_addr_range((uintptr_t)&unw_backtrace, &st_unw_lo, &st_unw_hi);
	st_bt_first_unwind();
	__atomic_store_n(&st_bt_ready, 1, __ATOMIC_RELEASE);
	errno = saved;
}

static struct st_frame *st_frame_get(uintptr_t ip, unw_cursor_t *cur)
{
	int fresh, r;
	unw_word_t off = 0;
	struct st_frame *f =
	    (struct st_frame *)st_slot_find(st_frames, ST_FRAMES, sizeof(*f), ip, 16, &fresh);

	if (!f || !fresh)
		return f; /* ready, or (neighbourhood full) shown by address only */
	f->objlen = (unsigned short)st_addr_module(ip, f->obj, sizeof(f->obj), &f->off);
	f->fn[0] = '\0';
	r = unw_get_proc_name(cur, f->fn, sizeof(f->fn), &off);
	if ((r == 0 || r == -UNW_ENOMEM) && f->fn[0]) {
		f->fn[sizeof(f->fn) - 1] = '\0';
		f->fnlen = (unsigned short)strlen(f->fn);
		f->fn_off = (uintptr_t)off;
	}
	st_frame_encode(f);
	st_slot_ready(&f->slot);
	return f;
}

static void st_json_frame(struct st_json *j, uintptr_t ip, const struct st_frame *f)
{
	if (f && f->textlen)
		st_json_raw(j, f->text, f->textlen);
	else
		st_json_frame_fields(j, ip, f);
}

/* A frame already symbolized, or NULL. */
static struct st_frame *st_frame_cached(uintptr_t ip)
{
	return (struct st_frame *)st_slot_find(st_frames, ST_FRAMES, sizeof(struct st_frame), ip,
					       16, NULL);
}

/*
 * The backtrace is the last field before ret, errno and dur_ns, so every
 * other field is already written and the frames get only what room is
 * left: with 64 frames of long C++ names and install paths it could
 * otherwise take more than the whole event. ST_BT_KEEP is what the fields
 * after it take at most (",\"ret\":" and 21 digits, an errno name,
 * ",\"dur_ns\":" and 20 digits, '}'); ST_BT_MARK what the marks of a cut take.
 */
#define ST_BT_KEEP 128
#define ST_BT_MARK 48

/*
 * How much of each frame is written. A frame without `fn` can still be
 * symbolized offline from `obj` and `off`, so the name goes first; then
 * the path is cut to the module's file name; then outer frames go.
 */
enum st_bt_cut { ST_BT_WHOLE, ST_BT_NO_FN, ST_BT_SHORT_OBJ };

static void st_json_frame_cut(struct st_json *j, uintptr_t ip, const struct st_frame *f,
			      enum st_bt_cut cut)
{
	const char *obj, *slash;
	size_t n;

	if (cut == ST_BT_WHOLE) {
		st_json_frame(j, ip, f);
		return;
	}
	st_json_obj(j);
	st_json_key(j, "ip");
	st_json_hexnum(j, ip);
	if (f && f->objlen) {
		obj = f->obj;
		n = f->objlen;
		slash = cut == ST_BT_SHORT_OBJ ? memrchr(obj, '/', n) : NULL;
		if (slash) {
			n -= (size_t)(slash + 1 - obj);
			obj = slash + 1;
		}
		st_json_key(j, "obj");
		st_json_str(j, obj, n);
		st_json_key(j, "off");
		st_json_hexnum(j, f->off);
	}
	st_json_obj_end(j);
}

/*
 * "bt": the frames ips[0..n), innermost first, in the room left but
 * ST_BT_KEEP. When they do not fit whole, they are written again shorter
 * (over the same bytes: nothing is copied aside), and `bt_truncated` says
 * what was cut. Only a frame that cannot fit even as {ip, obj, off} is
 * left out, outermost first, counted in `bt_more`.
 */
static void st_bt_write(struct st_json *j, void *const *ips, struct st_frame *const *hit, int n)
{
	static const struct {
		const char *text;
		size_t len;
	} mark[] = {{"", 0}, {"\"fn\"", 4}, {"\"obj\"", 5}};
	struct st_json save = *j, before;
	char *end = j->end, *limit;
	int cut, i;

	if (j->overflow || n < 0 || st_json_room(j) < ST_BT_KEEP + ST_BT_MARK)
		return;
	limit = j->end - ST_BT_KEEP;
	for (cut = ST_BT_WHOLE; cut <= ST_BT_SHORT_OBJ; cut++) {
		*j = save;
		j->end = limit;
		st_json_key(j, "bt");
		st_json_arr(j);
		for (i = 0; i < n && !j->overflow; i++)
			st_json_frame_cut(j, (uintptr_t)ips[i], hit[i], (enum st_bt_cut)cut);
		st_json_arr_end(j);
		if (cut != ST_BT_WHOLE) {
			st_json_key(j, "bt_truncated");
			st_json_lit_n(j, mark[cut].text, mark[cut].len);
		}
		if (!j->overflow) {
			j->end = end;
			return;
		}
	}
	/* Not even the shortest form of every frame fits: the innermost ones that do. */
	*j = save;
	j->end = limit - ST_BT_MARK;
	st_json_key(j, "bt");
	st_json_arr(j);
	for (i = 0; i < n; i++) {
		before = *j;
		st_json_frame_cut(j, (uintptr_t)ips[i], hit[i], ST_BT_SHORT_OBJ);
		if (j->overflow) {
			*j = before;
			break;
		}
	}
	j->end = limit;
	st_json_arr_end(j);
	st_json_key(j, "bt_truncated");
	st_json_lit(j, "\"frames\"");
	st_json_key(j, "bt_more");
	st_json_int(j, n - i);
	j->end = end;
}

/*
 * The common case, a call site seen before: unw_backtrace() walks with
 * libunwind's trace cache (much cheaper than stepping a cursor) on the
 * program's own stack (it needs little of it: measured by t-altstack), and
 * every frame is already symbolized. Returns 0 when a frame is new, and the
 * caller takes the slow path, on the private stack, that symbolizes it.
 */
static int st_json_bt_fast(struct st_json *j, int max, struct st_bt_area *a)
{
	void **ips = a->ips;
	struct st_frame **hit = a->hit;
	int n = unw_backtrace(ips, max + ST_BT_OURS), i, shown = 0;

	for (i = 0; i < n && shown < max; i++) {
		uintptr_t ip = (uintptr_t)ips[i];

		if (ip >= st_self_lo && ip < st_self_hi)
			continue; /* ours: the tracer, or the wrapper a trapped call went through */
		ips[shown] = ips[i];
		hit[shown] = st_frame_cached(ip);
		if (!hit[shown])
			return 0; /* a new address: the slow path symbolizes it */
		shown++;
	}
	if (!shown)
		return 0;
	st_bt_write(j, ips, hit, shown);
	return 1;
}

/*
 * Is this call on the thread's own stack, with the room libunwind's fast
 * walk needs (several KiB: more than a handler on a legacy 8 KiB
 * sigaltstack has left, measured by t-altstack)? The kernel says whether we
 * are on the sigaltstack; its answer is kept for the stack pointer it was
 * given, so a thread that sends from the same depth asks once, not per event.
 */
static int st_bt_on_thread_stack(struct st_thread *t)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	stack_t ss;

	if (t->bt_sp_ok && sp + 4096 > t->bt_sp_ok && sp < t->bt_sp_ok + 4096)
		return 1;
	if (st_sys(SYS_sigaltstack, NULL, &ss) != 0 || (ss.ss_flags & SS_ONSTACK))
		return 0;
	t->bt_sp_ok = sp;
	return 1;
}

/* What the walk needs, handed across to the private stack. */
struct st_bt_job {
	struct st_json *j;
	struct st_bt_area *a;
	int max;
};

/*
 * The walk itself, from the context captured on the program's stack. It
 * runs on the level's private stack: libunwind's DWARF steps take more room
 * than a signal handler on a small sigaltstack has.
 */
static void st_bt_walk(void *arg)
{
	struct st_bt_job *job = arg;
	struct st_bt_area *a = job->a;
	unw_cursor_t *cur = &a->cur;
	int shown = 0, steps = 0;

	if (unw_init_local(cur, &a->uc) == 0) {
		do {
			unw_word_t ip = 0;

			if (++steps > job->max + 32 || unw_get_reg(cur, UNW_REG_IP, &ip) != 0 ||
			    !ip)
				break;
			/*
			 * Ours: the tracer, and in complete mode the SIGSYS handler
			 * and the exported syscall() a trapped call went through.
			 */
			if (ip >= st_self_lo && ip < st_self_hi)
				continue;
			a->ips[shown] = (void *)(uintptr_t)ip;
			a->hit[shown] = st_frame_get((uintptr_t)ip, cur);
			if (++shown >= job->max)
				break;
		} while (unw_step(cur) > 0);
	}
	st_bt_write(job->j, a->ips, a->hit, shown);
}

/*
 * Call fn(arg) with the stack pointer at `top`, and come back. Signals that
 * arrive meanwhile run their handlers there too (unless on a sigaltstack):
 * the stack is 128 KiB for that reason.
 */
void st_on_stack(char *top, void (*fn)(void *), void *arg)
{
	top = (char *)((uintptr_t)top & ~(uintptr_t)15);
#if defined(__x86_64__)
	__asm__ volatile("mov %%rsp, %%rbx\n\t"
			 "mov %[top], %%rsp\n\t"
			 "call *%[fn]\n\t"
			 "mov %%rbx, %%rsp\n\t"
			 : "+D"(arg)
			 : [top] "r"(top), [fn] "r"(fn)
			 : "rbx", "rax", "rcx", "rdx", "rsi", "r8", "r9", "r10", "r11", "memory", "cc",
			   "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
			   "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
#elif defined(__aarch64__)
	register void *x0 __asm__("x0") = arg;

	__asm__ volatile("mov x19, sp\n\t"
			 "mov sp, %[top]\n\t"
			 "blr %[fn]\n\t"
			 "mov sp, x19\n\t"
			 : "+r"(x0)
			 : [top] "r"(top), [fn] "r"(fn)
			 : "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12",
			   "x13", "x14", "x15", "x16", "x17", "x18", "x19", "x30", "memory", "cc", "v0",
			   "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v16", "v17", "v18", "v19", "v20",
			   "v21", "v22", "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31");
#else
	(void)top;
	fn(arg);
#endif
}

void st_json_bt(struct st_json *j, int max, struct st_thread *t, int level)
{
	struct st_bt_area *a = st_bt_area(t, level);
	struct st_bt_job job = {j, a, max};
	char *top = st_thread_bt_stack(t, level);
	int saved = errno, cancel, unused;

	if (!st_bt_enter()) {
		errno = saved;
		return;
	}
	/* libunwind writes to its pipe: a cancellation point, not to be taken here. */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	t->internal++;
	if (st_bt_on_thread_stack(t) && st_json_bt_fast(j, max, a))
		goto out;
	if (unw_getcontext(&a->uc) == 0) {
		if (top)
			st_on_stack(top, st_bt_walk, &job);
		else
			st_bt_walk(&job);
	}
out:
	t->internal--;
	pthread_setcancelstate(cancel, &unused);
	st_bt_leave();
	errno = saved;
}
