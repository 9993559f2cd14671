/* harness.h: runs a test program's workload under the preload and checks its events with jansson.
 */
#ifndef ST_HARNESS_H
#define ST_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

/*
 * A traced test is one program playing two parts. Run by `make check`, it
 * re-executes itself with TH_CHILD=1 and libsendtrace.so preloaded; that
 * child runs th_workload(), whose calls land in the trace file. The parent
 * then parses every line with jansson and th_check() asserts on the events.
 */
void th_workload(void);
void th_check(void);
/* Optional: a test may run its own sequence instead of one traced run. */
extern int (*th_main_hook)(void);

/* Paths of this run's trace and results files. */
const char *th_trace_path(void);
const char *th_results_path(void);

pid_t th_spawn(int traced, const char *const *extra_env);
int th_wait(pid_t pid); /* the raw wait status */
int th_run(int traced, const char *const *extra_env);
/*
 * The workload with TC_PART=name in its environment (and `env` too when
 * traced), killed should it run past `timeout` seconds: its wait status,
 * or -1 when it hung.
 */
int th_run_part(const char *name, int traced, const char *env, int timeout);
json_t *th_load(void); /* all events; an unparsable line fails the test */
json_t *th_events(void);

/* Dotted paths into an event: "sock.family", "cmsg.0.fds.1". */
json_t *th_get(json_t *ev, const char *path);
/* The n-th (from 0) call event whose call is `call` and, if len >= 0, whose len is len. */
json_t *th_find(const char *call, long long len, int nth);
size_t th_count(const char *event, const char *call);

/* Assertions: each prints ok/FAIL with the file:line and counts. */
#define TH_OK(cond, ...)     th_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define TH_INT(ev, path, v)  th_int(ev, path, v, __FILE__, __LINE__)
#define TH_STR(ev, path, s)  th_str(ev, path, s, __FILE__, __LINE__)
#define TH_NULL(ev, path)    th_null(ev, path, __FILE__, __LINE__)
#define TH_BOOL(ev, path, b) th_bool(ev, path, b, __FILE__, __LINE__)
int th_ok(int cond, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int th_int(json_t *ev, const char *path, long long v, const char *file, int line);
int th_str(json_t *ev, const char *path, const char *s, const char *file, int line);
int th_null(json_t *ev, const char *path, const char *file, int line);
int th_bool(json_t *ev, const char *path, int b, const char *file, int line);
void th_skip(const char *why) __attribute__((noreturn));

/* For workloads: a line into the results file, read back with th_results(). */
void th_result(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *th_results(void); /* whole file, caller frees */
/* The n-th number after the word `key` in results text ("child 5 parent 3"), else dflt. */
long long th_value(const char *res, const char *key, int nth, long long dflt);

/*
 * TH_ASAN: this test program is built with AddressSanitizer
 * (./configure --enable-sanitizers). Some tests cannot hold under it (the
 * sanitizer's runtime makes system calls of its own, its interceptors read
 * a call's memory) and skip, saying why.
 */
#if defined(__SANITIZE_ADDRESS__)
#define TH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TH_ASAN 1
#endif
#endif

/* Small helpers for workloads. */
int th_udp_receiver(int family, void *addr, unsigned int *len);
void th_tcp_pair(int family, int *client, int *server);

#endif
