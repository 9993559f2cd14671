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
 * Per-thread state. Events are encoded into these buffers, never the stack
 * (a signal handler may run on a small sigaltstack) and never the heap. One
 * buffer per nesting level lets a signal handler's send() be traced while
 * the interrupted call is still being encoded.
 */
static ST_TLS int st_depth;
static ST_TLS pid_t st_tid;
static ST_TLS pid_t st_tid_pid; /* st_pid when st_tid/st_comm were cached */
static ST_TLS char st_comm[17];
/* ,"pid":..,"tid":..,"comm":".." encoded once per thread: the same in every event. */
static ST_TLS char st_who[160];
static ST_TLS size_t st_who_len;
static ST_TLS char st_buf[ST_NEST_MAX][ST_EVENT_MAX];

static unsigned long st_events;
static unsigned long st_dropped;
static int st_overflow_warned;

uint64_t st_now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t st_now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

char *st_event_buf(int level)
{
	return st_buf[level];
}

unsigned long st_event_count(void)
{
	return __atomic_load_n(&st_events, __ATOMIC_RELAXED);
}

/* In a fork()ed child: its exit record counts its own events. */
void st_counts_reset(void)
{
	__atomic_store_n(&st_events, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&st_dropped, 0, __ATOMIC_RELAXED);
}

unsigned long st_drop_count(void)
{
	return __atomic_load_n(&st_dropped, __ATOMIC_RELAXED);
}

/* tid and comm are cached per thread, and looked up again in a fork()ed child. */
static void st_thread_ids(void)
{
	if (st_tid_pid == st_pid && st_tid)
		return;
	st_tid = (pid_t)syscall(SYS_gettid);
	if (prctl(PR_GET_NAME, st_comm, 0, 0, 0) != 0)
		st_comm[0] = '\0';
	st_comm[16] = '\0';
	st_tid_pid = st_pid;
	{
		struct st_json w;

		st_json_init(&w, st_who, sizeof(st_who));
		w.first = 0;
		st_json_key(&w, "pid");
		st_json_int(&w, st_pid);
		st_json_key(&w, "tid");
		st_json_int(&w, st_tid);
		st_json_key(&w, "comm");
		st_json_cstr(&w, st_comm);
		st_who_len = w.overflow ? 0 : st_json_len(&w);
	}
}

void st_event_head(struct st_json *j, const char *event, uint64_t ts)
{
	st_thread_ids();
	st_json_obj(j);
	st_json_key(j, "v");
	st_json_int(j, 1);
	st_json_key(j, "event");
	st_json_cstr(j, event);
	st_json_key(j, "ts");
	st_json_uint(j, ts);
	st_json_members(j, st_who, st_who_len);
}

static const char *const st_call_names[] = {
    [ST_CALL_SEND] = "send",	     [ST_CALL_SENDTO] = "sendto",
    [ST_CALL_SENDMSG] = "sendmsg",   [ST_CALL_SENDMMSG] = "sendmmsg",
    [ST_CALL_WRITE] = "write",	     [ST_CALL_WRITEV] = "writev",
    [ST_CALL_SENDFILE] = "sendfile", [ST_CALL_SENDFILE64] = "sendfile64",
};

int st_call_begin(struct st_call *c, enum st_callkind kind, int fd, enum st_fdcheck check,
		  void *site)
{
	int saved = errno;

	st_ensure_init();
	if (!st_ready || !st_sink_active() || st_depth >= ST_NEST_MAX ||
	    !(st_config.calls & (1u << kind)))
		goto untraced;
	c->have_sb = 0;
	if (check == ST_SOCKET_FD && st_config.fds == ST_FDS_SOCKETS) {
		if (st_fstat(fd, &c->sb) != 0 || !S_ISSOCK(c->sb.st_mode))
			goto untraced;
		c->have_sb = 1; /* the socket cache checks identity with it: one fstat */
	}
	c->kind = kind;
	c->name = st_call_names[kind];
	c->site = site;
	c->flags = c->has_flags = c->has_dest = 0;
	c->len = 0;
	memset(&c->msg, 0, sizeof(c->msg));
	c->fd = fd;
	c->level = st_depth++;
	c->ts = st_now_real();
	c->t0 = st_now_mono();
	errno = saved; /* the real call must see the program's errno */
	return 1;
untraced:
	errno = saved;
	return 0;
}

/* Right after the real call: keep its errno, then start the event. */
void st_call_end(struct st_call *c, long long ret)
{
	c->saved_errno = errno;
	c->dur = st_now_mono() - c->t0;
	c->ret = ret;
	c->failed = ret < 0;
	st_json_init(&c->j, st_buf[c->level], ST_EVENT_MAX - 1);
	st_event_head(&c->j, "call", c->ts);
	st_json_key(&c->j, "call");
	st_json_cstr(&c->j, c->name);
	st_json_key(&c->j, "fd");
	st_json_int(&c->j, c->fd);
	st_json_key(&c->j, "sock");
	st_json_sock(&c->j, c->fd, c->have_sb ? &c->sb : NULL, &c->sock);
	if (st_config.backtrace)
		st_json_bt(&c->j, st_config.backtrace, c->level);
}

void st_call_emit(struct st_call *c)
{
	struct st_json *j = &c->j;
	int findings = st_config.lint ? st_lint(c) : 0;

	if (st_config.only_lint && !findings) {
		st_depth--;
		errno = c->saved_errno;
		return;
	}
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
		st_sink_write(j->start, st_json_len(j));
		__atomic_fetch_add(&st_events, 1, __ATOMIC_RELAXED);
	} else {
		__atomic_fetch_add(&st_dropped, 1, __ATOMIC_RELAXED);
		if (!__atomic_exchange_n(&st_overflow_warned, 1, __ATOMIC_RELAXED))
			st_warn("an event did not fit in ", "16 KiB", " and was dropped");
	}
	st_depth--;
	errno = c->saved_errno;
}

int st_record_begin(struct st_json *j, const char *event)
{
	if (!st_sink_active() || st_depth >= ST_NEST_MAX)
		return 0;
	st_json_init(j, st_buf[st_depth++], ST_EVENT_MAX - 1);
	st_event_head(j, event, st_now_real());
	return 1;
}

void st_record_emit(struct st_json *j)
{
	st_json_obj_end(j);
	if (!j->overflow) {
		*j->p++ = '\n';
		st_sink_write(j->start, st_json_len(j));
	}
	st_depth--;
}
