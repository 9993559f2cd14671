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

/*
 * Built once from the table: the entry and the quoted name of each bit, and
 * the mask of every known bit. The hot path visits set bits only and copies
 * names without escaping them.
 */
static const struct st_flag *st_flag_by_bit[32];
static char st_flag_quoted[32][24];
static unsigned char st_flag_qlen[32];
static unsigned int st_flag_known;
static int st_flag_index_ready;

static void st_flag_index(void)
{
	const struct st_flag *f;
	unsigned known = 0;

	for (f = st_msg_flags; f->name; f++) {
		int b = __builtin_ctz(f->bit);
		size_t n = strlen(f->name);

		st_flag_by_bit[b] = f;
		st_flag_quoted[b][0] = '"';
		memcpy(st_flag_quoted[b] + 1, f->name, n);
		st_flag_quoted[b][n + 1] = '"';
		st_flag_qlen[b] = (unsigned char)(n + 2);
		known |= f->bit;
	}
	st_flag_known = known;
	__atomic_store_n(&st_flag_index_ready, 1, __ATOMIC_RELEASE);
}

unsigned int st_msg_flags_unknown(unsigned int flags)
{
	if (!__atomic_load_n(&st_flag_index_ready, __ATOMIC_ACQUIRE))
		st_flag_index(); /* idempotent: racing threads write the same */
	return flags & ~st_flag_known;
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
			st_json_lit_n(j, st_flag_quoted[b], st_flag_qlen[b]);
		else
			rest |= 1u << b;
	}
	if (rest)
		st_json_hexnum(j, rest);
	st_json_arr_end(j);
}
