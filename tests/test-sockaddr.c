/* test-sockaddr.c: address formatting for every family sendtrace names. */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/un.h>

#include "decode.h"
#include "unit.h"

static char out[ST_ADDR_MAX + 1];

static const char *fmt(const void *sa, socklen_t len)
{
	size_t n = st_fmt_sockaddr(out, sa, len);

	out[n] = '\0';
	return out;
}

static const char *v6(const char *text, unsigned int scope)
{
	struct sockaddr_in6 s = {.sin6_family = AF_INET6, .sin6_port = htons(53)};

	inet_pton(AF_INET6, text, &s.sin6_addr);
	s.sin6_scope_id = scope;
	return fmt(&s, sizeof(s));
}

int main(void)
{
	struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = htons(53)};
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	struct sockaddr_nl nl = {.nl_family = AF_NETLINK, .nl_pid = 1234, .nl_groups = 0x11};
	struct sockaddr_ll ll = {.sll_family = AF_PACKET};
	unsigned char raw[6] = {99, 0, 1, 2, 0xab, 0xcd};
	size_t n;

	inet_pton(AF_INET, "1.2.3.4", &s4.sin_addr);
	CHECK_STR(fmt(&s4, sizeof(s4)), "1.2.3.4:53");
	s4.sin_addr.s_addr = htonl(0xffffffff);
	s4.sin_port = htons(65535);
	CHECK_STR(fmt(&s4, sizeof(s4)), "255.255.255.255:65535");
	CHECK_STR(fmt(&s4, 8), "family=2:ffffffffffff");

	CHECK_STR(v6("::1", 0), "[::1]:53");
	CHECK_STR(v6("::", 0), "[::]:53");
	CHECK_STR(v6("1::", 0), "[1::]:53");
	CHECK_STR(v6("2001:db8::1", 0), "[2001:db8::1]:53");
	CHECK_STR(v6("2001:db8:0:0:1:0:0:1", 0), "[2001:db8::1:0:0:1]:53");
	CHECK_STR(v6("1:0:0:2:0:0:0:3", 0), "[1:0:0:2::3]:53");
	CHECK_STR(v6("2001:db8:0:1:1:1:1:1", 0), "[2001:db8:0:1:1:1:1:1]:53");
	CHECK_STR(v6("::ffff:10.0.0.1", 0), "[::ffff:10.0.0.1]:53");
	CHECK_STR(v6("fe80::1", 2), "[fe80::1%2]:53");
	CHECK_STR(v6("FE80::ABCD", 0), "[fe80::abcd]:53");

	strcpy(un.sun_path, "/run/app.sock");
	CHECK_STR(fmt(&un, sizeof(un)), "/run/app.sock");
	CHECK_STR(fmt(&un, offsetof(struct sockaddr_un, sun_path) + 14), "/run/app.sock");
	CHECK_STR(fmt(&un, sizeof(sa_family_t)), "");
	memcpy(un.sun_path, "\0abs", 4);
	n = st_fmt_sockaddr(out, (void *)&un, offsetof(struct sockaddr_un, sun_path) + 4);
	CHECK(n == 4 && memcmp(out, "@abs", 4) == 0, "abstract name");
	memcpy(un.sun_path, "\0a\0b", 4);
	n = st_fmt_sockaddr(out, (void *)&un, offsetof(struct sockaddr_un, sun_path) + 4);
	CHECK(n == 4 && memcmp(out, "@a\0b", 4) == 0, "abstract name keeps its NUL bytes");

	CHECK_STR(fmt(&nl, sizeof(nl)), "netlink:pid=1234,groups=0x00000011");
	ll.sll_protocol = htons(0x86dd);
	ll.sll_ifindex = 3;
	ll.sll_hatype = 1;
	ll.sll_pkttype = 4;
	ll.sll_halen = 6;
	memcpy(ll.sll_addr, "\x00\x11\x22\xaa\xbb\xcc", 6);
	CHECK_STR(fmt(&ll, sizeof(ll)),
		  "packet:proto=0x86dd,ifindex=3,hatype=1,pkttype=4,addr=00:11:22:aa:bb:cc");
	ll.sll_halen = 0;
	CHECK_STR(fmt(&ll, sizeof(ll)), "packet:proto=0x86dd,ifindex=3,hatype=1,pkttype=4");

	CHECK_STR(fmt(raw, sizeof(raw)), "family=99:0102abcd");
	CHECK_STR(fmt(raw, 1), "invalid:len=1");
	CHECK_STR(fmt(raw, 0), "invalid:len=0");
	return unit_done();
}
