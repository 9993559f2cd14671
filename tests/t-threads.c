/* t-threads.c: many threads sending at once: every event whole, none lost, each thread in order. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#define THREADS	   8
#define PER_THREAD 100000

static void *sender(void *arg)
{
	int sp[2], i;
	char buf[256];

	(void)arg;
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sp);
	shutdown(sp[1], SHUT_RD); /* nothing reads: datagrams go nowhere fast */
	for (i = 0; i < PER_THREAD; i++)
		send(sp[0], buf, (size_t)(i % 200) + 1, MSG_DONTWAIT);
	return NULL;
}

void th_workload(void)
{
	pthread_t t[THREADS];
	int i;

	for (i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, sender, NULL);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
}

/*
 * 800,000 events are too many to hold as jansson values at once: each line
 * is parsed, checked and dropped.
 */
static int threads_main(void)
{
	long long tids[THREADS] = {0}, next[THREADS] = {0};
	int ntid = 0, order_ok = 1, k, status;
	size_t calls = 0, bad = 0, cap = 0;
	char *line = NULL;
	ssize_t n;
	FILE *f;

	status = th_run(1, NULL);
	TH_OK(status == 0, "%d threads x %d sends run (status %#x)", THREADS, PER_THREAD, status);
	f = fopen(th_trace_path(), "r");
	TH_OK(f != NULL, "trace file exists");
	while (f && (n = getline(&line, &cap, f)) > 0) {
		json_t *ev;
		long long tid, len;

		if (strspn(line, " \t\n") == (size_t)n)
			continue; /* chunk padding */
		ev = json_loadb(line, (size_t)n, 0, NULL);
		if (!ev || line[n - 1] != '\n') {
			bad++;
			json_decref(ev);
			continue;
		}
		if (!json_is_string(json_object_get(ev, "call"))) {
			json_decref(ev);
			continue;
		}
		calls++;
		tid = json_integer_value(json_object_get(ev, "tid"));
		len = json_integer_value(json_object_get(ev, "len"));
		json_decref(ev);
		for (k = 0; k < ntid && tids[k] != tid; k++)
			;
		if (k == ntid) {
			if (ntid == THREADS) {
				order_ok = 0;
				continue;
			}
			tids[ntid++] = tid;
		}
		if (len != next[k] % 200 + 1)
			order_ok = 0;
		next[k]++;
	}
	if (f)
		fclose(f);
	free(line);
	TH_OK(bad == 0, "every line whole and valid (%zu bad)", bad);
	TH_OK(calls == (size_t)THREADS * PER_THREAD, "%d send events (got %zu)",
	      THREADS * PER_THREAD, calls);
	TH_OK(ntid == THREADS, "%d distinct tids (got %d)", THREADS, ntid);
	TH_OK(order_ok, "each thread's events are in its own order");
	return 0;
}

__attribute__((constructor)) static void setup(void)
{
	th_main_hook = threads_main;
}

void th_check(void)
{
}
