/* t-threads.c: many threads sending at once: every event whole, none lost, each thread in order. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#define THREADS	   4
#define PER_THREAD 2000

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

void th_check(void)
{
	json_t *ev;
	size_t i;
	long long tids[THREADS] = {0}, next[THREADS] = {0};
	int ntid = 0, order_ok = 1, k;

	TH_OK(th_count("call", "send") == THREADS * PER_THREAD, "%d send events (got %zu)",
	      THREADS * PER_THREAD, th_count("call", "send"));
	json_array_foreach (th_events(), i, ev) {
		long long tid = json_integer_value(json_object_get(ev, "tid"));
		long long len = json_integer_value(json_object_get(ev, "len"));

		if (!json_object_get(ev, "call"))
			continue;
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
	TH_OK(ntid == THREADS, "%d distinct tids (got %d)", THREADS, ntid);
	TH_OK(order_ok, "each thread's events are in its own order");
}
