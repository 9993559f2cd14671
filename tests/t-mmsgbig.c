/* t-mmsgbig.c: sendmmsg of 1,024 messages: bytes_sent (and `sendtrace stats`) count every one. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#define NMSG 1024
#define MLEN 100

static struct mmsghdr mm[NMSG];
static struct iovec iov[NMSG];
static char data[MLEN];
static int gate[2];

/* A second thread, so that the library reads the vector through the kernel. */
static void *idle(void *arg)
{
	char c;

	(void)arg;
	(void)read(gate[0], &c, 1);
	return NULL;
}

void th_workload(void)
{
	struct sockaddr_in a4;
	unsigned int l;
	pthread_t t;
	int tx, i, r;

	th_udp_receiver(AF_INET, &a4, &l);
	tx = socket(AF_INET, SOCK_DGRAM, 0);
	connect(tx, (struct sockaddr *)&a4, sizeof(a4));
	for (i = 0; i < NMSG; i++) {
		iov[i].iov_base = data;
		iov[i].iov_len = MLEN;
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	r = sendmmsg(tx, mm, NMSG, 0);
	th_result("single %d", r);
	pipe(gate);
	pthread_create(&t, NULL, idle, NULL);
	r = sendmmsg(tx, mm, NMSG, 0);
	th_result("threaded %d", r);
	(void)write(gate[1], "x", 1);
	pthread_join(t, NULL);
}

/* `sendtrace stats --json` on this trace: the bytes it counts for sendmmsg. */
static long long stats_bytes(void)
{
	char cmd[8400], out[65536];
	const char *dir = getenv("ST_BUILDDIR");
	FILE *p;
	size_t n;
	json_t *root;
	long long bytes = -1;

	snprintf(cmd, sizeof(cmd), "'%s/cli/sendtrace' stats --json '%s'", dir ? dir : ".",
		 th_trace_path());
	p = popen(cmd, "r");
	if (!p)
		return -1;
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	pclose(p);
	root = json_loads(out, 0, NULL);
	if (root)
		bytes = json_integer_value(th_get(root, "calls.sendmmsg.bytes"));
	json_decref(root);
	return bytes;
}

void th_check(void)
{
	char *res = th_results();
	long long single = th_value(res, "single", 0, -1),
		  threaded = th_value(res, "threaded", 0, -1);
	json_t *a = th_find("sendmmsg", -1, 0), *b = th_find("sendmmsg", -1, 1);

	free(res);
	TH_OK(single > 64 && threaded > 64, "the kernel took more than 64 messages (%lld, %lld)",
	      single, threaded);
	TH_INT(a, "ret", single);
	TH_INT(a, "vlen", NMSG);
	TH_OK(json_array_size(th_get(a, "msgs")) == 64, "64 messages listed");
	TH_INT(a, "msgs_more", NMSG - 64);
	TH_INT(a, "bytes_sent", single * MLEN);
	TH_INT(b, "ret", threaded);
	TH_INT(b, "bytes_sent", threaded * MLEN);
	TH_OK(stats_bytes() == (single + threaded) * MLEN, "stats counts %lld bytes for sendmmsg",
	      (single + threaded) * MLEN);
}
