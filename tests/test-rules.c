/* test-rules.c: the rule catalogue is complete, its ids stable in form, its scopes right, and
 * docs/lint.md documents every rule. */
#include <stdio.h>
#include <stdlib.h>

#include "rules.h"
#include "unit.h"

int main(void)
{
	const char *src = getenv("ST_SRCDIR");
	char path[4096], *doc = NULL;
	size_t n = 0;
	FILE *f;
	int i, k;

	snprintf(path, sizeof(path), "%s/docs/lint.md", src ? src : ".");
	f = fopen(path, "r");
	CHECK(f != NULL, "docs/lint.md exists at %s", path);
	if (f) {
		doc = calloc(1, 1 << 20);
		n = fread(doc, 1, (1 << 20) - 1, f);
		fclose(f);
	}
	for (i = 0; i < ST_R_COUNT; i++) {
		const struct st_rule *r = &st_rules[i];
		const char *p;
		char head[128];
		int kebab = r->id != NULL;

		CHECK(r->id && r->msg && r->trigger && r->why && r->man && r->fix,
		      "rule %d has every field", i);
		if (!r->id)
			continue;
		for (p = r->id; *p; p++)
			kebab &= (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-';
		CHECK(kebab && r->id[0] != '-', "%s is kebab-case", r->id);
		for (k = 0; k < i; k++)
			CHECK(strcmp(st_rules[k].id, r->id) != 0, "%s is unique", r->id);
		CHECK(st_rule_by_id(r->id) == r, "%s is found by id", r->id);
		CHECK(r->scope == ST_SCOPE_CALL || r->scope == ST_SCOPE_TRACE ||
			  r->scope == ST_SCOPE_RETIRED,
		      "%s has a scope", r->id);
		/* The library records hits in a 64-bit word, the per-site ones in 32 bits. */
		CHECK(i < 64, "%s fits the library's hit mask", r->id);
		snprintf(head, sizeof(head), "### `%s` (%s)", r->id,
			 r->scope == ST_SCOPE_RETIRED ? "retired" : st_severity_name(r->severity));
		CHECK(doc && strstr(doc, head), "docs/lint.md has \"%s\"", head);
		CHECK(doc && strstr(doc, r->why), "docs/lint.md explains %s as the table does",
		      r->id);
	}
	CHECK(n > 0, "docs/lint.md is not empty");
	/* The library checks the call-scope rules; the whole-trace ones sit after them all. */
	for (i = 0; i < ST_R_COUNT; i++)
		CHECK((st_rules[i].scope == ST_SCOPE_TRACE) == (i >= ST_R_UNSENT),
		      "%s: whole-trace rules come last, after every rule the library checks",
		      st_rules[i].id);
	CHECK(st_rules[ST_R_SHORT_WRITE].scope == ST_SCOPE_RETIRED,
	      "short-write-stream is retired");
	CHECK(st_rule_by_id("short-write-stream") == &st_rules[ST_R_SHORT_WRITE],
	      "a retired rule is still found by id, for old traces");
	/* The triggers say the thresholds cli/lintrace.c uses. */
	{
		static const struct {
			enum st_rule_id r;
			const char *text;
			long long v;
		} says[] = {
		    {ST_R_EAGAIN_SPIN, "100 or more", ST_SPIN_MIN},
		    {ST_R_EAGAIN_SPIN, "within 10 ms", ST_SPIN_WINDOW_NS / 1000000},
		    {ST_R_SMALL_WRITES, "3 or more", ST_BURST_MIN},
		    {ST_R_SMALL_WRITES, "under 1448 bytes", ST_SMALL_WRITE},
		    {ST_R_SMALL_WRITES, "within 10 microseconds", ST_BURST_GAP_NS / 1000},
		    {ST_R_SEND_AFTER_ERROR, "2 or more", ST_AFTER_ERROR_MIN},
		    {ST_R_UDP_HOT_DEST, "1000 or more", ST_HOT_DEST_MIN},
		};
		size_t k;

		for (k = 0; k < sizeof(says) / sizeof(says[0]); k++) {
			char num[32];

			snprintf(num, sizeof(num), "%lld", says[k].v);
			CHECK(strstr(st_rules[says[k].r].trigger, says[k].text) &&
				  strstr(says[k].text, num),
			      "%s says \"%s\" and the code uses %s", st_rules[says[k].r].id,
			      says[k].text, num);
		}
	}
	free(doc);
	return unit_done();
}
