/* t-unmap.c: a call's memory unmapped by another thread right after the call never crashes the tracer. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/*
 * The kernel copies a call's arguments (msghdr, iovec array, address, data)
 * when the call starts. A tracer that decodes them after the call returns
 * reads memory that another thread may have unmapped in between: a plain
 * memcpy of it is a SIGSEGV in the traced program, where untraced the program
 * at worst got EFAULT and went on. Thread 1 loops over a call whose argument
 * structures live on one page; thread 2 unmaps that page and maps it back
 * (refilled) over and over. Untraced the program sees some EFAULTs; traced it
 * must see the same kind of thing and exit 0.
 */
#define RUN_MS	  400
#define MAX_CALLS 40000 /* a bound on the trace's size, to keep parsing it quick */
#define RUNS	  3

struct page {
	struct msghdr msg;
	struct mmsghdr mm[4];
	struct iovec iov[2];
	struct sockaddr_in to;
	char data[64];
};

static char *region; /* three pages: guard, the flapping page, guard */
static long pagesz;
static struct page *pg;
static struct sockaddr_in dest;
static volatile int stop;
static long ok_calls, efault_calls, other_errors, flaps, stolen;

/* Everything the calls point to, on the page itself. */
static void fill(struct page *p)
{
	int i;

	memset(p, 0, sizeof(*p));
	memcpy(p->data, "payload on a page that comes and goes", 37);
	p->to = dest;
	p->iov[0].iov_base = p->data;
	p->iov[0].iov_len = 20;
	p->iov[1].iov_base = p->data + 20;
	p->iov[1].iov_len = 17;
	p->msg.msg_name = &p->to;
	p->msg.msg_namelen = sizeof(p->to);
	p->msg.msg_iov = p->iov;
	p->msg.msg_iovlen = 2;
	for (i = 0; i < 4; i++)
		p->mm[i].msg_hdr = p->msg;
}

static void *flapper(void *arg)
{
	(void)arg;
	while (!stop) {
		void *m;

		munmap(pg, (size_t)pagesz);
		/*
		 * Only this page's own hole: NOREPLACE, so that if something else
		 * was mapped there meanwhile (it cannot be, between two guard
		 * pages, unless it is a single page) we stop instead of clobbering it.
		 */
		m = mmap(pg, (size_t)pagesz, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (m != (void *)pg) {
			if (m != MAP_FAILED)
				munmap(m, (size_t)pagesz);
			stolen = 1;
			stop = 1;
			break;
		}
		fill(pg);
		flaps++;
	}
	return NULL;
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

void th_workload(void)
{
	const char *call = getenv("ST_UNMAP");
	int capped = getenv("SENDTRACE_OUTPUT") != NULL; /* only a traced run has a trace to parse */
	unsigned int dlen;
	int rx, tx, i;
	pthread_t th;
	struct timespec t0;

	if (!call)
		exit(89);
	pagesz = sysconf(_SC_PAGESIZE);
	rx = th_udp_receiver(AF_INET, &dest, &dlen); /* never read: the kernel drops the excess */
	tx = socket(AF_INET, SOCK_DGRAM, 0);
	if (tx < 0 || (!strcmp(call, "writev") && connect(tx, (struct sockaddr *)&dest, dlen) != 0))
		exit(90);
	region = mmap(NULL, 3 * (size_t)pagesz, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED)
		exit(91);
	pg = (struct page *)(region + pagesz);
	if (mprotect(pg, (size_t)pagesz, PROT_READ | PROT_WRITE) != 0)
		exit(92);
	fill(pg);

	pthread_create(&th, NULL, flapper, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!stop) {
		for (i = 0; i < 64; i++) {
			long r;

			if (!strcmp(call, "sendmsg"))
				r = sendmsg(tx, &pg->msg, 0);
			else if (!strcmp(call, "sendto"))
				r = sendto(tx, pg->data, 37, 0, (struct sockaddr *)&pg->to,
					   sizeof(pg->to));
			else if (!strcmp(call, "writev"))
				r = writev(tx, pg->iov, 2);
			else
				r = sendmmsg(tx, pg->mm, 4, 0);
			if (r >= 0)
				ok_calls++;
			else if (errno == EFAULT)
				efault_calls++;
			else
				other_errors++;
		}
		if (elapsed_ms(&t0) >= RUN_MS ||
		    (capped && ok_calls + efault_calls + other_errors >= MAX_CALLS))
			stop = 1;
	}
	pthread_join(th, NULL);
	close(rx);
	th_result("ok %ld efault %ld other %ld flaps %ld stolen %ld", ok_calls, efault_calls,
		  other_errors, flaps, stolen);
}

static void variant(const char *call)
{
	char env[64];
	const char *extra[] = {env, "SENDTRACE_PAYLOAD=64", NULL};
	int status, run, crashes = 0;
	char *res;

	snprintf(env, sizeof(env), "ST_UNMAP=%s", call);
	/* Untraced: the flapping is real (some EFAULTs), and the program lives. */
	status = th_run(0, extra);
	res = th_results();
	TH_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: untraced, exits 0 (status %#x)",
	      call, status);
	res[strcspn(res, "\n")] = '\0';
	/*
	 * EFAULTs show the page really goes away under the calls. Successes are
	 * not required: on a loaded machine the refilling thread can keep the
	 * structures half-written for the whole run (errors other than EFAULT).
	 */
	TH_OK(th_value(res, "efault", 0, 0) > 0, "%s: untraced, EFAULTs happen (%s)", call, res);
	free(res);

	for (run = 0; run < RUNS; run++) {
		unlink(th_trace_path());
		status = th_run(1, extra);
		res = th_results();
		if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
			crashes++;
			TH_OK(0, "%s: traced run %d exits 0 (status %#x%s%s)", call, run, status,
			      WIFSIGNALED(status) ? ", killed by " : "",
			      WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "");
		}
		/* Not the library's fault, but the flapping stopped early: say so. */
		if (th_value(res, "stolen", 0, 0))
			printf("# %s: run %d: another mapping took the page's place; flapping stopped\n",
			       call, run);
		free(res);
		th_load();
		TH_OK(th_count("call", call) > 0, "%s: run %d: the calls are traced (%zu)", call, run,
		      th_count("call", call));
	}
	TH_OK(crashes == 0, "%s: traced, all %d runs exit 0 (%d did not)", call, RUNS, crashes);
}

static int run_all(void)
{
#ifdef TH_ASAN
	th_skip("this build has ASan: its interceptors read the call's memory themselves and crash on the unmapped page, traced or not");
#endif
	variant("sendmsg");
	variant("sendto");
	variant("writev");
	variant("sendmmsg");
	return 0;
}

void th_check(void)
{
}

__attribute__((constructor)) static void setup(void)
{
	th_main_hook = run_all;
}
