/* bad-eor-unix.c: MSG_EOR on an AF_UNIX stream, which has no records.
 * expect: msg-eor-no-records
 */
#include "corpus.h"

int main(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		cp_die("socketpair");
	if (send(sv[0], "record", 6, MSG_EOR | MSG_NOSIGNAL) != 6)
		cp_die("send");
	close(sv[0]);
	close(sv[1]);
	return 0;
}
