/* bad-send-after-error.c: the peer resets the connection, and the program goes on sending,
 * never looking at what send returns.
 * expect: send-after-error
 * run: -e all,lifecycle
 */
#include "corpus.h"

int main(void)
{
	struct linger lg = {1, 0};
	int c, s, i, failed = 0;

	cp_tcp_pair(&c, &s);
	if (setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
		cp_die("SO_LINGER");
	close(s); /* a reset */
	cp_sleep_ms(20);
	for (i = 0; i < 10; i++)
		failed += send(c, "data", 4, MSG_NOSIGNAL) < 0; /* the mistake: unchecked */
	close(c);
	return failed == 10 ? 0 : 99;
}
