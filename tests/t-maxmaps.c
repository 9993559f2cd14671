/* t-maxmaps.c: near vm.max_map_count, as many threads start and send traced as untraced. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/*
 * A process may hold at most vm.max_map_count mappings (65530 by default).
 * Programs that map many small regions (allocators, JITs, databases) live
 * close to it, and each new thread needs mappings of its own: its stack and
 * the guard page below. A tracer that adds a mapping per thread (a buffer
 * mapped for each thread that sends) uses up the headroom, and threads the
 * program could start untraced fail with EAGAIN traced. The test maps
 * single pages until just the room for THREADS threads, plus SLACK for the
 * tracer's fixed needs, is left, then starts THREADS threads that each send
 * once and all stay alive until every one has.
 */
#define THREADS 1000
#define SLACK	100
#define STACK	(128 * 1024)
#define LEN	55
/*
 * Threads started to measure what one costs in mappings: enough that a few
 * one-off mappings (the tracer's, a sanitizer's) do not round into it.
 */
#define MEASURE 64

static int out;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int arrived, released;

static long read_long(const char *path)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY);
	long v = -1;

	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) > 0)
			v = strtol(buf, NULL, 10);
		close(fd);
	}
	return v;
}

/* Lines of /proc/self/maps: one per mapping (plus [vsyscall], which the kernel does not count). */
static long count_maps(void)
{
	static char buf[1 << 16];
	int fd = open("/proc/self/maps", O_RDONLY);
	long lines = 0;
	ssize_t n, i;

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < n; i++)
			lines += buf[i] == '\n';
	close(fd);
	return lines;
}

static void wait_release(void)
{
	pthread_mutex_lock(&mu);
	arrived++;
	pthread_cond_broadcast(&cv);
	while (!released)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static void *idle(void *arg)
{
	(void)arg;
	wait_release(); /* no send: what a thread costs without the tracer's part */
	return NULL;
}

static void *sender(void *arg)
{
	static char buf[LEN];

	(void)arg;
	send(out, buf, LEN, MSG_DONTWAIT);
	wait_release();
	return NULL;
}

/* Start up to n threads with our stack size, all held until released. Returns how many started. */
static int start_all(pthread_t *t, int n, void *(*fn)(void *), int *first_err)
{
	pthread_attr_t a;
	int i, started = 0;

	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, STACK);
	arrived = released = 0;
	*first_err = 0;
	for (i = 0; i < n; i++) {
		int rc = pthread_create(&t[started], &a, fn, NULL);

		if (rc == 0)
			started++;
		else if (!*first_err)
			*first_err = rc;
	}
	pthread_attr_destroy(&a);
	/* All alive at once: wait for every one to arrive before any may leave. */
	pthread_mutex_lock(&mu);
	while (arrived < started)
		pthread_cond_wait(&cv, &mu);
	return started;
}

static void release_all(pthread_t *t, int started)
{
	int i;

	released = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	for (i = 0; i < started; i++)
		pthread_join(t[i], NULL);
}

void th_workload(void)
{
	static pthread_t t[THREADS];
	long max = read_long("/proc/sys/vm/max_map_count"), before, per, target, now, filled = 0;
	long page = sysconf(_SC_PAGESIZE);
	int sp[2], started, err, k;

	socketpair(AF_UNIX, SOCK_DGRAM, 0, sp);
	shutdown(sp[1], SHUT_RD);
	out = sp[0];
	send(out, "x", 1, MSG_DONTWAIT); /* the tracer's per-process setup is done by now */

	/* What a thread costs, measured with threads that do not send. */
	before = count_maps();
	started = start_all(t, MEASURE, idle, &err);
	/* Rounded to the nearest: the first thread may bring a one-off mapping along. */
	per = (count_maps() - before + started / 2) / (started ? started : 1);
	release_all(t, started);

	/* Fill with single pages, protections alternating so that none can merge. */
	target = max - SLACK - per * THREADS;
	now = count_maps();
	for (k = 0; now < target; k++) {
		long i, want = target - now;

		for (i = 0; i < want; i++, filled++)
			if (mmap(NULL, (size_t)page,
				 filled % 2 ? PROT_READ : PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
				break;
		now = count_maps();
		if (i < want || k > 8)
			break;
	}
	th_result("max %ld per_thread %ld filled %ld maps %ld target %ld", max, per, filled, now,
		  target);

	started = start_all(t, THREADS, sender, &err);
	th_result("started %d first_error %d maps_with_all_alive %ld", started, err, count_maps());
	release_all(t, started);
}

static int maxmaps_main(void)
{
	long long started[2], err[2], maps[2], target[2], per[2];
	long max = read_long("/proc/sys/vm/max_map_count");
	int status[2], k;

	if (max <= 0)
		th_skip("cannot read /proc/sys/vm/max_map_count");
	if (max < 4096)
		th_skip("vm.max_map_count is too small to hold a thousand threads");
	if (max > 1000000)
		th_skip(
		    "vm.max_map_count is over a million: filling it would take minutes and GiBs");
	for (k = 0; k < 2; k++) {
		char *res;

		unlink(th_trace_path());
		status[k] = th_run(k, NULL);
		res = th_results();
		per[k] = th_value(res, "per_thread", 0, -1);
		maps[k] = th_value(res, "maps", 0, -1);
		target[k] = th_value(res, "target", 0, -1);
		started[k] = th_value(res, "started", 0, -1);
		err[k] = th_value(res, "first_error", 0, -1);
		printf("# %s: max_map_count %ld, %lld mappings per thread, filled to %lld (target "
		       "%lld), %lld of %d threads started (first error %lld)\n",
		       k ? "traced" : "untraced", max, per[k], maps[k], target[k], started[k],
		       THREADS, err[k]);
		free(res);
	}
	TH_OK(status[0] == 0 && status[1] == 0,
	      "the workload exits 0 untraced and traced (%#x, %#x)", status[0], status[1]);
	TH_OK(per[0] > 0 && per[0] == per[1],
	      "a thread costs the same mappings traced as untraced (%lld, %lld)", per[0], per[1]);
	TH_OK(maps[0] >= target[0] && maps[1] >= target[1],
	      "the mappings were filled to the target");
	TH_OK(started[0] == THREADS, "untraced: all %d threads start near the limit (%lld)",
	      THREADS, started[0]);
	TH_OK(started[1] == started[0],
	      "traced: as many threads start as untraced (%lld of %lld%s)", started[1], started[0],
	      err[1] == EAGAIN ? ", then EAGAIN" : "");
	th_load();
	{
		int n = 0;

		while (th_find("send", LEN, n))
			n++;
		TH_OK(n == started[1], "one send event per thread started (%d of %lld)", n,
		      started[1]);
	}
	return 0;
}

__attribute__((constructor)) static void setup(void)
{
	th_main_hook = maxmaps_main;
}

void th_check(void)
{
}
