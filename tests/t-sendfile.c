/* t-sendfile.c: sendfile and sendfile64, with and without an offset, into a socket. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

static char path[256];

static void make_path(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(path, sizeof(path), "%s/st-sendfile-%d.dat", tmp && *tmp ? tmp : "/tmp",
		 (int)getppid());
}

void th_workload(void)
{
	char buf[4096];
	int c, s, f, i;
	off_t off = 100;
	off64_t off64 = 1000;

	make_path();
	f = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	for (i = 0; i < 4; i++) {
		memset(buf, 'a' + i, sizeof(buf));
		write(f, buf, sizeof(buf));
	}
	th_tcp_pair(AF_INET, &c, &s);
	/* With an offset: the file position is left alone. */
	th_result("path %s", path);
	{
		ssize_t r = sendfile(s, f, &off, 200);

		th_result("with %zd %lld", r, (long long)off);
	}
	/* Without: from (and advancing) the file position. */
	lseek(f, 50, SEEK_SET);
	th_result("without %zd", sendfile(s, f, NULL, 300));
	th_result("sf64 %zd", sendfile64(s, f, &off64, 400));
	/* Into a pipe: not a socket, so not traced by default. */
	{
		int p[2];

		pipe(p);
		sendfile(p[1], f, NULL, 10);
	}
	close(f);
	unlink(path);
	(void)c;
}

void th_check(void)
{
	char *res = th_results(), *p;
	long long with = -9, after = -9, without = -9, sf64 = -9;
	json_t *ev;

	if ((p = strstr(res, "path ")))
		sscanf(p, "path %255s", path);
	with = th_value(res, "with", 0, with);
	after = th_value(res, "with", 1, after);
	without = th_value(res, "without", 0, without);
	sf64 = th_value(res, "sf64", 0, sf64);
	free(res);

	TH_OK(with == 200 && after == 300, "sendfile moved the offset 100 -> 300");
	ev = th_find("sendfile", 200, 0);
	TH_INT(ev, "ret", 200);
	TH_INT(ev, "offset", 100);
	TH_INT(ev, "in.fd", json_integer_value(th_get(ev, "in.fd")));
	TH_STR(ev, "in.kind", "file");
	TH_STR(ev, "in.path", path);
	TH_STR(ev, "sock.proto", "tcp");

	ev = th_find("sendfile", 300, 0);
	TH_INT(ev, "ret", without);
	TH_NULL(ev, "offset");
	TH_STR(ev, "in.kind", "file");

	ev = th_find("sendfile64", 400, 0);
	if (!ev) /* glibc may route sendfile64 to the same symbol as sendfile */
		ev = th_find("sendfile", 400, 0);
	TH_INT(ev, "ret", sf64);
	TH_INT(ev, "offset", 1000);
	TH_OK(th_find("sendfile", 10, 0) == NULL, "sendfile into a pipe is not traced");
}
