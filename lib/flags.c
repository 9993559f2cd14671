/* flags.c: the MSG_* flag table and its decoder. */
#include "config.h"

#include <string.h>
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

/* Table entry by bit number, built once: the hot path visits set bits only. */
static const struct st_flag *st_flag_by_bit[32];
static int st_flag_index_ready;

static void st_flag_index(void)
{
	const struct st_flag *f;

	for (f = st_msg_flags; f->name; f++)
		st_flag_by_bit[__builtin_ctz(f->bit)] = f;
	__atomic_store_n(&st_flag_index_ready, 1, __ATOMIC_RELEASE);
}

void st_json_msg_flags(struct st_json *j, unsigned int flags)
{
	unsigned int bits = flags, rest = 0;

	if (!__atomic_load_n(&st_flag_index_ready, __ATOMIC_ACQUIRE))
		st_flag_index(); /* idempotent: racing threads write the same */
	st_json_arr(j);
	while (bits) {
		int b = __builtin_ctz(bits);
		const struct st_flag *f = st_flag_by_bit[b];

		bits &= bits - 1;
		if (f)
			st_json_str(j, f->name, strlen(f->name));
		else
			rest |= 1u << b;
	}
	if (rest)
		st_json_hexnum(j, rest);
	st_json_arr_end(j);
}
