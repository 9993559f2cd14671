/* cli.h: what the sendtrace command's files share: the command table and the event reader. */
#ifndef ST_CLI_H
#define ST_CLI_H

#include <stdio.h>

#include <jansson.h>

#include "filterspec.h"

/* Exit statuses, as grep has them. */
#define EXIT_OK	      0
#define EXIT_FINDINGS 1
#define EXIT_TROUBLE  2

struct cmd_entry {
	const char *name;
	const char *usage;
	const char *summary;
	int (*exec)(int argc, char **argv);
	int filters; /* takes the FILTERS of filter.c: listed in --help */
};

extern const struct cmd_entry cmd_run_entry;
extern const struct cmd_entry cmd_show_entry;
extern const struct cmd_entry cmd_lint_entry;
extern const struct cmd_entry cmd_stats_entry;
extern const struct cmd_entry cmd_env_entry;
extern const struct cmd_entry cmd_pcap_entry;
extern const struct cmd_entry cmd_ctl_entry;

void cli_usage(const struct cmd_entry *cmd, FILE *out);
/* getopt's result for -h, -V or a bad option: the exit status; -1 for any other. */
int cli_common_option(int c, const struct cmd_entry *cmd);
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- events.c: reading JSON Lines traces, line by line, forgiving and loud ---- */
struct ev_reader {
	const char *path; /* "-" is standard input */
	FILE *f;
	unsigned long line;
	unsigned long bad;	  /* lines skipped, each with a warning */
	unsigned long long_lines; /* of those, lines over EV_LINE_MAX */
	char *buf;
	size_t cap;
	size_t len; /* of the last line returned, in buf, without its newline */
	char *in;   /* a window of the file, EV_WINDOW bytes */
	size_t in_pos, in_len;
	/* If set, tried first on each line: 1 means it took the line, 0 hands it to jansson. */
	int (*fast)(const char *line, size_t n, void *arg);
	void *fast_arg;
};

/*
 * The longest line read as an event. The library's events are at most tens
 * of KiB; a longer line is skipped and counted, and costs EV_LINE_MAX plus
 * EV_WINDOW of memory however long it is.
 */
#define EV_LINE_MAX (1 << 20)
#define EV_WINDOW   (64 << 10)

/* 0 on success; on failure the error has been printed. */
int ev_open(struct ev_reader *r, const char *path);
/* The next valid event (caller json_decref()s it), or NULL at the end. */
json_t *ev_next(struct ev_reader *r);
void ev_close(struct ev_reader *r);
/* "FILE: N bad lines skipped", if there were any. */
void ev_summary(const struct ev_reader *r);
int ev_blank(const char *s, size_t n);
/* Paths to read, with a missing X standing for the X.PID files `run -F` wrote. */
char **ev_expand(char **paths, int n, int *out_n);
int ev_pad(const char *s, size_t n);
/*
 * Every event of every file, in file order: start(reader) once per file,
 * each(event) per event. Missing files and bad lines are reported; returns
 * EXIT_TROUBLE if there were any, else EXIT_OK.
 */
int ev_read_files(char **files, int n, void (*start)(struct ev_reader *, void *),
		  void (*each)(json_t *, struct ev_reader *, void *), void *arg);
/* Parse one line as an event (NULL and *why set when it is not one). */
json_t *ev_parse(const char *line, size_t n, const char **why);

/* ---- format.c: one event as one readable line ---- */
enum fmt_time { FMT_TIME_ABS, FMT_TIME_REL, FMT_TIME_DELTA };
struct fmt_opts {
	enum fmt_time time;
	int color;
	long long first_ts, prev_ts;
};
void fmt_event(FILE *out, json_t *ev);
/* A trace's ts as local HH:MM:SS.uuuuuu, or as seconds when no calendar holds it. */
void fmt_clock(char *buf, size_t n, long long ts);
void fmt_event_opts(FILE *out, json_t *ev, const struct fmt_opts *o);
/* The event's backtrace, one indented line per frame. */
void fmt_bt(FILE *out, json_t *ev);

/* ---- escape.c: strings from a trace, made safe for a terminal ---- */
/* C0 and C1 controls, DEL and bytes that are not UTF-8 as \xHH; the rest as is. */
void esc_put(FILE *out, const char *s);
void esc_putn(FILE *out, const char *s, size_t n);
/* For JSON text: DEL and C1 controls as \u00HH, everything else untouched. */
void esc_put_json(FILE *out, const char *s);
/* esc_put into a new string (free it); NULL reads as "". */
char *esc_str(const char *s);

/* ---- table.c: item numbers by key, for groupings of any size ---- */
struct table_slot {
	size_t item; /* the item's number + 1; 0: empty */
	unsigned long hash;
};
struct table {
	struct table_slot *slots;
	size_t nslots, used;
	unsigned long long probes; /* slots looked at, in all */
};
#define TABLE_HASH_INIT 2166136261u
#define TABLE_NONE	((size_t)-1)
/* Hash one more string of a key into h (start from TABLE_HASH_INIT). */
unsigned long table_hash(unsigned long h, const char *s);
/*
 * The item under hash for which same(item, key) holds; if none, new_item is
 * entered and returned (the caller then adds it to its array), or, when
 * new_item is TABLE_NONE, TABLE_NONE is returned and nothing entered.
 */
size_t table_find(struct table *t, unsigned long hash, int (*same)(size_t item, const void *key),
		  const void *key, size_t new_item);
void table_free(struct table *t);
/* With SENDTRACE_TABLE_PROBES set: "WHO: N entries, M table probes" on stderr, for tests. */
void table_report(const char *who, const struct table *t);

/* ---- cmd-lint.c ---- */
/* Where a call came from: its backtrace's top frames, or the lint site; NULL if neither. */
char *lint_site(json_t *ev);

/* ---- lintdoc.c: the rule catalogue, from lib/rules.c's table ---- */
void lint_rules_list(FILE *out);     /* one line a rule */
void lint_rules_markdown(FILE *out); /* docs/lint.md's rules, from its marker line on */

/* ---- lintrace.c: the whole-trace lint rules, judged over every event after the fact ---- */
struct st_rule;
struct lt_finding { /* the instances of one rule at one call site in one process */
	const struct st_rule *rule;
	const char *site, *peer, *kind, *call; /* peer may be NULL; kind: "AF_INET SOCK_STREAM" */
	const char *detail;		       /* the first instance, in words */
	long long pid, fd;		       /* fd: of the first instance */
	unsigned long count;		       /* instances */
	unsigned long long events;	       /* calls they took */
	unsigned long long bytes;	       /* unsent-remainder: bytes never sent */
	long long first, last;
	double rate; /* eagain-spin: failures per ms, the highest */
};
struct lt;
struct lt *lt_new(void);
/* Every event of the trace, in any order. */
void lt_event(struct lt *t, json_t *ev);
/* Judge what is left; each finding to fn; notes on stderr (calls out of order, undecided). */
void lt_finish(struct lt *t, void (*fn)(const struct lt_finding *, void *), void *arg);
void lt_free(struct lt *t);

/* ---- scan.c: the fields of one event without building it ---- */
struct evs { /* a string value as it is in the line: escapes not decoded */
	const char *p;
	size_t n;
	int plain; /* no escapes: the bytes are the value */
};
struct evf {
	long long v, ts, pid, tid, fd, ret, dur, len, bytes_sent;
	long long sample;    /* the sampling rate it was recorded at (>1), else 0 */
	long long flags_raw; /* with has_flags */
	int has_fd, has_sock, has_len, has_flags, lint, big_bytes, odd;
	unsigned seen; /* kept keys met so far: a second one sends the line to jansson */
	struct evs event, call, err, addr, family, type, proto, peer, flags;
	json_t *msgs; /* sendmmsg's messages, from jansson only (borrowed) */
};
int scan_event(const char *line, size_t n, struct evf *f);
int evs_eq(const struct evs *v, const char *s);

/* ---- filter.c: --pid, --call, --peer, --filter, ... for show, stats and pcap ---- */
enum {
	FILTER_PID = 1000,
	FILTER_TID,
	FILTER_CALL,
	FILTER_FD,
	FILTER_FLAG,
	FILTER_ERRORS,
	FILTER_LINT,
	FILTER_PEER,
	FILTER_SINCE,
	FILTER_UNTIL,
	FILTER_PORT,
	FILTER_MINLEN,
	FILTER_MAXLEN,
	FILTER_SPEC,
};
#define FILTER_OPTIONS                                                                             \
	{"pid", required_argument, NULL, FILTER_PID},                                              \
	    {"tid", required_argument, NULL, FILTER_TID},                                          \
	    {"call", required_argument, NULL, FILTER_CALL},                                        \
	    {"fd", required_argument, NULL, FILTER_FD},                                            \
	    {"flag", required_argument, NULL, FILTER_FLAG},                                        \
	    {"errors", no_argument, NULL, FILTER_ERRORS},                                          \
	    {"lint", no_argument, NULL, FILTER_LINT},                                              \
	    {"peer", required_argument, NULL, FILTER_PEER},                                        \
	    {"since", required_argument, NULL, FILTER_SINCE},                                      \
	    {"port", required_argument, NULL, FILTER_PORT},                                        \
	    {"min-len", required_argument, NULL, FILTER_MINLEN},                                   \
	    {"max-len", required_argument, NULL, FILTER_MAXLEN},                                   \
	    {"filter", required_argument, NULL, FILTER_SPEC},                                      \
	{                                                                                          \
		"until", required_argument, NULL, FILTER_UNTIL                                     \
	}

struct filter {
	long long pid, tid;
	struct st_fs fs; /* the terms the library's SENDTRACE_FILTER has too (filterspec.c) */
	long long since, until, first_ts;
	int has_since, has_until, since_rel, until_rel, have_first;
};

int filter_option(struct filter *f, int opt, const char *arg);
/* Every name of a --call / run -e list known? 1, or says which is not and returns -2. */
int calls_known(const char *list);
/* A whole filter text (run --filter) valid? 0, or says what is wrong and returns -1. */
int filter_text_ok(const char *text);
void filter_first_ts(struct filter *f, long long ts);
int filter_match(const struct filter *f, json_t *ev);
int filter_match_fields(const struct filter *f, const struct evf *e);
/* The scanner's fields cannot decide this event (an escaped address, sendmmsg): ask jansson. */
int filter_needs_json(const struct filter *f, const struct evf *e);
/* The scanner's fields of an event jansson read; free *flags_text after. */
void evf_from_json(json_t *ev, struct evf *e, char **flags_text);
const char *filter_help(void);

/* ---- follow.c ---- */
int follow_file(const char *path, const struct filter *f, void (*emit)(json_t *, void *),
		void *arg);

/* ---- pcapng.c: the capture file's blocks; 0 on success, -1 on a write error ---- */
#define PCAPNG_FRAME_MAX 65600 /* the largest frame cmd-pcap.c synthesizes */
int pcapng_section(FILE *out, const char *app);
int pcapng_interface(FILE *out, unsigned short linktype, const char *name, const char *descr);
int pcapng_packet(FILE *out, unsigned ifid, unsigned long long ts_ns, const void *data,
		  size_t caplen, size_t origlen, const char *comment);

/* ---- symbols.c ---- */
const char *sym_file_line(const char *obj, const char *off_hex);

#endif
