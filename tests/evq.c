/* evq.c: a jansson query for shell tests: counts the events of a trace that match every PATH=VALUE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static json_t *get(json_t *v, const char *path)
{
	char buf[256], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && v; tok = strtok_r(NULL, ".", &save))
		v = json_is_array(v) ? json_array_get(v, strtoul(tok, NULL, 10))
				     : json_object_get(v, tok);
	return v;
}

/* PATH=VALUE (string or integer equality), PATH~TEXT (substring), PATH? (present, not null). */
static int match(json_t *ev, const char *cond)
{
	char path[256];
	const char *op = strpbrk(cond, "=~?");
	json_t *v;

	if (!op || (size_t)(op - cond) >= sizeof(path))
		return 0;
	memcpy(path, cond, (size_t)(op - cond));
	path[op - cond] = '\0';
	v = get(ev, path);
	if (*op == '?')
		return v && !json_is_null(v);
	if (*op == '~')
		return json_is_string(v) && strstr(json_string_value(v), op + 1);
	if (json_is_string(v))
		return strcmp(json_string_value(v), op + 1) == 0;
	if (json_is_integer(v))
		return json_integer_value(v) == strtoll(op + 1, NULL, 10);
	if (json_is_null(v))
		return strcmp(op + 1, "null") == 0;
	if (json_is_boolean(v))
		return strcmp(op + 1, json_is_true(v) ? "true" : "false") == 0;
	return 0;
}

int main(int argc, char **argv)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	long n = 0, bad = 0;
	int i, live;

	if (argc < 2) {
		fprintf(stderr, "usage: evq FILE [PATH=VALUE|PATH~TEXT|PATH?]...\n");
		return 2;
	}
	f = fopen(argv[1], "r");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	/*
	 * EVQ_LIVE=1: the file is still being written. An event being copied
	 * has its first byte written last (docs/events.md), and memcpy may
	 * store its tail before its middle, so a naive line reader meets both
	 * a line that begins with the padding's space and, after a padding
	 * newline not yet overwritten, the tail of an event: neither is counted,
	 * nor taken for a broken line. (show -f reads from the first byte only.)
	 */
	live = getenv("EVQ_LIVE") && !strcmp(getenv("EVQ_LIVE"), "1");
	while (getline(&line, &cap, f) > 0) {
		json_t *ev;
		int ok;

		if (strspn(line, " \t\n") == strlen(line))
			continue; /* chunk padding */
		if (live && line[0] != '{')
			continue;
		ev = json_loads(line, 0, NULL);
		ok = ev != NULL;

		if (!ev && live)
			continue;
		if (!ev) {
			/* The first one is shown: a test that fails on it says what it was. */
			if (!bad++)
				fprintf(stderr, "evq: does not parse: %.300s", line);
			continue;
		}
		for (i = 2; i < argc && ok; i++)
			ok = match(ev, argv[i]);
		n += ok;
		json_decref(ev);
	}
	free(line);
	fclose(f);
	printf("%ld\n", n);
	if (bad)
		fprintf(stderr, "evq: %ld lines of %s do not parse\n", bad, argv[1]);
	return bad ? 2 : 0;
}
