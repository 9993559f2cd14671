/* events.c: reads JSON Lines traces with jansson; bad lines are named, skipped and counted. */
#include "config.h"

#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#define EV_WARN_MAX 10 /* per file; the closing summary counts the rest */

/* X.99 before X.100: the files of one glob, by the number after the last dot. */
static int ev_by_pid(const void *a, const void *b)
{
	const char *x = strrchr(*(char *const *)a, '.'), *y = strrchr(*(char *const *)b, '.');
	unsigned long long px = strtoull(x + 1, NULL, 10), py = strtoull(y + 1, NULL, 10);

	return px < py ? -1 : px > py;
}

/*
 * The files to read: each path as given, except one that does not exist
 * but whose per-process files do (`run -F -o X` writes X.PID): those, in
 * pid order. The array is the caller's to free; its strings are argv's or
 * glob's, kept for the life of the command.
 */
char **ev_expand(char **paths, int n, int *out_n)
{
	char **v = NULL;
	int i, k = 0, cap = 0;

	for (i = 0; i < n; i++) {
		struct stat sb;
		glob_t g;
		char *pat;
		size_t j, plen = strlen(paths[i]);
		int added = 0, first = k;

		if (strcmp(paths[i], "-") && stat(paths[i], &sb) != 0 && errno == ENOENT &&
		    (pat = malloc(plen + 8))) {
			memcpy(pat, paths[i], plen);
			memcpy(pat + plen, ".[0-9]*", 8);
			if (glob(pat, 0, NULL, &g) == 0) {
				for (j = 0; j < g.gl_pathc; j++) {
					const char *suf = g.gl_pathv[j] + plen + 1;

					if (strspn(suf, "0123456789") != strlen(suf))
						continue; /* X.1.bak and the like: not a process's
							     file */
					if (k == cap &&
					    !(v = realloc(v, (size_t)(cap = 2 * cap + 8) *
								 sizeof(*v))))
						goto oom;
					v[k++] = g.gl_pathv[j];
					added++;
				}
				/* g is not freed: its paths are used until the command ends. */
			}
			if (added > 1)
				qsort(v + first, (size_t)added, sizeof(*v), ev_by_pid);
			free(pat);
		}
		if (!added) {
			if (k == cap && !(v = realloc(v, (size_t)(cap = 2 * cap + 8) * sizeof(*v))))
				goto oom;
			v[k++] = paths[i];
		}
	}
	*out_n = k;
	return v;
oom:
	cli_error("out of memory");
	exit(EXIT_TROUBLE);
}

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

/*
 * The next line into r->buf, without its newline: its length, or -1 at the
 * end. A line longer than EV_LINE_MAX is read through a fixed window and
 * thrown away as it goes (getline() would hold all of it: a 1 GB line cost
 * 3 GB and a minute); *over is then its full length. *complete says whether
 * a newline ended it.
 */
static ssize_t ev_getline(struct ev_reader *r, int *complete, unsigned long long *over)
{
	size_t len = 0;
	int any = 0;

	*complete = 0;
	*over = 0;
	if (!r->in && !(r->in = malloc(EV_WINDOW))) {
		cli_error("out of memory");
		exit(EXIT_TROUBLE);
	}
	for (;;) {
		char *start, *nl;
		size_t take;

		if (r->in_pos == r->in_len) {
			r->in_pos = 0;
			r->in_len = fread(r->in, 1, EV_WINDOW, r->f);
			if (r->in_len == 0)
				break;
		}
		any = 1;
		start = r->in + r->in_pos;
		nl = memchr(start, '\n', r->in_len - r->in_pos);
		take = nl ? (size_t)(nl - start) : r->in_len - r->in_pos;
		r->in_pos += take + (nl != NULL);
		if (*over) {
			*over += take;
		} else if (len + take > EV_LINE_MAX) {
			*over = (unsigned long long)len + take;
		} else {
			if (len + take + 1 > r->cap) {
				size_t cap = r->cap ? r->cap : 4096;

				while (cap < len + take + 1)
					cap *= 2;
				if (cap > EV_LINE_MAX + 1)
					cap = EV_LINE_MAX + 1;
				if (!(r->buf = realloc(r->buf, cap))) {
					cli_error("out of memory");
					exit(EXIT_TROUBLE);
				}
				r->cap = cap;
			}
			memcpy(r->buf + len, start, take);
			len += take;
		}
		if (nl) {
			*complete = 1;
			break;
		}
	}
	if (!any)
		return -1;
	if (r->buf)
		r->buf[len] = '\0';
	return *over ? 0 : (ssize_t)len;
}

json_t *ev_next(struct ev_reader *r)
{
	unsigned long long over;
	int complete;
	ssize_t n;

	while ((n = ev_getline(r, &complete, &over)) >= 0) {
		json_error_t err;
		json_t *ev, *v;

		r->line++;
		if (over) {
			char detail[96];

			snprintf(detail, sizeof(detail),
				 "%llu bytes, more than the %d MiB an event may have", over,
				 EV_LINE_MAX >> 20);
			r->long_lines++;
			ev_skip(r, complete ? "line too long" : "truncated last line too long",
				detail);
			continue;
		}
		if (ev_blank(r->buf, (size_t)n) || ev_pad(r->buf, (size_t)n))
			continue; /* the library's padding, blank or closed into filler records */
		r->len = (size_t)n;
		if (r->fast && complete && r->fast(r->buf, (size_t)n, r->fast_arg))
			continue;
		ev = json_loadb(r->buf, (size_t)n, JSON_REJECT_DUPLICATES, &err);
		if (!ev) {
			/* jansson quotes the bytes it stopped at: they are the trace's. */
			char *text = esc_str(err.text);

			ev_skip(r, complete ? "not valid JSON" : "truncated last line", text);
			free(text);
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

	files = ev_expand(files, n, &n);
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
		ev_summary(&r);
		bad += r.bad;
		ev_close(&r);
	}
	free(files);
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

void ev_summary(const struct ev_reader *r)
{
	if (r->long_lines)
		cli_error("%s: %lu bad line%s skipped (%lu longer than %d MiB)", r->path, r->bad,
			  r->bad == 1 ? "" : "s", r->long_lines, EV_LINE_MAX >> 20);
	else if (r->bad)
		cli_error("%s: %lu bad line%s skipped", r->path, r->bad, r->bad == 1 ? "" : "s");
}

void ev_close(struct ev_reader *r)
{
	if (r->f && r->f != stdin)
		fclose(r->f);
	free(r->buf);
	free(r->in);
	r->f = NULL;
	r->buf = NULL;
	r->in = NULL;
}
