/* cli.h: what the sendtrace command's files share: the command table and the event reader. */
#ifndef ST_CLI_H
#define ST_CLI_H

#include <stdio.h>

#include <jansson.h>

/* Exit statuses, as grep has them. */
#define EXIT_OK	      0
#define EXIT_FINDINGS 1
#define EXIT_TROUBLE  2

struct cmd_entry {
	const char *name;
	const char *usage;
	const char *summary;
	int (*exec)(int argc, char **argv);
};

extern const struct cmd_entry cmd_run_entry;
extern const struct cmd_entry cmd_show_entry;
extern const struct cmd_entry cmd_lint_entry;

void cli_usage(const struct cmd_entry *cmd, FILE *out);
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- events.c: reading JSON Lines traces, line by line, forgiving and loud ---- */
struct ev_reader {
	const char *path; /* "-" is standard input */
	FILE *f;
	unsigned long line;
	unsigned long bad; /* lines skipped, each with a warning */
	char *buf;
	size_t cap;
};

/* 0 on success; on failure the error has been printed. */
int ev_open(struct ev_reader *r, const char *path);
/* The next valid event (caller json_decref()s it), or NULL at the end. */
json_t *ev_next(struct ev_reader *r);
void ev_close(struct ev_reader *r);

/* ---- format.c: one event as one readable line ---- */
void fmt_event(FILE *out, json_t *ev);
/* The event's backtrace, one indented line per frame. */
void fmt_bt(FILE *out, json_t *ev);

/* ---- symbols.c ---- */
const char *sym_file_line(const char *obj, const char *off_hex);

#endif
