/* bad-sigpipe.c: a TCP socket written while SIGPIPE would kill the process if the peer went.
 * expect: sigpipe-default
 */
#include "corpus.h"

int main(void)
{
	int c, s;

	cp_tcp_pair(&c, &s);
	if (write(c, "data", 4) != 4)
		cp_die("write");
	close(c);
	close(s);
	return 0;
}
