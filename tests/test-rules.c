/* test-rules.c: the rule catalogue is complete, its ids stable in form, and docs/lint.md documents
 * every rule. */
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
		snprintf(head, sizeof(head), "### `%s` (%s)", r->id, st_severity_name(r->severity));
		CHECK(doc && strstr(doc, head), "docs/lint.md has \"%s\"", head);
		CHECK(doc && strstr(doc, r->why), "docs/lint.md explains %s as the table does",
		      r->id);
	}
	CHECK(n > 0, "docs/lint.md is not empty");
	free(doc);
	return unit_done();
}
