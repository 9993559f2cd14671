/* t-coexist.c: beside another preload that wraps send, with a program's own dlsym(RTLD_NEXT), and
 * with LFS/FORTIFY builds. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

void th_workload(void)
{
	ssize_t (*own)(int, const void *, size_t, int);
	char buf[64] = {0};
	int sp[2], f;
	off_t off = 0;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	th_result("send %zd", send(sp[0], buf, 5, MSG_NOSIGNAL));
	th_result("send %zd", send(sp[0], buf, 6, MSG_NOSIGNAL));
	/* The program looks send up itself, as some frameworks do. */
	own = (ssize_t(*)(int, const void *, size_t, int))dlsym(RTLD_NEXT, "send");
	th_result("own %zd", own ? own(sp[0], buf, 7, MSG_NOSIGNAL) : -2);
	/* With _FILE_OFFSET_BITS=64 this is sendfile64 in the symbol table. */
	f = open("/proc/self/exe", O_RDONLY);
	th_result("sendfile %zd", sendfile(sp[0], f, &off, 8));
	close(f);
}

static int run_order(const char *order)
{
	char pre[8192], out[4200], *res, *p;
	const char *plugin = getenv("ST_TEST_OTHER");
	const char *env[3];
	long other = -1;
	int status;

	snprintf(out, sizeof(out), "OTHER_OUT=%s.other", th_trace_path());
	unlink(out + strlen("OTHER_OUT="));
	if (!strcmp(order, "sendtrace-first"))
		snprintf(pre, sizeof(pre), "LD_PRELOAD=%s:%s", getenv("ST_TEST_LIB"), plugin);
	else
		snprintf(pre, sizeof(pre), "LD_PRELOAD=%s:%s", plugin, getenv("ST_TEST_LIB"));
	env[0] = pre;
	env[1] = out;
	env[2] = NULL;
	unlink(th_trace_path());
	status = th_run(1, env);
	TH_OK(status == 0, "%s: the program runs", order);
	res = th_results();
	TH_OK(strstr(res, "send 5\nsend 6\nown 7\nsendfile 8\n") != NULL,
	      "%s: every call returns what it would untraced", order);
	free(res);
	{
		FILE *f = fopen(out + strlen("OTHER_OUT="), "r");

		if (f) {
			if (fscanf(f, "other %ld", &other) != 1)
				other = -1;
			fclose(f);
		}
		unlink(out + strlen("OTHER_OUT="));
	}
	TH_OK(other == 3, "%s: the other preload saw its 3 sends (got %ld)", order, other);
	th_load();
	TH_INT(th_find("send", 5, 0), "ret", 5);
	TH_INT(th_find("send", 6, 0), "ret", 6);
	TH_INT(th_find("send", 7, 0), "ret", 7);
#ifdef ST_LFS_BUILD
	p = "lfs";
#else
	p = NULL;
#endif
	TH_INT(th_find(p ? "sendfile64" : "sendfile", 8, 0), "ret", 8);
	TH_OK(th_count("call", "send") == 3, "%s: each send recorded once (%zu)", order,
	      th_count("call", "send"));
	return 0;
}

static int coexist_main(void)
{
	if (!getenv("ST_TEST_OTHER"))
		th_skip("ST_TEST_OTHER does not name the other preload library");
	run_order("sendtrace-first");
	run_order("other-first");
	return 0;
}

__attribute__((constructor)) static void setup(void)
{
	th_main_hook = coexist_main;
}

void th_check(void)
{
}
