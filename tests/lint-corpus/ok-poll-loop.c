/* ok-poll-loop.c: a non-blocking socket written in a poll loop: partial writes, EAGAIN, POLLOUT,
 * the rest: correct.
 * expect: none
 * run: -e all,lifecycle
 */
#include <poll.h>

#include "corpus.h"

int main(void)
{
	static char buf[1 << 21];
	struct cp_reader r;
	size_t off = 0;
	int c, s, partial = 0, again = 0;

	cp_tcp_pair(&c, &s);
	cp_sndbuf(c, 16384);
	cp_nonblock(c);
	cp_reader_start(&r, s, 20, 1); /* slow: the buffer fills */
	while (off < sizeof(buf)) {
		ssize_t n = send(c, buf + off, sizeof(buf) - off, MSG_NOSIGNAL);

		if (n > 0) {
			partial += (size_t)n < sizeof(buf) - off;
			off += (size_t)n;
		} else if (n < 0 && errno == EAGAIN) {
			struct pollfd p = {c, POLLOUT, 0};

			again++;
			if (poll(&p, 1, -1) < 0)
				cp_die("poll");
		} else {
			cp_die("send");
		}
	}
	close(c);
	if (cp_reader_join(&r) != sizeof(buf) || !partial || !again)
		return 99; /* the partial writes and EAGAIN this program is about did not happen */
	return 0;
}
