/* ok-writev.c: each message's header and body gathered into one writev: correct.
 * expect: none
 * run: -e all,lifecycle
 */
#include <sys/uio.h>

#include "corpus.h"

int main(void)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", body[] = "hello";
	struct iovec iov[2] = {{(void *)head, sizeof(head) - 1}, {(void *)body, sizeof(body) - 1}};
	struct cp_reader r;
	int c, s, i, k;

	signal(SIGPIPE, SIG_IGN); /* writev cannot pass MSG_NOSIGNAL */
	cp_tcp_pair(&c, &s);
	cp_reader_start(&r, s, 0, 0);
	for (i = 0; i < 20; i++) {
		for (k = 0; k < 5; k++)
			if (writev(c, iov, 2) != (ssize_t)(sizeof(head) + sizeof(body) - 2))
				cp_die("writev");
		cp_sleep_ms(1);
	}
	close(c);
	cp_reader_join(&r);
	return 0;
}
