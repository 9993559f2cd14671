/* bad-unsent-exit.c: write() takes part of the data, and the program exits without the rest. Run
 * without lifecycle records: the process's exit record ends the story.
 * expect: unsent-remainder
 */
#include "corpus.h"

int main(void)
{
	static char buf[1 << 22];
	ssize_t n;
	int c, s;

	signal(SIGPIPE, SIG_IGN); /* write cannot pass MSG_NOSIGNAL */
	cp_tcp_pair(&c, &s);
	cp_sndbuf(c, 16384);
	if (write(c, "hello\n", 6) != 6)
		cp_die("write");
	cp_nonblock(c);
	n = write(c, buf, sizeof(buf));
	if (n <= 0 || (size_t)n >= sizeof(buf))
		return 99;
	exit(0); /* the mistake: the rest is never sent */
}
