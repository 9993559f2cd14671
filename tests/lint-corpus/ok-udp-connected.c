/* ok-udp-connected.c: thousands of datagrams to one destination over a connected UDP socket:
 * correct.
 * expect: none
 */
#include "corpus.h"

int main(void)
{
	struct sockaddr_in to;
	int rx = cp_udp_receiver(&to), fd = socket(AF_INET, SOCK_DGRAM, 0), i;

	if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to)))
		cp_die("connect");
	for (i = 0; i < 3000; i++)
		if (send(fd, "ping", 4, 0) != 4)
			cp_die("send");
	close(fd);
	close(rx);
	return 0;
}
