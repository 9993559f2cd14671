/* test-filterspec.c: the filter syntax: its terms, its errors, addresses as text and binary. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "decode.h"
#include "filterspec.h"
#include "unit.h"

static struct st_fs fs;
static struct st_fs_error err;
static char why[1024];

static int parse(const char *text)
{
	int r = st_fs_parse(&fs, text, strlen(text), &err);

	why[0] = '\0';
	if (r)
		st_fs_error_text(&err, why, sizeof(why));
	return r;
}

/* The error text of a refused filter. */
static const char *refused(const char *text)
{
	if (parse(text) == 0)
		return "(accepted)";
	return why;
}

static int call_ix(const char *name)
{
	return st_fs_call_index(name, strlen(name));
}

/* Would the peer term accept this text address (as an event spells it)? */
static int text_hits(const char *addr)
{
	struct st_fs_addr a;

	st_fs_addr_from_text(&a, addr, strlen(addr));
	return st_fs_match_addr(&fs, &a);
}

static int sa_hits(const void *sa, socklen_t len)
{
	struct st_fs_addr a;

	st_fs_addr_from_sockaddr(&a, sa, len);
	return st_fs_match_addr(&fs, &a);
}

/*
 * The library compares a sockaddr in binary, show and stats its text in the
 * event: for each address, both give the same binary form.
 */
static void same_both_ways(const void *sa, socklen_t len)
{
	char text[ST_ADDR_MAX + 1];
	struct st_fs_addr a, b;
	size_t n = st_fmt_sockaddr(text, sa, len);

	text[n] = '\0';
	st_fs_addr_from_sockaddr(&a, sa, len);
	st_fs_addr_from_text(&b, text, n);
	CHECK(a.kind == b.kind && a.port == b.port && !memcmp(a.ip, b.ip, sizeof(a.ip)) &&
		  a.pathlen == b.pathlen && !memcmp(a.path, b.path, a.pathlen),
	      "%s: binary kind %d port %u, text kind %d port %u", text, a.kind, a.port, b.kind,
	      b.port);
}

int main(void)
{
	struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = htons(53)};
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(853)};
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	socklen_t unlen;

	/* ---- accepted texts ---- */
	CHECK(parse("") == 0 && fs.terms == 0, "empty text: no terms");
	CHECK(parse("  \t ") == 0 && fs.terms == 0, "blank text: no terms");
	CHECK(parse("call=send,sendto fd=3 flag=MORE errors lint min-len=100 max-len=4096") == 0,
	      "every term at once: %s", why);
	CHECK(fs.terms == (ST_FS_CALL | ST_FS_FD | ST_FS_FLAG | ST_FS_ERRORS | ST_FS_LINT |
			   ST_FS_MINLEN | ST_FS_MAXLEN),
	      "terms %#x", fs.terms);
	CHECK(fs.calls == (1u << call_ix("send") | 1u << call_ix("sendto")), "calls %#x", fs.calls);
	CHECK(fs.fd == 3 && fs.flags == 0x8000 && fs.min_len == 100 && fs.max_len == 4096,
	      "fd %d flags %#x min %llu max %llu", fs.fd, fs.flags, fs.min_len, fs.max_len);
	CHECK(parse("call=sendto") == 0 && fs.calls == 3, "sendto covers send: %#x", fs.calls);
	CHECK(parse("call=all") == 0 && fs.calls == ST_FS_SENDS, "all: %#x", fs.calls);
	CHECK(parse("call=lifecycle") == 0 && fs.calls == ST_FS_LIFECYCLE, "lifecycle: %#x",
	      fs.calls);
	CHECK(parse("call=accept,sendfile") == 0 &&
		  fs.calls == (1u << 9 | 1u << 10 | 1u << 6 | 1u << 7),
	      "accept covers accept4, sendfile sendfile64: %#x", fs.calls);
	CHECK(parse("flag=msg_nosignal,DontWait,0x100000") == 0 &&
		  fs.flags == (0x4000 | 0x40 | 0x100000),
	      "flags by name in any case, with or without MSG_, and by number: %#x", fs.flags);
	CHECK(parse("flag=16384") == 0 && fs.flags == 0x4000, "a decimal flag: %#x", fs.flags);
	CHECK(parse("min-len=0 max-len=18446744073709551615") == 0 && fs.max_len == ~0ull,
	      "the largest length: %s", why);
	CHECK(parse("\tcall=write\n\nfd=0 ") == 0 && fs.fd == 0 && fs.calls == 1u << 4,
	      "tabs and newlines separate terms too");

	/* ---- peers and ports ---- */
	CHECK(parse("peer=10.0.0.1") == 0 && fs.peer.kind == ST_FS_IN4 && !fs.peer.has_port,
	      "IPv4 host: %s", why);
	CHECK(text_hits("10.0.0.1:53") && text_hits("10.0.0.1:1") && !text_hits("10.0.0.2:53"),
	      "an IPv4 host matches any of its ports, and only it");
	CHECK(text_hits("[::ffff:10.0.0.1]:53"), "and its IPv4-mapped IPv6 form");
	CHECK(!text_hits("/10.0.0.1") && !text_hits("") && !text_hits("netlink:pid=0,groups=0"),
	      "not a unix path or another family's text");
	CHECK(parse("peer=10.0.0.1:53") == 0 && fs.peer.has_port && fs.peer.port == 53,
	      "IPv4 host and port");
	CHECK(text_hits("10.0.0.1:53") && !text_hits("10.0.0.1:54"), "the port must match too");
	CHECK(parse("peer=::1") == 0 && fs.peer.kind == ST_FS_IN6 && !fs.peer.has_port,
	      "bare IPv6: %s", why);
	CHECK(text_hits("[::1]:853") && !text_hits("[::2]:853") && !text_hits("127.0.0.1:853"),
	      "IPv6 host");
	CHECK(parse("peer=[::1]") == 0 && text_hits("[::1]:1"), "[IPv6] without a port");
	CHECK(parse("peer=[2001:db8::1]:853") == 0 && fs.peer.port == 853 &&
		  text_hits("[2001:db8::1]:853") && !text_hits("[2001:db8::1]:53"),
	      "[IPv6]:port: %s", why);
	CHECK(parse("peer=fe80::1") == 0 && text_hits("[fe80::1%2]:53"),
	      "a scope in the event is ignored");
	CHECK(parse("port=53") == 0 && fs.peer.kind == ST_FS_ANYIP && fs.terms & ST_FS_PEER,
	      "port alone: %s", why);
	CHECK(text_hits("1.2.3.4:53") && text_hits("[::1]:53") && !text_hits("1.2.3.4:54") &&
		  !text_hits("/run/53"),
	      "port alone: any IP address with that port, no unix path");
	CHECK(parse("peer=10.0.0.1 port=53") == 0 && fs.peer.kind == ST_FS_IN4 &&
		  fs.peer.port == 53 && !text_hits("10.0.0.1:54") && text_hits("10.0.0.1:53"),
	      "peer then port: one address: %s", why);
	CHECK(parse("port=53 peer=::1") == 0 && fs.peer.kind == ST_FS_IN6 && fs.peer.port == 53 &&
		  text_hits("[::1]:53") && !text_hits("[::1]:54"),
	      "port then peer: one address: %s", why);
	CHECK(parse("peer=/run/app.sock") == 0 && fs.peer.kind == ST_FS_UNIX &&
		  text_hits("/run/app.sock") && !text_hits("/run/app.sock2") &&
		  !text_hits("@/run/app.sock"),
	      "a unix path: %s", why);
	CHECK(parse("peer=@abstract") == 0 && text_hits("@abstract") && !text_hits("/abstract"),
	      "an abstract name");

	/* ---- binary addresses, as the library has them ---- */
	inet_pton(AF_INET, "10.0.0.1", &s4.sin_addr);
	parse("peer=10.0.0.1:53");
	CHECK(sa_hits(&s4, sizeof(s4)), "sockaddr_in matches");
	s4.sin_port = htons(54);
	CHECK(!sa_hits(&s4, sizeof(s4)), "another port does not");
	CHECK(!sa_hits(&s4, 8), "a short sockaddr_in is no address");
	inet_pton(AF_INET6, "::ffff:10.0.0.1", &s6.sin6_addr);
	s6.sin6_port = htons(53);
	CHECK(sa_hits(&s6, sizeof(s6)), "an IPv4-mapped sockaddr_in6 matches the IPv4 peer");
	parse("port=853");
	inet_pton(AF_INET6, "2001:db8::1", &s6.sin6_addr);
	s6.sin6_port = htons(853);
	CHECK(sa_hits(&s6, sizeof(s6)), "sockaddr_in6 by port");
	strcpy(un.sun_path, "/run/app.sock");
	unlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(un.sun_path) + 1);
	parse("peer=/run/app.sock");
	CHECK(sa_hits(&un, unlen) && sa_hits(&un, sizeof(un)), "sockaddr_un, with or without NUL");
	memcpy(un.sun_path, "\0abstract", 9);
	parse("peer=@abstract");
	CHECK(sa_hits(&un, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 9)),
	      "an abstract sockaddr_un");

	/* Text (show, stats) and binary (the library) agree on every address. */
	inet_pton(AF_INET, "192.0.2.7", &s4.sin_addr);
	same_both_ways(&s4, sizeof(s4));
	same_both_ways(&s6, sizeof(s6));
	inet_pton(AF_INET6, "::ffff:192.0.2.7", &s6.sin6_addr);
	same_both_ways(&s6, sizeof(s6));
	inet_pton(AF_INET6, "fe80::1", &s6.sin6_addr);
	s6.sin6_scope_id = 2;
	same_both_ways(&s6, sizeof(s6));
	strcpy(un.sun_path, "/run/app.sock");
	same_both_ways(&un, unlen);
	memcpy(un.sun_path, "\0abstract", 9);
	same_both_ways(&un, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 9));
	same_both_ways(&un, (socklen_t)offsetof(struct sockaddr_un, sun_path)); /* unnamed */

	/* ---- matching, term group by term group ---- */
	parse("call=send,sendmsg fd=3 flag=MORE,EOR");
	CHECK(st_fs_match_call(&fs, (unsigned)call_ix("send"), 3, 0x8000), "all three terms");
	CHECK(st_fs_match_call(&fs, (unsigned)call_ix("sendmsg"), 3, 0x80 | 0x40), "any flag");
	CHECK(!st_fs_match_call(&fs, (unsigned)call_ix("sendto"), 3, 0x8000), "another call");
	CHECK(!st_fs_match_call(&fs, (unsigned)call_ix("send"), 4, 0x8000), "another fd");
	CHECK(!st_fs_match_call(&fs, (unsigned)call_ix("send"), 3, 0x40), "no flag named");
	CHECK(!st_fs_match_call(&fs, (unsigned)call_ix("send"), 3, -1), "a call without flags");
	CHECK(!st_fs_match_call(&fs, 99, 3, 0x8000), "an unknown call");
	parse("min-len=10 max-len=20");
	CHECK(st_fs_match_len(&fs, 1, 10) && st_fs_match_len(&fs, 1, 20), "both bounds included");
	CHECK(!st_fs_match_len(&fs, 1, 9) && !st_fs_match_len(&fs, 1, 21), "outside them");
	CHECK(!st_fs_match_len(&fs, 0, 15), "a call without a length (close) does not match");
	parse("errors");
	CHECK(st_fs_match_result(&fs, 1, 0) && !st_fs_match_result(&fs, 0, 1), "errors");
	parse("lint");
	CHECK(st_fs_match_result(&fs, 0, 1) && !st_fs_match_result(&fs, 1, 0), "lint");
	parse("");
	CHECK(st_fs_match_call(&fs, 0, 0, -1) && st_fs_match_len(&fs, 0, 0) &&
		  st_fs_match_result(&fs, 0, 0) && text_hits("nothing"),
	      "no terms: everything matches");

	/* ---- the CLI's single options are terms added one by one ---- */
	memset(&fs, 0, sizeof(fs));
	CHECK(st_fs_add_text(&fs, "call=send", 9, &err) == 0 &&
		  st_fs_add(&fs, "port=53", 7, &err) == 0 &&
		  st_fs_add(&fs, "errors", 6, &err) == 0 &&
		  fs.terms == (ST_FS_CALL | ST_FS_PEER | ST_FS_PORT | ST_FS_ERRORS),
	      "--filter=call=send --port=53 --errors: %#x", fs.terms);
	CHECK(st_fs_add(&fs, "call=write", 10, &err) != 0, "a second call term is refused");

	/* ---- refused texts: the term, the part at fault, and why ---- */
	CHECK_STR(
	    refused("call=sendto,bogus"),
	    "bad filter term 'call=sendto,bogus': unknown call 'bogus' (known: send, sendto, "
	    "sendmsg, sendmmsg, write, writev, sendfile, sendfile64, connect, accept, accept4, "
	    "close, shutdown, and the groups all and lifecycle)");
	CHECK_STR(refused("fd=3 colour=red"),
		  "bad filter term 'colour=red': unknown term 'colour' (known: call=LIST, fd=N, "
		  "flag=LIST, peer=ADDR, port=N, errors, lint, min-len=N, max-len=N)");
	CHECK_STR(refused("fd=x"), "bad filter term 'fd=x': not a file descriptor number 'x'");
	CHECK_STR(refused("fd=-1"), "bad filter term 'fd=-1': not a file descriptor number '-1'");
	CHECK_STR(refused("fd=99999999999"),
		  "bad filter term 'fd=99999999999': not a file descriptor number '99999999999'");
	CHECK_STR(refused("fd"),
		  "bad filter term 'fd': needs a value (KEY=VALUE, no spaces around =)");
	CHECK_STR(refused("fd= 3"),
		  "bad filter term 'fd=': needs a value (KEY=VALUE, no spaces around =)");
	CHECK_STR(refused("errors=1"), "bad filter term 'errors=1': takes no value");
	CHECK_STR(refused("flag=MORE,SHOUT"),
		  "bad filter term 'flag=MORE,SHOUT': unknown flag 'SHOUT' (a MSG_* name, with or "
		  "without MSG_: MORE, NOSIGNAL, DONTWAIT, ...; or a number such as 0x8000)");
	CHECK_STR(refused("flag=0"),
		  "bad filter term 'flag=0': unknown flag '0' (a MSG_* name, with or without MSG_: "
		  "MORE, NOSIGNAL, DONTWAIT, ...; or a number such as 0x8000)");
	CHECK_STR(
	    refused("peer=example.com"),
	    "bad filter term 'peer=example.com': not an address 'example.com' (a.b.c.d[:port], "
	    "an IPv6 address or [IPv6]:port, /unix/path or @abstract)");
	CHECK_STR(refused("peer=10.0.0.256"),
		  "bad filter term 'peer=10.0.0.256': not an address '10.0.0.256' (a.b.c.d[:port], "
		  "an IPv6 address or [IPv6]:port, /unix/path or @abstract)");
	CHECK_STR(refused("peer=[::1"),
		  "bad filter term 'peer=[::1': not an address '[::1' (a.b.c.d[:port], an IPv6 "
		  "address or [IPv6]:port, /unix/path or @abstract)");
	CHECK_STR(refused("peer=1.2.3.4:99999"),
		  "bad filter term 'peer=1.2.3.4:99999': not an address '1.2.3.4:99999' "
		  "(a.b.c.d[:port], an IPv6 address or [IPv6]:port, /unix/path or @abstract)");
	CHECK_STR(refused("port=65536"),
		  "bad filter term 'port=65536': not a port number '65536' (0 to 65535)");
	CHECK_STR(refused("peer=1.2.3.4:53 port=53"),
		  "bad filter term 'port=53': port given twice (in peer= and port=)");
	CHECK_STR(refused("port=53 peer=/run/x"),
		  "bad filter term 'peer=/run/x': a unix path has no port '/run/x'");
	CHECK_STR(refused("peer=::1 peer=::2"), "bad filter term 'peer=::2': peer given twice");
	CHECK_STR(refused("fd=1 fd=2"), "bad filter term 'fd=2': fd given twice");
	CHECK_STR(refused("call=send call=write"),
		  "bad filter term 'call=write': call given twice (give one list: call=a,b)");
	CHECK_STR(refused("min-len=ten"), "bad filter term 'min-len=ten': not a byte count 'ten'");
	CHECK_STR(refused("max-len=18446744073709551616"),
		  "bad filter term 'max-len=18446744073709551616': not a byte count "
		  "'18446744073709551616'");
	CHECK(parse("errors errors lint lint") == 0, "a term without a value may repeat");
	{
		char big[ST_FS_TEXT_MAX + 8];

		memset(big, ' ', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		CHECK_STR(refused(big), "filter text longer than 1023 bytes");
	}
	/* A tiny buffer: cut, but always a string. */
	parse("colour=red");
	CHECK(st_fs_error_text(&err, why, 8) == 7 && !strcmp(why, "bad fil"), "cut to fit: %s",
	      why);
	return unit_done();
}
