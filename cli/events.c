/* events.c: reads JSON Lines traces with jansson; bad lines are named, skipped and counted. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#define EV_WARN_MAX 10 /* per file; the closing summary counts the rest */

int ev_open(struct ev_reader *r, const char *path)
{
	struct stat sb;

	memset(r, 0, sizeof(*r));
	r->path = path;
	if (strcmp(path, "-") == 0) {
		r->f = stdin;
		r->path = "(stdin)";
		return 0;
	}
	r->f = fopen(path, "r");
	if (!r->f) {
		cli_error("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(r->f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
		cli_error("%s is a directory, not a trace file", path);
		fclose(r->f);
		r->f = NULL;
		return -1;
	}
	return 0;
}

static void ev_skip(struct ev_reader *r, const char *why, const char *detail)
{
	r->bad++;
	if (r->bad <= EV_WARN_MAX)
		cli_error("%s:%lu: %s%s%s; line skipped", r->path, r->line, why, detail ? ": " : "",
			  detail ? detail : "");
	else if (r->bad == EV_WARN_MAX + 1)
		cli_error("%s: more bad lines; only the count is reported from here", r->path);
}

/* A filler record, which the library writes exactly so: room nobody will write. */
int ev_pad(const char *s, size_t n)
{
	static const char head[] = "{\"v\":1,\"event\":\"pad\"";

	return n >= sizeof(head) - 1 && !memcmp(s, head, sizeof(head) - 1);
}

int ev_blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

json_t *ev_next(struct ev_reader *r)
{
	ssize_t n;

	while ((n = getline(&r->buf, &r->cap, r->f)) >= 0) {
		json_error_t err;
		json_t *ev, *v;
		int complete;

		r->line++;
		complete = n > 0 && r->buf[n - 1] == '\n';
		if (complete)
			n--;
		if (ev_blank(r->buf, (size_t)n) || ev_pad(r->buf, (size_t)n))
			continue; /* the library's padding, blank or closed into filler records */
		r->len = (size_t)n;
		if (r->fast && complete && r->fast(r->buf, (size_t)n, r->fast_arg))
			continue;
		ev = json_loadb(r->buf, (size_t)n, JSON_REJECT_DUPLICATES, &err);
		if (!ev) {
			ev_skip(r, complete ? "not valid JSON" : "truncated last line", err.text);
			continue;
		}
		if (!json_is_object(ev)) {
			ev_skip(r, "not an event object", NULL);
			json_decref(ev);
			continue;
		}
		v = json_object_get(ev, "v");
		if (!json_is_integer(v) || json_integer_value(v) != 1) {
			ev_skip(r, "unsupported schema version (this sendtrace reads v1)", NULL);
			json_decref(ev);
			continue;
		}
		if (!json_is_string(json_object_get(ev, "event"))) {
			ev_skip(r, "event without an \"event\" field", NULL);
			json_decref(ev);
			continue;
		}
		return ev;
	}
	if (ferror(r->f)) {
		cli_error("%s: read error: %s", r->path, strerror(errno));
		r->bad++;
	}
	return NULL;
}

int ev_read_files(char **files, int n, void (*start)(struct ev_reader *, void *),
		  void (*each)(json_t *, struct ev_reader *, void *), void *arg)
{
	unsigned long bad = 0;
	int i, trouble = 0;

	for (i = 0; i < n; i++) {
		struct ev_reader r;
		json_t *ev;

		if (ev_open(&r, files[i]) != 0) {
			trouble = 1;
			continue;
		}
		if (start)
			start(&r, arg);
		while ((ev = ev_next(&r))) {
			each(ev, &r, arg);
			json_decref(ev);
		}
		if (r.bad)
			cli_error("%s: %lu bad line%s skipped", r.path, r.bad,
				  r.bad == 1 ? "" : "s");
		bad += r.bad;
		ev_close(&r);
	}
	return trouble || bad ? EXIT_TROUBLE : EXIT_OK;
}

json_t *ev_parse(const char *line, size_t n, const char **why)
{
	json_t *ev = json_loadb(line, n, JSON_REJECT_DUPLICATES, NULL), *v;

	*why = NULL;
	if (!ev) {
		*why = "not valid JSON";
		return NULL;
	}
	v = json_object_get(ev, "v");
	if (!json_is_object(ev) || !json_is_integer(v) || json_integer_value(v) != 1 ||
	    !json_is_string(json_object_get(ev, "event"))) {
		*why = "not a v1 event";
		json_decref(ev);
		return NULL;
	}
	return ev;
}

void ev_close(struct ev_reader *r)
{
	if (r->f && r->f != stdin)
		fclose(r->f);
	free(r->buf);
	r->f = NULL;
	r->buf = NULL;
}
