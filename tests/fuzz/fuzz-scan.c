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
	f.errors = 1;
	f.flag = "MORE";
	f.peer = "127.0.0.1";
	if (filter_match_fields(&f, &s) != filter_match_fields(&f, &j) && s.peer.plain &&
	    s.addr.plain && s.flags.p && strchr(s.flags.p, '\\') == NULL)
		abort();
	free(flags);
	json_decref(ev);
	return 0;
}
