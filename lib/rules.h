/* rules.h: the lint rule catalogue, shared by the library (which checks each call) and the CLI (which
 * checks the whole trace, and explains every rule). */
#ifndef ST_RULES_H
#define ST_RULES_H

enum st_severity { ST_SEV_INFO, ST_SEV_WARNING, ST_SEV_ERROR };

/*
 * Where a rule is checked. One table holds every scope, so that `sendtrace
 * lint --rules`, its output and docs/lint.md all come from it.
 */
enum st_scope {
	ST_SCOPE_CALL,	  /* by the library, on each call; recorded in the event's "lint" */
	ST_SCOPE_TRACE,	  /* by `sendtrace lint`, over the events of the whole trace */
	ST_SCOPE_RETIRED, /* checked no more; old traces may carry it, lint does not count it */
};

enum st_rule_id {
	ST_R_CONFIRM,
	ST_R_EOR,
	ST_R_OOB,
	ST_R_DONTROUTE,
	ST_R_MORE,
	ST_R_ZEROCOPY,
	ST_R_FASTOPEN_NOT_TCP,
	ST_R_FASTOPEN_CONNECTED,
	ST_R_UNKNOWN_BITS,
	ST_R_RECV_FLAG,
	ST_R_SIGPIPE,
	ST_R_DEST_CONNECTED,
	ST_R_UNCONNECTED_DGRAM,
	ST_R_MSG_FLAGS,
	ST_R_CMSG_ALIGN,
	ST_R_CMSG_MALFORMED,
	ST_R_SCM_NOT_UNIX,
	ST_R_SHORT_WRITE, /* retired: a partial write alone is no mistake; see ST_R_UNSENT */
	ST_R_DGRAM_TOO_LARGE,
	/* Whole-trace rules: never in an event's "lint", judged by cli/lintrace.c. */
	ST_R_UNSENT,
	ST_R_EAGAIN_SPIN,
	ST_R_SMALL_WRITES,
	ST_R_SEND_AFTER_ERROR,
	ST_R_UDP_HOT_DEST,
	ST_R_COUNT
};

/* The library keeps the rules that fired on a call as bits of one word. */
_Static_assert(ST_R_COUNT <= 64, "a rule id must fit the library's 64-bit hit mask");

/*
 * The whole-trace rules' thresholds. Their "trigger" texts in rules.c say
 * the same numbers (tests/test-rules.c checks that they do).
 */
#define ST_SPIN_MIN	    100		 /* EAGAIN failures in a row... */
#define ST_SPIN_WINDOW_NS   10000000LL	 /* ...within 10 ms */
#define ST_SMALL_WRITE	    1448	 /* under a full segment of Ethernet TCP with timestamps */
#define ST_BURST_MIN	    3		 /* small writes in a burst */
#define ST_BURST_GAP_NS	    10000LL	 /* from one's end to the next's start: no network round trip fits */
#define ST_AFTER_ERROR_MIN  2		 /* sends after EPIPE/ECONNRESET: one more can be a TLS alert */
#define ST_HOT_DEST_MIN	    1000	 /* datagrams to the one destination */

struct st_rule {
	const char *id; /* stable, kebab-case */
	enum st_severity severity;
	enum st_scope scope;
	const char *msg;     /* the finding, one line */
	const char *trigger; /* when it fires */
	const char *why;     /* what the kernel does, and why it matters */
	const char *man;     /* where it is documented */
	const char *fix;
};

extern const struct st_rule st_rules[ST_R_COUNT];
const char *st_severity_name(enum st_severity s);
const char *st_scope_name(enum st_scope s);
const struct st_rule *st_rule_by_id(const char *id);

#endif
