/* test-scan.c: the stats scanner agrees with jansson: what it accepts jansson accepts, with the
 * same fields. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "unit.h"

void cli_error(const char *fmt, ...)
{
	(void)fmt;
}

static int same_str(const struct evs *a, const struct evs *b)
{
	if (!a->p || !b->p)
		return !a->p && !b->p;
	/* The scanner keeps escapes; compare only when it had none. */
	return !a->plain || (a->n == b->n && !memcmp(a->p, b->p, a->n));
}

/* 1 if scanner and jansson agree on this line. */
static int agree(const char *line, size_t n)
{
	struct evf s, j;
	json_t *ev;
	char *flags;
	int ok = 1;

	if (!scan_event(line, n, &s))
		return 1; /* refused: jansson decides, nothing to compare */
	ev = json_loadb(line, n, 0, NULL);
	if (!ev || !json_is_object(ev)) {
		{
			json_error_t e;

			json_decref(json_loadb(line, n, 0, &e));
			printf("scanner accepted what jansson refuses (%s at %d): %.*s\n", e.text,
			       e.position, (int)(n > 200 ? 200 : n), line);
		}
		json_decref(ev);
		return 0;
	}
	evf_from_json(ev, &j, &flags);
	ok = s.ts == j.ts && s.pid == j.pid && s.tid == j.tid && s.ret == j.ret && s.dur == j.dur &&
	     s.len == j.len && s.lint == j.lint && s.has_sock == j.has_sock &&
	     same_str(&s.call, &j.call) && same_str(&s.err, &j.err) &&
	     same_str(&s.event, &j.event) && same_str(&s.peer, &j.peer) &&
	     same_str(&s.addr, &j.addr) && same_str(&s.family, &j.family);
	if (!ok)
		printf("fields differ for: %.*s\n", (int)(n > 200 ? 200 : n), line);
	free(flags);
	json_decref(ev);
	return ok;
}

int main(void)
{
	const char *src = getenv("ST_SRCDIR");
	char path[4096], *line = NULL, *copy;
	size_t cap = 0, nlines = 0, k;
	ssize_t n;
	FILE *f;
	int i, ok = 1, accepted = 0;
	static const char *tricky[] = {
	    "{\"v\":1,\"event\":\"call\",\"ts\":9223372036854775807,\"call\":\"send\"}",
	    "{\"v\":1,\"event\":\"call\",\"ts\":9223372036854775808,\"call\":\"send\"}",
	    "{\"v\":1,\"event\":\"call\",\"ts\":-9223372036854775808}",
	    "{\"v\":1,\"event\":\"call\",\"ts\":1.5}",
	    "{\"v\":1,\"event\":\"call\",\"comm\":\"a\\u0000b\"}",
	    "{\"v\":1,\"event\":\"call\",\"comm\":\"\\ud800\"}",
	    "{\"v\":1,\"event\":\"call\",\"comm\":\"\\ud83d\\ude00\"}",
	    "{\"v\":1,\"event\":\"call\",\"comm\":\"\xc3\xa9\"}",
	    "{\"v\":1,\"event\":\"call\",\"comm\":\"\xc3\"}",
	    "{\"v\":1,\"event\":\"call\",\"comm\":\"\xed\xa0\x80\"}",
	    "{\"v\":1,\"event\":\"call\"} x",
	    "{\"v\":1,\"event\":\"call\",}",
	    "{\"v\":1,\"event\":\"call\",\"a\":[1,2,]}",
	    "{\"v\":1,\"event\":\"call\",\"a\":01}",
	    "{\"v\":1,\"event\":\"call\",\"a\":-}",
	    "{\"v\":1,\"event\":\"call\",\"a\":1e}",
	    "{\"v\":1,\"event\":\"call\",\"a\":tru}",
	    "{\"v\":2,\"event\":\"call\"}",
	    /* A kept key twice, of two types: found by fuzz-scan. */
	    "{\"v\":1,\"event\":\"call\",\"ts\":5,\"ts\":\"x\"}",
	    "{\"v\":1}",
	    "[{\"v\":1,\"event\":\"call\"}]",
	    "{\"v\":1,\"event\":\"call\",\"s\":\"tab\there\"}",
	};

	for (i = 0; i < (int)(sizeof(tricky) / sizeof(tricky[0])); i++)
		CHECK(agree(tricky[i], strlen(tricky[i])), "tricky line %d", i);
	CHECK(scan_event(tricky[0], strlen(tricky[0]), &(struct evf){0}), "INT64_MAX is read");
	CHECK(!scan_event(tricky[1], strlen(tricky[1]), &(struct evf){0}),
	      "INT64_MAX+1 goes to jansson");
	CHECK(!scan_event(tricky[4], strlen(tricky[4]), &(struct evf){0}),
	      "\\u0000 goes to jansson");
	{
		/* A backslash before a NUL byte: found by fuzz-scan (strchr matched the NUL). */
		static const char nul[] = "{\"v\":1,\"event\":\"call\",\"s\":\"a\\\0b\"}";

		CHECK(!scan_event(nul, sizeof(nul) - 1, &(struct evf){0}), "backslash-NUL refused");
		CHECK(agree(nul, sizeof(nul) - 1), "backslash-NUL: agree with jansson");
	}

	/* Real events, then every one of them with random bytes changed. */
	snprintf(path, sizeof(path), "%s/tests/cases/show-every-call/input.jsonl", src ? src : ".");
	f = fopen(path, "r");
	CHECK(f != NULL, "open %s", path);
	srand(7);
	while (f && (n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			n--;
		nlines++;
		CHECK(scan_event(line, (size_t)n, &(struct evf){0}), "real event %zu accepted",
		      nlines);
		ok &= agree(line, (size_t)n);
		copy = malloc((size_t)n);
		for (k = 0; k < 3000; k++) {
			int m, changes = 1 + rand() % 3;

			memcpy(copy, line, (size_t)n);
			for (m = 0; m < changes; m++)
				copy[rand() % n] =
				    "{}[]\",:\\0123456789aeltrufns -.\x80\xc3\xff"[rand() % 34];
			accepted += scan_event(copy, (size_t)n, &(struct evf){0});
			ok &= agree(copy, (size_t)n);
		}
		free(copy);
	}
	if (f)
		fclose(f);
	free(line);
	CHECK(nlines == 12, "12 real events read");
	CHECK(ok, "scanner and jansson agree on %zu mutated lines (%d accepted)", nlines * 3000,
	      accepted);
	return unit_done();
}
