/* unixdiag.c: the peer of a unix socket, by inode, asked of the kernel's sock_diag netlink. */
#include "config.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "st.h"

/*
 * Two ends of a socketpair, or of an unnamed connection, both print as
 * "(unnamed)": only the inodes pair them, as strace -yy shows. The peer's
 * inode has no getsockopt; the sock_diag netlink family answers for one
 * inode. This runs once per socket, when the fd table learns it, on a
 * netlink socket that lives inside a short-lived-fd section (fdguard.c),
 * with the library's own system calls, so nothing of it is traced or seen
 * by the program. Returns 0 and *peer, or -1 (no peer, or not allowed).
 */
int st_unix_peer_ino(unsigned long ino, unsigned long *peer)
{
	struct {
		struct nlmsghdr nh;
		struct unix_diag_req req;
	} q;
	union {
		struct nlmsghdr nh;
		char bytes[1024];
	} a;
	struct sockaddr_nl nl = {.nl_family = AF_NETLINK};
	struct st_fdlock l;
	int fd, found = -1, saved = errno, cancel, unused;
	long n;

	if (st_sandboxed())
		return -1;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	if (st_tmp_begin(&l) != 0)
		goto out;
	fd = (int)st_sys(SYS_socket, AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		goto tmp;
	memset(&q, 0, sizeof(q));
	q.nh.nlmsg_len = sizeof(q);
	q.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q.nh.nlmsg_flags = NLM_F_REQUEST;
	q.req.sdiag_family = AF_UNIX;
	q.req.udiag_states = ~0u;
	q.req.udiag_ino = (unsigned)ino;
	q.req.udiag_show = UDIAG_SHOW_PEER;
	q.req.udiag_cookie[0] = q.req.udiag_cookie[1] = ~0u; /* any: the inode decides */
	if (st_sys(SYS_sendto, fd, &q, sizeof(q), 0, &nl, sizeof(nl)) != (long)sizeof(q))
		goto close;
	n = st_sys(SYS_recvfrom, fd, &a, sizeof(a), 0, NULL, NULL);
	if (n >= (long)sizeof(struct nlmsghdr) && NLMSG_OK(&a.nh, (unsigned)n) &&
	    a.nh.nlmsg_type == SOCK_DIAG_BY_FAMILY &&
	    a.nh.nlmsg_len >= NLMSG_LENGTH(sizeof(struct unix_diag_msg))) {
		struct unix_diag_msg *m = NLMSG_DATA(&a.nh);
		struct rtattr *at = (struct rtattr *)(m + 1);
		unsigned left = a.nh.nlmsg_len - NLMSG_LENGTH(sizeof(*m));

		for (; RTA_OK(at, left); at = RTA_NEXT(at, left)) {
			if (m->udiag_ino == (unsigned)ino && at->rta_type == UNIX_DIAG_PEER &&
			    RTA_PAYLOAD(at) >= sizeof(unsigned)) {
				unsigned v;

				memcpy(&v, RTA_DATA(at), sizeof(v));
				*peer = v;
				found = v ? 0 : -1;
			}
		}
	}
close:
	st_sys_close(fd);
tmp:
	st_tmp_end(&l);
out:
	pthread_setcancelstate(cancel, &unused);
	errno = saved;
	return found;
}
