/* bad-udp-hot.c: thousands of datagrams to one destination with sendto on a socket that could
 * have been connected.
 * expect: unconnected-udp-hot-destination
 */
#include "corpus.h"

int main(void)
{
	struct sockaddr_in to;
	int rx = cp_udp_receiver(&to), fd = socket(AF_INET, SOCK_DGRAM, 0), i;

	if (fd < 0)
		cp_die("socket");
	for (i = 0; i < 3000; i++)
		if (sendto(fd, "ping", 4, 0, (struct sockaddr *)&to, sizeof(to)) != 4)
			cp_die("sendto");
	close(fd);
	close(rx);
	return 0;
}
