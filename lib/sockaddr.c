/* sockaddr.c: socket addresses of every family as one readable string. */
#include "config.h"

#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/un.h>

#include "decode.h"

/* Longest raw address shown in hex for a family we do not decode. */
#define ST_ADDR_HEX_MAX 128

static size_t st_cat(char *out, size_t at, const char *s)
{
	size_t n = strlen(s);

	memcpy(out + at, s, n);
	return at + n;
}

size_t st_fmt_in4(char *out, const void *addr4)
{
	const unsigned char *b = addr4;
	size_t n = 0;
	int i;

	for (i = 0; i < 4; i++) {
		if (i)
			out[n++] = '.';
		n += st_fmt_uint(out + n, b[i]);
	}
	return n;
}

/* RFC 5952: lower case, the longest run of two or more zero groups as "::". */
size_t st_fmt_in6(char *out, const void *addr6)
{
	const unsigned char *b = addr6;
	unsigned int g[8];
	int i, best = -1, bestlen = 0, cur = -1, curlen = 0;
	size_t n = 0;

	for (i = 0; i < 8; i++)
		g[i] = (unsigned)(b[2 * i] << 8 | b[2 * i + 1]);

	/* IPv4-mapped addresses read better with the IPv4 part dotted. */
	if (!g[0] && !g[1] && !g[2] && !g[3] && !g[4] && g[5] == 0xffff) {
		n = st_cat(out, 0, "::ffff:");
		return n + st_fmt_in4(out + n, b + 12);
	}
	for (i = 0; i < 8; i++) {
		if (g[i] == 0) {
			if (cur < 0) {
				cur = i;
				curlen = 0;
			}
			if (++curlen > bestlen) {
				best = cur;
				bestlen = curlen;
			}
		} else {
			cur = -1;
		}
	}
	if (bestlen < 2)
		best = -1;
	for (i = 0; i < 8; i++) {
		if (i == best) {
			out[n++] = ':';
			out[n++] = ':';
			i += bestlen - 1;
			continue;
		}
		if (i && i != best + bestlen)
			out[n++] = ':';
		n += st_fmt_hex(out + n, g[i], 1);
	}
	return n;
}

static size_t st_fmt_generic(char *out, const struct sockaddr *sa, socklen_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *b = (const unsigned char *)sa;
	size_t n = st_cat(out, 0, "family=");
	socklen_t i, off = offsetof(struct sockaddr, sa_data);

	n += st_fmt_uint(out + n, sa->sa_family);
	out[n++] = ':';
	if (len > ST_ADDR_HEX_MAX)
		len = ST_ADDR_HEX_MAX;
	for (i = off; i < len; i++) {
		out[n++] = hex[b[i] >> 4];
		out[n++] = hex[b[i] & 15];
	}
	return n;
}

size_t st_fmt_sockaddr(char *out, const struct sockaddr *sa, socklen_t len)
{
	size_t n = 0;

	if (len < sizeof(sa_family_t)) {
		n = st_cat(out, 0, "invalid:len=");
		return n + st_fmt_uint(out + n, len);
	}
	switch (sa->sa_family) {
	case AF_INET: {
		const struct sockaddr_in *in = (const void *)sa;

		if (len < sizeof(*in))
			break;
		n = st_fmt_in4(out, &in->sin_addr);
		out[n++] = ':';
		return n + st_fmt_uint(out + n, ntohs(in->sin_port));
	}
	case AF_INET6: {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		if (len < sizeof(*in6))
			break;
		out[n++] = '[';
		n += st_fmt_in6(out + n, &in6->sin6_addr);
		if (in6->sin6_scope_id) {
			out[n++] = '%';
			n += st_fmt_uint(out + n, in6->sin6_scope_id);
		}
		out[n++] = ']';
		out[n++] = ':';
		return n + st_fmt_uint(out + n, ntohs(in6->sin6_port));
	}
	case AF_UNIX: {
		const struct sockaddr_un *un = (const void *)sa;
		size_t max = len - offsetof(struct sockaddr_un, sun_path);
		size_t plen;

		if (len > sizeof(*un))
			max = sizeof(un->sun_path);
		if (max == 0)
			return 0; /* unnamed */
		if (un->sun_path[0] == '\0') {
			/* Abstract: every byte counts, NULs included. */
			out[0] = '@';
			memcpy(out + 1, un->sun_path + 1, max - 1);
			return max;
		}
		plen = strnlen(un->sun_path, max);
		memcpy(out, un->sun_path, plen);
		return plen;
	}
	case AF_NETLINK: {
		const struct sockaddr_nl *nl = (const void *)sa;

		if (len < sizeof(*nl))
			break;
		n = st_cat(out, 0, "netlink:pid=");
		n += st_fmt_uint(out + n, nl->nl_pid);
		n = st_cat(out, n, ",groups=0x");
		return n + st_fmt_hex(out + n, nl->nl_groups, 8);
	}
	case AF_PACKET: {
		const struct sockaddr_ll *ll = (const void *)sa;
		unsigned int i, hl;

		if (len < offsetof(struct sockaddr_ll, sll_addr))
			break;
		n = st_cat(out, 0, "packet:proto=0x");
		n += st_fmt_hex(out + n, ntohs(ll->sll_protocol), 4);
		n = st_cat(out, n, ",ifindex=");
		n += st_fmt_uint(out + n, (unsigned)ll->sll_ifindex);
		n = st_cat(out, n, ",hatype=");
		n += st_fmt_uint(out + n, ll->sll_hatype);
		n = st_cat(out, n, ",pkttype=");
		n += st_fmt_uint(out + n, ll->sll_pkttype);
		hl = ll->sll_halen;
		if (hl > sizeof(ll->sll_addr))
			hl = sizeof(ll->sll_addr);
		if (hl > len - offsetof(struct sockaddr_ll, sll_addr))
			hl = len - offsetof(struct sockaddr_ll, sll_addr);
		if (hl) {
			n = st_cat(out, n, ",addr=");
			for (i = 0; i < hl; i++) {
				if (i)
					out[n++] = ':';
				n += st_fmt_hex(out + n, ll->sll_addr[i], 2);
			}
		}
		return n;
	}
	default:
		break;
	}
	return st_fmt_generic(out, sa, len);
}

void st_json_sockaddr(struct st_json *j, const struct sockaddr *sa, socklen_t len)
{
	char buf[ST_ADDR_MAX];

	st_json_str(j, buf, st_fmt_sockaddr(buf, sa, len));
}
