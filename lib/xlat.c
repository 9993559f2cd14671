/* xlat.c: name tables for address families, socket types, protocols and levels. */
#include "config.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "decode.h"

#ifndef SOL_TCP
#define SOL_TCP 6
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

const struct st_xlat st_families[] = {
    {AF_UNSPEC, "AF_UNSPEC"},
    {AF_UNIX, "AF_UNIX"},
    {AF_INET, "AF_INET"},
    {AF_INET6, "AF_INET6"},
    {AF_NETLINK, "AF_NETLINK"},
    {AF_PACKET, "AF_PACKET"},
    {AF_BLUETOOTH, "AF_BLUETOOTH"},
    {AF_CAN, "AF_CAN"},
    {AF_VSOCK, "AF_VSOCK"},
    {AF_ALG, "AF_ALG"},
    {AF_TIPC, "AF_TIPC"},
    {AF_XDP, "AF_XDP"},
    {0, NULL},
};

const struct st_xlat st_socktypes[] = {
    {SOCK_STREAM, "SOCK_STREAM"},
    {SOCK_DGRAM, "SOCK_DGRAM"},
    {SOCK_RAW, "SOCK_RAW"},
    {SOCK_RDM, "SOCK_RDM"},
    {SOCK_SEQPACKET, "SOCK_SEQPACKET"},
    {SOCK_DCCP, "SOCK_DCCP"},
    {SOCK_PACKET, "SOCK_PACKET"},
    {0, NULL},
};

/* Protocol numbers of AF_INET/AF_INET6 sockets, as IANA names them. */
const struct st_xlat st_ipprotos[] = {
    {IPPROTO_TCP, "tcp"},   {IPPROTO_UDP, "udp"},
    {IPPROTO_ICMP, "icmp"}, {IPPROTO_ICMPV6, "icmpv6"},
    {IPPROTO_SCTP, "sctp"}, {IPPROTO_UDPLITE, "udplite"},
    {IPPROTO_RAW, "raw"},   {IPPROTO_MPTCP, "mptcp"},
    {IPPROTO_DCCP, "dccp"}, {0, NULL},
};

const struct st_xlat st_sol_levels[] = {
    {SOL_SOCKET, "SOL_SOCKET"}, {SOL_IP, "SOL_IP"},   {SOL_IPV6, "SOL_IPV6"},
    {SOL_UDP, "SOL_UDP"},	{SOL_TCP, "SOL_TCP"}, {0, NULL},
};

const struct st_xlat st_shut_hows[] = {
    {SHUT_RD, "SHUT_RD"},
    {SHUT_WR, "SHUT_WR"},
    {SHUT_RDWR, "SHUT_RDWR"},
    {0, NULL},
};

static const struct st_xlat st_sock_flag_bits[] = {
    {SOCK_NONBLOCK, "SOCK_NONBLOCK"},
    {SOCK_CLOEXEC, "SOCK_CLOEXEC"},
    {0, NULL},
};

void st_json_sock_flags(struct st_json *j, int flags)
{
	const struct st_xlat *x;
	unsigned rest = (unsigned)flags;

	st_json_arr(j);
	for (x = st_sock_flag_bits; x->name; x++) {
		if (rest & (unsigned)x->val) {
			st_json_cstr(j, x->name);
			rest &= ~(unsigned)x->val;
		}
	}
	if (rest)
		st_json_hexnum(j, rest);
	st_json_arr_end(j);
}

const char *st_xlat_name(const struct st_xlat *tab, long val)
{
	for (; tab->name; tab++)
		if (tab->val == val)
			return tab->name;
	return NULL;
}

void st_json_xlat(struct st_json *j, const struct st_xlat *tab, long val)
{
	const char *name = st_xlat_name(tab, val);

	if (name)
		st_json_cstr(j, name);
	else
		st_json_int(j, val);
}

void st_json_errno(struct st_json *j, int err)
{
	const char *name = NULL;
	char buf[24];

#ifdef HAVE_STRERRORNAME_NP
	/* A lookup in a constant table: no allocation, no locale. */
	name = strerrorname_np(err);
#endif
	if (name) {
		st_json_cstr(j, name);
		return;
	}
	buf[0] = 'E';
	st_json_str(j, buf, 1 + st_fmt_uint(buf + 1, (unsigned)err));
}
