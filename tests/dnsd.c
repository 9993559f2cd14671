/* dnsd.c: a tiny DNS responder for the tests: every A or AAAA query, over UDP or TCP, gets one fixed address. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * The resolver under test is glibc's, talking to whatever resolv.conf names;
 * a test that points resolv.conf at 127.0.0.1 needs something there that
 * answers. This one answers any name: A with -4 (192.0.2.7 by default, a
 * documentation address no real lookup returns) and AAAA with -6; any other
 * type gets an empty answer, a query it cannot parse FORMERR. It serves UDP
 * and TCP on the same port, as resolv.conf's `options use-vc` needs. It
 * prints one line, "dnsd port P pid N", once both sockets listen, and exits
 * 0 after -n queries or on SIGTERM.
 */

#define TYPE_A	  1
#define TYPE_AAAA 28
#define CLASS_IN  1
#define HDR	  12

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: dnsd [-a ADDR] [-p PORT] [-n QUERIES] [-4 IPV4] [-6 IPV6] [-l]\n"
			"  -a  address to listen on (127.0.0.1)\n"
			"  -p  port, UDP and TCP (53; 0 picks a free one)\n"
			"  -n  exit after this many queries (0: only on SIGTERM)\n"
			"  -4  the address of every A answer (192.0.2.7)\n"
			"  -6  the address of every AAAA answer (2001:db8::7)\n"
			"  -l  bring the loopback interface up first (a new network namespace)\n");
	exit(2);
}

/* In a fresh network namespace lo is down: 127.0.0.1 cannot even be bound. */
static void loopback_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) {
		perror("dnsd: lo");
		exit(1);
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0) {
		perror("dnsd: bringing lo up");
		exit(1);
	}
	close(fd);
}

/*
 * The reply to query q (n bytes) in out; its length, or 0 to say nothing
 * (not a query at all). The question is copied back as asked, and the answer
 * points at it (0xc00c) rather than repeating the name.
 */
static size_t answer(const unsigned char *q, size_t n, unsigned char *out, size_t cap,
		     const struct in_addr *a4, const struct in6_addr *a6)
{
	size_t end = HDR, alen = 0;
	unsigned qtype, qclass;
	const void *rdata = NULL;
	unsigned char *p;

	if (n < HDR || (q[2] & 0x80) || cap < n + 16 + 16)
		return 0;
	/* The header: ours is a response (QR), authoritative, recursion available. */
	memcpy(out, q, HDR);
	out[2] = (unsigned char)(0x80 | (q[2] & 0x79) | 0x04);
	out[3] = 0x80;
	memset(out + 6, 0, 6); /* no answer, authority or additional yet */
	/* One question: labels up to the root, then type and class. */
	if (q[4] != 0 || q[5] != 1)
		goto formerr;
	while (end < n && q[end] != 0) {
		if (q[end] & 0xc0)
			goto formerr; /* a pointer has nothing to point at in a query */
		end += 1u + q[end];
	}
	if (end + 5 > n)
		goto formerr;
	end++;
	qtype = (unsigned)q[end] << 8 | q[end + 1];
	qclass = (unsigned)q[end + 2] << 8 | q[end + 3];
	end += 4;
	memcpy(out + HDR, q + HDR, end - HDR);
	if (qclass == CLASS_IN && qtype == TYPE_A) {
		rdata = a4;
		alen = 4;
	} else if (qclass == CLASS_IN && qtype == TYPE_AAAA) {
		rdata = a6;
		alen = 16;
	}
	if (!rdata)
		return end; /* the name exists, with no record of that type */
	out[7] = 1;
	p = out + end;
	*p++ = 0xc0;
	*p++ = HDR;
	*p++ = (unsigned char)(qtype >> 8);
	*p++ = (unsigned char)qtype;
	*p++ = 0;
	*p++ = CLASS_IN;
	*p++ = 0; /* TTL: 60 seconds */
	*p++ = 0;
	*p++ = 0;
	*p++ = 60;
	*p++ = 0;
	*p++ = (unsigned char)alen;
	memcpy(p, rdata, alen);
	return (size_t)(p - out) + alen;
formerr:
	out[3] = 0x81;
	out[4] = 0;
	out[5] = 0;
	return HDR;
}

/* Reads exactly n bytes, giving up after two seconds of silence; 0 on success. */
static int read_full(int fd, unsigned char *buf, size_t n)
{
	while (n > 0) {
		struct pollfd pfd = {fd, POLLIN, 0};
		ssize_t r;

		if (poll(&pfd, 1, 2000) <= 0)
			return -1;
		r = read(fd, buf, n);
		if (r <= 0)
			return -1;
		buf += r;
		n -= (size_t)r;
	}
	return 0;
}

/* One TCP connection: queries, each after its two-byte length, until the client closes. */
static long serve_tcp(int c, const struct in_addr *a4, const struct in6_addr *a6, long left)
{
	unsigned char q[65535], out[65535 + 64], len[2];
	long done = 0;

	while (!stop && (left <= 0 || done < left) && read_full(c, len, 2) == 0) {
		size_t n = (size_t)len[0] << 8 | len[1], m;

		if (n == 0 || read_full(c, q, n) != 0)
			break;
		done++;
		m = answer(q, n, out + 2, sizeof(out) - 2, a4, a6);
		if (m == 0)
			break;
		out[0] = (unsigned char)(m >> 8);
		out[1] = (unsigned char)m;
		if (write(c, out, m + 2) != (ssize_t)(m + 2))
			break;
	}
	close(c);
	return done;
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1", *v4 = "192.0.2.7", *v6 = "2001:db8::7";
	long port = 53, limit = 0, done = 0;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	struct in_addr a4;
	struct in6_addr a6;
	struct sigaction sa;
	int opt, u, t, one = 1, lo = 0;
	char *end;

	while ((opt = getopt(argc, argv, "a:p:n:4:6:l")) != -1) {
		switch (opt) {
		case 'a': addr = optarg; break;
		case 'p':
			port = strtol(optarg, &end, 10);
			if (*end || port < 0 || port > 65535) {
				fprintf(stderr, "dnsd: bad port '%s'\n", optarg);
				return 2;
			}
			break;
		case 'n':
			limit = strtol(optarg, &end, 10);
			if (*end || limit < 0) {
				fprintf(stderr, "dnsd: bad query count '%s'\n", optarg);
				return 2;
			}
			break;
		case '4': v4 = optarg; break;
		case '6': v6 = optarg; break;
		case 'l': lo = 1; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1 || inet_pton(AF_INET, v4, &a4) != 1 ||
	    inet_pton(AF_INET6, v6, &a6) != 1) {
		fprintf(stderr, "dnsd: bad address among '%s', '%s', '%s'\n", addr, v4, v6);
		return 2;
	}
	if (lo)
		loopback_up();
	/* UDP first: with -p 0 the kernel picks its port, and TCP takes the same one. */
	sin.sin_port = htons((unsigned short)port);
	u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (u < 0 || t < 0 || bind(u, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(u, (struct sockaddr *)&sin, &sl) != 0 ||
	    setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(t, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(t, 16) != 0) {
		fprintf(stderr, "dnsd: cannot listen on %s port %ld: %s\n", addr, port,
			strerror(errno));
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	printf("dnsd port %u pid %ld\n", ntohs(sin.sin_port), (long)getpid());
	fflush(stdout);

	while (!stop && (limit == 0 || done < limit)) {
		struct pollfd pfd[2] = {{u, POLLIN, 0}, {t, POLLIN, 0}};
		unsigned char q[4096], out[4096 + 64];
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("dnsd: poll");
			return 1;
		}
		if (pfd[0].revents & POLLIN) {
			ssize_t n = recvfrom(u, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
			size_t m;

			if (n > 0) {
				done++;
				m = answer(q, (size_t)n, out, sizeof(out), &a4, &a6);
				if (m > 0)
					sendto(u, out, m, 0, (struct sockaddr *)&from, fl);
			}
		}
		if (pfd[1].revents & POLLIN) {
			int c = accept4(t, NULL, NULL, SOCK_CLOEXEC);

			if (c >= 0)
				done += serve_tcp(c, &a4, &a6, limit ? limit - done : 0);
		}
	}
	return 0;
}
