/* t-smallstack.c: threads with small stacks start and send traced exactly as untraced. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/*
 * glibc carves the static TLS of every loaded module (an LD_PRELOADed one
 * included) out of each thread's stack, and refuses with EINVAL a stack too
 * small to hold it. So a tracer with tens of KiB of __thread data makes
 * pthread_create fail for programs that ask for small stacks, and leaves
 * the others that much less room to recurse in.
 */
static const size_t sizes[] = {16384, 20480, 32768};
#define NSIZES	  (sizeof(sizes) / sizeof(sizes[0]))
#define BIG_STACK 65536
#define DEPTH	  12  /* 12 frames of 4 KiB: about 48 KiB of a 64 KiB stack */
#define BASE_LEN  101 /* thread i sends BASE_LEN + i bytes; the deep one BASE_LEN + NSIZES */

static int out;
static char payload[256];
static ssize_t sent[NSIZES + 1];

static void *small(void *arg)
{
	size_t i = (size_t)arg;

	sent[i] = send(out, payload, BASE_LEN + i, MSG_DONTWAIT);
	return NULL;
}

/*
 * A frame of 4 KiB that the compiler can neither drop nor turn into a loop:
 * the array is volatile and written end to end, and the result is used after
 * the recursive call returns. The send happens at the deepest point, so the
 * tracer's own stack use comes on top of the program's 48 KiB.
 */
static __attribute__((noinline)) ssize_t deep(int n)
{
	volatile char frame[4096];
	ssize_t r;
	size_t i;

	for (i = 0; i < sizeof(frame); i += 64)
		frame[i] = (char)n;
	frame[sizeof(frame) - 1] = (char)n;
	if (n > 1)
		r = deep(n - 1);
	else
		r = send(out, payload, BASE_LEN + NSIZES, MSG_DONTWAIT);
	return r + frame[0] - (char)n + frame[sizeof(frame) - 1] - (char)n;
}

static void *deep_thread(void *arg)
{
	(void)arg;
	sent[NSIZES] = deep(DEPTH);
	return NULL;
}

static int start(size_t stack, void *(*fn)(void *), void *arg, int *setrc)
{
	pthread_attr_t a;
	pthread_t t;
	int rc;

	pthread_attr_init(&a);
	*setrc = pthread_attr_setstacksize(&a, stack);
	rc = pthread_create(&t, &a, fn, arg);
	pthread_attr_destroy(&a);
	if (rc == 0)
		pthread_join(t, NULL);
	return rc;
}

void th_workload(void)
{
	int sp[2], setrc, rc;
	size_t i;

	socketpair(AF_UNIX, SOCK_DGRAM, 0, sp);
	out = sp[0];
	/* Bind send's PLT entry here, on the main stack, not in a small thread. */
	send(out, "x", 1, MSG_DONTWAIT);
	for (i = 0; i < NSIZES; i++) {
		sent[i] = -2;
		rc = start(sizes[i], small, (void *)i, &setrc);
		th_result("stack %zu setsize %d create %d sent %zd", sizes[i], setrc, rc, sent[i]);
	}
	/* Results so far are on file before the deep thread runs: it may crash. */
	sent[NSIZES] = -2;
	rc = start(BIG_STACK, deep_thread, NULL, &setrc);
	th_result("deep %d sent %zd", rc, sent[NSIZES]);
}

struct run {
	int status;
	int setsize[NSIZES], create[NSIZES];
	long long sent[NSIZES + 1];
	int deep;
};

static void collect(struct run *r, int traced)
{
	char *res, key[32];
	size_t i;

	r->status = th_run(traced, NULL);
	res = th_results();
	for (i = 0; i < NSIZES; i++) {
		const char *p;

		snprintf(key, sizeof(key), "stack %zu ", sizes[i]);
		p = strstr(res, key);
		r->setsize[i] = p ? (int)th_value(p, "setsize", 0, -99) : -99;
		r->create[i] = p ? (int)th_value(p, "create", 0, -99) : -99;
		r->sent[i] = p ? th_value(p, "sent", 0, -99) : -99;
	}
	r->deep = (int)th_value(res, "deep", 0, -99);
	{
		const char *p = strstr(res, "deep ");

		r->sent[NSIZES] = p ? th_value(p, "sent", 0, -99) : -99;
	}
	free(res);
}

static int smallstack_main(void)
{
	struct run u, t;
	size_t i;

	collect(&u, 0);
	unlink(th_trace_path());
	collect(&t, 1);
	TH_OK(u.status == 0, "untraced workload exits 0 (status %#x)", u.status);
	TH_OK(t.status == 0,
	      "traced workload exits 0, the deep thread did not crash (status %#x%s)", t.status,
	      WIFSIGNALED(t.status) ? ", killed by a signal" : "");
	th_load();
	for (i = 0; i < NSIZES; i++) {
		TH_OK(
		    u.create[i] == 0,
		    "untraced: a %zu-byte stack thread starts (setstacksize %d, pthread_create %d)",
		    sizes[i], u.setsize[i], u.create[i]);
		TH_OK(t.create[i] == u.create[i] && t.setsize[i] == u.setsize[i],
		      "traced: a %zu-byte stack thread starts as untraced (pthread_create %d%s, "
		      "untraced %d)",
		      sizes[i], t.create[i], t.create[i] == EINVAL ? " = EINVAL" : "", u.create[i]);
		TH_OK(t.sent[i] == (long long)(BASE_LEN + i) && u.sent[i] == t.sent[i],
		      "its send returns %zu traced as untraced (traced %lld, untraced %lld)",
		      BASE_LEN + i, t.sent[i], u.sent[i]);
		TH_OK(th_find("send", (long long)(BASE_LEN + i), 0) != NULL &&
			  th_find("send", (long long)(BASE_LEN + i), 1) == NULL,
		      "the %zu-byte stack thread's send is in the trace, once", sizes[i]);
	}
	TH_OK(u.deep == 0 && t.deep == 0, "the 64 KiB thread starts (traced %d, untraced %d)",
	      t.deep, u.deep);
	TH_OK(t.sent[NSIZES] == (long long)(BASE_LEN + NSIZES) && u.sent[NSIZES] == t.sent[NSIZES],
	      "its send after 48 KiB of recursion returns %zu (traced %lld, untraced %lld)",
	      BASE_LEN + NSIZES, t.sent[NSIZES], u.sent[NSIZES]);
	TH_OK(th_find("send", (long long)(BASE_LEN + NSIZES), 0) != NULL,
	      "the deep thread's send is in the trace");
	TH_OK(th_count("call", "send") == NSIZES + 2, "%zu send events in all (got %zu)",
	      NSIZES + 2, th_count("call", "send"));
	return 0;
}

__attribute__((constructor)) static void setup(void)
{
	th_main_hook = smallstack_main;
}

void th_check(void)
{
}
