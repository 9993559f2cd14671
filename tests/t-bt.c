/* t-bt.c: backtraces name the caller's frames in order, from threads, signal handlers and
 * dlopen()ed code. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

static int fd_out;

/* A known chain. The empty asm after each call keeps it from being a tail call. */
__attribute__((noinline)) void bt_c(int fd, size_t len)
{
	static char buf[64];

	send(fd, buf, len, MSG_DONTWAIT);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void bt_b(int fd, size_t len)
{
	bt_c(fd, len);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void bt_a(int fd, size_t len)
{
	bt_b(fd, len);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void *bt_thread(void *arg)
{
	(void)arg;
	bt_a(fd_out, 2);
	__asm__ volatile("" ::: "memory");
	return NULL;
}

__attribute__((noinline)) static void bt_on_signal(int sig)
{
	(void)sig;
	bt_a(fd_out, 3);
	__asm__ volatile("" ::: "memory");
}

void th_workload(void)
{
	int sp[2];
	pthread_t t;
	void *plugin;
	void (*plugin_send)(int, size_t);
	const char *path = getenv("ST_TEST_PLUGIN");

	socketpair(AF_UNIX, SOCK_DGRAM, 0, sp);
	th_result("fds %d %d", sp[0], sp[1]);
	fd_out = sp[0];
	bt_a(fd_out, 1);
	pthread_create(&t, NULL, bt_thread, NULL);
	pthread_join(t, NULL);
	signal(SIGUSR1, bt_on_signal);
	raise(SIGUSR1);
	/* A module loaded after start-up is resolved too. */
	plugin = path ? dlopen(path, RTLD_NOW) : NULL;
	plugin_send = plugin ? (void (*)(int, size_t))dlsym(plugin, "plugin_send") : NULL;
	if (plugin_send)
		plugin_send(fd_out, 4);
	__asm__ volatile("" ::: "memory");
}

static void chain(const char *what, json_t *ev, const char *const *names, int n)
{
	int i;

	TH_OK(ev != NULL, "%s: event recorded", what);
	for (i = 0; i < n; i++) {
		char path[32];

		snprintf(path, sizeof(path), "bt.%d.fn", i);
		TH_STR(ev, path, names[i]);
	}
	TH_OK(json_is_string(th_get(ev, "bt.0.obj")) && json_is_string(th_get(ev, "bt.0.off")) &&
		  json_is_string(th_get(ev, "bt.0.ip")) &&
		  json_is_string(th_get(ev, "bt.0.fn_off")),
	      "%s: frames carry ip, obj, off, fn_off", what);
}

static int bt_main(void)
{
	const char *env[] = {"SENDTRACE_BACKTRACE=8", NULL};
	const char *main_chain[] = {"bt_c", "bt_b", "bt_a", "th_workload"};
	const char *thread_chain[] = {"bt_c", "bt_b", "bt_a", "bt_thread"};
	const char *signal_chain[] = {"bt_c", "bt_b", "bt_a", "bt_on_signal"};
	const char *plugin_chain[] = {"plugin_send", "th_workload"};
	json_t *ev;

	char *plain, *traced;

	TH_OK(th_run(0, NULL) == 0, "workload runs untraced");
	plain = th_results();
	TH_OK(th_run(1, env) == 0, "workload runs with SENDTRACE_BACKTRACE=8");
	traced = th_results();
	/* libunwind's own pipe must not take the program's fd numbers. */
	TH_OK(!strcmp(plain, traced), "same fd numbers traced with backtraces: '%s' vs '%s'",
	      strtok(plain, "\n") ? plain : "", strtok(traced, "\n") ? traced : "");
	free(plain);
	free(traced);
	th_load();
	chain("main thread", th_find("send", 1, 0), main_chain, 4);
	TH_OK(strstr(json_string_value(th_get(th_find("send", 1, 0), "bt.0.obj")), "t-bt") != NULL,
	      "the first frame is in the program, not the tracer");
	chain("second thread", th_find("send", 2, 0), thread_chain, 4);
	chain("signal handler", th_find("send", 3, 0), signal_chain, 4);
	ev = th_find("send", 4, 0);
	if (getenv("ST_TEST_PLUGIN")) {
		chain("dlopen()ed module", ev, plugin_chain, 2);
		TH_OK(ev && strstr(json_string_value(th_get(ev, "bt.0.obj")), "bt-plugin"),
		      "the dlopen()ed module is named");
	}
	TH_OK(json_array_size(th_get(th_find("send", 1, 0), "bt")) <= 8, "at most 8 frames");

	/* Off by default. */
	unlink(th_trace_path());
	TH_OK(th_run(1, NULL) == 0, "workload runs without backtraces");
	th_load();
	TH_OK(th_get(th_find("send", 1, 0), "bt") == NULL, "no bt field by default");
	return 0;
}

__attribute__((constructor)) static void setup(void)
{
	th_main_hook = bt_main;
}

void th_check(void)
{
}
