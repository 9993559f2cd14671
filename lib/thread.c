/* thread.c: per-thread state, mapped on first use, shared out of a few arenas, robust to longjmp. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "st.h"

/*
 * glibc carves static TLS out of every thread's stack, so a library that kept
 * its event buffers there (40 KiB) made threads with 16-32 KiB stacks fail to
 * start, and left deep threads short of stack. Only this pointer is TLS; the
 * state it points to lives in arenas mapped on first use. A thread's block
 * goes back to its arena when the thread exits.
 *
 * Arenas, not one mapping per thread: every mapping counts against
 * vm.max_map_count, and a program near that limit would see pthread_create
 * fail only when traced. ST_ARENA_SLOTS blocks share one mapping.
 */
static ST_TLS struct st_thread *st_self;

#define ST_ARENAS      256
#define ST_ARENA_SLOTS 64

static struct st_thread *st_arenas[ST_ARENAS];
static unsigned long st_arena_used[ST_ARENAS]; /* bit per slot in use */
static size_t st_stride = sizeof(struct st_thread); /* a block, and its unwind stacks */
static pthread_key_t st_thread_key;
static int st_thread_key_ok;
static unsigned long st_thread_drops; /* calls untraced for want of a block */

/*
 * A page the kernel zeroes in a child made by fork(), whichever way it was
 * made (fork, _Fork, st_sys(SYS_fork), clone): a zero here on the hot path,
 * one load, says we are in a child that no pthread_atfork handler told us of.
 */
static volatile int *st_forkpage;

unsigned long st_thread_dropped(void)
{
	return __atomic_load_n(&st_thread_drops, __ATOMIC_RELAXED);
}

static void st_thread_release(void *arg)
{
	struct st_thread *t = arg;
	unsigned a, s;

	if (!t)
		return;
	st_sink_thread_exit(t);
	a = t->arena;
	s = t->slot;
	st_self = NULL;
	__atomic_fetch_and(&st_arena_used[a], ~(1ul << s), __ATOMIC_RELEASE);
}

static struct st_thread *st_arena_map(unsigned a)
{
	size_t size = st_stride * ST_ARENA_SLOTS;
	struct st_thread *m, *none = NULL;

	/* MAP_NORESERVE: a block costs memory only for the pages a thread touches. */
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	if (!__atomic_compare_exchange_n(&st_arenas[a], &none, m, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		munmap(m, size); /* another thread mapped this arena first */
		return none;
	}
	return m;
}

/* A free block, claimed by compare-and-swap on its arena's bit; NULL if none. */
static struct st_thread *st_thread_claim(void)
{
	unsigned a;

	for (a = 0; a < ST_ARENAS; a++) {
		struct st_thread *arena = __atomic_load_n(&st_arenas[a], __ATOMIC_ACQUIRE), *t;
		unsigned long bits = __atomic_load_n(&st_arena_used[a], __ATOMIC_ACQUIRE);

		while (~bits) {
			unsigned s = (unsigned)__builtin_ctzl(~bits);

			if (!__atomic_compare_exchange_n(&st_arena_used[a], &bits, bits | (1ul << s),
							 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				continue; /* bits reloaded: try again */
			if (!arena && !(arena = st_arena_map(a)) && !(arena = st_arenas[a])) {
				__atomic_fetch_and(&st_arena_used[a], ~(1ul << s), __ATOMIC_RELEASE);
				return NULL;
			}
			t = (struct st_thread *)(void *)((char *)arena + s * st_stride);
			t->arena = a;
			t->slot = s;
			return t;
		}
	}
	return NULL;
}

/*
 * This thread's block, claimed on first use. A thread that cannot get one
 * (no memory, or a sandbox that forbids mmap) runs untraced, counted.
 */
struct st_thread *st_thread_get(void)
{
	struct st_thread *t = st_self;

	if (__builtin_expect(t != NULL, 1))
		return t;
	if (st_sandboxed() && !st_arena_has_room()) {
		__atomic_fetch_add(&st_thread_drops, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	t = st_thread_claim();
	if (!t) {
		__atomic_fetch_add(&st_thread_drops, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	{
		unsigned a = t->arena, s = t->slot;

		memset(t, 0, offsetof(struct st_thread, buf));
		t->arena = a;
		t->slot = s;
	}
	st_self = t;
	/* The key's destructor gives the block back when the thread exits. */
	if (__atomic_load_n(&st_thread_key_ok, __ATOMIC_ACQUIRE))
		pthread_setspecific(st_thread_key, t);
	return t;
}

/* Is the tracer itself calling out on this thread (libunwind writing its pipe)? */
int st_tracer_inside(void)
{
	return st_self && st_self->internal;
}

/* Is a block free without mapping a new arena? (A sandbox may forbid mmap.) */
int st_arena_has_room(void)
{
	unsigned a;

	for (a = 0; a < ST_ARENAS && __atomic_load_n(&st_arenas[a], __ATOMIC_ACQUIRE); a++)
		if (~__atomic_load_n(&st_arena_used[a], __ATOMIC_ACQUIRE))
			return 1;
	return 0;
}

/* Map one more arena now, while system calls are still allowed. */
void st_arena_reserve(void)
{
	unsigned a;

	if (st_arena_has_room())
		return;
	for (a = 0; a < ST_ARENAS; a++)
		if (!__atomic_load_n(&st_arenas[a], __ATOMIC_ACQUIRE)) {
			st_arena_map(a);
			return;
		}
}

/*
 * A level (an event buffer and a chunk) for the call being encoded, taken
 * after the real call returned and given back once the event is written.
 * Holding none across the real call means a siglongjmp() out of a blocked
 * send, or a thread cancelled inside it, leaves nothing taken. Only a jump
 * out of a handler that interrupted the encoder itself can: that level's
 * owner frame then lies below the stack pointer of later calls on the same
 * stack, which is how it is recognised and taken back.
 */
int st_level_take(struct st_thread *t)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	int i;

	/*
	 * Taken by compare-and-swap, not a plain store: a child made by
	 * clone(CLONE_VM) without a TLS of its own shares this block with the
	 * thread that made it, and two users must never share a level.
	 */
	for (i = 0; i < ST_NEST_MAX; i++) {
		int free_ = 0;

		if (__atomic_compare_exchange_n(&t->busy[i], &free_, 1, 0, __ATOMIC_SEQ_CST,
						__ATOMIC_RELAXED)) {
			t->sp[i] = sp;
			return i;
		}
	}
	for (i = 0; i < ST_NEST_MAX; i++) {
		if (t->sp[i] < sp) {
			/* Abandoned: its chunk may hold part of a line; blank it. */
			st_sink_level_abandoned(t, i);
			t->sp[i] = sp;
			__atomic_signal_fence(__ATOMIC_SEQ_CST);
			return i;
		}
	}
	return -1;
}

void st_level_give(struct st_thread *t, int level)
{
	__atomic_store_n(&t->busy[level], 0, __ATOMIC_RELEASE);
}

/* Every thread block in use: the arenas' slots whose bit is set. */
static void st_thread_each(void (*fn)(struct st_thread *t, void *arg), void *arg)
{
	unsigned a, s;

	for (a = 0; a < ST_ARENAS; a++) {
		struct st_thread *arena = __atomic_load_n(&st_arenas[a], __ATOMIC_ACQUIRE);
		unsigned long bits;

		if (!arena)
			break;
		bits = __atomic_load_n(&st_arena_used[a], __ATOMIC_SEQ_CST);
		for (s = 0; s < ST_ARENA_SLOTS; s++)
			if (bits & (1ul << s))
				fn((struct st_thread *)(void *)((char *)arena + s * st_stride), arg);
	}
}

static int st_thread_busy(const struct st_thread *t)
{
	return __atomic_load_n(&t->busy[0], __ATOMIC_SEQ_CST) ||
	       __atomic_load_n(&t->busy[1], __ATOMIC_SEQ_CST);
}

/* Waits, until the deadline in *arg, for thread t to leave the event it is in. */
static void st_thread_wait_idle(struct st_thread *t, void *arg)
{
	const uint64_t *deadline = arg;

	if (t == st_self)
		return;
	while (st_thread_busy(t) && st_now_mono() < *deadline)
		sched_yield();
}

/*
 * At exit: other threads may be in the middle of copying an event, and
 * exit_group() would stop them mid-line. st_ready is already 0, so no new
 * event starts (st_call_end looks again after taking its level); wait, a
 * bounded while, until no other thread holds a level.
 */
void st_thread_drain(void)
{
	uint64_t deadline = st_now_mono() + 100000000ull; /* 100 ms at most */

	st_thread_each(st_thread_wait_idle, &deadline);
}

static void st_thread_if_idle(struct st_thread *t, void *arg)
{
	void (*fn)(struct st_thread *) = *(void (**)(struct st_thread *))arg;

	if (!st_thread_busy(t))
		fn(t);
}

/*
 * Every thread's block but those still inside an event (past the drain's
 * deadline): at a clean exit, when no event starts any more.
 */
void st_thread_each_idle(void (*fn)(struct st_thread *t))
{
	st_thread_each(st_thread_if_idle, &fn);
}

/* tid and comm, once per thread, and again in a fork()ed child. */
void st_thread_ids(struct st_thread *t)
{
	struct st_json w;

	if (t->tid_pid == st_pid && t->tid)
		return;
	t->tid = st_sandboxed() ? st_sandbox_tid() : (pid_t)st_sys(SYS_gettid);
	if (st_sandboxed() || prctl(PR_GET_NAME, t->comm, 0, 0, 0) != 0)
		t->comm[0] = '\0';
	t->comm[16] = '\0';
	t->tid_pid = st_pid;
	st_json_init(&w, t->who, sizeof(t->who));
	w.first = 0;
	st_json_key(&w, "pid");
	st_json_int(&w, st_pid);
	st_json_key(&w, "tid");
	st_json_int(&w, t->tid);
	st_json_key(&w, "comm");
	st_json_cstr(&w, t->comm);
	t->who_len = w.overflow ? 0 : st_json_len(&w);
}

/*
 * In a fork()ed child, single-threaded: the other threads' blocks are
 * free again, and this thread's chunks belong to the parent.
 */
void st_thread_after_fork(void)
{
	struct st_thread *t = st_self;
	unsigned a;

	for (a = 0; a < ST_ARENAS; a++)
		st_arena_used[a] = 0;
	if (t) {
		st_arena_used[t->arena] = 1ul << t->slot;
		memset(t->busy, 0, sizeof(t->busy));
		st_sink_thread_forget(t);
	}
	if (st_forkpage)
		*st_forkpage = 1;
}

/* A fork that ran no atfork handler (_Fork, raw fork or clone)? One load. */
int st_forked_silently(void)
{
	return st_forkpage && __builtin_expect(*st_forkpage == 0, 0);
}

/*
 * With backtraces on, each block is followed by a private stack per level:
 * libunwind needs several KiB of stack, more than a signal handler on a
 * legacy 8 KiB sigaltstack has left, so the unwinder runs on these.
 */
static int st_bt_stacks; /* the blocks are followed by the unwinder's two stacks */
static int st_trap_stack; /* and then by complete mode's (complete.c) */

char *st_thread_bt_stack(struct st_thread *t, int level)
{
	if (!st_bt_stacks)
		return NULL;
	/* Level 0's stack is the higher one: its overflow would meet level 1's, not the block. */
	return (char *)t + sizeof(struct st_thread) + (size_t)(level + 1) * ST_BT_STACK;
}

/*
 * Complete mode records a trapped send inside a SIGSYS handler: on a
 * program's small sigaltstack (a handler there that sends), on top of the
 * program's own handler frame and the kernel's SIGSYS frame, there may not
 * be room for the tracer, so it moves to this one (complete.c).
 */
char *st_thread_trap_stack(struct st_thread *t)
{
	if (!st_trap_stack)
		return NULL;
	return (char *)t + sizeof(struct st_thread) + (st_bt_stacks ? 2 * ST_BT_STACK : 0) +
	       ST_BT_STACK;
}

void st_thread_init(void)
{
	void *p;

	/* With a control page, ctl may switch backtraces on later: the stacks are only reserved. */
	if (st_config.backtrace || st_ctl_wants_bt_stacks()) {
		st_bt_stacks = 1;
		st_stride += 2 * ST_BT_STACK;
	}
	if (st_config.complete) {
		st_trap_stack = 1;
		st_stride += ST_BT_STACK;
	}
	if (pthread_key_create(&st_thread_key, st_thread_release) == 0)
		__atomic_store_n(&st_thread_key_ok, 1, __ATOMIC_RELEASE);
	p = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return;
#ifdef MADV_WIPEONFORK
	if (madvise(p, (size_t)sysconf(_SC_PAGESIZE), MADV_WIPEONFORK) == 0) {
		st_forkpage = p;
		*st_forkpage = 1;
		return;
	}
#endif
	munmap(p, (size_t)sysconf(_SC_PAGESIZE)); /* before Linux 4.14: atfork only */
}
