/* echo-pair.c: a small program that sends in the ways sendtrace decodes, to show what it records.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static int die(const char *what)
{
	perror(what);
	return 1;
}

int main(void)
{
	int pair[2], udp_rx, udp_tx, lis, cli, srv, file;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	char hello[] = "hello", world[] = ", world", buf[4096];
	struct iovec iov[2] = {{hello, 5}, {world, 7}};
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
	struct cmsghdr *cm;
	off_t off = 0;

	/* A unix stream pair: a plain send, then two iovecs carrying an fd. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0)
		return die("socketpair");
	send(pair[0], "ping", 4, MSG_NOSIGNAL);
	memset(&ctl, 0, sizeof(ctl));
	msg.msg_control = ctl.space;
	msg.msg_controllen = sizeof(ctl.space);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &pair[1], sizeof(int));
	sendmsg(pair[0], &msg, MSG_NOSIGNAL);

	/* UDP on loopback: sendto names the destination. */
	udp_rx = socket(AF_INET, SOCK_DGRAM, 0);
	udp_tx = socket(AF_INET, SOCK_DGRAM, 0);
	if (udp_rx < 0 || udp_tx < 0 || bind(udp_rx, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(udp_rx, (struct sockaddr *)&a, &alen) != 0)
		return die("udp");
	sendto(udp_tx, "query", 5, 0, (struct sockaddr *)&a, sizeof(a));

	/* TCP on loopback: write, then sendfile of this very program. */
	a.sin_port = 0;
	lis = socket(AF_INET, SOCK_STREAM, 0);
	alen = sizeof(a);
	if (lis < 0 || bind(lis, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lis, 1) != 0 ||
	    getsockname(lis, (struct sockaddr *)&a, &alen) != 0)
		return die("tcp listen");
	cli = socket(AF_INET, SOCK_STREAM, 0);
	if (cli < 0 || connect(cli, (struct sockaddr *)&a, sizeof(a)) != 0)
		return die("tcp connect");
	srv = accept(lis, NULL, NULL);
	write(cli, "GET / HTTP/1.0\r\n\r\n", 18);
	file = open("/proc/self/exe", O_RDONLY);
	if (file >= 0)
		sendfile(srv, file, &off, 512);
	(void)read(cli, buf, sizeof(buf));

	/* A mistake the trace makes plain: the peer is gone. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0)
		return die("socketpair");
	close(pair[1]);
	if (send(pair[0], "late", 4, MSG_NOSIGNAL) < 0)
		printf("send after close: %s (as expected)\n", strerror(errno));
	printf("echo-pair: done\n");
	return 0;
}
