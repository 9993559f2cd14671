/* lintdoc.c: the rule catalogue as `lint --rules` lists it and as docs/lint.md documents it, both
 * from the table of lib/rules.c. */
#include "config.h"

#include "cli.h"
#include "rules.h"

/*
 * docs/lint.md's rule section is this output, pasted from its marker line
 * to the end of the page (`make lint-doc` does it), and tests/test-lintdoc.sh
 * fails when the two differ: the page cannot drift from the table.
 */
#define LINTDOC_MARKER                                                                             \
	"<!-- The rules below are generated from lib/rules.c by `sendtrace lint --rules "          \
	"--markdown` (make lint-doc); do not edit them here. -->"

void lint_rules_list(FILE *out)
{
	int i;

	fprintf(out, "%-31s %-8s %-7s %s\n", "RULE", "SEVERITY", "SCOPE", "FINDING");
	for (i = 0; i < ST_R_COUNT; i++)
		fprintf(out, "%-31s %-8s %-7s %s\n", st_rules[i].id,
			st_severity_name(st_rules[i].severity), st_scope_name(st_rules[i].scope),
			st_rules[i].msg);
}

static const struct {
	enum st_scope scope;
	const char *title, *intro, *when;
} sections[] = {
    {ST_SCOPE_CALL, "Rules on each call",
     "Checked by libsendtrace on every traced call, after it returns, and recorded in the "
     "event's `lint` array with the call `site`.",
     "Fires on"},
    {ST_SCOPE_TRACE, "Rules over the whole trace",
     "Judged by `sendtrace lint` over the events, after the fact: each process's calls per fd, "
     "in time order, from every file given (a `run -F` trace's X.PID files too). A finding "
     "names the fd, the peer, the call site (the backtrace's top frames with `run -k`; "
     "without a recorded site, the program's name), how many times and calls, and the first "
     "and last time; `--json` gives the same. They need the trace whole: they are not applied "
     "to a process whose events were sampled or filtered, or recorded with "
     "`SENDTRACE_ONLY=lint` (guessed when every send of the process has a finding), and lint "
     "says so on stderr.",
     "Fires on"},
    {ST_SCOPE_RETIRED, "Retired rules",
     "No longer checked. Traces made before carry them in `lint`: `sendtrace lint` does not "
     "count them (they never change its exit status) and says on stderr how many it ignored.",
     "Was"},
};

void lint_rules_markdown(FILE *out)
{
	size_t s;
	int i;

	fprintf(out, "%s\n", LINTDOC_MARKER);
	for (s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
		fprintf(out, "\n## %s\n\n%s\n", sections[s].title, sections[s].intro);
		for (i = 0; i < ST_R_COUNT; i++) {
			const struct st_rule *r = &st_rules[i];

			if (r->scope != sections[s].scope)
				continue;
			fprintf(out, "\n### `%s` (%s)\n\n%s.\n\n", r->id,
				r->scope == ST_SCOPE_RETIRED ? "retired"
							     : st_severity_name(r->severity),
				r->msg);
			fprintf(out, "- **%s:** %s.\n", sections[s].when, r->trigger);
			fprintf(out, "- **Why:** %s\n- **Reference:** %s\n- **Fix:** %s\n", r->why,
				r->man, r->fix);
		}
	}
}
