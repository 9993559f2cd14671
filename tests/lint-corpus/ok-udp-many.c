/* ok-udp-many.c: an unconnected UDP socket that takes turns between two destinations, thousands
 * of times each: connect() cannot serve it, correct.
 * expect: none
 */
#include "corpus.h"

int main(void)
{
	struct sockaddr_in a, b;
	int ra = cp_udp_receiver(&a), rb = cp_udp_receiver(&b), fd = socket(AF_INET, SOCK_DGRAM, 0);
	int i;

	if (fd < 0)
		cp_die("socket");
	for (i = 0; i < 3000; i++)
		if (sendto(fd, "ping", 4, 0, (struct sockaddr *)(i % 2 ? &a : &b), sizeof(a)) != 4)
			cp_die("sendto");
	close(fd);
	close(ra);
	close(rb);
	return 0;
}
