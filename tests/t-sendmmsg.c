/* t-sendmmsg.c: sendmmsg: per-message decoding, msg_len, and a partial send. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

static char big[70000];

void th_workload(void)
{
	struct sockaddr_in a4;
	struct mmsghdr mm[3];
	struct iovec iov[4] = {{big, 10}, {big, 20}, {big, 5}, {big, sizeof(big)}};
	unsigned int l;
	int rx = th_udp_receiver(AF_INET, &a4, &l), tx = socket(AF_INET, SOCK_DGRAM, 0);
	int i;

	/* Three messages, the third too big for UDP: the kernel sends two. */
	memset(mm, 0, sizeof(mm));
	for (i = 0; i < 3; i++) {
		mm[i].msg_hdr.msg_name = &a4;
		mm[i].msg_hdr.msg_namelen = sizeof(a4);
	}
	mm[0].msg_hdr.msg_iov = &iov[0];
	mm[0].msg_hdr.msg_iovlen = 1;
	mm[1].msg_hdr.msg_iov = &iov[1];
	mm[1].msg_hdr.msg_iovlen = 2;
	mm[2].msg_hdr.msg_iov = &iov[3];
	mm[2].msg_hdr.msg_iovlen = 1;
	th_result("partial %d", sendmmsg(tx, mm, 3, MSG_DONTWAIT));
	th_result("port %d", ntohs(a4.sin_port));

	/* All of them go: two messages on a connected socket, no names. */
	connect(tx, (struct sockaddr *)&a4, sizeof(a4));
	mm[0].msg_hdr.msg_name = NULL;
	mm[0].msg_hdr.msg_namelen = 0;
	mm[1].msg_hdr.msg_name = NULL;
	mm[1].msg_hdr.msg_namelen = 0;
	th_result("full %d", sendmmsg(tx, mm, 2, 0));
	(void)rx;
}

void th_check(void)
{
	char *res = th_results(), want[64];
	int partial = -9, full = -9, port = 0;
	json_t *ev;

	partial = th_value(res, "partial", 0, partial);
	full = th_value(res, "full", 0, full);
	port = th_value(res, "port", 0, port);
	free(res);
	snprintf(want, sizeof(want), "127.0.0.1:%d", port);

	TH_OK(partial == 2, "the kernel sent 2 of 3 (got %d)", partial);
	ev = th_find("sendmmsg", -1, 0);
	TH_INT(ev, "ret", partial);
	TH_INT(ev, "vlen", 3);
	TH_STR(ev, "flags.0", "MSG_DONTWAIT");
	TH_OK(json_array_size(th_get(ev, "msgs")) == 3, "three messages decoded");
	TH_STR(ev, "msgs.0.addr", want);
	TH_INT(ev, "msgs.0.iov.0.len", 10);
	TH_INT(ev, "msgs.0.len", 10);
	TH_BOOL(ev, "msgs.0.sent", 1);
	TH_INT(ev, "msgs.0.msg_len", 10);
	TH_INT(ev, "msgs.1.iov.0.len", 20);
	TH_INT(ev, "msgs.1.iov.1.len", 5);
	TH_INT(ev, "msgs.1.msg_len", 25);
	TH_BOOL(ev, "msgs.2.sent", 0);
	TH_OK(th_get(ev, "msgs.2.msg_len") == NULL, "no msg_len for the unsent message");
	TH_INT(ev, "msgs.2.len", (long long)sizeof(big));
	TH_INT(ev, "bytes_sent", 35);
	TH_INT(ev, "len", 35 + (long long)sizeof(big));
	TH_OK(th_get(ev, "errno") == NULL, "a partial sendmmsg is not an error");

	ev = th_find("sendmmsg", -1, 1);
	TH_INT(ev, "ret", full);
	TH_INT(ev, "vlen", 2);
	TH_NULL(ev, "msgs.0.addr");
	TH_STR(ev, "sock.peer", want);
	TH_INT(ev, "bytes_sent", 35);
}
