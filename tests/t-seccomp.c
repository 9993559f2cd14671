/* t-seccomp.c: a program that sandboxes itself with a seccomp allowlist still runs, and is still traced. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/*
 * Daemons (sshd, chrony, systemd services with SystemCallFilter=) drop to a
 * seccomp allowlist of exactly the system calls they need. After that the
 * tracer may not make a system call of its own that is not on the list
 * (fstat, getsockname, mmap, lseek, process_vm_readv...): under
 * SECCOMP_RET_KILL_PROCESS the first one kills the program with SIGSYS; under
 * SECCOMP_RET_ERRNO it fails, and the events must not silently vanish. The
 * program below uses, after the filter, only sendto (send), sendmsg, write
 * and exit_group; the list also has writev, exit and rt_sigreturn, as such
 * lists usually do. Not clock_gettime or gettid: clock_gettime is vDSO on
 * x86-64, so a program's own list does not need it.
 */
#define SETUP_LEN 7 /* lengths tell the setup calls from the sandboxed ones */
#define SEND_LEN  3
#define MSG_LEN	  5
#define WRITE_LEN 4
#define N_SEND	  100
#define N_MSG	  20
#define N_WRITE	  10
#define MORE_LEN  2
#define N_MORE	  2000

#define ALLOW(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
		  BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

static int install_filter(const char *how)
{
	unsigned deny = strcmp(how, "errno") == 0 ? SECCOMP_RET_ERRNO | EPERM
						  : SECCOMP_RET_KILL_PROCESS;
	struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    ALLOW(__NR_sendto),
	    ALLOW(__NR_sendmsg),
	    ALLOW(__NR_write),
	    ALLOW(__NR_writev),
	    ALLOW(__NR_exit),
	    ALLOW(__NR_exit_group),
	    ALLOW(__NR_rt_sigreturn),
	    BPF_STMT(BPF_RET | BPF_K, deny),
	};
	struct sock_fprog prog = {(unsigned short)(sizeof(f) / sizeof(f[0])), f};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	if (strcmp(how, "syscall") == 0)
		return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

/*
 * Nothing can be reported from inside the sandbox but the exit status: each
 * call that does not do what it does untraced gives its own status.
 */
void th_workload(void)
{
	const char *how = getenv("ST_SECCOMP");
	char setup[SETUP_LEN] = "setup!";
	struct iovec iov = {(char *)"hello", MSG_LEN}, siov = {setup, SETUP_LEN};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	struct msghdr smsg = {.msg_iov = &siov, .msg_iovlen = 1};
	struct msghdr bad = {.msg_iovlen = 1};
	void *gone;
	int sp[2], i;

#ifndef __x86_64__
	exit(77);
#endif
	/* Nobody reads inside the sandbox: the socket buffer holds all 580 bytes. */
	if (!how || socketpair(AF_UNIX, SOCK_STREAM, 0, sp) != 0)
		exit(90);
	/* Setup: one of each kind, before the filter, as a daemon would. */
	if (send(sp[0], setup, SETUP_LEN, 0) != SETUP_LEN ||
	    sendmsg(sp[0], &smsg, 0) != SETUP_LEN || write(sp[0], setup, SETUP_LEN) != SETUP_LEN)
		exit(91);
	/* An address that certainly is not mapped, for the failing sendmsg. */
	gone = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (gone == MAP_FAILED || munmap(gone, 4096) != 0)
		exit(92);
	bad.msg_iov = gone;
	fflush(NULL);
	if (install_filter(how) != 0)
		exit(93);

	for (i = 0; i < N_SEND; i++)
		if (send(sp[0], "abc", SEND_LEN, 0) != SEND_LEN)
			exit(10);
	for (i = 0; i < N_MSG; i++)
		if (sendmsg(sp[0], &msg, 0) != MSG_LEN)
			exit(11);
	errno = 0;
	if (sendmsg(sp[0], &bad, 0) != -1 || errno != EFAULT)
		exit(12);
	for (i = 0; i < N_WRITE; i++)
		if (write(sp[0], "wxyz", WRITE_LEN) != WRITE_LEN)
			exit(13);
	/* More than the room claimed ahead can hold (the size cap variant): 2 bytes each. */
	for (i = 0; getenv("ST_SECCOMP_MORE") && i < N_MORE; i++)
		(void)send(sp[0], "mo", MORE_LEN, MSG_DONTWAIT); /* EAGAIN once the buffer is full */
	exit(0);
}

static size_t count_calls(const char *call, long long len, long long ret)
{
	size_t i, n = 0;
	json_t *ev;

	json_array_foreach (th_events(), i, ev) {
		json_t *c = json_object_get(ev, "call");

		if (c && !strcmp(json_string_value(c), call) &&
		    json_integer_value(json_object_get(ev, "len")) == len &&
		    json_integer_value(json_object_get(ev, "ret")) == ret)
			n++;
	}
	return n;
}

static size_t count_efault(void)
{
	size_t i, n = 0;
	json_t *ev;

	json_array_foreach (th_events(), i, ev) {
		json_t *c = json_object_get(ev, "call"), *e = json_object_get(ev, "errno");

		if (c && !strcmp(json_string_value(c), "sendmsg") && e &&
		    json_is_string(e) && !strcmp(json_string_value(e), "EFAULT") &&
		    json_integer_value(json_object_get(ev, "ret")) == -1)
			n++;
	}
	return n;
}

static const char *describe(int status)
{
	static char buf[64];

	if (WIFEXITED(status))
		snprintf(buf, sizeof(buf), "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, sizeof(buf), "killed by signal %d%s", WTERMSIG(status),
			 WTERMSIG(status) == SIGSYS ? " (SIGSYS)" : "");
	else
		snprintf(buf, sizeof(buf), "status %#x", status);
	return buf;
}

static void variant(const char *how)
{
	char env[64];
	const char *extra[] = {env, NULL};
	int plain, traced;

	snprintf(env, sizeof(env), "ST_SECCOMP=%s", how);
	plain = th_run(0, extra);
	if (WIFEXITED(plain) && WEXITSTATUS(plain) == 77)
		th_skip("the seccomp filter here is written for x86-64 only");
	if (WIFEXITED(plain) && WEXITSTATUS(plain) == 93)
		th_skip("this kernel does not let a program install a seccomp filter");
	/* The filter itself must be right, or the traced run proves nothing. */
	TH_OK(WIFEXITED(plain) && WEXITSTATUS(plain) == 0, "%s: untraced, the sandboxed program exits 0 (%s)",
	      how, describe(plain));
	unlink(th_trace_path());
	traced = th_run(1, extra);
	TH_OK(traced == plain, "%s: traced, it ends exactly as untraced (%s)", how,
	      describe(traced));
	th_load();
	TH_OK(count_calls("send", SETUP_LEN, SETUP_LEN) == 1, "%s: the setup send is traced", how);
	TH_OK(count_calls("send", SEND_LEN, SEND_LEN) == N_SEND,
	      "%s: all %d sends after the filter are traced (got %zu)", how, N_SEND,
	      count_calls("send", SEND_LEN, SEND_LEN));
	TH_OK(count_calls("sendmsg", MSG_LEN, MSG_LEN) == N_MSG,
	      "%s: all %d sendmsg after the filter are traced (got %zu)", how, N_MSG,
	      count_calls("sendmsg", MSG_LEN, MSG_LEN));
	TH_OK(count_efault() == 1, "%s: the failing sendmsg is traced with errno EFAULT (got %zu)",
	      how, count_efault());
	TH_OK(count_calls("write", WRITE_LEN, WRITE_LEN) == N_WRITE,
	      "%s: all %d writes to the socket after the filter are traced (got %zu)", how,
	      N_WRITE, count_calls("write", WRITE_LEN, WRITE_LEN));
}

/*
 * A size cap with rotation: no file can be opened in the sandbox, so the
 * room claimed before the filter (cut to what one file may hold) is all
 * there is. The program must end as untraced, not die of a rotation
 * attempted inside the sandbox, and the file stay within the cap.
 */
static void variant_capped(void)
{
	const char *extra[] = {"ST_SECCOMP=prctl", "ST_SECCOMP_MORE=1", "SENDTRACE_MAX_SIZE=64k",
			       "SENDTRACE_ROTATE=2", NULL};
	int plain, traced;
	size_t more;
	struct stat sb;
	char old[4200];

	plain = th_run(0, extra);
	TH_OK(WIFEXITED(plain) && WEXITSTATUS(plain) == 0,
	      "capped: untraced, the sandboxed program exits 0 (%s)", describe(plain));
	unlink(th_trace_path());
	traced = th_run(1, extra);
	TH_OK(traced == plain, "capped, rotating: traced, it ends exactly as untraced (%s)",
	      describe(traced));
	if (stat(th_trace_path(), &sb) != 0)
		sb.st_size = -1;
	TH_OK(sb.st_size > 0 && sb.st_size <= 65536,
	      "capped: the file stays within the cap (%lld bytes)", (long long)sb.st_size);
	th_load();
	TH_OK(count_calls("send", SEND_LEN, SEND_LEN) == N_SEND,
	      "capped: all %d sends after the filter are traced", N_SEND);
	more = th_count("call", "send") - N_SEND;
	TH_OK(more > 20 && more < N_MORE,
	      "capped: then as many more as the room claimed ahead holds (%zu of %d)", more,
	      N_MORE);
	/* The setup's file, rotated to make that room. */
	snprintf(old, sizeof(old), "%s.1", th_trace_path());
	unlink(old);
}

static int run_variants(void)
{
#ifdef TH_ASAN
	th_skip("this build has ASan: its runtime makes system calls (mmap) that an allowlist of the program's own calls refuses");
#endif
	/* (a) the classic prctl, (b) the seccomp(2) system call, (c) EPERM instead of death. */
	variant("prctl");
	variant("syscall");
	variant("errno");
	variant_capped();
	return 0;
}

void th_check(void)
{
}

__attribute__((constructor)) static void setup(void)
{
	th_main_hook = run_variants;
}
