/* pcapng.c: writes pcapng blocks (section, interfaces, enhanced packets with comments). */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "cli.h"

/*
 * The blocks are written in this host's byte order, which the section
 * header's magic announces; every reader swaps as needed. Each block is
 * built whole in a buffer and written with one fwrite, so a short write is
 * noticed once, at the end, through ferror().
 */
#define PCAPNG_SHB 0x0A0D0D0Au
#define PCAPNG_IDB 0x00000001u
#define PCAPNG_EPB 0x00000006u

#define OPT_END		 0
#define OPT_COMMENT	 1
#define OPT_SHB_USERAPPL 4
#define OPT_IF_NAME	 2
#define OPT_IF_DESCR	 3
#define OPT_IF_TSRESOL	 9

struct blk {
	unsigned char *p;
	size_t n, cap;
	int failed;
};

static void put(struct blk *b, const void *data, size_t n)
{
	if (b->failed || b->n + n > b->cap) {
		b->failed = 1;
		return;
	}
	memcpy(b->p + b->n, data, n);
	b->n += n;
}

static void put32(struct blk *b, uint32_t v)
{
	put(b, &v, 4);
}

static void put16(struct blk *b, uint16_t v)
{
	put(b, &v, 2);
}

static void pad4(struct blk *b)
{
	static const unsigned char zero[4];

	put(b, zero, (4 - b->n % 4) % 4);
}

/* One option: code, length, value padded to 32 bits. Values over 65535 bytes are cut. */
static void opt(struct blk *b, uint16_t code, const void *v, size_t n)
{
	if (n > 65535)
		n = 65535;
	put16(b, code);
	put16(b, (uint16_t)n);
	put(b, v, n);
	pad4(b);
}

static void opt_str(struct blk *b, uint16_t code, const char *s)
{
	if (s && s[0])
		opt(b, code, s, strlen(s));
}

/* Type and a placeholder length, then the body; finish() fills both lengths. */
static void begin(struct blk *b, unsigned char *buf, size_t cap, uint32_t type)
{
	b->p = buf;
	b->n = 0;
	b->cap = cap;
	b->failed = 0;
	put32(b, type);
	put32(b, 0);
}

static int finish(struct blk *b, FILE *out)
{
	uint32_t len;

	put16(b, OPT_END); /* opt_endofopt */
	put16(b, 0);
	len = (uint32_t)(b->n + 4);
	put32(b, len);
	if (b->failed)
		return -1;
	memcpy(b->p + 4, &len, 4);
	return fwrite(b->p, 1, b->n, out) == b->n ? 0 : -1;
}

int pcapng_section(FILE *out, const char *app)
{
	unsigned char buf[512];
	struct blk b;

	begin(&b, buf, sizeof(buf), PCAPNG_SHB);
	put32(&b, 0x1A2B3C4Du); /* byte-order magic */
	put16(&b, 1);		/* version 1.0 */
	put16(&b, 0);
	put32(&b, 0xFFFFFFFFu); /* section length: not given */
	put32(&b, 0xFFFFFFFFu);
	opt_str(&b, OPT_SHB_USERAPPL, app);
	return finish(&b, out);
}

int pcapng_interface(FILE *out, unsigned short linktype, const char *name, const char *descr)
{
	unsigned char buf[1024], ns = 9; /* timestamps in nanoseconds, as the trace has them */
	struct blk b;

	begin(&b, buf, sizeof(buf), PCAPNG_IDB);
	put16(&b, linktype);
	put16(&b, 0);
	put32(&b, 0); /* no snap length */
	opt_str(&b, OPT_IF_NAME, name);
	opt_str(&b, OPT_IF_DESCR, descr);
	opt(&b, OPT_IF_TSRESOL, &ns, 1);
	return finish(&b, out);
}

int pcapng_packet(FILE *out, unsigned ifid, unsigned long long ts_ns, const void *data,
		  size_t caplen, size_t origlen, const char *comment)
{
	static unsigned char buf[PCAPNG_FRAME_MAX + 4096];
	struct blk b;

	if (caplen > PCAPNG_FRAME_MAX)
		return -1;
	begin(&b, buf, sizeof(buf), PCAPNG_EPB);
	put32(&b, ifid);
	put32(&b, (uint32_t)(ts_ns >> 32));
	put32(&b, (uint32_t)ts_ns);
	put32(&b, (uint32_t)caplen);
	put32(&b, origlen > UINT32_MAX ? UINT32_MAX : (uint32_t)origlen);
	put(&b, data, caplen);
	pad4(&b);
	if (comment && comment[0])
		opt(&b, OPT_COMMENT, comment, strlen(comment) > 2048 ? 2048 : strlen(comment));
	return finish(&b, out);
}
