/* flags.c: the MSG_* flag table and its decoder. */
#include "config.h"

#include <sys/socket.h>

#include "decode.h"

/*
 * Every MSG_* bit Linux defines in include/linux/socket.h, by value so that
 * the table does not depend on which ones this libc exposes. Kernel-internal
 * bits (MSG_SENDPAGE_NOPOLICY, MSG_SPLICE_PAGES, ...) are rejected or stripped
 * on entry from user space, so they count as unknown here.
 */
const struct st_flag st_msg_flags[] = {
    {0x00000001, "MSG_OOB", 1},
    {0x00000002, "MSG_PEEK", 0},
    {0x00000004, "MSG_DONTROUTE", 1},
    {0x00000008, "MSG_CTRUNC", 0},
    {0x00000010, "MSG_PROBE", 1},
    {0x00000020, "MSG_TRUNC", 0},
    {0x00000040, "MSG_DONTWAIT", 1},
    {0x00000080, "MSG_EOR", 1},
    {0x00000100, "MSG_WAITALL", 0},
    {0x00000200, "MSG_FIN", 1},
    {0x00000400, "MSG_SYN", 1},
    {0x00000800, "MSG_CONFIRM", 1},
    {0x00001000, "MSG_RST", 1},
    {0x00002000, "MSG_ERRQUEUE", 0},
    {0x00004000, "MSG_NOSIGNAL", 1},
    {0x00008000, "MSG_MORE", 1},
    {0x00010000, "MSG_WAITFORONE", 0},
    {0x00040000, "MSG_BATCH", 1},
    {0x02000000, "MSG_SOCK_DEVMEM", 1},
    {0x04000000, "MSG_ZEROCOPY", 1},
    {0x20000000, "MSG_FASTOPEN", 1},
    {0x40000000, "MSG_CMSG_CLOEXEC", 0},
    {0, NULL, 0},
};

unsigned int st_msg_flags_unknown(unsigned int flags)
{
	const struct st_flag *f;

	for (f = st_msg_flags; f->name; f++)
		flags &= ~f->bit;
	return flags;
}

void st_json_msg_flags(struct st_json *j, unsigned int flags)
{
	const struct st_flag *f;
	unsigned int rest;

	st_json_arr(j);
	for (f = st_msg_flags; f->name; f++)
		if (flags & f->bit)
			st_json_cstr(j, f->name);
	rest = st_msg_flags_unknown(flags);
	if (rest)
		st_json_hexnum(j, rest);
	st_json_arr_end(j);
}
