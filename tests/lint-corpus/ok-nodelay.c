/* ok-nodelay.c: small writes in a row on a socket with TCP_NODELAY set: deliberate, correct.
 * expect: none
 * needs: nodelay
 * run: -e all,lifecycle
 */
#include <netinet/tcp.h>

#include "corpus.h"

int main(void)
{
	static const char *const part[] = {"GET / HTTP/1.1\r\n", "Host: x\r\n", "Accept: */*\r\n",
					   "\r\n"};
	struct cp_reader r;
	int c, s, i, k, one = 1;

	cp_tcp_pair(&c, &s);
	if (setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		cp_die("TCP_NODELAY");
	cp_reader_start(&r, s, 0, 0);
	for (i = 0; i < 20; i++) {
		for (k = 0; k < 4; k++)
			if (send(c, part[k], strlen(part[k]), MSG_NOSIGNAL) !=
			    (ssize_t)strlen(part[k]))
				cp_die("send");
		cp_sleep_ms(1);
	}
	close(c);
	cp_reader_join(&r);
	return 0;
}
