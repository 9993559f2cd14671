/* test-recfilter.c: a filter replaced while threads judge calls is seen whole, old or new. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "filterspec.h"
#include "st.h"
#include "unit.h"

/*
 * recfilter.c, linked alone: the few library functions it calls are stood
 * in for here. The fd table knows nothing, and nothing has findings.
 */
struct st_config st_config;
pid_t st_pid = 1;
static int warnings;

void st_warn(const char *a, const char *b, const char *c)
{
	(void)a, (void)b, (void)c;
	warnings++;
}
int st_sandboxed(void)
{
	return 0;
}
uint64_t st_now_mono(void)
{
	return 1;
}
int st_fd_peek(int fd, struct st_sockinfo *si, struct st_fs_addr *peer)
{
	(void)fd, (void)si, (void)peer;
	return 0;
}
unsigned long long st_lint_check(struct st_call *c)
{
	(void)c;
	return 0;
}
void st_mem_for(struct st_mem *m, const struct st_call *c)
{
	(void)c;
	m->trusted = 1;
}
int st_mem_copy(const struct st_mem *m, void *dst, const void *src, size_t n)
{
	(void)m;
	memcpy(dst, src, n);
	return 0;
}
unsigned long long st_iov_total(const struct st_mem *m, const struct iovec *iov, long cnt)
{
	(void)m, (void)iov, (void)cnt;
	return 0;
}
/* The counts the library keeps in its control page (control.c): here, an array. */
static unsigned long counts[ST_COUNT_MAX];
void st_count_add(enum st_count which, unsigned long n)
{
	__atomic_fetch_add(&counts[which], n, __ATOMIC_RELAXED);
}
unsigned long st_count(enum st_count which)
{
	return __atomic_load_n(&counts[which], __ATOMIC_RELAXED);
}

/* Judge one call by the filter in force: 1 kept (by a filter, not for want of one), 0 not. */
static int kept(enum st_callkind kind, int fd, unsigned long long len, int *by_filter)
{
	struct st_call c;

	memset(&c, 0, sizeof(c));
	st_call_args(&c, 1, 0, 1, len);
	c.kind = kind;
	if (!st_filter_call(&c, fd))
		return 0;
	*by_filter = c.filt != NULL;
	return 1;
}

#define X "call=send max-len=100"
#define Y "call=sendto min-len=1000"

static volatile int stop;
static unsigned long torn, x_seen, y_seen, judged;

/*
 * A send of 10 bytes passes X only, a sendto of 2000 Y only, and a sendto
 * of 10 neither: it passes only by a filter read half from Y (its call) and
 * half from X (no min-len), fields the writer's copy stores apart.
 */
static void *reader(void *arg)
{
	unsigned long t = 0, xs = 0, ys = 0, n = 0;
	int by;

	(void)arg;
	while (!stop) {
		by = 0;
		if (kept(ST_CALL_SENDTO, 3, 10, &by) && by)
			t++;
		by = 0;
		xs += kept(ST_CALL_SEND, 3, 10, &by) && by;
		by = 0;
		ys += kept(ST_CALL_SENDTO, 3, 2000, &by) && by;
		n++;
	}
	__atomic_fetch_add(&torn, t, __ATOMIC_RELAXED);
	__atomic_fetch_add(&x_seen, xs, __ATOMIC_RELAXED);
	__atomic_fetch_add(&y_seen, ys, __ATOMIC_RELAXED);
	__atomic_fetch_add(&judged, n, __ATOMIC_RELAXED);
	return NULL;
}

int main(void)
{
	pthread_t r[3];
	unsigned long filtered;
	int by = 0, i;

	/* ---- sampling's rate ---- */
	CHECK(st_live_sample() == 1, "every call by default: %u", st_live_sample());
	st_live_set_sample(100);
	CHECK(st_live_sample() == 100, "1 in 100 once set: %u", st_live_sample());
	st_live_set_sample(0);
	CHECK(st_live_sample() == 1, "0 is every call: %u", st_live_sample());

	/* ---- the text in force, and bad text refused without a word ---- */
	CHECK_STR(st_live_filter_text(), "");
	CHECK(st_live_set_filter(X) == 0, "a good text is taken");
	CHECK_STR(st_live_filter_text(), X);
	CHECK(st_live_set_filter("max-len=x") == -1, "a bad text is refused");
	CHECK_STR(st_live_filter_text(), X);
	CHECK(warnings == 0, "and the caller says why, not the library (%d warnings)", warnings);
	CHECK(kept(ST_CALL_SEND, 3, 10, &by) && by, "X keeps a send of 10 bytes");
	filtered = st_filtered_count();
	CHECK(!kept(ST_CALL_SEND, 3, 101, &by), "X turns away a send of 101");
	CHECK(st_filtered_count() == filtered + 1, "and counts it");
	CHECK(st_live_set_filter("  ") == 0 && !strcmp(st_live_filter_text(), ""),
	      "a blank text is no filter");
	by = 1;
	CHECK(kept(ST_CALL_SEND, 4, 101, &by) && !by, "and keeps everything");

	/* ---- replaced again and again under three judging threads ---- */
	st_live_set_filter(X);
	for (i = 0; i < 3; i++)
		pthread_create(&r[i], NULL, reader, NULL);
	for (i = 0; i < 200000; i++)
		st_live_set_filter(i & 1 ? X : Y);
	stop = 1;
	for (i = 0; i < 3; i++)
		pthread_join(r[i], NULL);
	printf("# %lu calls judged x3 while the filter changed 200000 times: "
	       "%lu kept by X, %lu by Y\n",
	       judged, x_seen, y_seen);
	CHECK(torn == 0, "no call was judged by half of one filter and half of another (%lu)",
	      torn);
	CHECK(x_seen > 0 && y_seen > 0, "both filters were in force in turn (%lu, %lu)", x_seen,
	      y_seen);
	return unit_done();
}
