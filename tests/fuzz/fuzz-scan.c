/* fuzz-scan.c: libFuzzer harness for the CLI's event readers: the stats scanner and jansson must
 * agree. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

void cli_error(const char *fmt, ...)
{
	(void)fmt;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
	struct evf s, j;
	const char *why;
	json_t *ev;
	char *flags;
	struct filter f;
	struct st_fs_error fe;
	const char *spec = "errors flag=MORE peer=127.0.0.1 min-len=1";

	if (!scan_event((const char *)data, n, &s))
		return 0;
	/*
	 * What the scanner accepts, jansson must accept, with the same fields.
	 * (Without JSON_REJECT_DUPLICATES: the scanner checks duplicates only of
	 * the keys it keeps, and those it never accepts.)
	 */
	ev = ev_parse((const char *)data, n, &why);
	if (!ev) {
		ev = json_loadb((const char *)data, n, 0, NULL);
		if (!ev || !json_is_object(ev))
			abort();
	}
	evf_from_json(ev, &j, &flags);
	if (s.ts != j.ts || s.pid != j.pid || s.ret != j.ret || s.lint != j.lint)
		abort();
	memset(&f, 0, sizeof(f));
	if (st_fs_parse(&f.fs, spec, strlen(spec), &fe) != 0)
		abort();
	/* (What the scanner's fields cannot decide, stats hands to jansson.) */
	if (!filter_needs_json(&f, &s) && filter_match_fields(&f, &s) != filter_match_fields(&f, &j))
		abort();
	free(flags);
	json_decref(ev);
	return 0;
}
