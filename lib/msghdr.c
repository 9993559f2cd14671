/* msghdr.c: iovecs, msghdr, control messages and sendmmsg vectors. */
#include "config.h"

#include <linux/udp.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <sys/socket.h>

#include "st.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef SCM_TXTIME
#define SCM_TXTIME 61
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

#define ST_IOV_SHOWN  64   /* iovec entries listed one by one */
#define ST_IOV_MAX    1024 /* UIO_MAXIOV: the kernel refuses more */
#define ST_CMSG_SHOWN 32   /* control messages decoded per msghdr */
#define ST_CMSG_DATA  256  /* bytes of one control message copied for decoding */
#define ST_CMSG_HEX   64   /* bytes shown in hex for an unknown control message */
#define ST_MMSG_SHOWN 64   /* sendmmsg messages decoded */
/* Room left in the event buffer before starting another element. */
#define ST_ROOM_IOV  256
#define ST_ROOM_CMSG 1536
#define ST_ROOM_MSG  3072

/* ---- control messages: one decoder per type, dispatched from a table ---- */

static void st_cm_rights(struct st_json *j, const unsigned char *d, size_t n, size_t total)
{
	size_t i;
	int fd;

	st_json_key(j, "fds");
	st_json_arr(j);
	for (i = 0; i + sizeof(int) <= n; i += sizeof(int)) {
		memcpy(&fd, d + i, sizeof(fd));
		st_json_int(j, fd);
	}
	st_json_arr_end(j);
	if (total > n) {
		st_json_key(j, "fds_more");
		st_json_uint(j, (total - n) / sizeof(int));
	}
}

static void st_cm_creds(struct st_json *j, const unsigned char *d, size_t n, size_t total)
{
	struct ucred cr;

	(void)n;
	(void)total;
	memcpy(&cr, d, sizeof(cr));
	st_json_key(j, "pid");
	st_json_int(j, cr.pid);
	st_json_key(j, "uid");
	st_json_uint(j, cr.uid);
	st_json_key(j, "gid");
	st_json_uint(j, cr.gid);
}

static void st_json_in4(struct st_json *j, const void *a)
{
	char buf[16];

	st_json_str(j, buf, st_fmt_in4(buf, a));
}

static void st_json_in6(struct st_json *j, const void *a)
{
	char buf[64];

	st_json_str(j, buf, st_fmt_in6(buf, a));
}

static void st_cm_pktinfo(struct st_json *j, const unsigned char *d, size_t n, size_t total)
{
	struct in_pktinfo pi;

	(void)n;
	(void)total;
	memcpy(&pi, d, sizeof(pi));
	st_json_key(j, "ifindex");
	st_json_int(j, pi.ipi_ifindex);
	st_json_key(j, "spec_dst");
	st_json_in4(j, &pi.ipi_spec_dst);
	st_json_key(j, "addr");
	st_json_in4(j, &pi.ipi_addr);
}

static void st_cm_pktinfo6(struct st_json *j, const unsigned char *d, size_t n, size_t total)
{
	struct in6_pktinfo pi;

	(void)n;
	(void)total;
	memcpy(&pi, d, sizeof(pi));
	st_json_key(j, "addr");
	st_json_in6(j, &pi.ipi6_addr);
	st_json_key(j, "ifindex");
	st_json_uint(j, pi.ipi6_ifindex);
}

/* An int-sized value; IP_TOS also accepts a single byte, as the kernel does. */
static void st_cm_int(struct st_json *j, const char *key, const unsigned char *d, size_t n)
{
	int v;

	st_json_key(j, key);
	if (n >= sizeof(int)) {
		memcpy(&v, d, sizeof(v));
		st_json_int(j, v);
	} else {
		st_json_uint(j, d[0]);
	}
}

#define ST_CM_INT(fn, key)                                                                         \
	static void fn(struct st_json *j, const unsigned char *d, size_t n, size_t total)          \
	{                                                                                          \
		(void)total;                                                                       \
		st_cm_int(j, key, d, n);                                                           \
	}
ST_CM_INT(st_cm_tos, "tos")
ST_CM_INT(st_cm_ttl, "ttl")
ST_CM_INT(st_cm_tclass, "tclass")
ST_CM_INT(st_cm_hoplimit, "hoplimit")
ST_CM_INT(st_cm_mark, "mark")
ST_CM_INT(st_cm_priority, "priority")
ST_CM_INT(st_cm_tsflags, "tsflags")

static void st_cm_segment(struct st_json *j, const unsigned char *d, size_t n, size_t total)
{
	unsigned short v;

	(void)n;
	(void)total;
	memcpy(&v, d, sizeof(v));
	st_json_key(j, "gso_size");
	st_json_uint(j, v);
}

static void st_cm_txtime(struct st_json *j, const unsigned char *d, size_t n, size_t total)
{
	unsigned long long v;

	(void)n;
	(void)total;
	memcpy(&v, d, sizeof(v));
	st_json_key(j, "txtime");
	st_json_uint(j, v);
}

struct st_cmsg_type {
	int level;
	int type;
	const char *name;
	size_t min; /* data bytes the decoder needs */
	void (*decode)(struct st_json *, const unsigned char *, size_t, size_t);
};

static const struct st_cmsg_type st_cmsg_types[] = {
    {SOL_SOCKET, SCM_RIGHTS, "SCM_RIGHTS", 0, st_cm_rights},
    {SOL_SOCKET, SCM_CREDENTIALS, "SCM_CREDENTIALS", sizeof(struct ucred), st_cm_creds},
    {SOL_SOCKET, SO_MARK, "SO_MARK", sizeof(int), st_cm_mark},
    {SOL_SOCKET, SO_PRIORITY, "SO_PRIORITY", sizeof(int), st_cm_priority},
    {SOL_SOCKET, SO_TIMESTAMPING, "SO_TIMESTAMPING", sizeof(int), st_cm_tsflags},
    {SOL_SOCKET, SCM_TXTIME, "SCM_TXTIME", sizeof(unsigned long long), st_cm_txtime},
    {SOL_IP, IP_PKTINFO, "IP_PKTINFO", sizeof(struct in_pktinfo), st_cm_pktinfo},
    {SOL_IP, IP_TOS, "IP_TOS", 1, st_cm_tos},
    {SOL_IP, IP_TTL, "IP_TTL", sizeof(int), st_cm_ttl},
    {SOL_IPV6, IPV6_PKTINFO, "IPV6_PKTINFO", sizeof(struct in6_pktinfo), st_cm_pktinfo6},
    {SOL_IPV6, IPV6_TCLASS, "IPV6_TCLASS", sizeof(int), st_cm_tclass},
    {SOL_IPV6, IPV6_HOPLIMIT, "IPV6_HOPLIMIT", sizeof(int), st_cm_hoplimit},
    {SOL_UDP, UDP_SEGMENT, "UDP_SEGMENT", sizeof(unsigned short), st_cm_segment},
    {0, 0, NULL, 0, NULL},
};

static const struct st_cmsg_type *st_cmsg_lookup(int level, int type)
{
	const struct st_cmsg_type *t;

	for (t = st_cmsg_types; t->name; t++)
		if (t->level == level && t->type == type)
			return t;
	return NULL;
}

static void st_cmsg_malformed(struct st_json *j, const char *why)
{
	st_json_key(j, "malformed");
	st_json_cstr(j, why);
	st_json_obj_end(j);
}

/*
 * Walk the control buffer the way the kernel does (for_each_cmsghdr), but
 * never read a byte past msg_controllen, and say where and why it is broken.
 */
static void st_json_cmsgs(struct st_json *j, const struct st_mem *m, const void *control,
			  size_t controllen, struct st_msginfo *mi)
{
	unsigned char data[ST_CMSG_DATA];
	const size_t hdr = sizeof(struct cmsghdr);
	size_t off = 0, shown = 0;

	st_json_arr(j);
	while (off + hdr <= controllen) {
		struct cmsghdr ch;
		const struct st_cmsg_type *t;
		size_t dlen, copy;

		if (shown == ST_CMSG_SHOWN || st_json_room(j) < ST_ROOM_CMSG) {
			st_json_obj(j);
			st_json_key(j, "more");
			st_json_bool(j, 1);
			st_json_obj_end(j);
			break;
		}
		if (st_mem_copy(m, &ch, (const char *)control + off, hdr) != 0) {
			st_json_obj(j);
			st_cmsg_malformed(j, "unreadable");
			break;
		}
		shown++;
		st_json_obj(j);
		st_json_key(j, "level");
		st_json_xlat(j, st_sol_levels, ch.cmsg_level);
		t = st_cmsg_lookup(ch.cmsg_level, ch.cmsg_type);
		st_json_key(j, "type");
		if (t)
			st_json_cstr(j, t->name);
		else
			st_json_int(j, ch.cmsg_type);
		st_json_key(j, "len");
		st_json_uint(j, ch.cmsg_len);
		if (ch.cmsg_level == SOL_SOCKET && ch.cmsg_type == SCM_RIGHTS)
			mi->rights = 1;
		if (ch.cmsg_level == SOL_SOCKET && ch.cmsg_type == SCM_CREDENTIALS)
			mi->creds = 1;
		if (ch.cmsg_len < hdr) {
			mi->malformed = 1;
			st_cmsg_malformed(j, "cmsg_len is smaller than the header");
			break;
		}
		if (ch.cmsg_len > controllen - off) {
			mi->malformed = 1;
			st_cmsg_malformed(j, "cmsg_len runs past msg_controllen");
			break;
		}
		dlen = ch.cmsg_len - CMSG_LEN(0);
		copy = dlen < sizeof(data) ? dlen : sizeof(data);
		if (st_mem_copy(m, data, (const char *)control + off + CMSG_LEN(0), copy) != 0) {
			st_cmsg_malformed(j, "unreadable");
			break;
		}
		if (t && dlen >= t->min && (t->min || dlen % sizeof(int) == 0)) {
			t->decode(j, data, copy, dlen);
		} else {
			if (t) {
				/* Only the protocol that reads the type checks its size. */
				st_json_key(j, "truncated");
				st_json_bool(j, 1);
			}
			st_json_key(j, "data");
			st_json_hex(j, data, copy < ST_CMSG_HEX ? copy : ST_CMSG_HEX);
		}
		st_json_obj_end(j);
		off += CMSG_ALIGN(ch.cmsg_len);
	}
	st_json_arr_end(j);
}

/* ---- iovecs ---- */

void st_json_iov(struct st_json *j, const struct st_mem *m, const struct iovec *iov, long cnt,
		 unsigned long long *total)
{
	struct iovec chunk[16];
	long i = 0, k, n, limit = cnt < ST_IOV_MAX ? cnt : ST_IOV_MAX;
	long shown = 0;

	*total = 0;
	st_json_arr(j);
	while (i < limit) {
		n = limit - i < 16 ? limit - i : 16;
		if (st_mem_copy(m, chunk, iov + i, (size_t)n * sizeof(*iov)) != 0)
			break;
		for (k = 0; k < n; k++) {
			*total += chunk[k].iov_len;
			if (shown < ST_IOV_SHOWN && st_json_room(j) >= ST_ROOM_IOV) {
				st_json_obj(j);
				st_json_key(j, "len");
				st_json_uint(j, chunk[k].iov_len);
				st_json_obj_end(j);
				shown++;
			}
		}
		i += n;
	}
	st_json_arr_end(j);
	if (shown < cnt) {
		st_json_key(j, "iov_more");
		st_json_int(j, cnt - shown);
	}
}

unsigned long long st_iov_total(const struct st_mem *m, const struct iovec *iov, long cnt)
{
	struct iovec chunk[16];
	long i = 0, k, n, limit = cnt < ST_IOV_MAX ? cnt : ST_IOV_MAX;
	unsigned long long total = 0;

	while (i < limit) {
		n = limit - i < 16 ? limit - i : 16;
		if (st_mem_copy(m, chunk, iov + i, (size_t)n * sizeof(*iov)) != 0)
			break;
		for (k = 0; k < n; k++)
			total += chunk[k].iov_len;
		i += n;
	}
	return total;
}

/* ---- msghdr ---- */

/* The fields of one (already copied) msghdr, into the object being written. */
static unsigned long long st_json_msg_fields(struct st_json *j, const struct st_mem *m,
					     const struct msghdr *msg, struct st_msginfo *mi)
{
	struct sockaddr_storage ss;
	unsigned long long total = 0;
	socklen_t nl = msg->msg_namelen;

	mi->present = 1;
	if (msg->msg_name && msg->msg_namelen)
		mi->has_name = 1;
	mi->msg_flags |= msg->msg_flags;
	mi->controllen += msg->msg_controllen;
	if (msg->msg_controllen % sizeof(size_t))
		mi->misaligned = 1;
	st_json_key(j, "addr");
	if (msg->msg_name && nl) {
		if (nl > sizeof(ss))
			nl = sizeof(ss);
		if (st_mem_copy(m, &ss, msg->msg_name, nl) == 0)
			st_json_sockaddr(j, (struct sockaddr *)&ss, nl);
		else
			st_json_null(j);
	} else {
		st_json_null(j);
	}
	st_json_key(j, "iov");
	st_json_iov(j, m, msg->msg_iov, (long)msg->msg_iovlen, &total);
	st_json_key(j, "len");
	st_json_uint(j, total);
	st_json_key(j, "controllen");
	st_json_uint(j, msg->msg_controllen);
	if (msg->msg_control && msg->msg_controllen) {
		st_json_key(j, "cmsg");
		st_json_cmsgs(j, m, msg->msg_control, msg->msg_controllen, mi);
	}
	if (msg->msg_flags) {
		st_json_key(j, "msg_flags");
		st_json_int(j, msg->msg_flags);
	}
	return total;
}

/* *copy: the msghdr as read, for the caller's later use (payload); zeroed if unreadable. */
unsigned long long st_json_msghdr(struct st_json *j, const struct st_mem *m,
				  const struct msghdr *umsg, struct st_msginfo *mi,
				  struct msghdr *copy)
{
	memset(copy, 0, sizeof(*copy));
	if (st_mem_copy(m, copy, umsg, sizeof(*copy)) != 0) {
		memset(copy, 0, sizeof(*copy));
		st_json_key(j, "msg");
		st_json_null(j);
		return 0;
	}
	return st_json_msg_fields(j, m, copy, mi);
}

/*
 * msg_len of the sent messages from `from` on, the ones not listed: the sum
 * in bytes_sent must cover every message the kernel took, not only the 64
 * listed. Read in batches through `scratch` (remote iovecs, then the values).
 */
static int st_mmsg_sum_rest(struct mmsghdr *vec, unsigned int from, unsigned int sent,
			    char *scratch, size_t size, unsigned long long *total)
{
	struct st_mem trusted = {__libc_single_threaded || st_sandboxed()};
	uintptr_t at = ((uintptr_t)scratch + 7) & ~(uintptr_t)7;
	size_t per = sizeof(struct iovec) + sizeof(unsigned int), batch, k;
	struct iovec *iov = (struct iovec *)at;
	unsigned int *len;

	if (from >= sent)
		return 0;
	if (!scratch || size < 8 + 8 * per)
		return -1;
	batch = (size - (at - (uintptr_t)scratch)) / per;
	len = (unsigned int *)(iov + batch);
	while (from < sent) {
		size_t n = sent - from < batch ? sent - from : batch;

		if (st_mem_copy_strided(&trusted, len, &vec[from].msg_len, sizeof(*len),
					sizeof(*vec), n, iov, batch) != 0)
			return -1;
		for (k = 0; k < n; k++)
			*total += len[k];
		from += (unsigned int)n;
	}
	return 0;
}

unsigned long long st_json_mmsg(struct st_json *j, struct mmsghdr *vec, unsigned int vlen, int sent,
				struct st_msginfo *mi, char *scratch, size_t scratch_size)
{
	struct st_mem trusted = {__libc_single_threaded || st_sandboxed()}, untrusted = {0};
	unsigned long long total = 0, requested = 0;
	unsigned int i;
	int unread = 0;

	st_json_key(j, "vlen");
	st_json_uint(j, vlen);
	st_json_key(j, "msgs");
	st_json_arr(j);
	for (i = 0; i < vlen && i < ST_IOV_MAX; i++) {
		struct mmsghdr mm;
		/* The kernel has read (and written msg_len of) the messages it sent. */
		const struct st_mem *m = (int)i < sent ? &trusted : &untrusted;

		if (i >= ST_MMSG_SHOWN || st_json_room(j) < ST_ROOM_MSG)
			break;
		if (st_mem_copy(m, &mm, vec + i, sizeof(mm)) != 0)
			break;
		st_json_obj(j);
		requested += st_json_msg_fields(j, m, &mm.msg_hdr, mi);
		st_json_key(j, "sent");
		st_json_bool(j, (int)i < sent);
		if ((int)i < sent) {
			st_json_key(j, "msg_len");
			st_json_uint(j, mm.msg_len);
			total += mm.msg_len;
		}
		st_json_obj_end(j);
	}
	st_json_arr_end(j);
	if (i < vlen) {
		st_json_key(j, "msgs_more");
		st_json_uint(j, vlen - i);
	}
	/* The rest of the sent messages: not listed, but counted (nothing to read if dropped). */
	if (sent > 0 && !j->overflow)
		unread =
		    st_mmsg_sum_rest(vec, i, (unsigned int)sent, scratch, scratch_size, &total);
	/* Bytes asked for in the messages listed, and bytes the kernel took in all. */
	st_json_key(j, "len");
	st_json_uint(j, requested);
	st_json_key(j, "bytes_sent");
	if (unread)
		st_json_null(j);
	else
		st_json_uint(j, total);
	return requested;
}
