/* test-flags.c: the MSG_* table against libc's values, and flag sets with unknown bits. */
#include <sys/socket.h>

#include "decode.h"
#include "unit.h"

static const char *flags(unsigned int f)
{
	static char buf[512];
	struct st_json j;

	st_json_init(&j, buf, sizeof(buf) - 1);
	st_json_msg_flags(&j, f);
	buf[st_json_len(&j)] = '\0';
	return buf;
}

static unsigned int bit_of(const char *name)
{
	const struct st_flag *f;

	for (f = st_msg_flags; f->name; f++)
		if (!strcmp(f->name, name))
			return f->bit;
	return 0;
}

int main(void)
{
	const struct st_flag *f, *g;
	int dup = 0;

	/* The table agrees with the C library wherever the library defines one. */
	CHECK(bit_of("MSG_OOB") == MSG_OOB, "MSG_OOB");
	CHECK(bit_of("MSG_PEEK") == MSG_PEEK, "MSG_PEEK");
	CHECK(bit_of("MSG_DONTROUTE") == MSG_DONTROUTE, "MSG_DONTROUTE");
	CHECK(bit_of("MSG_CTRUNC") == MSG_CTRUNC, "MSG_CTRUNC");
	CHECK(bit_of("MSG_PROBE") == MSG_PROXY, "MSG_PROBE is MSG_PROXY's bit");
	CHECK(bit_of("MSG_TRUNC") == MSG_TRUNC, "MSG_TRUNC");
	CHECK(bit_of("MSG_DONTWAIT") == MSG_DONTWAIT, "MSG_DONTWAIT");
	CHECK(bit_of("MSG_EOR") == MSG_EOR, "MSG_EOR");
	CHECK(bit_of("MSG_WAITALL") == MSG_WAITALL, "MSG_WAITALL");
	CHECK(bit_of("MSG_FIN") == MSG_FIN, "MSG_FIN");
	CHECK(bit_of("MSG_SYN") == MSG_SYN, "MSG_SYN");
	CHECK(bit_of("MSG_CONFIRM") == MSG_CONFIRM, "MSG_CONFIRM");
	CHECK(bit_of("MSG_RST") == MSG_RST, "MSG_RST");
	CHECK(bit_of("MSG_ERRQUEUE") == MSG_ERRQUEUE, "MSG_ERRQUEUE");
	CHECK(bit_of("MSG_NOSIGNAL") == MSG_NOSIGNAL, "MSG_NOSIGNAL");
	CHECK(bit_of("MSG_MORE") == MSG_MORE, "MSG_MORE");
	CHECK(bit_of("MSG_WAITFORONE") == MSG_WAITFORONE, "MSG_WAITFORONE");
	CHECK(bit_of("MSG_BATCH") == MSG_BATCH, "MSG_BATCH");
	CHECK(bit_of("MSG_ZEROCOPY") == MSG_ZEROCOPY, "MSG_ZEROCOPY");
	CHECK(bit_of("MSG_FASTOPEN") == MSG_FASTOPEN, "MSG_FASTOPEN");
	CHECK(bit_of("MSG_CMSG_CLOEXEC") == MSG_CMSG_CLOEXEC, "MSG_CMSG_CLOEXEC");
	for (f = st_msg_flags; f->name; f++)
		for (g = f + 1; g->name; g++)
			dup += (f->bit & g->bit) != 0;
	CHECK(dup == 0, "no two entries share a bit");

	CHECK_STR(flags(0), "[]");
	CHECK_STR(flags(MSG_NOSIGNAL), "[\"MSG_NOSIGNAL\"]");
	CHECK_STR(flags(MSG_NOSIGNAL | MSG_MORE | MSG_DONTWAIT),
		  "[\"MSG_DONTWAIT\",\"MSG_NOSIGNAL\",\"MSG_MORE\"]");
	CHECK_STR(flags(MSG_CONFIRM | 0x100000), "[\"MSG_CONFIRM\",\"0x100000\"]");
	CHECK_STR(flags(0x80000000u | 0x20000), "[\"0x80020000\"]");
	CHECK(st_msg_flags_unknown(MSG_EOR | 0x100000) == 0x100000, "unknown bits isolated");
	CHECK(st_msg_flags_unknown(MSG_OOB | MSG_ZEROCOPY) == 0, "known bits are known");
	return unit_done();
}
