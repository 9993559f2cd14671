/* cmd-pcap.c: `sendtrace pcap`: traces as a pcapng capture that Wireshark and tshark open. */
#include "config.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/*
 * Each successful send becomes one synthesized frame (or several, for a TCP
 * send larger than one IP packet can carry):
 *
 *  - TCP and UDP over IPv4/IPv6 on interface 0, link type RAW (101): an IP
 *    header, a TCP or UDP header and the bytes. TCP sequence numbers count
 *    every byte each direction of a connection sent, in time order, so that
 *    streams reassemble; the ACK is what the other direction had sent.
 *  - Unix sockets on interface 1, link type USER0 (147): the bytes alone;
 *    the socket's names are in the packet comment.
 *
 * The captured part is what the trace recorded (`-s N` in run); the
 * original length is what the kernel took, so a frame whose payload was
 * cut, or not recorded, is a truncated frame, as a capture with a snap
 * length would show it. Every frame's comment says which process, thread
 * and call sent it, and how much of it the trace holds.
 */
#define LINKTYPE_RAW   101
#define LINKTYPE_USER0 147
#define IF_IP	       0
#define IF_UNIX	       1
#define SEG_MAX	       65000 /* payload per synthesized IP packet */

enum pkind { P_TCP, P_UDP, P_UNIX };

struct pkt {
	long long ts;
	size_t seq; /* input order, for a stable sort */
	enum pkind kind;
	int v6;
	unsigned char src[16], dst[16];
	uint16_t sport, dport;
	unsigned char *data; /* the recorded bytes */
	size_t caplen;
	unsigned long long len; /* bytes the kernel took */
	char *comment;
};

struct pcap {
	struct filter f;
	struct pkt *v;
	size_t n, cap;
	unsigned long skipped_noaddr, skipped_proto;
};

/* "1.2.3.4:53", "[::1]:53", "[fe80::1%2]:53" into bytes and a port. */
static int parse_addr(const char *s, int *v6, unsigned char *ip, uint16_t *port)
{
	char host[128];
	const char *colon;
	char *end;
	unsigned long p;
	size_t n;

	if (!s || !(colon = strrchr(s, ':')))
		return -1;
	p = strtoul(colon + 1, &end, 10);
	if (*end || end == colon + 1 || p > 65535)
		return -1;
	*port = (uint16_t)p;
	if (s[0] == '[') {
		const char *close = memchr(s, ']', (size_t)(colon - s));

		if (!close || close + 1 != colon)
			return -1;
		n = strcspn(s + 1, "%]");
		if (n >= sizeof(host))
			return -1;
		memcpy(host, s + 1, n);
		host[n] = '\0';
		*v6 = 1;
		return inet_pton(AF_INET6, host, ip) == 1 ? 0 : -1;
	}
	n = (size_t)(colon - s);
	if (n >= sizeof(host))
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	*v6 = 0;
	return inet_pton(AF_INET, host, ip) == 1 ? 0 : -1;
}

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The trace's byte escaping undone: "\\" is a backslash, "\xHH" a byte (docs/events.md). */
static size_t unescape(const char *s, size_t n, unsigned char *out)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n && s[i + 1] == '\\') {
			out[o++] = '\\';
			i++;
		} else if (s[i] == '\\' && i + 3 < n && s[i + 1] == 'x' && hexval(s[i + 2]) >= 0 &&
			   hexval(s[i + 3]) >= 0) {
			out[o++] = (unsigned char)(hexval(s[i + 2]) * 16 + hexval(s[i + 3]));
			i += 3;
		} else {
			out[o++] = (unsigned char)s[i];
		}
	}
	return o;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		cli_error("pcap: out of memory");
		exit(EXIT_TROUBLE);
	}
	return p;
}

static struct pkt *new_pkt(struct pcap *pc)
{
	if (pc->n == pc->cap) {
		pc->cap = pc->cap ? 2 * pc->cap : 1024;
		pc->v = realloc(pc->v, pc->cap * sizeof(*pc->v));
		if (!pc->v) {
			cli_error("pcap: out of memory");
			exit(EXIT_TROUBLE);
		}
	}
	memset(&pc->v[pc->n], 0, sizeof(pc->v[0]));
	pc->v[pc->n].seq = pc->n;
	return &pc->v[pc->n++];
}

static const char *unix_name(const char *s)
{
	return !s ? "?" : s[0] ? s : "(unnamed)";
}

/* One message of `len` bytes from this event (sendmmsg: one of its messages). */
static void add_msg(struct pcap *pc, json_t *ev, json_t *sock, const char *dest,
		    unsigned long long len, json_t *payload, int idx)
{
	const char *fam = jstr(sock, "family"), *proto = jstr(sock, "proto");
	const char *type = jstr(sock, "type"), *call = jstr(ev, "call");
	char comment[1024], what[160];
	struct pkt *p;
	size_t plen = json_is_string(payload) ? json_string_length(payload) : 0;
	unsigned char *data = xmalloc(plen);
	size_t caplen = plen ? unescape(json_string_value(payload), plen, data) : 0;
	int v6 = 0, v6d = 0;
	enum pkind kind;

	if (len > 0x7ffff000ull) /* more than Linux moves in one call: a damaged trace */
		len = 0x7ffff000ull;
	if (caplen > len)
		caplen = (size_t)len;
	if (caplen > SEG_MAX)
		caplen = SEG_MAX;
	if (fam && !strcmp(fam, "AF_UNIX")) {
		kind = P_UNIX;
	} else if (fam && (!strcmp(fam, "AF_INET") || !strcmp(fam, "AF_INET6"))) {
		if ((proto && !strcmp(proto, "tcp")) || (type && !strcmp(type, "SOCK_STREAM")))
			kind = P_TCP;
		else if ((proto && !strcmp(proto, "udp")) || (type && !strcmp(type, "SOCK_DGRAM")))
			kind = P_UDP;
		else {
			pc->skipped_proto++;
			free(data);
			return;
		}
	} else {
		pc->skipped_proto++;
		free(data);
		return;
	}
	p = new_pkt(pc);
	p->kind = kind;
	if (kind != P_UNIX) {
		if (parse_addr(jstr(sock, "local"), &v6, p->src, &p->sport) ||
		    parse_addr(dest, &v6d, p->dst, &p->dport) || v6 != v6d) {
			pc->n--;
			pc->skipped_noaddr++;
			free(data);
			return;
		}
		p->v6 = v6;
	}
	p->ts = json_integer_value(json_object_get(ev, "ts"));
	p->data = data;
	p->caplen = caplen;
	p->len = len;
	if (idx >= 0)
		snprintf(what, sizeof(what), "%s[%d]", call ? call : "?", idx);
	else
		snprintf(what, sizeof(what), "%s", call ? call : "?");
	snprintf(comment, sizeof(comment), "pid %lld tid %lld comm %s %s fd %lld%s%s%s%s",
		 (long long)json_integer_value(json_object_get(ev, "pid")),
		 (long long)json_integer_value(json_object_get(ev, "tid")),
		 jstr(ev, "comm") ? jstr(ev, "comm") : "?", what,
		 (long long)json_integer_value(json_object_get(ev, "fd")),
		 kind == P_UNIX ? " unix " : "",
		 kind == P_UNIX ? unix_name(jstr(sock, "local")) : "", kind == P_UNIX ? " -> " : "",
		 kind == P_UNIX ? unix_name(dest) : "");
	if (caplen < len) {
		size_t n = strlen(comment);

		if (caplen)
			snprintf(comment + n, sizeof(comment) - n,
				 "; payload truncated: %zu of %llu bytes recorded", caplen, len);
		else
			snprintf(comment + n, sizeof(comment) - n,
				 "; payload not recorded (%llu bytes; run -s N records it)", len);
	}
	/* Names come from the program: no control byte reaches whoever prints the comment. */
	p->comment = esc_str(comment);
}

static void each(json_t *ev, struct ev_reader *r, void *arg)
{
	struct pcap *pc = arg;
	json_t *sock = json_object_get(ev, "sock"), *ret = json_object_get(ev, "ret");
	const char *event = jstr(ev, "event"), *call = jstr(ev, "call"), *peer, *addr;

	(void)r;
	filter_first_ts(&pc->f, json_integer_value(json_object_get(ev, "ts")));
	if (!event || strcmp(event, "call") || !call || !json_is_object(sock) ||
	    !json_is_integer(ret) || json_integer_value(ret) <= 0 || jstr(ev, "errno"))
		return;
	if (!filter_match(&pc->f, ev))
		return;
	peer = jstr(sock, "peer");
	addr = jstr(ev, "addr");
	if (!strcmp(call, "sendmmsg")) {
		json_t *m;
		size_t i;

		json_array_foreach (json_object_get(ev, "msgs"), i, m) {
			json_t *ml = json_object_get(m, "msg_len");

			if (json_is_true(json_object_get(m, "sent")) && json_is_integer(ml) &&
			    json_integer_value(ml) > 0)
				add_msg(pc, ev, sock, jstr(m, "addr") ? jstr(m, "addr") : peer,
					(unsigned long long)json_integer_value(ml), NULL, (int)i);
		}
		return;
	}
	if (strcmp(call, "send") && strcmp(call, "sendto") && strcmp(call, "sendmsg") &&
	    strcmp(call, "write") && strcmp(call, "writev") && strncmp(call, "sendfile", 8))
		return; /* the lifecycle records send nothing */
	add_msg(pc, ev, sock, addr && strcmp(jstr(sock, "type") ?: "", "SOCK_STREAM") ? addr : peer,
		(unsigned long long)json_integer_value(ret), json_object_get(ev, "payload"), -1);
}

static int by_time(const void *a, const void *b)
{
	const struct pkt *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* ---- TCP sequence state per direction ---- */
struct flow {
	unsigned char key[36];
	uint32_t next; /* sequence number of the next byte */
	int used;
};

struct flows {
	struct flow *v;
	size_t cap, n;
};

static void flow_key(unsigned char *k, const unsigned char *src, uint16_t sport,
		     const unsigned char *dst, uint16_t dport)
{
	memcpy(k, src, 16);
	memcpy(k + 16, dst, 16);
	memcpy(k + 32, &sport, 2);
	memcpy(k + 34, &dport, 2);
}

static size_t flow_hash(const unsigned char *k)
{
	size_t h = 1469598103934665603ull, i;

	for (i = 0; i < 36; i++)
		h = (h ^ k[i]) * 1099511628211ull;
	return h;
}

static struct flow *flow_get(struct flows *fl, const unsigned char *k, int create)
{
	size_t i;

	if (create && 2 * (fl->n + 1) > fl->cap) {
		struct flows bigger = {NULL, fl->cap ? 2 * fl->cap : 256, 0};

		bigger.v = calloc(bigger.cap, sizeof(*bigger.v));
		if (!bigger.v) {
			cli_error("pcap: out of memory");
			exit(EXIT_TROUBLE);
		}
		for (i = 0; i < fl->cap; i++) {
			if (fl->v[i].used) {
				struct flow *d = flow_get(&bigger, fl->v[i].key, 1);

				d->next = fl->v[i].next;
			}
		}
		free(fl->v);
		*fl = bigger;
	}
	if (!fl->cap)
		return NULL;
	for (i = flow_hash(k) & (fl->cap - 1);; i = (i + 1) & (fl->cap - 1)) {
		if (!fl->v[i].used) {
			if (!create)
				return NULL;
			memcpy(fl->v[i].key, k, 36);
			fl->v[i].used = 1;
			fl->v[i].next = 1000; /* any start: readers show relative numbers */
			fl->n++;
			return &fl->v[i];
		}
		if (!memcmp(fl->v[i].key, k, 36))
			return &fl->v[i];
	}
}

/* ---- frames ---- */
static uint32_t sum16(const unsigned char *p, size_t n, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void be16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void be32(unsigned char *p, uint32_t v)
{
	be16(p, v >> 16);
	be16(p + 2, v & 0xffff);
}

/*
 * One IP packet carrying `seglen` bytes, of which `cap` are known, at
 * frame+0. Returns the header length; the caller appends the bytes.
 */
static size_t ip_headers(unsigned char *fr, const struct pkt *p, size_t seglen, size_t cap,
			 const unsigned char *data, uint32_t seq, uint32_t ack)
{
	size_t l4 = p->kind == P_TCP ? 20 : 8, ip = p->v6 ? 40 : 20;
	size_t total = ip + l4 + seglen;
	unsigned char *t = fr + ip;
	uint32_t s;

	memset(fr, 0, ip + l4);
	if (p->v6) {
		fr[0] = 0x60;
		be16(fr + 4, (unsigned)(l4 + seglen > 65535 ? 65535 : l4 + seglen));
		fr[6] = p->kind == P_TCP ? 6 : 17;
		fr[7] = 64;
		memcpy(fr + 8, p->src, 16);
		memcpy(fr + 24, p->dst, 16);
	} else {
		fr[0] = 0x45;
		be16(fr + 2, (unsigned)(total > 65535 ? 65535 : total));
		fr[6] = 0x40; /* don't fragment */
		fr[8] = 64;
		fr[9] = p->kind == P_TCP ? 6 : 17;
		memcpy(fr + 12, p->src, 4);
		memcpy(fr + 16, p->dst, 4);
		be16(fr + 10, fold(sum16(fr, 20, 0)));
	}
	be16(t, p->sport);
	be16(t + 2, p->dport);
	if (p->kind == P_TCP) {
		be32(t + 4, seq);
		be32(t + 8, ack);
		t[12] = 5 << 4;
		t[13] = 0x18; /* PSH, ACK */
		be16(t + 14, 65535);
	} else {
		be16(t + 4, (unsigned)(8 + seglen > 65535 ? 65535 : 8 + seglen));
	}
	/* The checksum, when every byte it covers is known; else 0 (not computed). */
	if (cap == seglen) {
		size_t alen = p->v6 ? 16 : 4;

		s = sum16(p->src, alen, 0);
		s = sum16(p->dst, alen, s);
		s += (uint32_t)(p->kind == P_TCP ? 6 : 17);
		s += (uint32_t)(l4 + seglen);
		s = sum16(t, l4, s);
		s = sum16(data, cap, s);
		be16(t + (p->kind == P_TCP ? 16 : 6), fold(s) ? fold(s) : 0xffff);
	}
	return ip + l4;
}

static int write_pkt(FILE *out, const struct pkt *p, struct flows *fl)
{
	static unsigned char frame[PCAPNG_FRAME_MAX];
	unsigned long long off = 0;

	if (p->kind == P_UNIX)
		return pcapng_packet(out, IF_UNIX, (uint64_t)p->ts, p->data, p->caplen, p->len,
				     p->comment);
	do {
		unsigned long long seglen = p->len - off;
		size_t cap, hl;
		uint32_t seq = 0, ack = 0;

		if (p->kind == P_TCP && seglen > SEG_MAX)
			seglen = SEG_MAX;
		cap = off < p->caplen ? p->caplen - (size_t)off : 0;
		if (cap > seglen)
			cap = (size_t)seglen;
		if (p->kind == P_TCP) {
			unsigned char k[36];
			struct flow *f, *back;

			flow_key(k, p->src, p->sport, p->dst, p->dport);
			f = flow_get(fl, k, 1);
			seq = f->next;
			f->next += (uint32_t)seglen;
			flow_key(k, p->dst, p->dport, p->src, p->sport);
			back = flow_get(fl, k, 0);
			ack = back ? back->next : 0;
		}
		hl = ip_headers(frame, p, (size_t)seglen, cap, p->data + off, seq, ack);
		memcpy(frame + hl, p->data + off, cap);
		if (pcapng_packet(out, IF_IP, (uint64_t)p->ts, frame, hl + cap, hl + seglen,
				  p->comment))
			return -1;
		off += seglen;
	} while (off < p->len);
	return 0;
}

static int cmd_pcap_exec(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    FILTER_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	struct pcap pc;
	struct flows fl = {NULL, 0, 0};
	const char *outpath = NULL;
	FILE *out;
	int c, status, bad = 0;
	size_t i;

	memset(&pc, 0, sizeof(pc));
	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:hV", opts, NULL)) != -1) {
		int r = filter_option(&pc.f, c, optarg);

		if (r > 0)
			continue;
		if (r < 0)
			return EXIT_TROUBLE;
		if (c == 'o') {
			outpath = optarg;
			continue;
		}
		r = cli_common_option(c, &cmd_pcap_entry);
		if (r >= 0)
			return r;
	}
	if (!outpath) {
		cli_error("pcap: no output given (-o OUT.pcapng, or -o - for standard output)");
		return EXIT_TROUBLE;
	}
	if (optind >= argc) {
		cli_error("pcap: no trace file given (use - for standard input)");
		return EXIT_TROUBLE;
	}
	status = ev_read_files(argv + optind, argc - optind, NULL, each, &pc);
	if (pc.n)
		qsort(pc.v, pc.n, sizeof(*pc.v), by_time);
	out = strcmp(outpath, "-") ? fopen(outpath, "wb") : stdout;
	if (!out) {
		cli_error("pcap: cannot create %s: %m", outpath);
		return EXIT_TROUBLE;
	}
	bad |= pcapng_section(out, "sendtrace " PACKAGE_VERSION);
	bad |= pcapng_interface(out, LINKTYPE_RAW, "sendtrace-ip",
				"TCP and UDP sends as synthesized IPv4/IPv6 packets");
	bad |= pcapng_interface(out, LINKTYPE_USER0, "sendtrace-unix",
				"unix socket sends: the bytes alone; names in the comment");
	for (i = 0; i < pc.n && !bad; i++)
		bad |= write_pkt(out, &pc.v[i], &fl);
	if (fflush(out) || ferror(out))
		bad = 1;
	if (out != stdout && fclose(out))
		bad = 1;
	if (bad) {
		cli_error("pcap: writing %s failed: %m", outpath);
		status = EXIT_TROUBLE;
	}
	if (pc.skipped_noaddr)
		cli_error("pcap: %lu send%s skipped: no usable local or peer address",
			  pc.skipped_noaddr, pc.skipped_noaddr == 1 ? "" : "s");
	if (pc.skipped_proto)
		cli_error("pcap: %lu send%s skipped: not TCP, UDP or unix", pc.skipped_proto,
			  pc.skipped_proto == 1 ? "" : "s");
	for (i = 0; i < pc.n; i++) {
		free(pc.v[i].data);
		free(pc.v[i].comment);
	}
	free(pc.v);
	free(fl.v);
	return status;
}

const struct cmd_entry cmd_pcap_entry = {
    .name = "pcap",
    .usage = "-o OUT.pcapng [FILTERS] FILE...",
    .summary = "Turn traces into a pcapng capture for Wireshark and tshark: each successful\n"
	       "send is a synthesized frame, TCP with sequence numbers that reassemble, UDP\n"
	       "with its ports (link type RAW), unix sockets as bare bytes (link type USER0).\n"
	       "The captured bytes are those recorded with run -s N; a frame whose bytes were\n"
	       "cut or not recorded is truncated, and its comment (pid, comm, call) says so.\n"
	       "\n"
	       "  -o, --output FILE  the capture to write (- for standard output)\n"
	       "  -h, --help         this help\n"
	       "  -V, --version      the version\n",
    .exec = cmd_pcap_exec,
    .filters = 1,
};
