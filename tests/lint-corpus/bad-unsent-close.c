/* bad-unsent-close.c: a non-blocking send takes part of the data, and the socket is closed
 * without the rest: the peer gets a truncated stream.
 * expect: unsent-remainder
 * run: -e all,lifecycle
 */
#include "corpus.h"

int main(void)
{
	static char buf[1 << 22];
	struct cp_reader r;
	ssize_t n;
	int c, s;

	cp_tcp_pair(&c, &s);
	cp_sndbuf(c, 16384);
	cp_reader_start(&r, s, 50, 0);
	if (send(c, "hello\n", 6, MSG_NOSIGNAL) != 6)
		cp_die("send");
	cp_nonblock(c);
	n = send(c, buf, sizeof(buf), MSG_NOSIGNAL);
	if (n <= 0 || (size_t)n >= sizeof(buf))
		return 99; /* the partial write this program is about did not happen */
	close(c);	   /* the mistake: the rest is never sent */
	cp_reader_join(&r);
	return 0;
}
