/* bad-small-writes.c: a response written as four small writes in a row on a TCP socket with
 * Nagle on: the pattern that meets delayed ACKs.
 * expect: small-writes-burst
 * run: -e all,lifecycle
 */
#include "corpus.h"

int main(void)
{
	static const char *const part[] = {"HTTP/1.1 200 OK\r\n", "Content-Length: 5\r\n", "\r\n",
					   "hello"};
	struct cp_reader r;
	int c, s, i, k;

	cp_tcp_pair(&c, &s);
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
