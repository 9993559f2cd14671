/* ok-pingpong.c: small requests, each answered before the next: no burst, whatever the timing.
 * expect: none
 * run: -e all,lifecycle
 */
#include "corpus.h"

static void *echo(void *arg)
{
	int fd = *(int *)arg;
	char buf[64];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
			break;
	return NULL;
}

int main(void)
{
	pthread_t t;
	char buf[16];
	int c, s, i;

	cp_tcp_pair(&c, &s);
	if (pthread_create(&t, NULL, echo, &s))
		cp_die("pthread_create");
	for (i = 0; i < 2000; i++) {
		size_t got = 0;

		if (send(c, "ping-0123", 9, MSG_NOSIGNAL) != 9)
			cp_die("send");
		while (got < 9) {
			ssize_t n = read(c, buf, sizeof(buf));

			if (n <= 0)
				cp_die("read");
			got += (size_t)n;
		}
	}
	close(c);
	pthread_join(t, NULL);
	return 0;
}
