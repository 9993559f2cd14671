/* complete.c: complete mode: sends made outside the exports, caught by Syscall User Dispatch. */
#include "config.h"

#include <dlfcn.h>
#include <link.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>

#include "st.h"

#define ST_EXPORT __attribute__((visibility("default")))

/*
 * Why Syscall User Dispatch (docs/complete.md has the whole argument): once
 * a thread arms it, every system call the thread makes from outside one
 * address range traps into a SIGSYS handler, unless a byte the thread owns
 * (the selector) says "allow". It needs no privilege and no tracer, it is
 * per thread and the kernel clears it at fork, clone and exec, so a child
 * that is not preloaded never meets it. A seccomp filter could trap only the
 * send numbers, cheaper, but it is irrevocable and survives exec: a child
 * without this library would die of the first SIGSYS.
 *
 * So, in an armed thread:
 *  - the program's system calls trap; the handler makes each one itself,
 *    from the allowed range (the stubs below), with the program's registers,
 *    and puts the result where the program's syscall instruction would have;
 *  - the send family is made through the tracers (wrap.c) instead, which
 *    record it with "via":"syscall";
 *  - the library's own code runs with the selector on "allow": an exported
 *    wrapper's real call does not trap, so a send is recorded once;
 *  - the handful of calls that cannot be made from inside a handler
 *    (rt_sigreturn, clone with a new stack, vfork) are made natively from a
 *    stub the handler returns into;
 *  - SIGSYS must never be blocked or ignored when a call traps, or the
 *    kernel kills the process: the program's SIGSYS disposition is kept
 *    aside (and its non-dispatch SIGSYS passed on to it), and SIGSYS is
 *    taken out of every mask the program asks for.
 *
 * x86-64 only: the stubs and the register layout are that architecture's.
 */

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#endif
#ifndef PR_SYS_DISPATCH_ON
#define PR_SYS_DISPATCH_ON 1
#endif
#ifndef SYS_USER_DISPATCH
#define SYS_USER_DISPATCH 2 /* si_code of a dispatch SIGSYS */
#endif
#define ST_SUD_ALLOW 0
#define ST_SUD_BLOCK 1

ST_TLS volatile char st_sud_sel;
/* This thread armed Syscall User Dispatch for itself: its SIGSYS are the program's. */
static ST_TLS char st_sud_foreign;
/* This thread is armed by us (its selector is ours to set). */
static ST_TLS char st_sud_armed;
/* Where a call made natively by a stub goes on (the program's next instruction). */
ST_TLS unsigned long st_sud_cont;
/* The program's syscall instruction being recorded by the handler: its event says "via". */
ST_TLS void *st_sud_site;

int st_complete_state; /* ST_COMPLETE_* */

#if defined(__x86_64__)

/*
 * The allowed range: everything between st_sud_begin and st_sud_end. A
 * system call made from here never traps, whatever the selector says.
 *
 * st_sud_sys6(nr, a..f): the system call, result raw (-errno). It has
 *   unwind information: a thread cancelled while blocked in it (the
 *   cancellation unwinds from the cancel signal's frame) goes on out
 *   through the handler and the SIGSYS frame into the program's frames.
 * st_sud_restorer: the SIGSYS handler's return; the bytes of glibc's
 *   (mov $15,%rax; syscall), with a signal frame's unwind information, so
 *   that libunwind's backtraces and a cancellation's unwinding go on
 *   through it into the program's frames.
 * st_sud_sigreturn_at(sp): the program's own rt_sigreturn, made here on
 *   its frame (sp as the program's restorer had it).
 * st_sud_native: the program's registers restored, rax its call: makes it,
 *   then goes on at st_sud_cont (a TLS slot; rcx and r11 are the two
 *   registers a syscall instruction clobbers, so using them is invisible).
 * st_sud_clone_stack: clone with a new stack: rsi was lowered by 16 and
 *   the child's continuation written there; both sides put rsi back.
 * st_sud_clone_arm: the same for a thread glibc makes itself (a timer's
 *   SIGEV_THREAD, not through the exported pthread_create): the child arms
 *   itself first, every register the program's code may read kept.
 */
__asm__(".pushsection .text.st_sud,\"ax\",@progbits\n"
	".p2align 4\n"
	".globl st_sud_begin\n.hidden st_sud_begin\n"
	"st_sud_begin:\n"
	".globl st_sud_sys6\n.hidden st_sud_sys6\n.type st_sud_sys6,@function\n"
	"st_sud_sys6:\n"
	"	.cfi_startproc\n"
	"	movq %rdi, %rax\n"
	"	movq %rsi, %rdi\n"
	"	movq %rdx, %rsi\n"
	"	movq %rcx, %rdx\n"
	"	movq %r8, %r10\n"
	"	movq %r9, %r8\n"
	"	movq 8(%rsp), %r9\n"
	"	syscall\n"
	"	ret\n"
	"	.cfi_endproc\n"
	".size st_sud_sys6, .-st_sud_sys6\n"
	".p2align 4\n"
	/*
	 * The signal frame's unwind information, as glibc gives its own
	 * restorer: a signal frame ('S'), the frame address being the saved
	 * rsp, every register read from the ucontext at rsp (offsets of
	 * uc_mcontext.gregs: r8 at 40 ... rip at 168). It starts at the nop,
	 * since unwinders look up the return address minus one.
	 */
	"	.cfi_startproc simple\n"
	"	.cfi_signal_frame\n"
	"	.cfi_escape 0x0f, 0x04, 0x77, 0xa0, 0x01, 0x06\n" /* cfa = *(rsp + 160) */
	"	.cfi_escape 0x10, 0x08, 0x02, 0x77, 0x28\n"       /* r8 at rsp + 40 */
	"	.cfi_escape 0x10, 0x09, 0x02, 0x77, 0x30\n"       /* r9 */
	"	.cfi_escape 0x10, 0x0a, 0x02, 0x77, 0x38\n"       /* r10 */
	"	.cfi_escape 0x10, 0x0b, 0x03, 0x77, 0xc0, 0x00\n" /* r11 at 64 */
	"	.cfi_escape 0x10, 0x0c, 0x03, 0x77, 0xc8, 0x00\n" /* r12 */
	"	.cfi_escape 0x10, 0x0d, 0x03, 0x77, 0xd0, 0x00\n" /* r13 */
	"	.cfi_escape 0x10, 0x0e, 0x03, 0x77, 0xd8, 0x00\n" /* r14 */
	"	.cfi_escape 0x10, 0x0f, 0x03, 0x77, 0xe0, 0x00\n" /* r15 */
	"	.cfi_escape 0x10, 0x05, 0x03, 0x77, 0xe8, 0x00\n" /* rdi at 104 */
	"	.cfi_escape 0x10, 0x04, 0x03, 0x77, 0xf0, 0x00\n" /* rsi */
	"	.cfi_escape 0x10, 0x06, 0x03, 0x77, 0xf8, 0x00\n" /* rbp */
	"	.cfi_escape 0x10, 0x03, 0x03, 0x77, 0x80, 0x01\n" /* rbx at 128 */
	"	.cfi_escape 0x10, 0x01, 0x03, 0x77, 0x88, 0x01\n" /* rdx */
	"	.cfi_escape 0x10, 0x00, 0x03, 0x77, 0x90, 0x01\n" /* rax */
	"	.cfi_escape 0x10, 0x02, 0x03, 0x77, 0x98, 0x01\n" /* rcx */
	"	.cfi_escape 0x10, 0x10, 0x03, 0x77, 0xa8, 0x01\n" /* rip at 168 */
	"	nop\n"
	".globl st_sud_restorer\n.hidden st_sud_restorer\n.type st_sud_restorer,@function\n"
	"st_sud_restorer:\n"
	"	movq $15, %rax\n"
	"	syscall\n"
	"	.cfi_endproc\n"
	"	.byte 0, 0, 0, 0, 0, 0, 0\n"
	".size st_sud_restorer, .-st_sud_restorer\n"
	".globl st_sud_sigreturn_at\n.hidden st_sud_sigreturn_at\n"
	"st_sud_sigreturn_at:\n"
	"	movq %rdi, %rsp\n"
	"	movq $15, %rax\n"
	"	syscall\n"
	"	hlt\n"
	".globl st_sud_native\n.hidden st_sud_native\n"
	"st_sud_native:\n"
	"	syscall\n"
	"	movq st_sud_cont@gottpoff(%rip), %rcx\n"
	"	jmp *%fs:(%rcx)\n"
	".globl st_sud_clone_stack\n.hidden st_sud_clone_stack\n"
	"st_sud_clone_stack:\n"
	"	syscall\n"
	"	leaq 16(%rsi), %rsi\n"
	"	testq %rax, %rax\n"
	"	jnz 1f\n"
	"	popq %rcx\n"
	"	leaq 8(%rsp), %rsp\n"
	"	jmp *%rcx\n"
	"1:	movq st_sud_cont@gottpoff(%rip), %rcx\n"
	"	jmp *%fs:(%rcx)\n"
	".globl st_sud_clone_arm\n.hidden st_sud_clone_arm\n"
	"st_sud_clone_arm:\n"
	"	syscall\n"
	"	leaq 16(%rsi), %rsi\n"
	"	testq %rax, %rax\n"
	"	jnz 1f\n"
	"	pushq %rbx\n"
	"	movq %rsp, %rbx\n"
	"	andq $-16, %rsp\n"
	"	subq $48, %rsp\n"
	"	movq %rdi, 0(%rsp)\n"
	"	movq %rsi, 8(%rsp)\n"
	"	movq %rdx, 16(%rsp)\n"
	"	movq %r8, 24(%rsp)\n"
	"	movq %r9, 32(%rsp)\n"
	"	movq %r10, 40(%rsp)\n"
	"	call st_sud_child_arm\n"
	"	movq 0(%rsp), %rdi\n"
	"	movq 8(%rsp), %rsi\n"
	"	movq 16(%rsp), %rdx\n"
	"	movq 24(%rsp), %r8\n"
	"	movq 32(%rsp), %r9\n"
	"	movq 40(%rsp), %r10\n"
	"	movq %rbx, %rsp\n"
	"	popq %rbx\n"
	"	xorl %eax, %eax\n"
	"	popq %rcx\n"
	"	leaq 8(%rsp), %rsp\n"
	"	jmp *%rcx\n"
	"1:	movq st_sud_cont@gottpoff(%rip), %rcx\n"
	"	jmp *%fs:(%rcx)\n"
	".globl st_sud_end\n.hidden st_sud_end\n"
	"st_sud_end:\n"
	".popsection\n");

extern char st_sud_begin[] ST_HIDDEN, st_sud_end[] ST_HIDDEN;
long st_sud_sys6(long nr, long a, long b, long c, long d, long e, long f) ST_HIDDEN;
void st_sud_restorer(void) ST_HIDDEN;
__attribute__((noreturn)) void st_sud_sigreturn_at(unsigned long sp) ST_HIDDEN;
void st_sud_native(void) ST_HIDDEN;
void st_sud_clone_stack(void) ST_HIDDEN;
void st_sud_clone_arm(void) ST_HIDDEN;
void st_sud_child_arm(void) ST_HIDDEN;

#define st_sud(nr, a, b, c, d) st_sud_sys6(nr, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

/* The kernel's struct sigaction (rt_sigaction), not libc's. */
struct st_ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	unsigned long mask;
};
#define ST_SA_RESTORER 0x04000000UL
#define ST_SIGBIT(s)   (1UL << ((s)-1))

/* What the program asked for SIGSYS; ours stays installed. */
static struct st_ksigaction st_sud_prog;
typedef int (*st_pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
static st_pthread_create_fn st_real_pthread_create;

/* Copies to and from the program's memory, a bad pointer an error, never a fault. */
static long st_sud_move(void *dst, const void *src, size_t n, int to_program)
{
	struct iovec l = {to_program ? (void *)src : dst, n};
	struct iovec r = {to_program ? dst : (void *)src, n};
	long pid, got;

	if (st_sandboxed()) {
		/* Under the program's seccomp filter: no system call of ours (sandbox.c). */
		memcpy(dst, src, n);
		return 0;
	}
	pid = st_sud(SYS_getpid, 0, 0, 0, 0);
	got = st_sud_sys6(to_program ? SYS_process_vm_writev : SYS_process_vm_readv, pid, (long)&l,
			  1, (long)&r, 1, 0);

	if (got == (long)n)
		return 0;
	if (got == -EFAULT || got >= 0)
		return -EFAULT;
	/* Not allowed (a seccomp filter): the plain copy, as the kernel would read it. */
	memcpy(dst, src, n);
	return 0;
}

/* Arm the calling thread: from now on its system calls trap, but the library's own. */
static int st_sud_arm_thread(void)
{
	unsigned long mask = ST_SIGBIT(SIGSYS);
	long r;

	st_sud_sel = ST_SUD_ALLOW;
	/*
	 * A thread or child begun under the program's seccomp filter is not
	 * armed: the filter may kill on the prctl, which the program never makes.
	 */
	if (st_sandboxed())
		return -EPERM;
	(void)st_sud(SYS_rt_sigprocmask, SIG_UNBLOCK, &mask, NULL, sizeof(mask));
	r = st_sud_sys6(SYS_prctl, PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON,
			(long)st_sud_begin, (long)((uintptr_t)st_sud_end - (uintptr_t)st_sud_begin),
			(long)&st_sud_sel, 0);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (r == 0) {
		st_sud_armed = 1;
		st_sud_sel = ST_SUD_BLOCK;
	}
	return (int)r;
}

/* For the calls that must be policed even when made from inside an allowed wait (passthru.c). */
char st_complete_trapping(void)
{
	char old = st_sud_sel;

	if (st_sud_armed && !st_sud_foreign)
		st_sud_sel = ST_SUD_BLOCK;
	return old;
}

/*
 * A longjmp lands in the program, which never runs allowed: one taken out
 * of a signal handler that interrupted the library (a blocked send inside
 * an exported function, or the handler's own recording) would otherwise
 * leave the thread allowed, its later calls unseen and unpoliced.
 */
void st_complete_landing(void)
{
	if (st_sud_armed && !st_sud_foreign) {
		unsigned long mask = ST_SIGBIT(SIGSYS);

		st_sud_site = NULL;
		/* A handler that ran allowed may have blocked it, and jumps without restoring. */
		if (!st_sandboxed())
			(void)st_sud(SYS_rt_sigprocmask, SIG_UNBLOCK, &mask, NULL, 8);
		st_sud_sel = ST_SUD_BLOCK;
	}
}

/*
 * A SIGSYS that is not the dispatch's (kill, tgkill, a seccomp filter's
 * SECCOMP_RET_TRAP) goes to what the program asked for, as untraced.
 */
static void st_sud_pass_on(int sig, siginfo_t *si, void *uc)
{
	struct st_ksigaction p = st_sud_prog;
	unsigned long old, mask;
	int forced = si->si_code > 0; /* the kernel's own (seccomp): as if forced */
	int sandboxed;

	if (p.handler == SIG_IGN && !forced)
		return;
	if (p.handler == SIG_DFL || p.handler == SIG_IGN) {
		/* The default action: the program dies of SIGSYS, with a core as untraced. */
		struct st_ksigaction dfl = {SIG_DFL, 0, NULL, 0};

		(void)st_sud(SYS_rt_sigaction, SIGSYS, &dfl, NULL, 8);
		(void)st_sud(SYS_tgkill, st_sud(SYS_getpid, 0, 0, 0, 0),
			     st_sud(SYS_gettid, 0, 0, 0, 0), SIGSYS, 0);
		return; /* delivered when the handler returns */
	}
	/* Its sa_mask, as the kernel would block it (not under a filter: no call of ours). */
	sandboxed = st_sandboxed();
	mask = p.mask & ~ST_SIGBIT(SIGSYS);
	if (!sandboxed)
		(void)st_sud(SYS_rt_sigprocmask, SIG_BLOCK, &mask, &old, 8);
	if (p.flags & SA_RESETHAND)
		st_sud_prog.handler = SIG_DFL;
	if (p.flags & SA_SIGINFO)
		((void (*)(int, siginfo_t *, void *))p.handler)(sig, si, uc);
	else
		((void (*)(int))p.handler)(sig);
	if (!sandboxed)
		(void)st_sud(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8);
}

/* rt_sigaction: SIGSYS is kept aside; no handler may block SIGSYS while it runs. */
static long st_sud_sigaction(const long *a)
{
	struct st_ksigaction act, old;
	int sig = (int)a[0];
	long r;

	if (a[3] != 8)
		return -EINVAL;
	if (sig == SIGSYS) {
		old = st_sud_prog;
		if (a[1] && (r = st_sud_move(&act, (void *)a[1], sizeof(act), 0)) != 0)
			return r;
		if (a[2] && (r = st_sud_move((void *)a[2], &old, sizeof(old), 1)) != 0)
			return r;
		if (a[1])
			st_sud_prog = act;
		return 0;
	}
	if (!a[1])
		return st_sud_sys6(SYS_rt_sigaction, a[0], 0, a[2], 8, 0, 0);
	if ((r = st_sud_move(&act, (void *)a[1], sizeof(act), 0)) != 0)
		return r;
	act.mask &= ~ST_SIGBIT(SIGSYS);
	return st_sud_sys6(SYS_rt_sigaction, a[0], (long)&act, a[2], 8, 0, 0);
}

/* A mask argument the kernel would block for a while: the same, SIGSYS left out. */
static long st_sud_unmasked(long nr, const long *a, int at)
{
	unsigned long mask;
	long b[6], r;

	memcpy(b, a, sizeof(b));
	if (a[at]) {
		if ((r = st_sud_move(&mask, (void *)a[at], sizeof(mask), 0)) != 0)
			return r;
		mask &= ~ST_SIGBIT(SIGSYS);
		b[at] = (long)&mask;
	}
	return st_sud_sys6(nr, b[0], b[1], b[2], b[3], b[4], b[5]);
}

static long st_sud_pselect(const long *a)
{
	struct {
		const unsigned long *set;
		size_t len;
	} w;
	unsigned long mask;
	long r;

	if (!a[5])
		return st_sud_sys6(SYS_pselect6, a[0], a[1], a[2], a[3], a[4], 0);
	if ((r = st_sud_move(&w, (void *)a[5], sizeof(w), 0)) != 0)
		return r;
	if (w.set) {
		if ((r = st_sud_move(&mask, w.set, sizeof(mask), 0)) != 0)
			return r;
		mask &= ~ST_SIGBIT(SIGSYS);
		w.set = &mask;
	}
	return st_sud_sys6(SYS_pselect6, a[0], a[1], a[2], a[3], a[4], (long)&w);
}

/*
 * glibc's own threads: made by glibc's clone (the instruction lies in
 * libc's text), with a thread pointer of glibc's making, so the library's
 * thread-local variables are where it expects them in the child. Anything
 * else (a runtime's raw clone, Go's) may have a thread pointer of its own:
 * its child is not touched.
 */
static unsigned long st_libc_lo, st_libc_hi;

static int st_sud_glibc_thread(unsigned long flags, unsigned long at)
{
	unsigned long want = CLONE_VM | CLONE_THREAD | CLONE_SETTLS | CLONE_SIGHAND;

	return (flags & want) == want && at >= st_libc_lo && at < st_libc_hi;
}

static int st_libc_text(struct dl_phdr_info *info, size_t size, void *arg)
{
	unsigned long at = (unsigned long)arg;
	int i;

	(void)size;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		unsigned long lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && at >= lo &&
		    at < lo + ph->p_memsz) {
			st_libc_lo = lo;
			st_libc_hi = lo + ph->p_memsz;
			return 1;
		}
	}
	return 0;
}

/* The child's first steps, from st_sud_clone_arm: armed before glibc's start_thread runs. */
void st_sud_child_arm(void)
{
	if (st_sud_arm_thread() != 0)
		st_sud_sel = ST_SUD_ALLOW;
}

/*
 * clone, vfork: a child that shares this memory cannot come back through
 * this handler (its stack is another, or it is this one, which the parent
 * needs intact), so the call is made natively by a stub the handler returns
 * into, and both sides go on at the program's next instruction. A child
 * with a memory of its own (fork) comes back here like any call, and is
 * armed for itself.
 */
static int st_sud_clone(greg_t *g, long nr, const long *a, long *ret)
{
	unsigned long flags = nr == SYS_clone ? (unsigned long)a[0] : 0;
	unsigned long sp = nr == SYS_clone ? (unsigned long)a[1] : 0;
	long r;

	if (nr == SYS_fork || (nr == SYS_clone && !(flags & CLONE_VM) && !sp)) {
		r = st_sud_sys6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		if (r == 0 && st_sud_arm_thread() != 0)
			st_sud_sel = ST_SUD_ALLOW;
		*ret = r;
		return 0;
	}
	st_sud_cont = (unsigned long)g[REG_RIP];
	g[REG_RAX] = nr;
	if (sp) {
		unsigned long slot[2] = {(unsigned long)g[REG_RIP], 0};

		if (st_sud_move((void *)(sp - sizeof(slot)), slot, sizeof(slot), 1) != 0) {
			*ret = -EFAULT; /* no stack to start on: the kernel's child would fault */
			return 0;
		}
		g[REG_RSI] = (greg_t)(sp - sizeof(slot));
		g[REG_RIP] = (greg_t)(st_sud_glibc_thread(flags, (unsigned long)st_sud_cont)
					  ? st_sud_clone_arm
					  : st_sud_clone_stack);
	} else {
		g[REG_RIP] = (greg_t)st_sud_native;
	}
	return 1;
}

/*
 * What an fd number names changed without an exported call (glibc's
 * resolver closes its netlink socket and opens a UDP one on the same number
 * from inside libc): the fd table hears of it at once, not at its recheck.
 */
static void st_sud_fds(long nr, const long *a, long r)
{
	int sv[2];

	if (r < 0)
		return;
	switch (nr) {
	case SYS_socket:
	case SYS_accept:
	case SYS_accept4:
		st_fd_changed((int)r);
		break;
	case SYS_socketpair:
		if (st_sud_move(sv, (void *)a[3], sizeof(sv), 0) == 0) {
			st_fd_changed(sv[0]);
			st_fd_changed(sv[1]);
		}
		break;
	case SYS_connect:
	case SYS_bind:
		st_fd_changed((int)a[0]);
		break;
	case SYS_fcntl:
		if (a[1] == F_DUPFD || a[1] == F_DUPFD_CLOEXEC)
			st_fd_changed((int)r);
		break;
	case SYS_dup:
		st_fd_changed((int)r);
		break;
	}
}

/*
 * rt_sigprocmask: the mask the program goes back to is the one saved in
 * the handler's frame, which the kernel restores at sigreturn; a mask set
 * from inside the handler would be undone there. So the frame's is read
 * and changed, SIGSYS always left out of it.
 */
static long st_sud_sigprocmask(ucontext_t *uc, const long *a)
{
	unsigned long *cur = (unsigned long *)(void *)&uc->uc_sigmask, old = *cur, set, now = old;
	long r;

	if (a[3] != 8)
		return -EINVAL;
	if (a[1]) {
		if ((r = st_sud_move(&set, (void *)a[1], sizeof(set), 0)) != 0)
			return r;
		if (a[0] == SIG_BLOCK)
			now = old | set;
		else if (a[0] == SIG_UNBLOCK)
			now = old & ~set;
		else if (a[0] == SIG_SETMASK)
			now = set;
		else
			return -EINVAL;
		now &= ~(ST_SIGBIT(SIGSYS) | ST_SIGBIT(SIGKILL) | ST_SIGBIT(SIGSTOP));
	}
	if (a[2] && (r = st_sud_move((void *)a[2], &old, sizeof(old), 1)) != 0)
		return r;
	*cur = now;
	return 0;
}

/* A trapped send, made and recorded by its tracer (wrap.c). */
struct st_sud_job {
	long nr;
	const long *a;
	void *site;
	long r;
};

static void st_sud_job_run(void *p)
{
	struct st_sud_job *job = p;

	job->r = st_wrap_trapped(job->nr, job->a, job->site);
}

/*
 * Trapped on a sigaltstack (a program's signal handler there sends) with
 * less room left than the tracer may need: on the thread's trap stack
 * (thread.c) instead. A backtrace taken there stops at the switch, so the
 * program's own stack is used whenever it has room.
 */
#define ST_SUD_ROOM (24u << 10)

static void st_sud_record(struct st_sud_job *job, const ucontext_t *uc)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	uintptr_t lo = (uintptr_t)uc->uc_stack.ss_sp;
	struct st_thread *t;
	char *top;

	/* The frame holds the thread's sigaltstack as set (its flags not SS_ONSTACK): where sp is tells. */
	if (!(uc->uc_stack.ss_flags & SS_DISABLE) && sp > lo && sp - lo < uc->uc_stack.ss_size &&
	    sp - lo < ST_SUD_ROOM &&
	    (t = st_thread_get()) != NULL && (top = st_thread_trap_stack(t)) != NULL) {
		st_on_stack(top, st_sud_job_run, job);
		return;
	}
	st_sud_job_run(job);
}

static void st_sud_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;
	int saved = errno;
	long nr, r, a[6];

	if (si->si_code != SYS_USER_DISPATCH || st_sud_foreign) {
		st_sud_pass_on(sig, si, ucv);
		errno = saved;
		return;
	}
	nr = si->si_syscall;
	a[0] = g[REG_RDI];
	a[1] = g[REG_RSI];
	a[2] = g[REG_RDX];
	a[3] = g[REG_R10];
	a[4] = g[REG_R8];
	a[5] = g[REG_R9];
	switch (nr) {
	case SYS_rt_sigreturn: {
		/* The mask a handler left in its frame: never with SIGSYS in it. */
		unsigned long *m = (unsigned long *)(void *)&((ucontext_t *)g[REG_RSP])->uc_sigmask;

		if (*m & ST_SIGBIT(SIGSYS))
			*m &= ~ST_SIGBIT(SIGSYS);
		st_sud_sigreturn_at((unsigned long)g[REG_RSP]);
	}
		__builtin_unreachable();
	case SYS_clone3:
		/* glibc, and most callers, fall back to clone, handled below. */
		r = -ENOSYS;
		break;
	case SYS_clone:
	case SYS_fork:
	case SYS_vfork:
		if (st_sud_clone(g, nr, a, &r)) {
			errno = saved;
			return;
		}
		break;
	case SYS_rt_sigaction:
		r = st_sud_sigaction(a);
		break;
	case SYS_rt_sigprocmask:
		r = st_sud_sigprocmask(uc, a);
		break;
	case SYS_rt_sigsuspend:
		r = st_sud_unmasked(nr, a, 0);
		break;
	case SYS_ppoll:
		r = st_sud_unmasked(nr, a, 3);
		break;
	case SYS_epoll_pwait:
#ifdef SYS_epoll_pwait2
	case SYS_epoll_pwait2:
#endif
		r = st_sud_unmasked(nr, a, 4);
		break;
	case SYS_pselect6:
		r = st_sud_pselect(a);
		break;
	case SYS_close:
	case SYS_close_range:
	case SYS_dup:
	case SYS_dup2:
	case SYS_dup3:
	case SYS_fcntl:
	case SYS_seccomp:
	case SYS_prctl:
		/* As the exported syscall() takes them: our fds guarded, filters learned. */
		if (nr == SYS_prctl && a[0] == PR_SET_SYSCALL_USER_DISPATCH)
			st_complete_foreign();
		if (nr == SYS_prctl && a[0] != PR_SET_SECCOMP)
			goto plain;
		st_sud_sel = ST_SUD_ALLOW;
		r = st_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		if (r == -1)
			r = -errno;
		st_sud_sel = ST_SUD_BLOCK;
		st_sud_fds(nr, a, r);
		break;
	case SYS_socket:
	case SYS_socketpair:
	case SYS_accept:
	case SYS_accept4:
	case SYS_connect:
	case SYS_bind:
		r = st_sud_sys6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		st_sud_fds(nr, a, r);
		break;
	case SYS_sendto:
	case SYS_sendmsg:
	case SYS_sendmmsg:
	case SYS_write:
	case SYS_writev:
	case SYS_sendfile:
		if (!st_fd_is_ours((int)a[0])) {
			struct st_sud_job job = {nr, a, (void *)g[REG_RIP], 0};

			st_sud_sel = ST_SUD_ALLOW;
			st_sud_site = job.site;
			st_sud_record(&job, uc);
			r = job.r;
			st_sud_site = NULL;
			st_sud_sel = ST_SUD_BLOCK;
			break;
		}
		/* The library's own file, written while not allowed: made as it is. */
		__attribute__((fallthrough));
	default:
	plain:
		r = st_sud_sys6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		break;
	}
	g[REG_RAX] = r;
	errno = saved;
}

/* Any handler already installed (another library's, before us) stops blocking SIGSYS. */
static void st_sud_unmask_handlers(void)
{
	struct st_ksigaction k;
	int s;

	for (s = 1; s <= 64; s++) {
		if (s == SIGKILL || s == SIGSTOP || s == SIGSYS)
			continue;
		if (st_sud(SYS_rt_sigaction, s, NULL, &k, 8) != 0 || k.handler == SIG_DFL ||
		    k.handler == SIG_IGN || !(k.mask & ST_SIGBIT(SIGSYS)))
			continue;
		k.mask &= ~ST_SIGBIT(SIGSYS);
		(void)st_sud(SYS_rt_sigaction, s, &k, NULL, 8);
	}
}

static void st_complete_fail(const char *why)
{
	st_complete_state = ST_COMPLETE_UNAVAILABLE;
	st_warn("complete mode is not available (", why,
		"); recording calls through the exported functions only");
}

void st_complete_init(void)
{
	/*
	 * On the thread's own stack, not a sigaltstack: programs set up small
	 * ones (2 KiB to 8 KiB) for their SIGSEGV handlers, and the handler,
	 * which records sends, needs more. Except in Go, whose goroutine
	 * stacks are the small ones and whose threads all have a 32 KiB
	 * signal stack, which every handler is expected to use.
	 */
	struct st_ksigaction ours = {(void *)st_sud_handler,
				     SA_SIGINFO | SA_NODEFER | ST_SA_RESTORER |
					 (st_untrace_go() ? SA_ONSTACK : 0),
				     (void *)st_sud_restorer, 0};
	long r;

	if (!st_config.complete)
		return;
	st_real_pthread_create =
	    (st_pthread_create_fn)(uintptr_t)dlsym(RTLD_NEXT, "pthread_create");
	if ((r = st_sud(SYS_rt_sigaction, SIGSYS, &ours, &st_sud_prog, 8)) != 0) {
		st_complete_fail("SIGSYS cannot be caught");
		return;
	}
	if ((r = st_sud_arm_thread()) != 0) {
		(void)st_sud(SYS_rt_sigaction, SIGSYS, &st_sud_prog, NULL, 8);
		st_complete_fail(
		    r == -EINVAL ? "the kernel has no Syscall User Dispatch: Linux 5.11 or later"
		    : r == -EPERM || r == -EACCES ? "prctl was refused: a seccomp filter?"
						  : "prctl(PR_SET_SYSCALL_USER_DISPATCH) failed");
		return;
	}
	st_sud_unmask_handlers();
	if (st_real.write)
		dl_iterate_phdr(st_libc_text, (void *)(uintptr_t)st_real.write);
	st_complete_state = ST_COMPLETE_ARMED;
	/* Every exported call takes the slow path now: a forwarded one would trap. */
	__atomic_store_n(&st_fds_held, 1, __ATOMIC_RELEASE);
}

/*
 * The program arms Syscall User Dispatch in a thread itself (Wine does):
 * its configuration replaces ours there, so that thread's SIGSYS are all
 * the program's from now on, and its calls outside the exports unseen.
 */
void st_complete_foreign(void)
{
	static int warned;

	if (st_complete_state != ST_COMPLETE_ARMED || st_sud_foreign)
		return;
	st_sud_foreign = 1;
	if (!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
		st_warn("complete mode: the program uses Syscall User Dispatch itself; ",
			"the threads that arm it are left to it", "");
}

/* fork()'s child, by the atfork handler: the dispatch is the parent's thread's, not ours. */
void st_complete_after_fork(void)
{
	/* "allow" when a raw fork's child learns of it inside the handler's tracer: kept. */
	char sel = st_sud_sel;

	if (st_complete_state == ST_COMPLETE_ARMED && st_sud_arm_thread() != 0)
		st_sud_sel = ST_SUD_ALLOW;
	else
		st_sud_sel = sel;
}

/* New threads are armed as they start, before the program's function runs. */
struct st_sud_start {
	void *(*fn)(void *);
	void *arg;
};

static void *st_sud_thread(void *p)
{
	struct st_sud_start s = *(struct st_sud_start *)p;
	static int warned;

	free(p);
	if (st_sud_arm_thread() != 0) {
		st_sud_sel = ST_SUD_ALLOW;
		if (!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
			st_warn("complete mode: a thread could not be armed; ",
				"its system calls outside the exported functions are not seen", "");
	}
	return s.fn(s.arg);
}

static int st_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
			     void *arg)
{
	st_pthread_create_fn next = st_real_pthread_create;
	struct st_sud_start *s;
	char sel = st_sud_sel;
	int r;

	if (!next)
		next = st_real_pthread_create =
		    (st_pthread_create_fn)(uintptr_t)dlsym(RTLD_NEXT, "pthread_create");
	if (st_complete_state != ST_COMPLETE_ARMED || !(s = malloc(sizeof(*s))))
		return next(t, attr, fn, arg);
	s->fn = fn;
	s->arg = arg;
	st_sud_sel = ST_SUD_ALLOW;
	r = next(t, attr, st_sud_thread, s);
	st_sud_sel = sel;
	if (r != 0)
		free(s);
	return r;
}

ST_EXPORT int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
			     void *arg)
{
	return st_pthread_create(t, attr, fn, arg);
}

#else /* not x86-64 */

void st_complete_init(void)
{
	if (st_config.complete) {
		st_complete_state = ST_COMPLETE_UNAVAILABLE;
		st_warn("complete mode is not available (", "x86-64 only, for now",
			"); recording calls through the exported functions only");
	}
}

void st_complete_after_fork(void)
{
}

void st_complete_foreign(void)
{
}

void st_complete_landing(void)
{
}

char st_complete_trapping(void)
{
	return st_sud_sel;
}

#endif
