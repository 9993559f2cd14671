/* rules.h: the flag-misuse rule catalogue, shared by the library (which checks) and the CLI (which
 * explains). */
#ifndef ST_RULES_H
#define ST_RULES_H

enum st_severity { ST_SEV_INFO, ST_SEV_WARNING, ST_SEV_ERROR };

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
	ST_R_SHORT_WRITE,
	ST_R_DGRAM_TOO_LARGE,
	ST_R_COUNT
};

struct st_rule {
	const char *id; /* stable, kebab-case */
	enum st_severity severity;
	const char *msg;     /* the finding, one line */
	const char *trigger; /* when it fires */
	const char *why;     /* what the kernel does, and why it matters */
	const char *man;     /* where it is documented */
	const char *fix;
};

extern const struct st_rule st_rules[ST_R_COUNT];
const char *st_severity_name(enum st_severity s);
const struct st_rule *st_rule_by_id(const char *id);

#endif
