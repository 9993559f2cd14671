/* rules.c: the rule catalogue: what each lint finding means, checked against Linux 6.x behaviour.
 */
#include "config.h"

#include <string.h>

#include "rules.h"

/*
 * Each "why" was checked on a running kernel by tests/t-lint.c, which
 * asserts the kernel's reaction (accepted and ignored, or the errno) next to
 * the finding, so that the explanation stays true where the tests run.
 */
const struct st_rule st_rules[ST_R_COUNT] = {
    [ST_R_CONFIRM] =
	{"msg-confirm-not-datagram", ST_SEV_WARNING, ST_SCOPE_CALL,
	 "MSG_CONFIRM on a socket that is not UDP or raw IP has no effect",
	 "MSG_CONFIRM on anything but an AF_INET/AF_INET6 SOCK_DGRAM or SOCK_RAW socket",
	 "Only the IPv4/IPv6 datagram paths use MSG_CONFIRM to confirm the neighbour "
	 "entry; TCP and AF_UNIX accept the flag and ignore it.",
	 "send(2): MSG_CONFIRM",
	 "Drop MSG_CONFIRM; TCP confirms reachability from its ACKs by itself."},
    [ST_R_EOR] = {"msg-eor-no-records", ST_SEV_WARNING, ST_SCOPE_CALL,
		  "MSG_EOR on a socket without records has no effect",
		  "MSG_EOR on a SOCK_DGRAM socket (any family) or an AF_UNIX SOCK_STREAM socket",
		  "Datagrams are records already, and AF_UNIX streams have no record marks: "
		  "the kernel accepts MSG_EOR and ignores it. TCP is not flagged: since Linux "
		  "4.7 it honours MSG_EOR by not appending later data to the same skb (used "
		  "with timestamping and zerocopy); SOCK_SEQPACKET ends records with it.",
		  "send(2): MSG_EOR; tcp(7)",
		  "Drop MSG_EOR, or use SOCK_SEQPACKET if record boundaries are needed."},
    [ST_R_OOB] = {"msg-oob-unsupported", ST_SEV_ERROR, ST_SCOPE_CALL,
		  "MSG_OOB on a socket without out-of-band data fails with EOPNOTSUPP",
		  "MSG_OOB on a SOCK_DGRAM, SOCK_SEQPACKET or SOCK_RAW socket",
		  "Only stream sockets (TCP, and AF_UNIX streams since Linux 5.15) carry urgent "
		  "data; elsewhere the call fails with EOPNOTSUPP and nothing is sent.",
		  "send(2): MSG_OOB; tcp(7): urgent data",
		  "Send the data in band, or over a stream socket."},
    [ST_R_DONTROUTE] = {"msg-dontroute-unix", ST_SEV_WARNING, ST_SCOPE_CALL,
			"MSG_DONTROUTE on an AF_UNIX socket has no effect",
			"MSG_DONTROUTE on an AF_UNIX socket",
			"AF_UNIX does not route: the flag is accepted and ignored.",
			"send(2): MSG_DONTROUTE", "Drop MSG_DONTROUTE."},
    [ST_R_MORE] = {"msg-more-unix", ST_SEV_WARNING, ST_SCOPE_CALL, "MSG_MORE on an AF_UNIX socket has no effect",
		   "MSG_MORE on an AF_UNIX socket",
		   "Corking with MSG_MORE is a TCP and UDP feature; AF_UNIX delivers each send "
		   "at once and ignores the flag, so the expected batching does not happen.",
		   "send(2): MSG_MORE; tcp(7): TCP_CORK",
		   "Drop MSG_MORE; batch with sendmsg() and several iovecs instead."},
    [ST_R_ZEROCOPY] = {"msg-zerocopy-not-enabled", ST_SEV_WARNING, ST_SCOPE_CALL,
		       "MSG_ZEROCOPY without SO_ZEROCOPY: the data is copied as usual",
		       "MSG_ZEROCOPY on a socket where SO_ZEROCOPY is not enabled",
		       "Without setsockopt(SO_ZEROCOPY, 1) the kernel silently ignores "
		       "MSG_ZEROCOPY: it copies the buffer and queues no completion, so code "
		       "waiting on the error queue waits for nothing.",
		       "Documentation/networking/msg_zerocopy.rst",
		       "setsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) first, or "
		       "drop the flag."},
    [ST_R_FASTOPEN_NOT_TCP] = {"msg-fastopen-not-tcp", ST_SEV_WARNING, ST_SCOPE_CALL,
			       "MSG_FASTOPEN on a socket that is not TCP has no effect",
			       "MSG_FASTOPEN on anything but a TCP socket",
			       "TCP Fast Open exists only in TCP; other protocols ignore the flag.",
			       "tcp(7): TCP_FASTOPEN; send(2)", "Drop MSG_FASTOPEN."},
    [ST_R_FASTOPEN_CONNECTED] = {"msg-fastopen-connected", ST_SEV_ERROR, ST_SCOPE_CALL,
				 "MSG_FASTOPEN on a TCP socket that is already connected",
				 "MSG_FASTOPEN on a TCP socket that is not in the closed state",
				 "Fast Open connects as it sends; on a connected socket the call "
				 "fails with EISCONN and nothing is sent.",
				 "tcp(7): TCP_FASTOPEN",
				 "Use MSG_FASTOPEN only on the first sendto() of a fresh socket "
				 "instead of connect(); plain send() afterwards."},
    [ST_R_UNKNOWN_BITS] = {"unknown-flag-bits", ST_SEV_WARNING, ST_SCOPE_CALL,
			   "flag bits that no MSG_* flag defines",
			   "bits in flags that are not a Linux MSG_* flag",
			   "The kernel does not reject unknown send flags: they are silently "
			   "ignored, which usually means a wrong constant or a flags variable "
			   "that carries something else.",
			   "send(2)", "Pass only MSG_* constants."},
    [ST_R_RECV_FLAG] = {"recv-flag-on-send", ST_SEV_INFO, ST_SCOPE_CALL,
			"a receive-only flag passed to a send call has no effect",
			"MSG_PEEK, MSG_TRUNC, MSG_CTRUNC, MSG_WAITALL, MSG_ERRQUEUE, "
			"MSG_WAITFORONE or MSG_CMSG_CLOEXEC on a send call",
			"These flags mean something to recv(2) only; send calls ignore them.",
			"recv(2), send(2)", "Drop the flag."},
    [ST_R_SIGPIPE] =
	{"sigpipe-default", ST_SEV_WARNING, ST_SCOPE_CALL,
	 "a stream socket is written without MSG_NOSIGNAL while SIGPIPE would kill "
	 "the process",
	 "send, sendto, sendmsg without MSG_NOSIGNAL, or write, writev, sendfile, on a "
	 "stream socket while SIGPIPE is at its default disposition and not blocked "
	 "(reported once per call site)",
	 "If the peer has gone, the kernel raises SIGPIPE before returning EPIPE, and "
	 "the default action terminates the whole process: a daemon dies because one "
	 "client disconnected.",
	 "send(2): MSG_NOSIGNAL; signal(7); socket(7)",
	 "Pass MSG_NOSIGNAL, or ignore SIGPIPE once at start-up: "
	 "signal(SIGPIPE, SIG_IGN)."},
    [ST_R_DEST_CONNECTED] =
	{"dest-on-connected-stream", ST_SEV_WARNING, ST_SCOPE_CALL,
	 "a destination address given on a connected stream socket",
	 "sendto() or sendmsg() with a destination on a connected SOCK_STREAM or "
	 "SOCK_SEQPACKET socket",
	 "TCP ignores the address and sends to its peer; AF_UNIX streams fail "
	 "with EISCONN. Either way the address is not where the data goes.",
	 "sendto(2): EISCONN; tcp(7)", "Use send(), or sendmsg() with msg_name NULL."},
    [ST_R_UNCONNECTED_DGRAM] = {"send-unconnected-datagram", ST_SEV_ERROR, ST_SCOPE_CALL,
				"send or write on an unconnected datagram socket",
				"send, write, writev, or sendmsg without msg_name, on a "
				"SOCK_DGRAM socket with no peer",
				"A datagram needs a destination: without connect() the call fails "
				"with EDESTADDRREQ.",
				"send(2): EDESTADDRREQ; udp(7)",
				"connect() the socket first, or use sendto() with an address."},
    [ST_R_MSG_FLAGS] = {"msg-flags-ignored", ST_SEV_INFO, ST_SCOPE_CALL,
			"msg_flags of the msghdr passed to sendmsg is ignored",
			"sendmsg() with a non-zero msghdr.msg_flags",
			"The kernel reads flags only from the flags argument of sendmsg(); "
			"msg_flags is an output of recvmsg(). Flags put there do nothing.",
			"sendmsg(2): \"the msg_flags field is ignored\"",
			"Pass the flags as sendmsg()'s third argument."},
    [ST_R_CMSG_ALIGN] = {"cmsg-length-not-aligned", ST_SEV_WARNING, ST_SCOPE_CALL,
			 "msg_controllen is not a multiple of CMSG_ALIGN",
			 "msg_controllen that is not a sum of CMSG_SPACE() values",
			 "The control buffer should be sized with CMSG_SPACE(); a length cut to "
			 "CMSG_LEN() of the last message happens to work on Linux but is not "
			 "portable, and hand-computed lengths are how cmsgs get truncated.",
			 "cmsg(3)",
			 "Size the buffer and msg_controllen with CMSG_SPACE() of each payload."},
    [ST_R_CMSG_MALFORMED] = {"cmsg-malformed", ST_SEV_ERROR, ST_SCOPE_CALL,
			     "malformed control message: the call fails with EINVAL",
			     "a cmsg_len smaller than the header, or one that runs past "
			     "msg_controllen",
			     "The kernel validates each control message and rejects the whole call "
			     "with EINVAL; nothing is sent.",
			     "cmsg(3); unix(7); ip(7)",
			     "Build control messages with CMSG_FIRSTHDR/CMSG_NXTHDR, CMSG_LEN and "
			     "CMSG_SPACE."},
    [ST_R_SCM_NOT_UNIX] = {"scm-not-unix", ST_SEV_WARNING, ST_SCOPE_CALL,
			   "SCM_RIGHTS or SCM_CREDENTIALS on a socket that is not AF_UNIX",
			   "SCM_RIGHTS or SCM_CREDENTIALS control messages on a non-AF_UNIX socket",
			   "Only AF_UNIX passes file descriptors and credentials; IP sockets "
			   "accept the control message and silently drop it, so the receiver "
			   "never gets the fds.",
			   "unix(7): SCM_RIGHTS, SCM_CREDENTIALS",
			   "Pass fds over an AF_UNIX socket."},
    [ST_R_SHORT_WRITE] = {"short-write-stream", ST_SEV_INFO, ST_SCOPE_RETIRED,
			  "a stream socket took fewer bytes than asked",
			  "checked no more; sendtrace 0.1 recorded it on every send call on a "
			  "stream socket that returned less than it was given",
			  "A partial write is normal on a stream socket (a non-blocking socket with "
			  "a full buffer, a signal, sendfile at the end of its file), and programs "
			  "that loop correctly made it fire on every call: it was noise. What "
			  "matters is a remainder that is never sent, which only the whole trace "
			  "shows: unsent-remainder. In old traces sendtrace lint ignores it and "
			  "says how many it ignored.",
			  "send(2); write(2)", "Nothing: see unsent-remainder."},
    [ST_R_DGRAM_TOO_LARGE] = {"datagram-too-large", ST_SEV_ERROR, ST_SCOPE_CALL,
			      "a datagram larger than the socket can ever send",
			      "a call on a datagram socket that failed with EMSGSIZE",
			      "A datagram is sent whole or not at all: past the protocol's limit "
			      "(65507 bytes of UDP payload over IPv4) or the socket's buffer, the "
			      "call fails with EMSGSIZE every time.",
			      "udp(7): EMSGSIZE; send(2)",
			      "Split the data, or use a stream socket (or UDP_SEGMENT for GSO)."},

    /*
     * Whole-trace rules: judged by `sendtrace lint` on the events, in time
     * order per process and fd (cli/lintrace.c); each was shown real by a
     * program of tests/lint-corpus/.
     */
    [ST_R_UNSENT] =
	{"unsent-remainder", ST_SEV_ERROR, ST_SCOPE_TRACE,
	 "a stream socket took part of a send, and the rest was never sent",
	 "a send call on a SOCK_STREAM socket that returned less than it was given (sendfile: "
	 "only when it stopped before the end of its file, known from the offset and the "
	 "file's size), followed by no other send on that socket before the fd was closed, "
	 "shut down for writing, taken by another socket, or the process exited. A close or "
	 "shutdown is seen in lifecycle records (run -e all,lifecycle), an exit in the "
	 "process's exit record; a process that left no exit record is not judged",
	 "A stream socket may take only part of the data: a non-blocking socket whose buffer "
	 "is full, a blocking one interrupted by a signal. The caller must send the rest. "
	 "Code that ignores the count sends a truncated stream: the peer waits for bytes that "
	 "never come, or reads the next message from the middle of this one.",
	 "send(2), write(2): RETURN VALUE; sendfile(2)",
	 "Loop until every byte is sent: on a short count, send the rest from where it "
	 "stopped; on EAGAIN, wait for POLLOUT (poll, epoll) first."},
    [ST_R_EAGAIN_SPIN] =
	{"eagain-spin", ST_SEV_WARNING, ST_SCOPE_TRACE,
	 "a send failed with EAGAIN over and over, faster than any wait allows: a busy loop",
	 "100 or more send calls on one fd failing with EAGAIN within 10 ms, with no "
	 "successful send between them",
	 "EAGAIN means the socket's buffer is full, and it drains only as the peer "
	 "acknowledges data. Retrying at once instead of waiting for POLLOUT burns a CPU "
	 "until the peer catches up, and takes it from the rest of the program.",
	 "send(2): EAGAIN; poll(2): POLLOUT; epoll(7)",
	 "On EAGAIN, wait until the fd is writable (poll, epoll, select, or the event loop's "
	 "write interest) before sending again."},
    [ST_R_SMALL_WRITES] =
	{"small-writes-burst", ST_SEV_INFO, ST_SCOPE_TRACE,
	 "small writes in quick succession on a TCP socket, where Nagle's algorithm meets "
	 "delayed ACKs",
	 "3 or more successful sends of under 1448 bytes each on one TCP socket, each "
	 "starting within 10 microseconds of the end of the one before, none with MSG_MORE or "
	 "a vector of several buffers, on a socket without TCP_CORK or TCP_NODELAY (as the "
	 "event's sock.cork and sock.nodelay record them), with no reply possible between "
	 "them: the peer is on another host (no network round trip fits in 10 microseconds), "
	 "or the peer's end of the connection is in the trace and sent nothing between them. "
	 "A peer on the same host whose end is not in the trace is not judged: over loopback "
	 "a reply can come back within a microsecond",
	 "With Nagle's algorithm on (the default), a small segment waits while an earlier "
	 "small one is unacknowledged, and the receiver delays its ACK (up to 40 ms on Linux) "
	 "hoping to send it with a reply: a header and a body written apart can cost a "
	 "delayed-ACK timeout per exchange. Each small write is also a system call and, "
	 "without Nagle, a packet of its own.",
	 "tcp(7): TCP_NODELAY, TCP_CORK; send(2): MSG_MORE; writev(2)",
	 "Gather the pieces into one call (writev, or sendmsg with several iovecs), or pass "
	 "MSG_MORE on all but the last (or set TCP_CORK around them); set TCP_NODELAY "
	 "deliberately if each small write must leave at once."},
    [ST_R_SEND_AFTER_ERROR] =
	{"send-after-error", ST_SEV_WARNING, ST_SCOPE_TRACE,
	 "sends go on after the connection failed with EPIPE or ECONNRESET",
	 "2 or more send calls on a socket after a send on it failed with EPIPE or "
	 "ECONNRESET, before the fd is closed or taken by another socket (one more send is "
	 "allowed: a TLS library sends its closing alert so)",
	 "EPIPE and ECONNRESET are final: the connection is gone and every later send fails "
	 "too (and raises SIGPIPE each time unless it is ignored). A program that goes on "
	 "writing does not check what its sends return, and loses data without knowing.",
	 "send(2): EPIPE, ECONNRESET; tcp(7)",
	 "Check each send's result; on EPIPE or ECONNRESET stop writing, close the socket, "
	 "and report the failure or reconnect."},
    [ST_R_UDP_HOT_DEST] =
	{"unconnected-udp-hot-destination", ST_SEV_INFO, ST_SCOPE_TRACE,
	 "thousands of datagrams to one destination on an unconnected UDP socket",
	 "1000 or more datagrams (sendto, sendmsg, each message of sendmmsg) to one address "
	 "from an unconnected UDP socket that sends to no other address",
	 "On an unconnected socket the kernel looks up the route (and, over IPv4, the source "
	 "address) again for every datagram; a connected socket keeps it. A connected socket "
	 "also reports ICMP errors, such as port unreachable, as ECONNREFUSED instead of "
	 "losing them.",
	 "udp(7); connect(2); ip(7)",
	 "connect() the socket to the destination and use send(); keep an unconnected socket "
	 "for traffic to many peers."},
};

const char *st_severity_name(enum st_severity s)
{
	return s == ST_SEV_ERROR ? "error" : s == ST_SEV_WARNING ? "warning" : "info";
}

const char *st_scope_name(enum st_scope s)
{
	return s == ST_SCOPE_TRACE ? "trace" : s == ST_SCOPE_RETIRED ? "retired" : "call";
}

const struct st_rule *st_rule_by_id(const char *id)
{
	int i;

	for (i = 0; i < ST_R_COUNT; i++)
		if (!strcmp(st_rules[i].id, id))
			return &st_rules[i];
	return NULL;
}
