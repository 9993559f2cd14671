/* ok-epipe-close.c: the peer resets the connection; the first send that fails ends the writing,
 * and the socket is closed: correct.
 * expect: none
 * run: -e all,lifecycle
 */
#include "corpus.h"

int main(void)
{
	struct linger lg = {1, 0};
	int c, s, i;

	cp_tcp_pair(&c, &s);
	/* SO_LINGER 0: the close sends a reset. */
	if (setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
		cp_die("SO_LINGER");
	close(s);
	cp_sleep_ms(20);
	for (i = 0; i < 100; i++)
		if (send(c, "data", 4, MSG_NOSIGNAL) < 0)
			break;
	if (i == 100 || (errno != EPIPE && errno != ECONNRESET))
		cp_die("no EPIPE or ECONNRESET");
	close(c);
	return 0;
}
