/* sysloop.c: a loop of send, sendto and write to /dev/null, for counting the tracer's system calls. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000, i;
	struct sockaddr_in to;
	socklen_t l = sizeof(to);
	char buf[64] = {0};
	int sp[2], u, r, dn;

	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) != 0)
		return 1;
	u = socket(AF_INET, SOCK_DGRAM, 0); /* unbound and unconnected: sendto autobinds it */
	r = socket(AF_INET, SOCK_DGRAM, 0);
	if (u < 0 || r < 0 || bind(r, (struct sockaddr *)&to, l) != 0 ||
	    getsockname(r, (struct sockaddr *)&to, &l) != 0)
		return 1;
	dn = open("/dev/null", O_WRONLY);
	for (i = 0; i < n; i++) {
		send(sp[0], buf, 64, 0);
		recv(sp[1], buf, 64, 0);
		sendto(u, buf, 16, 0, (struct sockaddr *)&to, l);
		recv(r, buf, 64, 0);
		write(dn, buf, 8);
	}
	return 0;
}
