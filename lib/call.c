/* call.c: the life of one traced call: entry, common fields, socket endpoints, emission. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "st.h"

/*
 * Per-thread state (event buffers, the cached pid/tid/comm fragment, the
 * chunks) lives in the thread's block (thread.c), never the stack (a signal
 * handler may run on a small sigaltstack), the heap or static TLS.
 */
static int st_overflow_warned;
/* The start record while it waits for the process's first event (st_record_defer). */
static char st_start_line[ST_EVENT_MAX];
static size_t st_start_len;
static int st_start_pending;

uint64_t st_now_real(void)
{
	struct timespec ts;

	if (__builtin_expect(st_clock_off, 0))
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t st_now_mono(void)
{
	struct timespec ts;

	if (__builtin_expect(st_clock_off, 0))
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The counts live in the control page (control.c), where `ctl status` reads them. */
unsigned long st_event_count(void)
{
	return st_count(ST_COUNT_EVENTS);
}

unsigned long st_drop_count(void)
{
	return st_count(ST_COUNT_DROPPED);
}

/*
 * The timestamp, nineteen digits: the seconds' are formatted once a second
 * per thread, the nanoseconds' always nine, two at a time.
 */
static void st_json_ts(struct st_json *j, struct st_thread *t, uint64_t ts)
{
	static const char d2[] = "00010203040506070809101112131415161718192021222324"
				 "25262728293031323334353637383940414243444546474849"
				 "50515253545556575859606162636465666768697071727374"
				 "75767778798081828384858687888990919293949596979899";
	uint64_t sec = ts / 1000000000u;
	unsigned ns = (unsigned)(ts % 1000000000u), i;
	char *p;

	if (!sec) {
		/* No clock (seccomp strict mode): 0, or a small number, not zero-padded digits. */
		j->after_key = 1; /* the head ended in "ts": */
		st_json_uint(j, ts);
		return;
	}
	if (sec != t->ts_sec || !t->ts_len) {
		t->ts_len = st_fmt_uint(t->ts_digits, sec);
		t->ts_sec = sec;
	}
	if (j->overflow || (size_t)(j->end - j->p) < t->ts_len + 9) {
		j->overflow = 1;
		return;
	}
	p = j->p;
	memcpy(p, t->ts_digits, t->ts_len);
	p += t->ts_len + 9;
	j->p = p;
	for (i = 0; i < 4; i++) {
		unsigned r = ns % 100;

		ns /= 100;
		p -= 2;
		p[0] = d2[2 * r];
		p[1] = d2[2 * r + 1];
	}
	p[-1] = (char)('0' + ns);
	j->first = 0;
}

/* {"v":1,"event":"<event>","ts":<ts>,"pid":..,"tid":..,"comm":"..": `head` is the text up to ts. */
void st_event_head_lit(struct st_json *j, struct st_thread *t, const char *head, size_t n,
		       uint64_t ts)
{
	st_thread_ids(t);
	if (j->overflow || (size_t)(j->end - j->p) < n) {
		j->overflow = 1;
		return;
	}
	memcpy(j->p, head, n);
	j->p += n;
	j->first = 0;
	st_json_ts(j, t, ts);
	st_json_members(j, t->who, t->who_len);
}

void st_event_head(struct st_json *j, struct st_thread *t, const char *event, uint64_t ts)
{
	char head[64];
	size_t n = strlen(event);

	if (n > 32)
		n = 32;
	memcpy(head, "{\"v\":1,\"event\":\"", 16);
	memcpy(head + 16, event, n);
	memcpy(head + 16 + n, "\",\"ts\":", 7);
	st_event_head_lit(j, t, head, 23 + n, ts);
}

static const char *const st_call_names[] = {
    [ST_CALL_SEND] = "send",	     [ST_CALL_SENDTO] = "sendto",
    [ST_CALL_SENDMSG] = "sendmsg",   [ST_CALL_SENDMMSG] = "sendmmsg",
    [ST_CALL_WRITE] = "write",	     [ST_CALL_WRITEV] = "writev",
    [ST_CALL_SENDFILE] = "sendfile", [ST_CALL_SENDFILE64] = "sendfile64",
    [ST_CALL_CONNECT] = "connect",   [ST_CALL_ACCEPT] = "accept",
    [ST_CALL_ACCEPT4] = "accept4",   [ST_CALL_CLOSE] = "close",
    [ST_CALL_SHUTDOWN] = "shutdown",
};

#define ST_CALL_HEAD "{\"v\":1,\"event\":\"call\",\"ts\":"

/* The same names quoted, for a copy without escaping. */
#define ST_Q(s) {"\"" s "\"", sizeof(s) + 1}
static const struct {
	const char *text;
	size_t len;
} st_call_quoted[] = {
    [ST_CALL_SEND] = ST_Q("send"),	       [ST_CALL_SENDTO] = ST_Q("sendto"),
    [ST_CALL_SENDMSG] = ST_Q("sendmsg"),   [ST_CALL_SENDMMSG] = ST_Q("sendmmsg"),
    [ST_CALL_WRITE] = ST_Q("write"),	       [ST_CALL_WRITEV] = ST_Q("writev"),
    [ST_CALL_SENDFILE] = ST_Q("sendfile"), [ST_CALL_SENDFILE64] = ST_Q("sendfile64"),
    [ST_CALL_CONNECT] = ST_Q("connect"),   [ST_CALL_ACCEPT] = ST_Q("accept"),
    [ST_CALL_ACCEPT4] = ST_Q("accept4"),   [ST_CALL_CLOSE] = ST_Q("close"),
    [ST_CALL_SHUTDOWN] = ST_Q("shutdown"),
};

/*
 * Nothing is taken here that a siglongjmp() out of the real call, or a
 * thread cancelled inside it, could leave behind: the level (buffer and
 * chunk) is taken in st_call_end, after the call returned.
 *
 * The caller has set what the call says of itself (st_call_args): the
 * filter's terms on it are decided first, before anything else is done,
 * on the calls traced on any fd; on the others once the fd is known to be
 * a socket, so that writes to files, never recorded, are not counted as
 * turned away.
 */
int st_call_begin(struct st_call *c, enum st_callkind kind, int fd, enum st_fdcheck check,
		  void *site)
{
	struct st_thread *t;
	int saved = errno, is_sock, early, filtering;

	st_ensure_init();
	if (__builtin_expect(st_forked_silently(), 0))
		st_after_fork_silent();
	if (!st_ready || !st_ctl_on() || !(st_config.calls & (1u << kind)) || !st_sink_ready())
		goto untraced;
	c->kind = kind;
	c->filt = NULL; /* set by st_filter_call when it keeps the call */
	c->defer = 0;
	filtering = __atomic_load_n(&st_filter_now, __ATOMIC_RELAXED) != NULL;
	early = check == ST_ANY_FD || (check == ST_SOCKET_FD && st_config.fds == ST_FDS_ALL);
	if (filtering && early && !st_filter_call(c, fd))
		goto untraced;
	t = st_thread_get();
	if (!t || t->internal)
		goto untraced; /* no block, or the tracer's own calls (libunwind's pipe) */
	c->t0 = st_now_mono();
	/*
	 * What the fd is comes from the library's table, with no system call
	 * once known; an fd met for the first time is learned here, before the
	 * call, so that a reset the send provokes cannot hide its peer.
	 */
	is_sock = st_fd_is_socket(fd, c->t0);
	if (check == ST_SOCKET_ONLY || (check == ST_SOCKET_FD && st_config.fds == ST_FDS_SOCKETS)) {
		struct stat sb;

		if (is_sock == 0)
			goto untraced;
		if (is_sock < 0 && (st_sandboxed() || st_fstat(fd, &sb) != 0 || !S_ISSOCK(sb.st_mode)))
			goto untraced; /* beyond the table: asked each time */
	}
	if (filtering && !early && !st_filter_call(c, fd))
		goto untraced;
	if ((c->defer & ST_DEFER_PEER) && !st_filter_peer(c, fd))
		goto untraced;
	c->t = t;
	c->sample = __atomic_load_n(&st_sample_n, __ATOMIC_RELAXED);
	c->out = 0;
	if (__builtin_expect(c->sample > 1, 0)) /* out: kept only if it fails or has findings */
		c->out = (unsigned char)st_drawn_out(t, c->sample);
	else
		c->sample = 0;
	/* Anything left to decide after the call? (recfilter.c) */
	c->decide = (unsigned char)(filtering | c->out | st_config.only_lint);
	c->level = -1;
	c->name = st_call_names[kind];
	c->site = site;
	memset(&c->msg, 0, sizeof(c->msg));
	c->fd = fd;
	c->gen = kind == ST_CALL_CLOSE ? st_fd_gen(fd) : 0;
	c->ts = st_now_real();
	errno = saved; /* the real call must see the program's errno */
	return 1;
untraced:
	errno = saved;
	return 0;
}

/*
 * Right after the real call: keep its errno, decide what the filter and
 * the sampling left open, then take a level and start the event.
 */
int st_call_end(struct st_call *c, long long ret)
{
	struct st_thread *t = c->t;

	c->saved_errno = errno;
	c->dur = st_now_mono() - c->t0;
	c->ret = ret;
	c->failed = ret < 0;
	if (c->decide && !st_filter_after(c)) {
		errno = c->saved_errno;
		return 0;
	}
	c->level = st_level_take(t);
	if (c->level >= 0 && !__atomic_load_n(&st_ready, __ATOMIC_SEQ_CST)) {
		/* The process is exiting: st_thread_drain() no longer waits for us. */
		st_level_give(t, c->level);
		c->level = -2;
	}
	if (c->level < 0) {
		/* Nested deeper than the buffers go: the event is encoded nowhere. */
		static char sink[64];

		st_json_init(&c->j, sink, sizeof(sink));
		c->j.overflow = 1;
		return 1;
	}
	/* The first event of the process: its start record goes first. */
	if (__builtin_expect(__atomic_load_n(&st_start_pending, __ATOMIC_RELAXED), 0) &&
	    __atomic_exchange_n(&st_start_pending, 0, __ATOMIC_ACQ_REL))
		st_sink_write(t, c->level, st_start_line, st_start_len);
	st_json_init(&c->j, t->buf[c->level], ST_EVENT_MAX - 1);
	st_event_head_lit(&c->j, t, ST_CALL_HEAD, sizeof(ST_CALL_HEAD) - 1, c->ts);
	st_json_key(&c->j, "call");
	st_json_lit_n(&c->j, st_call_quoted[c->kind].text, st_call_quoted[c->kind].len);
	st_json_key(&c->j, "fd");
	st_json_int(&c->j, c->fd);
	if (__builtin_expect(st_sud_site != NULL, 0) && c->site == st_sud_site) {
		/* Caught as a system call in complete mode (complete.c), not through an export. */
		st_json_key(&c->j, "via");
		st_json_lit_n(&c->j, "\"syscall\"", 9);
	}
	if (c->sample) {
		/* Drawn at 1 in N: a reader weighs it N, unless it failed or has findings. */
		st_json_key(&c->j, "sample");
		st_json_uint(&c->j, c->sample);
	}
	st_json_key(&c->j, "sock");
	if (c->kind == ST_CALL_CLOSE)
		st_json_sock_was(&c->j, c->fd, c->gen, &c->sock);
	else
		st_json_sock(&c->j, c->fd, &c->sock, c->t0 + c->dur);
	return 1;
}

void st_call_emit(struct st_call *c)
{
	struct st_json *j = &c->j;
	int findings;

	if (c->level < 0) {
		if (c->level == -1)
			st_count_add(ST_COUNT_DROPPED, 1);
		errno = c->saved_errno;
		return;
	}
	/* The rules are about sends; the lifecycle calls have none. */
	if (c->decide && c->lint_done)
		findings = st_lint_json(c, c->lint_hits); /* decided early (recfilter.c) */
	else
		findings = st_config.lint && (ST_CALLS_SEND & (1u << c->kind)) ? st_lint(c) : 0;
	if (c->decide && !st_filter_emit(c, findings)) {
		st_level_give(c->t, c->level);
		errno = c->saved_errno;
		return;
	}
	/*
	 * The backtrace comes after every other field but the last three: it is
	 * the one field that can be shortened, so it takes only the room left
	 * (backtrace.c), and an event that keeps none of its findings (above)
	 * costs no unwind.
	 */
	if (st_config.backtrace && !j->overflow)
		st_json_bt(j, st_config.backtrace, c->t, c->level);
	st_json_key(j, "ret");
	st_json_int(j, c->ret);
	if (c->failed) {
		st_json_key(j, "errno");
		st_json_errno(j, c->saved_errno);
	}
	st_json_key(j, "dur_ns");
	st_json_uint(j, c->dur);
	st_json_obj_end(j);
	if (!j->overflow) {
		/* The buffer was sized one byte short for this newline. */
		*j->p++ = '\n';
		st_sink_write(c->t, c->level, j->start, st_json_len(j));
		st_count_add(ST_COUNT_EVENTS, 1);
	} else {
		st_count_add(ST_COUNT_DROPPED, 1);
		if (!__atomic_exchange_n(&st_overflow_warned, 1, __ATOMIC_RELAXED))
			st_warn("an event did not fit in ", "16 KiB", " and was dropped");
	}
	st_level_give(c->t, c->level);
	errno = c->saved_errno;
}

/*
 * A process's start record waits here until its first event (SENDTRACE_PROCS
 * =active): a process that never makes a traced call writes nothing at all.
 * It is encoded at start, when system calls are still allowed and the
 * process is what it was, and written by the first event, before it.
 */
void st_record_defer(struct st_rec *r)
{
	struct st_json *j = &r->j;

	st_json_obj_end(j);
	if (!j->overflow && st_json_len(j) < sizeof(st_start_line)) {
		memcpy(st_start_line, j->start, st_json_len(j));
		st_start_line[st_json_len(j)] = '\n';
		st_start_len = st_json_len(j) + 1;
		__atomic_store_n(&st_start_pending, 1, __ATOMIC_RELEASE);
	} else {
		st_count_add(ST_COUNT_DROPPED, 1);
	}
	st_level_give(r->t, r->level);
}

/* Has this process written nothing yet (its start record still waiting)? */
int st_record_idle(void)
{
	return __atomic_load_n(&st_start_pending, __ATOMIC_ACQUIRE);
}

int st_record_begin(struct st_rec *r, const char *event)
{
	if (!st_sink_usable() || !(r->t = st_thread_get()) || r->t->internal)
		return 0;
	r->level = st_level_take(r->t);
	if (r->level < 0)
		return 0;
	st_json_init(&r->j, r->t->buf[r->level], ST_EVENT_MAX - 1);
	st_event_head(&r->j, r->t, event, st_now_real());
	return 1;
}

void st_record_emit(struct st_rec *r)
{
	struct st_json *j = &r->j;

	st_json_obj_end(j);
	if (!st_sink_active()) {
		/* Dormant all along: the file was never made, and is not made for this. */
	} else if (!j->overflow) {
		*j->p++ = '\n';
		st_sink_write(r->t, r->level, j->start, st_json_len(j));
	} else {
		/* init.c cuts what is long, so this should not happen; never silently. */
		st_count_add(ST_COUNT_DROPPED, 1);
		if (!__atomic_exchange_n(&st_overflow_warned, 1, __ATOMIC_RELAXED))
			st_warn("a start or exit record did not fit in ", "16 KiB",
				" and was dropped");
	}
	st_level_give(r->t, r->level);
}
