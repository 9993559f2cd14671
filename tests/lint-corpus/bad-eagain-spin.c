/* bad-eagain-spin.c: on EAGAIN the send is retried at once instead of waiting for POLLOUT: a
 * busy loop until the reader catches up.
 * expect: eagain-spin
 * run: -e all,lifecycle
 */
#include "corpus.h"

int main(void)
{
	static char buf[1 << 20];
	struct cp_reader r;
	size_t off = 0;
	long again = 0;
	int c, s;

	cp_tcp_pair(&c, &s);
	cp_sndbuf(c, 16384);
	cp_nonblock(c);
	cp_reader_start(&r, s, 100, 0); /* reads nothing for 100 ms */
	while (off < sizeof(buf)) {
		ssize_t n = send(c, buf + off, sizeof(buf) - off, MSG_NOSIGNAL);

		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno == EAGAIN)
			again++; /* the mistake: no poll() */
		else
			cp_die("send");
	}
	close(c);
	cp_reader_join(&r);
	return again >= 100 ? 0 : 99;
}
