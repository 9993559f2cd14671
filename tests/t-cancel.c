/* t-cancel.c: thousands of pthread_cancel()s of threads busy sending never hang the program. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/*
 * send() is a cancellation point, and so is every write, writev, open or
 * close the tracer makes on the program's behalf. A thread cancelled inside
 * the tracer unwinds from there: whatever lock it held is never released,
 * and every other thread that sends then waits on it forever. The cancels
 * land at arbitrary moments (before the thread ran, at its first send, deep
 * in a stream of them), thousands of times.
 */
#define WORKERS	  4
#define ROUNDS	  5000 /* WORKERS * ROUNDS cancels per run */
#define BURST	  16
#define WORK_LEN  33
#define FRESH_LEN 4321
/*
 * Seconds per run before a hang is declared: far above the 3.5 s a run takes
 * alone, since a loaded 2-core machine (make -j2 check, two busy loops)
 * stretches even the untraced run past 15 s. A hang never ends.
 */
#define DEADLINE 120

static int out;
static char buf[FRESH_LEN];

/*
 * A burst of sends, then a wait in pause(), itself a cancellation point:
 * the burst keeps the trace to a few MiB, and the pauses of the main thread
 * below spread the cancels over the burst, before it and after it.
 */
static void *worker(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < BURST; i++)
		send(out, buf, WORK_LEN, MSG_DONTWAIT | MSG_NOSIGNAL);
	for (;;)
		pause();
	return NULL;
}

static void *fresh(void *arg)
{
	int sp[2];

	(void)arg;
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sp);
	return (void *)(long)send(sp[0], buf, FRESH_LEN, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* A small pseudo-random pause: none, a yield, or a spin of up to ~50 us. */
static void pause_a_little(unsigned *seed)
{
	unsigned r = rand_r(seed);
	volatile unsigned spin;

	switch (r % 4) {
	case 0:
		break;
	case 1:
		sched_yield();
		break;
	default:
		for (spin = 0; spin < (r >> 4) % 40000; spin++)
			;
	}
}

void th_workload(void)
{
	pthread_t t[WORKERS];
	int sp[2], i, k, created = 0, cancelled = 0, create_failed = 0;
	unsigned seed = 12345;
	void *rv;

	socketpair(AF_UNIX, SOCK_DGRAM, 0, sp);
	out = sp[0]; /* nothing reads sp[1]: once full, sends fail fast with EAGAIN */
	for (i = 0; i < ROUNDS; i++) {
		int ok[WORKERS];

		for (k = 0; k < WORKERS; k++) {
			ok[k] = pthread_create(&t[k], NULL, worker, NULL) == 0;
			created += ok[k];
			create_failed += !ok[k];
			if (k % 2)
				pause_a_little(&seed);
		}
		pause_a_little(&seed);
		for (k = 0; k < WORKERS; k++) {
			if (!ok[k])
				continue;
			pthread_cancel(t[k]);
			if (k % 2 == 0)
				pause_a_little(&seed);
		}
		for (k = 0; k < WORKERS; k++)
			if (ok[k] && pthread_join(t[k], &rv) == 0 && rv == PTHREAD_CANCELED)
				cancelled++;
	}
	/* After it all, a new thread's send is still traced. */
	{
		pthread_t f;

		rv = NULL;
		if (pthread_create(&f, NULL, fresh, NULL) == 0)
			pthread_join(f, &rv);
	}
	th_result("created %d failed %d cancelled %d fresh %ld", created, create_failed, cancelled,
		  (long)rv);
}

/* th_run(), but a workload still running at the deadline is killed: a hang is a failure. */
static int run_with_deadline(int traced, int *hung)
{
	struct timespec t0, now;
	pid_t pid = th_spawn(traced, NULL);
	int status;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	*hung = 0;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR) {
			perror("waitpid");
			exit(99);
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= DEADLINE) {
			*hung = 1;
			kill(pid, SIGKILL);
			return th_wait(pid);
		}
		usleep(20000);
	}
}

static void run(const char *what, int traced)
{
	int status, hung, created, cancelled, failed;
	long fresh_ret;
	char *res;

	unlink(th_trace_path());
	status = run_with_deadline(traced, &hung);
	res = th_results();
	created = (int)th_value(res, "created", 0, -1);
	failed = (int)th_value(res, "failed", 0, -1);
	cancelled = (int)th_value(res, "cancelled", 0, -1);
	fresh_ret = (long)th_value(res, "fresh", 0, -1);
	free(res);
	TH_OK(!hung, "%s: %d rounds of %d cancels finish within %d s%s", what, ROUNDS, WORKERS,
	      DEADLINE, hung ? " (HUNG: killed by the test's watchdog)" : "");
	TH_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "%s: the workload exits 0 (status %#x)", what, status);
	TH_OK(created == WORKERS * ROUNDS && failed == 0,
	      "%s: all %d threads start (%d, %d failed)", what, WORKERS * ROUNDS, created, failed);
	TH_OK(created > 0 && cancelled == created,
	      "%s: every thread joined as PTHREAD_CANCELED (%d of %d)", what, cancelled, created);
	TH_OK(fresh_ret == FRESH_LEN,
	      "%s: a fresh thread's send after the cancels returns %d (got %ld)", what, FRESH_LEN,
	      fresh_ret);
	if (!traced)
		return;
	/* Many events: each line is parsed, counted and dropped, not held. */
	{
		FILE *f = fopen(th_trace_path(), "r");
		char *line = NULL;
		size_t cap = 0, fresh_events = 0, work_events = 0, bad = 0;
		ssize_t n;

		while (f && (n = getline(&line, &cap, f)) > 0) {
			json_t *ev;
			long long len;

			if (strspn(line, " \t\n") == (size_t)n)
				continue; /* chunk padding */
			ev = json_loadb(line, (size_t)n, 0, NULL);
			if (!ev || line[n - 1] != '\n') {
				bad++;
				json_decref(ev);
				continue;
			}
			len = json_integer_value(json_object_get(ev, "len"));
			if (json_is_string(json_object_get(ev, "call")))
				fresh_events += len == FRESH_LEN, work_events += len == WORK_LEN;
			json_decref(ev);
		}
		free(line);
		if (f)
			fclose(f);
		TH_OK(f != NULL && bad == 0, "%s: every line of the trace parses (%zu bad)", what,
		      bad);
		TH_OK(work_events > 0, "%s: the workers' sends are traced (%zu events)", what,
		      work_events);
		TH_OK(fresh_events == 1, "%s: the fresh thread's send is in the trace once (%zu)",
		      what, fresh_events);
	}
}

static int cancel_main(void)
{
	run("untraced", 0);
	run("traced", 1);
	return 0;
}

__attribute__((constructor)) static void setup(void)
{
	th_main_hook = cancel_main;
}

void th_check(void)
{
}
