/* decode.h: the pure decoders (flags, names, addresses) shared by the library and its unit tests.
 */
#ifndef ST_DECODE_H
#define ST_DECODE_H

#include <stddef.h>
#include <sys/socket.h>

#include "json.h"

struct st_xlat {
	long val;
	const char *name;
};

/* Name of `val` in a table ended by a NULL name, or NULL. */
const char *st_xlat_name(const struct st_xlat *tab, long val);
/* The name if known, else the number, as one JSON value. */
void st_json_xlat(struct st_json *j, const struct st_xlat *tab, long val);

extern const struct st_xlat st_families[];
extern const struct st_xlat st_socktypes[];
extern const struct st_xlat st_ipprotos[];
extern const struct st_xlat st_sol_levels[];
extern const struct st_xlat st_shut_hows[];

/* accept4's SOCK_NONBLOCK/SOCK_CLOEXEC by name, then other bits as "0x..". */
void st_json_sock_flags(struct st_json *j, int flags);

/* One MSG_* flag. `send` is 0 for flags that only mean something to recv. */
struct st_flag {
	unsigned int bit;
	const char *name;
	int send;
};
extern const struct st_flag st_msg_flags[];

/* MSG_* names in table order, then any bits no flag defines as "0x..". */
void st_json_msg_flags(struct st_json *j, unsigned int flags);
unsigned int st_msg_flags_unknown(unsigned int flags);

/*
 * Socket addresses as one string: "1.2.3.4:53", "[::1]:53", "[fe80::1%2]:53",
 * a unix path, "@abstract", "" (unnamed unix), "netlink:pid=..,groups=..",
 * "packet:...", "family=N:hex" otherwise, "invalid:len=N" when too short.
 * Returns the length written; `out` needs ST_ADDR_MAX bytes.
 */
#define ST_ADDR_MAX 512
size_t st_fmt_sockaddr(char *out, const struct sockaddr *sa, socklen_t len);
size_t st_fmt_in4(char *out, const void *addr4);
size_t st_fmt_in6(char *out, const void *addr6);
void st_json_sockaddr(struct st_json *j, const struct sockaddr *sa, socklen_t len);

/* errno by name ("EAGAIN"); "E<n>" when libc has no name for it. */
void st_json_errno(struct st_json *j, int err);

/* size.c: "64k", "100M", "65536": bytes, or 0 if not a size from 64 KiB to 1 PiB. */
unsigned long long st_parse_size(const char *v);

#endif
