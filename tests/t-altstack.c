/* t-altstack.c: a SIGSEGV handler on a legacy 8 KiB sigaltstack sends a crash report, traced. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/*
 * Crash reporters run their handler on a sigaltstack, because the fault may
 * be a stack overflow. Many still size it with the legacy SIGSTKSZ, 8 KiB,
 * of which the kernel's signal frame alone takes about 3.4 KiB on a machine
 * with AVX-512. Every byte the tracer needs inside send() and write() comes
 * out of what is left. The altstack sits on a PROT_NONE page, so a tracer
 * that needs too much crashes the program instead of silently scribbling
 * below it.
 */
#define ALT_SIZE     8192
#define PATTERN	     0xA5
#define HELLO_SEND   5
#define HELLO_WRITE  6
#define REPORT_SEND  96
#define REPORT_WRITE 160
#define PEER_TOTAL   (HELLO_SEND + HELLO_WRITE + REPORT_SEND + REPORT_WRITE)

static int conn, resfd = -1;
static unsigned char *alt;
static char report[REPORT_SEND + REPORT_WRITE];
static int *volatile nowhere; /* NULL, but the compiler cannot know: a real store faults */

/* A real NULL-pointer store. Under --enable-sanitizers, UBSan would stop it before it faults. */
__attribute__((noinline, no_sanitize_address, no_sanitize_undefined)) static void crash(void)
{
	*nowhere = 42;
}

/* Async-signal-safe: the results line is formatted by hand and written with the raw syscall,
 * which neither the tracer nor stdio sees. */
static void say_free(size_t n)
{
	char line[40] = "altstack_free ", *p = line + 14, digits[20];
	int k = 0;

	do
		digits[k++] = (char)('0' + n % 10);
	while ((n /= 10));
	while (k)
		*p++ = digits[--k];
	*p++ = '\n';
	syscall(SYS_write, resfd, line, (size_t)(p - line));
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	ssize_t a, b;
	size_t untouched;
	char line[24] = "sent ";

	(void)sig;
	(void)si;
	(void)uc;
	a = send(conn, report, REPORT_SEND, MSG_NOSIGNAL);
	b = write(conn, report + REPORT_SEND, REPORT_WRITE);
	/* The stack grows down: the pattern left at the bottom was never reached. */
	for (untouched = 0; untouched < ALT_SIZE && alt[untouched] == PATTERN; untouched++)
		;
	say_free(untouched);
	line[5] = a == REPORT_SEND ? 'y' : 'n';
	line[6] = b == REPORT_WRITE ? 'y' : 'n';
	line[7] = '\n';
	syscall(SYS_write, resfd, line, 8);
	_exit(0);
}

void th_workload(void)
{
	struct sockaddr_in sin;
	struct sigaction sa;
	stack_t ss;
	unsigned char *region;
	long page = sysconf(_SC_PAGESIZE);
	size_t i;

	resfd = open(getenv("TH_RESULTS"), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)atoi(getenv("TH_PORT")));
	conn = socket(AF_INET, SOCK_STREAM, 0);
	if (conn < 0 || connect(conn, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		perror("connect to the checker");
		exit(3);
	}
	for (i = 0; i < sizeof(report); i++)
		report[i] = (char)('a' + i % 26);
	/* Before the crash: binds send's and write's PLT entries on the main stack. */
	send(conn, "hello", HELLO_SEND, MSG_NOSIGNAL);
	(void)!write(conn, "hello!", HELLO_WRITE);

	/* Three pages: the lowest a guard, the two above it the altstack. */
	region = mmap(NULL, (size_t)page + ALT_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED || mprotect(region, (size_t)page, PROT_NONE) != 0) {
		perror("altstack");
		exit(3);
	}
	alt = region + page;
	memset(alt, PATTERN, ALT_SIZE);
	ss.ss_sp = alt;
	ss.ss_size = ALT_SIZE;
	ss.ss_flags = 0;
	sigaltstack(&ss, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	crash();
	exit(4); /* not reached */
}

/* Everything the workload sends, read until it closes (its exit), or a 15 s deadline. */
static long read_peer(int lis, pid_t pid, int *status)
{
	struct timespec t0, now;
	char buf[4096];
	long got = -1;
	int c = -1, waited = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = {c >= 0 ? c : lis, POLLIN, 0};

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > 15) {
			TH_OK(0, "the workload finishes within 15 s");
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&p, 1, 100) <= 0) {
			/* A workload that died before connecting never closes anything. */
			if (c < 0 && waitpid(pid, status, WNOHANG) == pid) {
				waited = 1;
				break;
			}
			continue;
		}
		if (c < 0) {
			c = accept(lis, NULL, NULL);
			got = 0;
			continue;
		}
		{
			ssize_t n = recv(c, buf, sizeof(buf), 0);

			if (n <= 0)
				break;
			got += n;
		}
	}
	if (c >= 0)
		close(c);
	if (!waited)
		*status = th_wait(pid);
	return got;
}

static void run(const char *what, int traced, const char *bt)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	char port[32];
	/* Under --enable-sanitizers, the SIGSEGV is the program's, not ASan's. */
	const char *env[] = {port,
			     "ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0:handle_segv=0:"
			     "allow_user_segv_handler=1",
			     bt, NULL};
	int lis = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), status = -1;
	long got, freeb;
	char *res;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lis < 0 || bind(lis, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(lis, 1) != 0 || getsockname(lis, (struct sockaddr *)&sin, &sl) != 0) {
		perror("listen");
		exit(99);
	}
	snprintf(port, sizeof(port), "TH_PORT=%d", ntohs(sin.sin_port));
	unlink(th_trace_path());
	got = read_peer(lis, th_spawn(traced, env), &status);
	close(lis);
	res = th_results();
	freeb = th_value(res, "altstack_free", 0, -1);
	TH_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "%s: the handler ran to _exit(0) (status %#x%s)", what, status,
	      WIFSIGNALED(status) ? ", killed by a signal: the altstack overflowed" : "");
	TH_OK(got == PEER_TOTAL, "%s: the peer got all %d bytes, hello and report (got %ld)", what,
	      PEER_TOTAL, got);
	TH_OK(strstr(res, "sent yy") != NULL, "%s: send and write in the handler returned in full",
	      what);
	printf("# %s: altstack_free %ld of %d bytes never touched\n", what, freeb, ALT_SIZE);
	TH_OK(freeb > 0, "%s: some of the altstack was never touched (%ld bytes)", what, freeb);
	free(res);
	if (!traced)
		return;
	th_load();
	TH_OK(th_find("send", HELLO_SEND, 0) && th_find("write", HELLO_WRITE, 0),
	      "%s: the sends before the crash are in the trace", what);
	TH_OK(th_find("send", REPORT_SEND, 0) != NULL,
	      "%s: the handler's send of %d bytes is in the trace", what, REPORT_SEND);
	TH_OK(th_find("write", REPORT_WRITE, 0) != NULL,
	      "%s: the handler's write of %d bytes is in the trace", what, REPORT_WRITE);
	TH_OK(th_count("call", NULL) == 4, "%s: four call events in all (got %zu)", what,
	      th_count("call", NULL));
}

static int altstack_main(void)
{
	run("untraced", 0, NULL);
	run("traced", 1, NULL);
	run("traced with SENDTRACE_BACKTRACE=8", 1, "SENDTRACE_BACKTRACE=8");
	return 0;
}

__attribute__((constructor)) static void setup(void)
{
	th_main_hook = altstack_main;
}

void th_check(void)
{
}
