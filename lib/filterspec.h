/* filterspec.h: the one filter syntax ("call=send peer=10.0.0.1:53 errors"), for lib and CLI. */
#ifndef ST_FILTERSPEC_H
#define ST_FILTERSPEC_H

#include <stddef.h>
#include <sys/socket.h>

/*
 * The call names, in the order of the library's enum st_callkind (st.h,
 * which checks it): a filter's call set is a bit per name.
 */
#define ST_FS_NCALLS	13
#define ST_FS_SENDS	0xffu	     /* send .. sendfile64: "all" */
#define ST_FS_LIFECYCLE (0x1fu << 8) /* connect, accept, accept4, close, shutdown */
extern const char *const st_fs_call_names[ST_FS_NCALLS];
/* The index of a call name, or -1. */
int st_fs_call_index(const char *name, size_t n);

/* An endpoint in binary: one a filter names, or one a call sends to. */
enum st_fs_kind {
	ST_FS_NONE,  /* no address, or one of a family filters do not name */
	ST_FS_IN4,   /* ip[0..3] */
	ST_FS_IN6,   /* ip[0..15]; IPv4-mapped addresses are made IN4 */
	ST_FS_UNIX,  /* path: the bytes of sun_path, "@name" for an abstract one */
	ST_FS_ANYIP, /* a filter's port=N alone: any IPv4 or IPv6 address */
};
#define ST_FS_PATH_MAX 110
struct st_fs_addr {
	unsigned char kind;	/* enum st_fs_kind */
	unsigned char has_port; /* a filter's address: the port must match too */
	unsigned short port;	/* host order */
	unsigned char pathlen;
	unsigned char ip[16];
	char path[ST_FS_PATH_MAX];
};

/* The terms a filter holds, a bit each. */
enum {
	ST_FS_CALL = 1u << 0,
	ST_FS_FD = 1u << 1,
	ST_FS_FLAG = 1u << 2,
	ST_FS_PEER = 1u << 3, /* peer= and/or port= */
	ST_FS_ERRORS = 1u << 4,
	ST_FS_LINT = 1u << 5,
	ST_FS_MINLEN = 1u << 6,
	ST_FS_MAXLEN = 1u << 7,
	ST_FS_PORT = 1u << 8, /* port= was given (merged into the peer term) */
};

/* A compiled filter: every term present must match. No pointers: it can be copied whole. */
struct st_fs {
	unsigned terms;
	unsigned calls; /* ST_FS_CALL: bit per st_fs_call_names entry */
	int fd;
	unsigned flags; /* ST_FS_FLAG: any of these MSG_* bits */
	unsigned long long min_len, max_len;
	struct st_fs_addr peer; /* ST_FS_PEER */
};

/*
 * Why a text was refused: the term, the part of it at fault, and what is
 * wrong, as constants and pointers into the text (nothing is allocated).
 */
struct st_fs_error {
	const char *term, *bad;
	size_t term_len, bad_len;
	const char *what; /* "unknown call" */
	const char *hint; /* "(known: ...)", or "" */
};

/* The longest filter text: longer is refused (the library keeps a copy of it). */
#define ST_FS_TEXT_MAX 1024

/*
 * Parse TEXT (n bytes), space-separated terms, into *f, which it clears
 * first. 0 on success; -1 with *e filled.
 */
int st_fs_parse(struct st_fs *f, const char *text, size_t n, struct st_fs_error *e);
/* The same, adding to the terms *f holds already (show --filter=.. --port=..). */
int st_fs_add_text(struct st_fs *f, const char *text, size_t n, struct st_fs_error *e);
/* One more term, "key=value" or "key" (the CLI's single options), added to *f. */
int st_fs_add(struct st_fs *f, const char *term, size_t n, struct st_fs_error *e);
/*
 * The error as one line, as every user of the syntax says it:
 * "bad filter term 'call=sendto,bogus': unknown call 'bogus' (known: ...)".
 * Returns the length (cut to fit cap - 1).
 */
size_t st_fs_error_text(const struct st_fs_error *e, char *out, size_t cap);

/* A comma-separated call list (SENDTRACE_CALLS, --call, call=): 0 with *mask, or -1. */
int st_fs_calls(const char *s, size_t n, unsigned *mask, struct st_fs_error *e);

/*
 * Matching, term group by term group, so the library can decide each group
 * as soon as it knows what the group looks at. Each returns 1 if the terms
 * it covers match (or are absent), else 0.
 */
/* call, fd and flag: flags < 0 when the call takes none (write, close). */
int st_fs_match_call(const struct st_fs *f, unsigned call, int fd, long long flags);
/* min-len and max-len: has_len 0 when the call has no length (lifecycle calls). */
int st_fs_match_len(const struct st_fs *f, int has_len, unsigned long long len);
/* errors and lint. */
int st_fs_match_result(const struct st_fs *f, int failed, int lint);
/* The peer term against one address (the socket's peer, or a destination). */
int st_fs_match_addr(const struct st_fs *f, const struct st_fs_addr *a);

/* An address from a socket address, or from its text in an event ("[::1]:53"). */
void st_fs_addr_from_sockaddr(struct st_fs_addr *a, const struct sockaddr *sa, socklen_t len);
void st_fs_addr_from_text(struct st_fs_addr *a, const char *s, size_t n);

#endif
