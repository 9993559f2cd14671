/* bad-msg-confirm.c: MSG_CONFIRM on a TCP socket, where the kernel ignores it.
 * expect: msg-confirm-not-datagram
 */
#include "corpus.h"

int main(void)
{
	int c, s;

	cp_tcp_pair(&c, &s);
	if (send(c, "data", 4, MSG_CONFIRM | MSG_NOSIGNAL) != 4)
		cp_die("send");
	close(c);
	close(s);
	return 0;
}
